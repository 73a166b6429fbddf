#include "collector/common/worker_set.h"

#include <algorithm>

#include "collector/common/thread_name.h"

namespace outrigger {

WorkerSet::~WorkerSet() {
  // JoinAll ran; anything left would terminate the process in ~thread.
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool WorkerSet::Wake(std::condition_variable& cv, size_t backlog) {
  // A running worker may also wait on `cv` outside Wait() (a timed wait of its own).
  cv.notify_one();
  return Wake(backlog);
}

bool WorkerSet::Wake(size_t backlog) {
  // Waiters woken but not yet running still count: each will take one piece of work.
  if (waiting_ >= backlog) return true;
  if (running_ >= max_) return false;
  ReapLeft();
  ++running_;
  threads_.push_back(NamedThread(name_, [this] { run_(); }));
  return true;
}

void WorkerSet::Leave() {
  --running_;
  left_.push_back(std::this_thread::get_id());
}

void WorkerSet::ReapLeft() {
  // A worker that left only unlocks the owner's mutex and returns after Leave(): joining
  // it here, with that mutex held, waits for nothing else.
  for (auto id : left_) {
    auto it = std::find_if(threads_.begin(), threads_.end(), [&](const std::thread& t) { return t.get_id() == id; });
    if (it == threads_.end()) continue;
    it->join();
    threads_.erase(it);
  }
  left_.clear();
}

void WorkerSet::JoinAll(std::mutex& mu) {
  std::vector<std::thread> all;
  {
    std::lock_guard<std::mutex> lock(mu);
    all.swap(threads_);
    left_.clear();
  }
  for (auto& t : all) t.join();
  std::lock_guard<std::mutex> lock(mu);
  running_ = 0;
  waiting_ = 0;
  left_.clear();
}

}  // namespace outrigger
