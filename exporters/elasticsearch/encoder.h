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
  std::string id;               // empty: Elasticsearch assigns one
};

struct EncodedBatch {
  std::string buf;  // every document's source, back to back
  std::vector<Doc> docs;
  std::vector<std::string> indices;  // distinct target index names
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
