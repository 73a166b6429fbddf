#pragma once
// Admission: may a receiver take in `bytes` more of new data (as received, before it is
// decoded)? A processor that guards a resource of the whole process (the memory_limiter)
// is an AdmissionProvider; the service hands every receiver that is an AdmissionClient
// the controls of all the pipelines it feeds, directly or through connectors
// (AdmissionClient::SetAdmission, beside SetConsumers), so that it can refuse a request
// before allocating it. Receivers ask by size and turn a refusal into their protocol's
// backpressure (OTLP: gRPC RESOURCE_EXHAUSTED with RetryInfo, HTTP 429 with Retry-After;
// filelog pauses; StatsD and the Prometheus scrape count what they skip). With no
// control, everything is admitted. (Found with dynamic_cast, like ServerAuthenticator.)

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace outrigger {

class AdmissionControl {
 public:
  virtual ~AdmissionControl() = default;
  // OK reserves `bytes` until Release(bytes); a refusal is RESOURCE_EXHAUSTED (try again
  // later). Thread-safe.
  virtual absl::Status Reserve(uint64_t bytes) = 0;
  virtual void Release(uint64_t bytes) = 0;
};

// What a receiver holds: the controls of the pipelines it feeds.
class Admission {
 public:
  // Holds what was reserved until destroyed (when the data was handed to the pipeline,
  // accepted or not).
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& o) noexcept : controls_(std::exchange(o.controls_, {})), bytes_(o.bytes_) {}
    Ticket& operator=(Ticket&& o) noexcept {
      if (this != &o) {
        Reset();
        controls_ = std::exchange(o.controls_, {});
        bytes_ = o.bytes_;
      }
      return *this;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { Reset(); }
    void Reset() {
      for (AdmissionControl* c : controls_) c->Release(bytes_);
      controls_.clear();
    }
    uint64_t bytes() const { return bytes_; }

   private:
    friend class Admission;
    std::vector<AdmissionControl*> controls_;
    uint64_t bytes_ = 0;
  };

  void Add(AdmissionControl* c) {
    for (AdmissionControl* have : controls_) {
      if (have == c) return;
    }
    controls_.push_back(c);
  }
  bool empty() const { return controls_.empty(); }

  // Asks every control; the first refusal is returned (what the others reserved is given
  // back).
  absl::StatusOr<Ticket> Admit(uint64_t bytes) const {
    Ticket t;
    t.bytes_ = bytes;
    for (AdmissionControl* c : controls_) {
      if (absl::Status st = c->Reserve(bytes); !st.ok()) return st;  // ~Ticket releases the others
      t.controls_.push_back(c);
    }
    return t;
  }

 private:
  std::vector<AdmissionControl*> controls_;
};

// Implemented by a processor whose pipeline's receivers must ask it before taking data
// in (the memory_limiter). The control lives as long as the processor.
class AdmissionProvider {
 public:
  virtual ~AdmissionProvider() = default;
  virtual AdmissionControl* admission() = 0;
};

// Implemented by a receiver that asks admission_.Admit(bytes) before it reads or decodes
// a request. The service calls SetAdmission before Start.
class AdmissionClient {
 public:
  virtual ~AdmissionClient() = default;
  void SetAdmission(Admission a) { admission_ = std::move(a); }

 protected:
  Admission admission_;
};

}  // namespace outrigger
