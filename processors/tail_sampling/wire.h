#pragma once
// Reading encoded OTLP traces without decoding them: the fields of a span the policies
// need, and the attributes of a resource, as views into the bytes received. The input
// was checked by pdata (wire_scan) when it came in, so malformed input is only skipped.

#include <cstdint>
#include <string_view>
#include <vector>

#include "collector/common/protowire.h"

namespace outrigger::processors::tail_sampling {

using protowire::ReadVarint;
// One field at p: its number and wire type; for length-delimited fields the payload,
// for varints and fixed-size fields the value. p moves past it.
struct WireField {
  uint32_t number = 0;
  uint32_t type = 0;  // 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
  std::string_view payload;
  uint64_t value = 0;
};
bool NextField(const char*& p, const char* end, WireField* f);

// An attribute's value (AnyValue), as far as the policies read it.
struct AttrView {
  enum Type : uint8_t { kOther, kString, kBool, kInt, kDouble };
  std::string_view key;
  Type type = kOther;
  std::string_view str;
  int64_t i = 0;
  bool b = false;
};
// The attributes (field `field` of `msg`: KeyValue) appended to *out.
void ParseAttributes(std::string_view msg, uint32_t field, std::vector<AttrView>* out);

struct SpanView {
  std::string_view raw;  // the span's encoding
  std::string_view trace_id, parent_span_id, trace_state;
  uint32_t flags = 0;
  uint64_t start = 0, end = 0;
  int status = 0;
  std::vector<AttrView> attrs;
};
// Reads `raw` (a Span) into *out; false if it is not one.
bool ParseSpan(std::string_view raw, SpanView* out);

}  // namespace outrigger::processors::tail_sampling
