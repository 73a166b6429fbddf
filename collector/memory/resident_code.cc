#include "collector/memory/resident_code.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstring>

namespace outrigger::memory {
namespace {

struct Mapping {
  unsigned long start = 0, end = 0, inode = 0;
  char perms[8] = {};
  bool device = false;
  long anonymous_kb = -1;  // smaps "Anonymous:"; -1 when absent
  // Read-only, private, backed by a file (not a device): the executable's and the
  // libraries' code and constants.
  bool ReadOnlyFile() const { return inode != 0 && !device && perms[0] == 'r' && perms[1] != 'w' && perms[3] == 'p'; }
};

// Calls f(mapping) for every mapping of /proc/self/smaps; returns how many f accepted.
template <typename F>
size_t ForEachMapping(F f) {
  FILE* in = std::fopen("/proc/self/smaps", "re");
  if (in == nullptr) return 0;
  size_t n = 0;
  Mapping m;
  bool have = false;
  char line[4096];
  auto flush = [&] {
    if (have && f(m)) ++n;
    have = false;
  };
  while (std::fgets(line, sizeof line, in) != nullptr) {
    Mapping next;
    if (std::sscanf(line, "%lx-%lx %7s %*s %*s %lu", &next.start, &next.end, next.perms, &next.inode) == 4) {
      flush();
      next.device = std::strstr(line, " /dev/") != nullptr;
      m = next;
      have = true;
      continue;
    }
    long kb = 0;
    if (have && std::sscanf(line, "Anonymous: %ld kB", &kb) == 1) m.anonymous_kb = kb;
  }
  flush();
  std::fclose(in);
  return n;
}

}  // namespace

size_t ReleaseCodePages() {
  return ForEachMapping([](const Mapping& m) {
    // Only mappings whose every page is the file's own: a read-only mapping that holds
    // anonymous pages (RELRO: relocated, then made read-only) would lose its content.
    if (!m.ReadOnlyFile() || m.anonymous_kb != 0) return false;
    return madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) == 0;
  });
}

}  // namespace outrigger::memory
