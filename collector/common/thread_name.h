#pragma once

// Names the calling thread (at most 15 characters are kept, as the kernel keeps), so
// `top -H`, `ps -T`, /proc/PID/task/*/comm and a debugger say which thread spends the
// CPU: the event loop, the OTLP/HTTP workers, a batch sender, an exporter's consumers.

#include <pthread.h>

#include <string>

namespace outrigger {

inline void SetThreadName(const std::string& name) { pthread_setname_np(pthread_self(), name.substr(0, 15).c_str()); }

}  // namespace outrigger
