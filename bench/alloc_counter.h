#pragma once
// Counts heap allocations (global operator new, which protobuf's arenas use too) for the
// "allocations per record" counters of a benchmark. Include it in exactly one file of a
// benchmark binary: it replaces the global operator new/delete.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace outrigger::bench {
inline std::atomic<uint64_t> g_allocs{0};
}  // namespace outrigger::bench

// GCC cannot see that the replacements pair malloc with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t n) {
  outrigger::bench::g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
