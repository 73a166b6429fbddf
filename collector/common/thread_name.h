#pragma once

// Names threads (at most 15 characters are kept, as the kernel keeps), so `top -H`,
// `ps -T`, /proc/PID/task/*/comm and a debugger say which thread spends the CPU: the
// event loop, the OTLP/HTTP workers, a batch sender, an exporter's consumers.

#include <pthread.h>

#include <string>
#include <thread>
#include <utility>

namespace outrigger {

// Names the calling thread; an empty name leaves the process's.
inline void SetThreadName(const std::string& name) {
  if (!name.empty()) pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

// A thread that names itself `name`, then runs `body`.
template <typename F>
std::thread NamedThread(std::string name, F body) {
  return std::thread([name = std::move(name), body = std::move(body)]() mutable {
    SetThreadName(name);
    body();
  });
}

}  // namespace outrigger
