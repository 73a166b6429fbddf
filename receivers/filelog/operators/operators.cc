// The chain: the `operators:` list decoded through a table of operator types (each
// type reads its own options, in <type>.cc), and the chain that runs them in order.

#include "receivers/filelog/operators/operators.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "collector/common/strings.h"
#include "receivers/filelog/operators/add.h"
#include "receivers/filelog/operators/container.h"
#include "receivers/filelog/operators/flatten.h"
#include "receivers/filelog/operators/json_parser.h"
#include "receivers/filelog/operators/move.h"
#include "receivers/filelog/operators/operator.h"
#include "receivers/filelog/operators/regex_parser.h"
#include "receivers/filelog/operators/remove.h"
#include "receivers/filelog/operators/retain.h"
#include "receivers/filelog/operators/severity_parser.h"
#include "receivers/filelog/operators/time_parser.h"

namespace outrigger::receivers::filelog::operators {

struct ChainConfig::Op {
  std::string type, id, output;
  OperatorFactory make;
};

namespace {

// ---- noop ----

class NoopOp : public Operator {
 public:
  NoopOp(std::string id, Stats* stats) : Operator("noop", std::move(id), OnError::kSend, stats) {}
  Result Process(Entry&) override { return Result::kNext; }
};

OperatorFactory DecodeNoop(config::Node&, const CommonOptions& common) {
  return [id = common.id](Stats* st) { return std::make_unique<NoopOp>(id, st); };
}

// ---- configuration ----

struct OperatorType {
  std::string_view type;
  DecodeFn decode;
};

// Every supported type, in the order error messages list them.
constexpr OperatorType kOperatorTypes[] = {
    {"json_parser", DecodeJsonParser},
    {"regex_parser", DecodeRegexParser},
    {"container", DecodeContainer},
    {"time_parser", DecodeTimeParser},
    {"severity_parser", DecodeSeverityParser},
    {"add", DecodeAdd},
    {"move", DecodeMove},
    {"copy", DecodeMove},
    {"remove", DecodeRemove},
    {"retain", DecodeRetain},
    {"flatten", DecodeFlatten},
    {"noop", DecodeNoop},
};

const OperatorType* FindType(std::string_view type) {
  for (const OperatorType& t : kOperatorTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

const std::vector<std::string>& OperatorTypes() {
  static const std::vector<std::string> kTypes = [] {
    std::vector<std::string> v;
    for (const OperatorType& t : kOperatorTypes) v.emplace_back(t.type);
    return v;
  }();
  return kTypes;
}

// Types upstream has that this chain does not (a clearer error than "unknown").
const std::vector<std::string>& UnsupportedTypes() {
  static const std::vector<std::string> kTypes = {
      "router",        "filter",        "recombine",      "key_value_parser",
      "csv_parser",    "syslog_parser", "trace_parser",   "scope_name_parser",
      "regex_replace", "unquote",       "assign_keys",    "json_array_parser",
      "stdout",        "file_input",    "journald_input", "udp_input",
      "tcp_input"};
  return kTypes;
}

// The error for a type that is not in the table (empty, unsupported or unknown).
void ReportUnknownType(config::Node& item, const std::string& type) {
  if (type.empty()) {
    item.Error("type is required (json_parser, regex_parser, container, ...)");
  } else if (std::find(UnsupportedTypes().begin(), UnsupportedTypes().end(), type) != UnsupportedTypes().end()) {
    item.ErrorAt("type", StrCat("operator \"", type, "\" is not supported by Outrigger (supported: ",
                                absl::StrJoin(OperatorTypes(), ", "), ")"));
  } else {
    std::string msg = StrCat("unknown operator type \"", type, "\"");
    if (auto s = config::Suggest(type, OperatorTypes())) {
      StrAppend(&msg, "; did you mean '", *s, "'?");
    } else {
      StrAppend(&msg, " (supported: ", absl::StrJoin(OperatorTypes(), ", "), ")");
    }
    item.ErrorAt("type", msg);
  }
}

using OpList = std::vector<std::shared_ptr<const ChainConfig::Op>>;

// type, id, output, if and on_error: the options of every operator. Fills op's type,
// id and output.
CommonOptions ReadCommonOptions(config::Node& item, const OpList& before, ChainConfig::Op* op) {
  item.Read("type", &op->type);
  const std::string& type = op->type;
  const bool explicit_id = item.Has("id");
  item.Read("id", &op->id);
  if (!explicit_id || op->id.empty()) {
    // Like upstream: default ids are the type, numbered when repeated (add, add1, ...).
    op->id = type;
    for (int n = 1; std::any_of(before.begin(), before.end(), [&](const auto& p) { return p->id == op->id; }); ++n) {
      op->id = StrCat(type, n);
    }
  }
  item.Read("output", &op->output);
  if (item.Has("if")) {
    item.Accept("if");
    item.ErrorAt("if", "expressions are not supported; use one receiver per kind of file instead");
  }
  std::string on_error_s = "send";
  item.ReadEnum("on_error", &on_error_s, {"send", "send_quiet", "drop", "drop_quiet"});
  OnError on_error = on_error_s == "send"         ? OnError::kSend
                     : on_error_s == "send_quiet" ? OnError::kSendQuiet
                     : on_error_s == "drop"       ? OnError::kDrop
                                                  : OnError::kDropQuiet;
  return CommonOptions{op->type, op->id, on_error};
}

// One item of the list; `before`: the operators before it. Its make() is null when the
// item has errors.
std::shared_ptr<ChainConfig::Op> DecodeOp(config::Node& item, const OpList& before) {
  auto op = std::make_shared<ChainConfig::Op>();
  if (!item.IsMap()) {
    item.Error("expected a mapping with a type, e.g. {type: json_parser}");
    return op;
  }
  const CommonOptions common = ReadCommonOptions(item, before, op.get());
  const size_t errors_before = item.errors()->list().size();
  const OperatorType* type = FindType(common.type);
  if (type != nullptr) {
    op->make = type->decode(item, common);
    item.Finish();  // unknown options, now: they make this operator's make() null below
  } else {
    ReportUnknownType(item, common.type);
    item.AcceptAll();  // an unknown type is one error, not one per option
  }
  for (const auto& prev : before) {
    if (prev->id == op->id) {
      item.ErrorAt("id", StrCat("duplicate operator id \"", op->id, "\"; set a unique id"));
      break;
    }
  }
  if (type == nullptr || item.errors()->list().size() != errors_before) op->make = nullptr;
  return op;
}

}  // namespace

void ChainConfig::Decode(config::Node& receiver_node) {
  ops.clear();
  config::Node& list = receiver_node.Value("operators");
  if (list.IsNull()) return;
  if (!list.IsList()) {
    list.Error("expected a list of operators ({type: ..., ...})");
    return;
  }
  const std::vector<config::Node*> items = list.Items();
  for (config::Node* item : items) ops.push_back(DecodeOp(*item, ops));
  // Only linear chains: an `output` must name the next operator.
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string& out = ops[i]->output;
    if (out.empty()) continue;
    if (i + 1 < ops.size() && ops[i + 1]->id == out) continue;
    items[i]->ErrorAt("output", StrCat("output \"", out,
                                       "\" is not the next operator; only linear chains are supported, so output "
                                       "may be omitted or name the next operator's id"));
  }
}

// ---- the chain ----

namespace {

class ChainImpl : public Chain {
 public:
  void Process(Entry&& in, std::vector<Entry>* out) override {
    if (!deferred_.empty()) TakeDeferred(out);
    Run(0, std::move(in), out);
  }

  void Flush(uint64_t now_ns, uint64_t max_hold_ns, std::vector<Entry>* out) override {
    if (!deferred_.empty()) TakeDeferred(out);
    for (size_t i = 0; i < ops_.size(); ++i) {
      ChainEmitter em(this, i + 1, out);
      ops_[i]->Flush(now_ns, max_hold_ns, em);
    }
  }

  std::optional<uint64_t> PendingStart(const std::string& file_path) const override {
    std::optional<uint64_t> start;
    for (const auto& op : ops_) {
      auto s = op->PendingStart(file_path);
      if (s && (!start || *s < *start)) start = s;
    }
    return start;
  }

  void Forget(const std::string& file_path) override {
    for (size_t i = 0; i < ops_.size(); ++i) {
      ChainEmitter em(this, i + 1, &deferred_);
      ops_[i]->Forget(file_path, em);
    }
  }

  const Stats& stats() const override { return stats_; }

  bool direct() const override { return ops_.size() == 1 && ops_[0]->direct(); }
  bool EncodeDirect(std::string_view line, size_t readable, DirectRecord* out) override {
    return ops_.size() == 1 && deferred_.empty() && ops_[0]->EncodeDirect(line, readable, out);
  }

  Stats stats_;
  std::vector<std::unique_ptr<Operator>> ops_;

 private:
  class ChainEmitter : public Emitter {
   public:
    ChainEmitter(ChainImpl* chain, size_t next, std::vector<Entry>* out) : chain_(chain), next_(next), out_(out) {}
    void Emit(Entry&& e) override { chain_->Run(next_, std::move(e), out_); }

   private:
    ChainImpl* chain_;
    size_t next_;
    std::vector<Entry>* out_;
  };

  void Run(size_t from, Entry&& e, std::vector<Entry>* out) {
    for (size_t i = from; i < ops_.size(); ++i) {
      if (ops_[i]->Process(e) != Operator::Result::kNext) return;
    }
    out->push_back(std::move(e));
  }

  void TakeDeferred(std::vector<Entry>* out) {
    for (auto& e : deferred_) out->push_back(std::move(e));
    deferred_.clear();
  }

  std::vector<Entry> deferred_;  // released by Forget(), handed out by the next call
};

}  // namespace

absl::StatusOr<std::unique_ptr<Chain>> BuildChain(const ChainConfig& cfg) {
  auto chain = std::make_unique<ChainImpl>();
  for (const auto& op : cfg.ops) {
    if (op == nullptr || !op->make) {
      return absl::InvalidArgumentError(
          StrCat("operator ", op == nullptr ? std::string("?") : op->id, " has configuration errors"));
    }
    chain->ops_.push_back(op->make(&chain->stats_));
  }
  return std::unique_ptr<Chain>(std::move(chain));
}

}  // namespace outrigger::receivers::filelog::operators
