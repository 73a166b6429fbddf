// The ring: upstream's positions and lookup (an independent, naive version of
// consistent_hashing.go below), even spread, and the movement bound when a member comes
// or goes: only the keys of that member move.
#include "exporters/loadbalancing/ring.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace outrigger::exporters::loadbalancing {
namespace {

uint32_t Crc(std::string_view s) {
  return static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// Upstream's algorithm as written there: sorted endpoints, 100 points each at
// crc32(endpoint + byte(i)) % 36000 (first one wins a taken position), items sorted by
// position; a key takes the first item at or after its position, else the first item.
std::string UpstreamEndpointFor(std::vector<std::string> endpoints, std::string_view key) {
  std::sort(endpoints.begin(), endpoints.end());
  std::vector<std::pair<uint32_t, std::string>> items;
  std::set<uint32_t> taken;
  for (const auto& e : endpoints) {
    for (int i = 0; i < 100; ++i) {
      std::string b = e;
      b.push_back(static_cast<char>(i));
      uint32_t pos = Crc(b) % 36000;
      if (!taken.insert(pos).second) continue;
      items.emplace_back(pos, e);
    }
  }
  std::sort(items.begin(), items.end());
  uint32_t pos = Crc(key) % 36000;
  for (const auto& [p, e] : items) {
    if (p >= pos) return e;
  }
  return items.front().second;
}

std::string RandomKey(std::mt19937_64& rng) {
  std::string k(16, '\0');
  for (auto& c : k) c = static_cast<char>(rng());
  return k;
}

TEST(HashRing, MatchesUpstreamAlgorithm) {
  std::vector<std::string> eps = {"10.0.0.3:4317", "10.0.0.1:4317", "gateway-2:4317", "10.0.0.2:4317"};
  HashRing ring(eps);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 3000; ++i) {
    std::string k = RandomKey(rng);
    ASSERT_EQ(ring.EndpointFor(k), UpstreamEndpointFor(eps, k)) << i;
  }
  // Keys at the very ends of the circle.
  for (std::string k : {"", "a", "service-a", "checkout"}) EXPECT_EQ(ring.EndpointFor(k), UpstreamEndpointFor(eps, k));
}

TEST(HashRing, OrderOfEndpointsDoesNotMatter) {
  HashRing a({"b:1", "a:1", "c:1"});
  HashRing b({"c:1", "b:1", "a:1", "a:1"});
  EXPECT_EQ(a.endpoints(), b.endpoints());
  std::mt19937_64 rng(2);
  for (int i = 0; i < 1000; ++i) {
    std::string k = RandomKey(rng);
    EXPECT_EQ(a.EndpointFor(k), b.EndpointFor(k));
  }
}

TEST(HashRing, EmptyRingRoutesNothing) {
  HashRing r({});
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.IndexFor("x"), -1);
}

TEST(HashRing, SpreadsKeys) {
  HashRing ring({"10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"});
  std::map<std::string, int> n;
  std::mt19937_64 rng(3);
  constexpr int kKeys = 90000;
  for (int i = 0; i < kKeys; ++i) n[ring.EndpointFor(RandomKey(rng))]++;
  ASSERT_EQ(n.size(), 3u);
  for (const auto& [e, c] : n) {
    EXPECT_GT(c, kKeys / 3 / 2) << e;  // 100 points each: within a factor of two of even
    EXPECT_LT(c, kKeys / 3 * 2) << e;
  }
}

TEST(HashRing, AddingAMemberMovesOnlyKeysToIt) {
  std::vector<std::string> three = {"10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"};
  std::vector<std::string> four = three;
  four.push_back("10.0.0.4:4317");
  HashRing before(three), after(four);
  std::mt19937_64 rng(4);
  constexpr int kKeys = 100000;
  int moved = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string k = RandomKey(rng);
    const std::string& a = before.EndpointFor(k);
    const std::string& b = after.EndpointFor(k);
    if (a == b) continue;
    ++moved;
    ASSERT_EQ(b, "10.0.0.4:4317") << "a key moved between two members that stayed";
  }
  // About 1/4 of the keys move to the new member; never more than half.
  EXPECT_GT(moved, kKeys / 10);
  EXPECT_LT(moved, kKeys / 2);
}

TEST(HashRing, RemovingAMemberMovesOnlyItsKeys) {
  std::vector<std::string> four = {"10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317", "10.0.0.4:4317"};
  std::vector<std::string> three(four.begin(), four.begin() + 3);
  HashRing before(four), after(three);
  std::mt19937_64 rng(5);
  int had = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string k = RandomKey(rng);
    const std::string& a = before.EndpointFor(k);
    const std::string& b = after.EndpointFor(k);
    if (a == "10.0.0.4:4317") {
      ++had;
      EXPECT_NE(b, a);
    } else {
      ASSERT_EQ(a, b) << "a key of a member that stayed moved";
    }
  }
  EXPECT_GT(had, 0);
}

}  // namespace
}  // namespace outrigger::exporters::loadbalancing
