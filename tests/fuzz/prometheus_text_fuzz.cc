// A Prometheus text exposition (a scrape's body): Parse and ParseView must agree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "receivers/prometheus/parser.h"

using namespace outrigger::receivers::prometheus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto families = Parse(text);
  auto view = ParseView(text);
  if (families.ok() != view.ok()) std::abort();
  if (!families.ok()) return 0;
  if (families->size() != view->families.size()) std::abort();
  for (size_t i = 0; i < families->size(); ++i) {
    const Family& f = (*families)[i];
    const FamilyView& v = view->families[i];
    if (f.name != v.name || f.type != v.type || f.samples.size() != v.samples.size()) std::abort();
    for (size_t j = 0; j < f.samples.size(); ++j) {
      if (f.samples[j].name != v.samples[j].name || f.samples[j].labels.size() != v.samples[j].labels.size()) {
        std::abort();
      }
    }
  }
  return 0;
}
