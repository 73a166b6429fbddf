#pragma once
// OTLP/JSON encoding that streams: the output goes to a callback in chunks of about
// kJsonChunk bytes, read from the request's protobuf encoding, so encoding a request
// takes one copy of its encoding and a chunk, whatever its size (issue 15: a merged
// decoded copy and two intermediate JSON documents made a 4 MB request of 440,000
// empty attributes cost 340 MB).
//
// The encoding is protobuf's JSON mapping as Data::ToJson documents it: lowerCamelCase
// names in field-number order, fields at their default value left out, 64-bit integers
// as strings, enums as integers, bytes in base64 except trace and span ids (hex), NaN and
// infinities as "NaN", "Infinity", "-Infinity". Several parts make one request (their
// resources in one array).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "collector/pdata/pdata.h"

namespace outrigger::pdata {

inline constexpr size_t kJsonChunk = 64 * 1024;

// Receives the encoding in order; a non-OK answer stops the encoding and is returned.
using JsonOut = std::function<absl::Status(std::string_view)>;

// Encodes `d` as one line of OTLP/JSON (no newline). `max_bytes` (0: none) bounds the
// output: past it the encoding stops, and ResourceExhausted says so (what went to `out`
// until then is an incomplete line).
// Reads the protobuf encoding of `d` (the bytes as they were received, for a received
// part), not decoded messages: memory is one copy of the encoding and a chunk.
template <typename D>
absl::Status EncodeJson(const D& d, size_t max_bytes, const JsonOut& out);
// The same from the decoded messages (reflection): the reference the wire reading is
// tested against.
template <typename D>
absl::Status EncodeJsonFromMessages(const D& d, size_t max_bytes, const JsonOut& out);

}  // namespace outrigger::pdata
