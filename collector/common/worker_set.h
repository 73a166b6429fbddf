#pragma once

// Threads that exist only while there is work. An idle sidecar should not hold a thread
// per batch processor and ten per exporter queue: each costs a stack, a scheduler
// entry and, on the threads' first use, page faults. A WorkerSet starts a worker when
// work arrives and none is waiting for it (up to `max`), and a worker that found
// nothing to do for `idle_exit` leaves. The owner keeps its own mutex and condition
// variable; every call below except JoinAll is made with that mutex held.
//
//   owner, on new work:     set.Wake(cv, queue.size());  // notifies a waiter, or starts one
//   worker loop:            if (!set.Wait(lock, cv, [&]{ return have_work || stopping; })) return;
//   owner, at shutdown:     stopping = true; cv.notify_all(); (unlock) set.JoinAll(mu);
//
// Workers that sleep on something else than a condition variable (the OTLP/HTTP workers
// sleep on a futex word: one syscall to wake, one to sleep) use the parts of Wake and
// Wait: Wake(backlog) (the owner wakes a sleeper itself), Sleeping()/Awake() around the
// sleep, Leave() when it slept idle_exit() without work.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace outrigger {

class WorkerSet {
 public:
  // `run` is each worker's body; it returns when Wait() says so (or the owner stops it).
  // `name`: the workers' thread name (NamedThread); empty: the process's.
  WorkerSet(size_t max, absl::Duration idle_exit, std::function<void()> run, std::string name = {})
      : max_(max), idle_exit_(idle_exit), run_(std::move(run)), name_(std::move(name)) {}
  ~WorkerSet();  // the owner must have called JoinAll
  WorkerSet(const WorkerSet&) = delete;
  WorkerSet& operator=(const WorkerSet&) = delete;

  // Work arrived (owner's mutex held); `backlog` pieces of work wait for a worker (the
  // queue's length). Notifies one waiter of `cv`, and starts a worker if fewer than
  // `backlog` wait in Wait() and fewer than `max` run. False if all `max` are busy.
  bool Wake(std::condition_variable& cv, size_t backlog = 1);
  // Wake without the notify: starts a worker if fewer than `backlog` sleep and fewer
  // than `max` run (owner's mutex held). False if all `max` are busy.
  bool Wake(size_t backlog);

  // From a worker (owner's mutex held through `lock`): waits until `ready()`. Returns
  // true when ready; false when the worker should return because it waited `idle_exit`
  // without work (it is then no longer counted; its thread is joined later).
  template <typename Pred>
  bool Wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Pred ready) {
    ++waiting_;
    const bool ok = cv.wait_for(lock, absl::ToChronoNanoseconds(idle_exit_), ready);
    --waiting_;
    if (!ok) Leave();
    return ok;
  }
  // From a worker that returns for another reason (owner's mutex held).
  void Leave();

  // From a worker that sleeps on its owner's own primitive (owner's mutex held): before
  // it sleeps (it then counts as waiting for Wake) and once it holds the mutex again.
  void Sleeping() { ++waiting_; }
  void Awake() { --waiting_; }
  absl::Duration idle_exit() const { return idle_exit_; }

  // Joins every worker, started or leaving; call without the owner's mutex, after
  // telling the workers to stop (their `ready` must turn true and their loop return).
  void JoinAll(std::mutex& mu);

  size_t running() const { return running_; }  // owner's mutex held

 private:
  void ReapLeft();  // joins the threads of workers that left (owner's mutex held)

  const size_t max_;
  const absl::Duration idle_exit_;
  const std::function<void()> run_;
  const std::string name_;
  size_t running_ = 0;
  size_t waiting_ = 0;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> left_;  // workers that returned; their threads are joinable
};

}  // namespace outrigger
