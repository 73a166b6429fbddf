#pragma once
// absl::Mutex, which every lock of gRPC is, checks each lock it takes against a graph of
// the order in which all locks were taken so far when Abseil is built without NDEBUG, as
// Debian's is: a graph update per lock (in the profile of a loaded exporter), and on a
// lock order it has not seen before in reverse ("potential deadlock", not a deadlock)
// it aborts the process. A running collector must not die for that: the check is off.

namespace outrigger::common {

// Turns off absl::Mutex's deadlock detection for the process. Called first in main().
void DisableMutexDeadlockDetection();

}  // namespace outrigger::common
