#pragma once

// The code pages a sidecar keeps resident. Most of an idle collector's resident set is
// file-backed: pages of the executable and its shared libraries that ran once at
// start-up (static initialisers, config decoding, component construction) or that the
// kernel mapped around the ones that ran (fault-around maps up to 16 neighbouring pages
// per fault). The page cache shares them, but they count in the process's RSS, which
// is what a Pod's operator reads and multiplies by the Pod count.

#include <cstddef>

#include "absl/time/time.h"

namespace outrigger::memory {

// MADV_DONTNEED on every read-only, private file mapping whose pages are all the file's
// own (smaps "Anonymous: 0 kB"; RELRO segments, relocated then made read-only, hold
// anonymous pages and are left alone, as are writable and device mappings). This
// process's page-table entries go; the page cache keeps the pages, and those in use
// fault back in (minor faults, no I/O). Pages other processes map too (the same
// libraries in other containers) are released as well, which MADV_PAGEOUT would not do.
// Returns the number of mappings released.
size_t ReleaseCodePages();

// Start-up is not the only code that runs once: so do an exporter's first connection, the
// first flush, scrape or retry of each component, a reload's new components. The
// collector releases after it starts or reloads, again kCodeSettle later, then every
// kCodeReleaseEvery (for what rare events bring in: reconnects, errors). Under the mixed
// load of bench/run_sidecar_bench.sh the release once settled took RssFile from 13.5 to
// 10.1 MiB; what runs faults back in within a second (minor faults, no I/O).
inline constexpr absl::Duration kCodeSettle = absl::Seconds(30);
inline constexpr absl::Duration kCodeReleaseEvery = absl::Minutes(10);

}  // namespace outrigger::memory
