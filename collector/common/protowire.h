#pragma once
// Reading and writing the protobuf wire format by hand (components that read or build
// OTLP bytes in place, without decoding: tail_sampling, loadbalancing, filelog).

#include <cstddef>
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

// The bytes of v as a base-128 varint (1 to 10).
inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes v as a varint at dst (room for VarintSize(v) bytes); returns the end.
inline char* WriteVarint(char* dst, uint64_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}

}  // namespace outrigger::protowire
