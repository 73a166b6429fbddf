#pragma once
// Log parsing operators of the filelog receiver (the OpenTelemetry Collector's stanza
// operators, same names and options where the same thing exists): json_parser,
// regex_parser, container, time_parser, severity_parser, add, move, remove, copy, ...
// Configured as the receiver's `operators:` list and applied in order to every entry
// the reader produced (one line, or one multiline record).
//
// Contract with the reader (receivers/filelog):
// - Process() is called from the receiver's one reading thread; no locking needed.
// - An entry may be consumed and held (container partial lines waiting for their end):
//   the chain then emits nothing for it now and emits the combined entry later, from a
//   later Process() or from Flush(). While entries of a file are held, PendingStart()
//   reports the offset where the oldest held one began, so the reader never commits a
//   checkpoint past data that has not reached the pipeline.
// - A parse failure follows `on_error` (send: the entry goes on unparsed, with an error
//   logged at most every 10 s and counted; drop: counted and removed; *_quiet: not
//   logged). It never throws and never stops the chain for other entries.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/config/node.h"
#include "collector/pdata/builders.h"

namespace outrigger::receivers::filelog::operators {

struct Entry {
  pdata::LogRecord record;    // body (the line as a string, before parsing), attributes, ...
  pdata::ValueMap resource;   // resource attributes set by operators (e.g. k8s.pod.name)
  std::string file_path;      // the file it was read from (its key for held entries)
  uint64_t offset_start = 0;  // byte range of the entry in that file
  uint64_t offset_end = 0;
};

// A record a chain made straight into OTLP bytes (Chain::EncodeDirect), without an Entry:
// what the chain sets beside the reader's attributes, resource and observed time.
struct DirectRecord {
  uint64_t time_ns = 0;
  int severity_number = 0;
  std::string severity_text;
  std::string body;  // LogRecord.body: the AnyValue, encoded
};

struct Stats {
  uint64_t parse_errors = 0;  // entries whose parsing failed (sent on or dropped)
  uint64_t dropped = 0;       // entries removed (on_error: drop or drop_quiet)
};

class Chain {
 public:
  virtual ~Chain() = default;
  // Applies the operators to `in`; appends the entries ready to send to `out` (zero,
  // one, or — when a held entry completes — more than one).
  virtual void Process(Entry&& in, std::vector<Entry>* out) = 0;
  // Emits entries held longer than `max_hold_ns` (all of them when 0), e.g. a partial
  // container line whose end never came, or at shutdown. An entry is held since its
  // first part's record.observed_time_ns (the wall clock, Unix ns, when the reader set
  // it; else the wall clock at Process()): pass `now_ns` on that clock.
  virtual void Flush(uint64_t now_ns, uint64_t max_hold_ns, std::vector<Entry>* out) = 0;
  // Where the oldest entry still held for `file_path` began, if any.
  virtual std::optional<uint64_t> PendingStart(const std::string& file_path) const = 0;
  // A file went away for good (deleted, rotated out and finished): forget its state.
  // Entries still held for it are not lost: they are released (unfinished) at the head
  // of `out` of the next Process() or Flush() call.
  virtual void Forget(const std::string& file_path) = 0;
  virtual const Stats& stats() const = 0;

  // Whether EncodeDirect can ever succeed: the chain is one operator that can encode its
  // record straight into OTLP bytes (json_parser from the body to the body, with or
  // without timestamp and severity blocks on fields of the body).
  virtual bool direct() const { return false; }
  // The record Process() would make of an entry whose body is the string `line` (and
  // whose attributes and resource are the reader's), encoded into *out without building
  // it: true when done; false when the line does not take the plain way (invalid JSON,
  // a repeated key, a timestamp that does not parse, ...: call Process() for it, which
  // does what it always does, errors counted and logged). `readable`: the bytes that may
  // be read from line.data() on; at least line.size() + 64 spares a copy of the line.
  virtual bool EncodeDirect(std::string_view line, size_t readable, DirectRecord* out) { return false; }
};

// The parsed `operators:` list, part of the receiver's Config (copyable; the receiver
// builds its Chain from it at creation).
struct ChainConfig {
  struct Op;  // one operator's options (defined in the implementation)
  std::vector<std::shared_ptr<const Op>> ops;

  // Reads the `operators` key of the receiver's config node (absent or empty: a chain
  // that passes entries through). Errors go to the node's error list with the YAML path
  // (operators[2].regex) and line: unknown type (with a suggestion), unknown options,
  // a regex that does not compile, a bad field expression, a bad time layout. Marks
  // `operators` as a known key of `receiver_node`. Options: README.md beside this file.
  void Decode(config::Node& receiver_node);
};

// Fails (InvalidArgument) only for a config whose Decode reported errors.
absl::StatusOr<std::unique_ptr<Chain>> BuildChain(const ChainConfig& cfg);

}  // namespace outrigger::receivers::filelog::operators
