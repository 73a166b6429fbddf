#pragma once
// The filelog receiver's batch builder: log records encoded straight into the OTLP wire
// format (ExportLogsServiceRequest) and handed on as pdata::Logs::FromProto bytes,
// instead of building protobuf messages on an arena (one arena allocation, string object
// and destructor registration per field, and a malloc per string longer than 15 bytes).
// A file's own attributes (log.file.name, ...) are encoded once per file (EncodeAttributes)
// and copied into each of its records as bytes: they cost a memcpy per record.
// Downstream, the bytes travel as they are (batching appends parts, exporters copy them)
// and are decoded only by a processor that reads or changes the records. The batch is
// not scanned again (trusted: we made it; the tests check the encoder instead).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "collector/pdata/builders.h"
#include "collector/pdata/pdata.h"
#include "receivers/filelog/operators/operators.h"

namespace outrigger::receivers::filelog {

class WireLogsBuilder {
 public:
  WireLogsBuilder(const pdata::ValueMap& resource, std::string_view scope_name);

  // A whole record (the operators' path); its strings are moved from or copied.
  void Add(pdata::LogRecord&& r);
  // A record with the observed time, the attributes `attrs_wire` (EncodeAttributes) and
  // a string body (bytes body if `bytes`) that the caller fills through the returned
  // pointer (empty on return), valid until the next Add/AddLine/records/Build.
  std::string* AddLine(uint64_t observed_time_ns, std::string_view attrs_wire, bool bytes = false);
  // A record a chain encoded (operators::Chain::EncodeDirect) with the observed time and
  // the attributes `attrs_wire`: the bytes Add() makes of the same record.
  void AddEncoded(uint64_t observed_time_ns, std::string_view attrs_wire, const operators::DirectRecord& r);
  size_t records() const { return records_; }
  // The records so far as one request; the builder starts over. The bytes are not
  // checked again (pdata::Logs::FromTrustedProto): this encoder makes only valid UTF-8
  // strings, minimal varints and values at most kMaxValueDepth deep, and
  // wire_logs_test.cc checks its output with ScanRequest and protobuf's parser.
  absl::StatusOr<pdata::Logs> Build();

  // `m` as LogRecord.attributes fields (what AddLine copies).
  static void EncodeAttributes(const pdata::ValueMap& m, std::string* out);

 private:
  void FinishLine();

  std::string head_;         // ScopeLogs.scope, encoded
  std::string resource_;     // ResourceLogs.resource, encoded
  std::string records_buf_;  // head_room_ bytes, then ScopeLogs.log_records fields
  std::string line_, line_attrs_;
  uint64_t line_time_ = 0;
  bool line_pending_ = false, line_bytes_ = false;
  size_t records_ = 0;
  size_t invalid_ids_ = 0;  // records whose trace or span id has the wrong length
  // The head of the request (ExportLogsServiceRequest.resource_logs to ScopeLogs.scope)
  // for `records_bytes` of records.
  size_t PrefixSize(size_t records_bytes) const;
  size_t head_room_ = 0;   // bytes left in front of the records for the head (records_buf_ starts with them)
  size_t last_bytes_ = 0;  // size of the last batch: the next one reserves as much
};

}  // namespace outrigger::receivers::filelog
