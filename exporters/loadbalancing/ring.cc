#include "exporters/loadbalancing/ring.h"

#include <zlib.h>

#include <algorithm>

namespace outrigger::exporters::loadbalancing {

uint32_t HashRing::Position(std::string_view key) {
  uLong c = crc32(0L, reinterpret_cast<const Bytef*>(key.data()), static_cast<uInt>(key.size()));
  return static_cast<uint32_t>(c % kMaxPositions);
}

HashRing::HashRing(std::vector<std::string> endpoints) : endpoints_(std::move(endpoints)) {
  std::sort(endpoints_.begin(), endpoints_.end());
  endpoints_.erase(std::unique(endpoints_.begin(), endpoints_.end()), endpoints_.end());
  if (endpoints_.size() > UINT16_MAX) endpoints_.resize(UINT16_MAX);
  if (endpoints_.empty()) return;
  constexpr uint16_t kFree = UINT16_MAX;
  std::vector<uint16_t> at(kMaxPositions, kFree);  // the endpoint whose point is at a position
  for (size_t e = 0; e < endpoints_.size(); ++e) {
    std::string buf = endpoints_[e];
    buf.push_back('\0');
    for (int i = 0; i < kPositionsPerEndpoint; ++i) {
      buf.back() = static_cast<char>(static_cast<uint8_t>(i));
      uint32_t pos = Position(buf);
      if (at[pos] == kFree) at[pos] = static_cast<uint16_t>(e);
    }
  }
  // Each position belongs to the first point at or after it, wrapping to the first one.
  owner_.assign(kMaxPositions, 0);
  uint16_t first = kFree;
  for (uint32_t p = 0; p < kMaxPositions && first == kFree; ++p) first = at[p];
  uint16_t next = first;
  for (uint32_t p = kMaxPositions; p-- > 0;) {
    if (at[p] != kFree) next = at[p];
    owner_[p] = next;
  }
}

}  // namespace outrigger::exporters::loadbalancing
