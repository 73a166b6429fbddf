#pragma once
// The consistent hash ring of upstream's loadbalancing exporter (consistent_hashing.go),
// so a fleet mixing it and Outrigger routes a key to the same backend: 36,000 positions
// (360 degrees with two decimals); each endpoint takes 100, at crc32(endpoint + byte(i))
// mod 36000 (endpoints sorted; a position already taken stays with the first); a key
// goes to the first endpoint at or after crc32(key) mod 36000, wrapping around.
//
// Adding or removing an endpoint moves only the keys of the arcs it takes or gives back,
// about 1/n of them. The lookup is one crc32 and one table read.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace outrigger::exporters::loadbalancing {

class HashRing {
 public:
  static constexpr uint32_t kMaxPositions = 36000;
  static constexpr int kPositionsPerEndpoint = 100;

  // Endpoints are sorted and de-duplicated; an empty ring routes nothing.
  explicit HashRing(std::vector<std::string> endpoints);

  bool empty() const { return endpoints_.empty(); }
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // The index (in endpoints()) of the endpoint owning `key`; -1 if the ring is empty.
  int IndexFor(std::string_view key) const {
    if (endpoints_.empty()) return -1;
    return owner_[Position(key)];
  }
  const std::string& EndpointFor(std::string_view key) const { return endpoints_[IndexFor(key)]; }

  static uint32_t Position(std::string_view key);

 private:
  std::vector<std::string> endpoints_;
  std::vector<uint16_t> owner_;  // kMaxPositions entries: position -> endpoint index
};

}  // namespace outrigger::exporters::loadbalancing
