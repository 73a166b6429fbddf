#pragma once

// The code pages a sidecar keeps resident. Most of an idle collector's resident set is
// file-backed: pages of the executable and its shared libraries that ran once at
// start-up (static initialisers, config decoding, component construction) or that the
// kernel mapped around the ones that ran (fault-around maps up to 16 neighbouring pages
// per fault). The page cache shares them, but they count in the process's RSS, which
// is what a Pod's operator reads and multiplies by the Pod count.

#include <cstddef>

namespace outrigger::memory {

// MADV_DONTNEED on every read-only, private file mapping whose pages are all the file's
// own (smaps "Anonymous: 0 kB"; RELRO segments, relocated then made read-only, hold
// anonymous pages and are left alone, as are writable and device mappings). This
// process's page-table entries go; the page cache keeps the pages, and those in use
// fault back in (minor faults, no I/O). Pages other processes map too (the same
// libraries in other containers) are released as well, which MADV_PAGEOUT would not do.
// Returns the number of mappings released.
size_t ReleaseCodePages();

}  // namespace outrigger::memory
