#pragma once
// Internal: one operator of a Chain, the chain's plumbing for entries an operator
// releases outside Process (flushes), and what every operator type provides to be
// configured (a DecodeFn).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "collector/config/node.h"
#include "receivers/filelog/operators/operators.h"

namespace outrigger::receivers::filelog::operators {

enum class OnError { kSend, kSendQuiet, kDrop, kDropQuiet };

// Hands entries to the operators after the one that releases them.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void Emit(Entry&& e) = 0;
};

class Operator {
 public:
  enum class Result { kNext, kDrop, kHeld };

  Operator(std::string type, std::string id, OnError on_error, Stats* stats)
      : type_(std::move(type)), id_(std::move(id)), on_error_(on_error), stats_(stats) {}
  virtual ~Operator() = default;

  // kNext: go on with `e` (possibly replaced by a completed held entry); kDrop: removed;
  // kHeld: the operator took `e` and will release it later.
  virtual Result Process(Entry& e) = 0;
  virtual void Flush(uint64_t now_ns, uint64_t max_hold_ns, Emitter& em) {}
  virtual std::optional<uint64_t> PendingStart(const std::string& file_path) const { return std::nullopt; }
  virtual void Forget(const std::string& file_path, Emitter& em) {}
  // The chain's direct path (Chain::EncodeDirect) when this operator is the whole chain.
  virtual bool direct() const { return false; }
  virtual bool EncodeDirect(std::string_view line, size_t readable, DirectRecord* out) { return false; }

  const std::string& id() const { return id_; }

 protected:
  // Applies on_error to a failure: counts it, logs it (at most every 10 s unless quiet)
  // and says whether the entry goes on.
  Result Fail(const absl::Status& st);

 private:
  std::string type_, id_;
  OnError on_error_;
  Stats* stats_;
  uint64_t last_log_ns_ = 0;
  uint64_t suppressed_ = 0;
};

uint64_t WallNowNs();

// The options every operator has, read by the chain before the operator's own.
struct CommonOptions {
  std::string type;  // as configured (MoveOp is "move" or "copy")
  std::string id;    // as configured, else the type (numbered when repeated: add, add1)
  OnError on_error = OnError::kSend;
};

// Makes the configured operator for a chain, counting into the chain's Stats.
using OperatorFactory = std::function<std::unique_ptr<Operator>(Stats*)>;

// What each operator type provides (declared in its <type>.h, listed in the chain's
// table in operators.cc): reads its own options from its item of the `operators` list,
// with errors (path and line) on `item`, and returns the factory. The chain uses the
// factory only when the item has no errors, and reports unknown options afterwards.
using DecodeFn = OperatorFactory (*)(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
