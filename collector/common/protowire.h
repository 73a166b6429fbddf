#pragma once
// Reading the protobuf wire format by hand (components that read OTLP bytes in place,
// without decoding: tail_sampling, loadbalancing).

#include <cstdint>

namespace outrigger::protowire {

// A base-128 varint at p; p moves past it. False if [p, end) ends first or it is longer
// than 10 bytes.
inline bool ReadVarint(const char*& p, const char* end, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(*p++);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

}  // namespace outrigger::protowire
