#pragma once
// Logs and spans as Elasticsearch documents (mapping modes otel, ecs, none, raw), the
// index each goes to, its optional content-derived _id, and NDJSON bulk bodies.
// Documents of one batch live in one buffer; a Doc is a range of it.

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "collector/common/json.h"
#include "collector/pdata/pdata.h"
#include "exporters/elasticsearch/config.h"

namespace outrigger::exporters::elasticsearch {

// JSON pieces, exposed for tests and the benchmark. Strings: collector/common/json.h
// (invalid UTF-8 replaced by U+FFFD: Elasticsearch refuses it).
using outrigger::AppendJsonString;
// RFC 3339 with nanoseconds, UTC: "2024-05-06T07:08:09.123456789Z" (with quotes).
void AppendJsonTime(std::string* out, uint64_t unix_nanos);

struct Doc {
  uint32_t index = 0;           // into EncodedBatch::indices
  uint32_t begin = 0, end = 0;  // the source, in EncodedBatch::buf
  uint32_t items = 1;           // pipeline items in it: 1, or a metrics document's data points
  std::string id;               // empty: Elasticsearch assigns one
  std::string action_extra;     // more fields of the action: ,"dynamic_templates":{...}
};

// The data stream a document is routed to by *_dynamic_index (type empty: a plain index).
struct DataStream {
  std::string type, dataset, ns;
};

struct EncodedBatch {
  std::string buf;  // every document's source, back to back
  std::vector<Doc> docs;
  std::vector<std::string> indices;  // distinct target index names
  std::vector<DataStream> streams;   // per index: its data stream, if routed to one
  // Data points that make no document (NaN or infinite values, malformed histograms, a
  // metric name twice in one document), with the first reason.
  size_t invalid = 0;
  std::string first_invalid;
  std::string_view Source(const Doc& d) const { return std::string_view(buf).substr(d.begin, d.end - d.begin); }
  size_t DocBytes(const Doc& d) const;  // action line + source + 2 newlines, about
};

class Encoder {
 public:
  explicit Encoder(const Config& cfg);
  // Appends one document per log record / span. `now_ns` stands in for records with no
  // time at all.
  void EncodeLogs(const pdata::Logs& d, uint64_t now_ns, EncodedBatch* out) const;
  void EncodeTraces(const pdata::Traces& d, uint64_t now_ns, EncodedBatch* out) const;
  // One document per resource (ecs: and its scopes), scope (otel), timestamp, start time,
  // unit (otel) and data point attributes, with every metric of that group under its name
  // (otel: in "metrics"), as upstream groups them; mapping modes otel and ecs.
  void EncodeMetrics(const pdata::Metrics& d, uint64_t now_ns, EncodedBatch* out) const;

  // The bulk action line (with its newline) of `doc`.
  void AppendAction(const EncodedBatch& b, const Doc& doc, std::string* out) const;
  // action + source lines of docs[i] for each i in `which`.
  std::string BulkBody(const EncodedBatch& b, const std::vector<uint32_t>& which) const;

 private:
  struct IndexCache;
  const Config& cfg_;
};

// The _id of document_id: content_hash: base64url (no padding) of the first 16 bytes
// of SHA-256 over the index name, a newline and the source.
std::string ContentHashId(std::string_view index, std::string_view source);

}  // namespace outrigger::exporters::elasticsearch
