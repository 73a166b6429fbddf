#include "collector/memory/resident_code.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"

namespace outrigger::memory {
namespace {

long StatusKb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string k;
  long v = -1;
  while (in >> k) {
    if (k == key + ":") {
      in >> v;
      return v;
    }
  }
  return -1;
}

struct Base {
  virtual ~Base() = default;
  virtual int Value() const = 0;
};
struct Derived : Base {
  int Value() const override { return 42; }
};

TEST(ResidentCode, ReleasesFilePagesAndEverythingStillRuns) {
  const long before = StatusKb("RssFile");
  ASSERT_GT(before, 0);
  EXPECT_GT(ReleaseCodePages(), 0u);  // the test binary and its libraries at least
  const long after = StatusKb("RssFile");
  EXPECT_LT(after, before) << "RssFile " << before << " kB before, " << after << " kB after";

  // Code, constants and relocated data (vtables, GOT: RELRO, left alone) still work.
  std::unique_ptr<Base> b = std::make_unique<Derived>();
  EXPECT_EQ(b->Value(), 42);
  std::map<std::string, std::function<int(int)>> fs{{"sq", [](int x) { return x * x; }}};
  EXPECT_EQ(fs["sq"](7), 49);
  EXPECT_EQ(absl::StrCat("page", 4096), "page4096");
  // Twice in a row is harmless.
  EXPECT_GT(ReleaseCodePages(), 0u);
  EXPECT_EQ(b->Value(), 42);
}

}  // namespace
}  // namespace outrigger::memory
