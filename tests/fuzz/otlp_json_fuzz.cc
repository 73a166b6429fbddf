// OTLP/JSON requests (an OTLP/HTTP body with Content-Type application/json). The first
// byte picks the signal. What decodes must encode, and its encoding must decode again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/pdata/pdata.h"

namespace {

template <typename D>
void Run(std::string_view json) {
  auto d = D::FromJson(json);
  if (!d.ok()) return;
  const size_t items = d->ItemCount();
  std::string err;
  D copy = d->Clone();
  copy.DropInvalidIds(&err);
  auto again = D::FromProto(d->ToProto());
  if (!again.ok() || again->ItemCount() != items) std::abort();
  auto back = D::FromJson(d->ToJson());
  if (!back.ok() || back->ItemCount() != items) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      Run<outrigger::pdata::Traces>(json);
      break;
    case 1:
      Run<outrigger::pdata::Metrics>(json);
      break;
    default:
      Run<outrigger::pdata::Logs>(json);
  }
  return 0;
}
