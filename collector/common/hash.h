#pragma once
// A fast non-cryptographic hash of bytes (8 at a time, wyhash-style tail, MurmurHash3's
// finalizer), for hash tables keyed by labels and series. Not stable across versions:
// never persist it.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace outrigger {

// A 64-bit mix (the finalizer of MurmurHash3).
inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// A hash of `s` continuing `h` (a seed, or the hash of what came before).
inline uint64_t HashBytes(std::string_view s, uint64_t h) {
  h ^= s.size() * 0x9e3779b97f4a7c15ull;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  // The last 1-7 bytes, read as wyhash does (overlapping reads, no loop).
  uint64_t w = 0;
  const char* p = s.data();
  const size_t n = s.size();
  if (i < n && n >= 8) {
    std::memcpy(&w, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    w = static_cast<uint64_t>(a) << 32 | b;
  } else if (n > 0) {
    w = static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16 |
        static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 | static_cast<unsigned char>(p[n - 1]);
  }
  return Mix(h ^ w);
}

}  // namespace outrigger
