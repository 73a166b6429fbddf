#include "processors/tail_sampling/tail_sampling_processor.h"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <new>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "collector/common/protowire.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/ottl/context.h"
#include "collector/telemetry/telemetry.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "processors/tail_sampling/policy.h"
#include "processors/tail_sampling/wire.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::tail_sampling {
namespace {

namespace asio = boost::asio;
namespace tpb = opentelemetry::proto::trace::v1;
using Request = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

constexpr absl::Duration kMinRetryDelay = absl::Milliseconds(50);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(5);
// Sampled traces go downstream in requests of about this size.
constexpr size_t kOutputChunk = 1 << 20;
// Without max_memory_mib, output the next consumer refused is held up to this much.
constexpr size_t kDefaultBacklog = 64u << 20;
// expected_new_traces_per_sec sizes the map up front, up to this many traces.
constexpr size_t kMaxReserve = 1u << 20;

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A trace id (16 bytes; other lengths are zero-padded) as a map key.
struct TraceKey {
  std::array<char, 16> b{};
  std::string_view view() const { return std::string_view(b.data(), b.size()); }
  bool operator==(const TraceKey& o) const { return b == o.b; }
  template <typename H>
  friend H AbslHashValue(H h, const TraceKey& k) {
    uint64_t w[2];
    std::memcpy(w, k.b.data(), sizeof(w));
    return H::combine(std::move(h), w[0], w[1]);
  }
};

TraceKey KeyOf(std::string_view id) {
  TraceKey k;
  std::memcpy(k.b.data(), id.data(), std::min(id.size(), k.b.size()));
  return k;
}

// A growable byte buffer that grows by half (std::string at least doubles), so what a
// trace holds stays close to its encoded size.
class Buf {
 public:
  Buf() = default;
  Buf(Buf&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), size_(std::exchange(o.size_, 0)), cap_(std::exchange(o.cap_, 0)) {}
  Buf& operator=(Buf&&) = delete;
  ~Buf() { std::free(p_); }
  // Room for `n` more bytes at the end; returns where to write them.
  char* Extend(size_t n) {
    const size_t need = size_ + n;
    if (need > cap_) {
      const size_t cap = std::max(need, cap_ + cap_ / 2);
      void* p = std::realloc(p_, cap);
      if (p == nullptr) throw std::bad_alloc();
      p_ = static_cast<char*>(p);
      cap_ = cap;
    }
    char* w = p_ + size_;
    size_ = need;
    return w;
  }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  std::string_view view() const { return std::string_view(p_, size_); }

 private:
  char* p_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

using protowire::VarintSize;
using protowire::WriteVarint;
size_t FieldSize(size_t len) { return 1 + VarintSize(len) + len; }

// The encoded pieces of one ResourceSpans as it was received: spans are read (wire.h)
// and held as the bytes that came in, never decoded or encoded again. `ok` is false when
// a field is written twice (protobuf would merge them): the request is then decoded and
// encoded once, canonically, first.
struct WireScope {
  std::string_view scope, schema;  // whole fields (tag, length, payload), or empty
  std::string_view scope_payload;
  std::vector<std::string_view> spans;  // span payloads
};
struct WireResource {
  bool ok = true;
  std::string_view resource, schema;  // whole fields, or empty
  std::string_view resource_payload;
  std::vector<WireScope> scopes;
};

// Splits an encoded ExportTraceServiceRequest; false if it is not one (never for what
// pdata accepted). Unknown fields are left out.
bool SplitWire(std::string_view req, std::vector<WireResource>* out) {
  out->clear();
  const char* p = req.data();
  const char* end = p + req.size();
  WireField f;
  while (p < end) {
    if (!NextField(p, end, &f)) return false;
    if (f.number != 1 || f.type != 2) continue;
    WireResource& r = out->emplace_back();
    const char* q = f.payload.data();
    const char* qend = q + f.payload.size();
    while (q < qend) {
      const char* start = q;
      WireField g;
      if (!NextField(q, qend, &g)) return false;
      if (g.type != 2) continue;
      std::string_view whole(start, static_cast<size_t>(q - start));
      if (g.number == 1) {
        if (!r.resource.empty()) r.ok = false;  // protobuf would merge the two
        r.resource = whole;
        r.resource_payload = g.payload;
      } else if (g.number == 3) {
        if (!r.schema.empty()) r.ok = false;
        r.schema = whole;
      } else if (g.number == 2) {
        WireScope& sc = r.scopes.emplace_back();
        const char* s = g.payload.data();
        const char* send = s + g.payload.size();
        while (s < send) {
          const char* fstart = s;
          WireField h;
          if (!NextField(s, send, &h)) return false;
          if (h.type != 2) continue;
          std::string_view fwhole(fstart, static_cast<size_t>(s - fstart));
          if (h.number == 2) {
            sc.spans.push_back(h.payload);
          } else if (h.number == 1) {
            if (!sc.scope.empty()) r.ok = false;
            sc.scope = fwhole;
            sc.scope_payload = h.payload;
          } else if (h.number == 3) {
            if (!sc.schema.empty()) r.ok = false;
            sc.schema = fwhole;
          }
        }
      }
    }
  }
  return true;
}

struct Trace {
  uint64_t seq = 0;
  int64_t arrival_ns = 0;
  int64_t decide_at_ns = 0;
  uint64_t spans = 0;
  bool root_seen = false;
  Buf data;  // ExportTraceServiceRequest fields: one ResourceSpans per arrival
  TraceState state;
};

// Trace ids decided recently, with their decision (upstream's LRU decision caches: a
// hit makes an entry the most recent again).
class DecisionCache {
 public:
  explicit DecisionCache(size_t capacity) : cap_(capacity) {}
  bool Hit(const TraceKey& k) {
    if (cap_ == 0) return false;
    auto it = map_.find(k);
    if (it == map_.end()) return false;
    it->second = ++seq_;
    ring_.push_back({k, seq_});
    Trim();
    return true;
  }
  void Put(const TraceKey& k) {
    if (cap_ == 0) return;
    map_[k] = ++seq_;
    ring_.push_back({k, seq_});
    Trim();
  }
  size_t size() const { return map_.size(); }

 private:
  void Trim() {
    while (map_.size() > cap_ || ring_.size() > 2 * cap_ + 16) {
      auto [k, s] = ring_.front();
      ring_.pop_front();
      auto it = map_.find(k);
      if (it != map_.end() && it->second == s) map_.erase(it);
    }
  }
  size_t cap_;
  uint64_t seq_ = 0;
  absl::flat_hash_map<TraceKey, uint64_t> map_;
  std::deque<std::pair<TraceKey, uint64_t>> ring_;  // oldest first; stale entries skipped
};

enum class Early { kNumTraces, kMemory, kShutdown };

class TailSamplingProcessor : public Processor {
 public:
  TailSamplingProcessor(const CreateSettings& settings, const Config& cfg, Consumer* next,
                        std::unique_ptr<Policies> policies)
      : settings_(settings),
        cfg_(cfg),
        next_(next),
        meter_(settings.telemetry->ForProcessor(settings.id, "traces")),
        policies_(std::move(policies)),
        sampled_cache_(cfg.sampled_cache_size),
        non_sampled_cache_(cfg.non_sampled_cache_size) {
    wait_ns_ = absl::ToInt64Nanoseconds(cfg.decision_wait);
    root_wait_ns_ = absl::ToInt64Nanoseconds(cfg.decision_wait_after_root_received);
    max_bytes_ = cfg.max_memory_mib << 20;
    absl::Duration shortest = cfg.decision_wait;
    if (cfg.decision_wait_after_root_received > absl::ZeroDuration()) {
      shortest = std::min(shortest, cfg.decision_wait_after_root_received);
    }
    tick_ = std::clamp(shortest / 10, absl::Milliseconds(1), absl::Seconds(1));
    if (cfg.expected_new_traces_per_sec > 0) {
      const double secs = absl::ToDoubleSeconds(cfg.decision_wait);
      traces_.reserve(static_cast<size_t>(std::min<double>({static_cast<double>(cfg.num_traces),
                                                            static_cast<double>(cfg.expected_new_traces_per_sec) * secs,
                                                            static_cast<double>(kMaxReserve)})));
    }
    Telemetry& t = *settings.telemetry;
    const std::string id = settings.id.String();
    for (const std::string& name : policies_->names()) {
      std::array<prometheus::Counter*, 4> c{};
      const char* labels[4] = {"sampled", "not_sampled", "dropped", "error"};
      for (size_t i = 0; i < 4; ++i) {
        c[i] = &t.AddCounter("outrigger_processor_tail_sampling_policy_decisions_total",
                             "Traces each tail sampling policy evaluated, by its decision",
                             {{"processor", id}, {"policy", name}, {"decision", labels[i]}});
      }
      policy_counters_.push_back(c);
    }
    auto decided = [&](const char* d) {
      return &t.AddCounter("outrigger_processor_tail_sampling_traces_decided_total",
                           "Traces the tail sampling processor decided, by final decision",
                           {{"processor", id}, {"decision", d}});
    };
    decided_sampled_ = decided("sampled");
    decided_not_sampled_ = decided("not_sampled");
    decided_dropped_ = decided("dropped");
    auto early = [&](const char* r) {
      return &t.AddCounter("outrigger_processor_tail_sampling_traces_decided_early_total",
                           "Traces decided before their decision_wait passed, by reason (num_traces, max_memory, "
                           "shutdown)",
                           {{"processor", id}, {"reason", r}});
    };
    early_num_traces_ = early("num_traces");
    early_memory_ = early("max_memory");
    early_shutdown_ = early("shutdown");
    too_large_ = &t.AddCounter("outrigger_processor_tail_sampling_traces_too_large_total",
                               "Traces not sampled because they passed maximum_trace_size_bytes", {{"processor", id}});
    auto late = [&](const char* d) {
      return &t.AddCounter("outrigger_processor_tail_sampling_late_spans_total",
                           "Spans that arrived after their trace was decided and followed the cached decision",
                           {{"processor", id}, {"decision", d}});
    };
    late_sampled_ = late("sampled");
    late_not_sampled_ = late("not_sampled");
    auto refused = [&](const char* r) {
      return &t.AddCounter("outrigger_processor_tail_sampling_refused_spans_total",
                           "Spans the tail sampling processor refused (backpressure), by reason",
                           {{"processor", id}, {"reason", r}});
    };
    refused_full_ = refused("block_on_overflow");
    refused_backlog_ = refused("output_backlog");
    decision_latency_ = &t.AddHistogram("outrigger_processor_tail_sampling_decision_latency_seconds",
                                        "Time to evaluate the policies of the traces decided together (one timer tick)",
                                        {{"processor", id}}, {0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10});
    trace_age_ = &t.AddHistogram("outrigger_processor_tail_sampling_trace_age_seconds",
                                 "Time from a trace's first span to its decision", {{"processor", id}},
                                 {0.1, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300});
    traces_held_ = &t.AddGauge("outrigger_processor_tail_sampling_traces_held",
                               "Traces the tail sampling processor holds undecided", {{"processor", id}});
    bytes_held_ = &t.AddGauge("outrigger_processor_tail_sampling_bytes_held",
                              "Bytes of span data the tail sampling processor holds (undecided traces and sampled "
                              "output not yet taken downstream)",
                              {{"processor", id}});
  }

  ~TailSamplingProcessor() override { (void)Shutdown(absl::Now() + absl::Seconds(1)); }

  bool MutatesData() const override { return false; }

  absl::Status Start(Host& host) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (timer_ || stopping_) return absl::OkStatus();
    io_ = &host.IoContext();
    timer_ = std::make_unique<asio::steady_timer>(*io_);
    asio::post(*io_, [this] { Arm(); });
    settings_.logger->info("tail sampling: {} policies, decision_wait {}, num_traces {}, max_memory_mib {}",
                           policies_->names().size(), absl::FormatDuration(cfg_.decision_wait), cfg_.num_traces,
                           cfg_.max_memory_mib);
    return absl::OkStatus();
  }

  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    const size_t n = d.ItemCount();
    if (n == 0) return absl::OkStatus();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return absl::UnavailableError("tail sampling processor is shutting down");
      const size_t backlog_limit = max_bytes_ > 0 ? max_bytes_ / 4 : kDefaultBacklog;
      if (pending_bytes_ > backlog_limit) {
        refused_backlog_->Increment(static_cast<double>(n));
        return absl::ResourceExhaustedError(StrCat("tail sampling processor ", settings_.id.String(), " holds ",
                                                   pending_bytes_,
                                                   " bytes of sampled traces the next consumer has not taken yet"));
      }
      if (cfg_.block_on_overflow &&
          (traces_.size() >= cfg_.num_traces || (max_bytes_ > 0 && held_bytes_ >= max_bytes_))) {
        refused_full_->Increment(static_cast<double>(n));
        return absl::ResourceExhaustedError(StrCat("tail sampling processor ", settings_.id.String(), " holds ",
                                                   traces_.size(), " traces (", held_bytes_,
                                                   " bytes); block_on_overflow is set"));
      }
      const int64_t now = SteadyNs();
      // The bytes as received (a copy, unless a processor before changed them), split
      // into resources, scopes and spans.
      wire_bytes_ = d.ToProto();
      bool ok = SplitWire(wire_bytes_, &wire_);
      for (const WireResource& r : wire_) ok = ok && r.ok;
      if (!ok) {
        std::string canonical;
        d.ForEachRequest([&](const Request& req) { req.AppendToString(&canonical); });
        wire_bytes_ = std::move(canonical);
        if (!SplitWire(wire_bytes_, &wire_)) {
          meter_.Dropped(Signal::kTraces, n);
          return absl::InvalidArgumentError("tail sampling: the request could not be read");
        }
      }
      for (const WireResource& r : wire_) {
        IngestResource(r, now);
        while (max_bytes_ > 0 && held_bytes_ > max_bytes_ && !traces_.empty()) EvictOldest(Early::kMemory, now);
      }
      wire_.clear();
      CutOutput();
      UpdateGauges();
    }
    Flush(false);
    return absl::OkStatus();
  }

  absl::Status Shutdown(absl::Time deadline) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shut_) return absl::OkStatus();
      shut_ = true;
      stopping_ = true;
    }
    if (timer_) {
      // The timer runs on the loop: stop it there, then let its cancelled handler run.
      std::promise<void> done;
      asio::post(*io_, [this, &done] {
        stopped_on_loop_ = true;
        timer_->cancel();
        done.set_value();
      });
      done.get_future().wait();
      std::promise<void> settled;
      asio::post(*io_, [&settled] { settled.set_value(); });
      settled.get_future().wait();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int64_t now = SteadyNs();
      if (cfg_.drop_pending_traces_on_shutdown) {
        uint64_t spans = 0;
        for (auto& [k, t] : traces_) spans += t.spans;
        if (spans > 0) {
          meter_.Dropped(Signal::kTraces, spans);
          settings_.logger->info("dropped {} undecided traces ({} spans) at shutdown: drop_pending_traces_on_shutdown",
                                 traces_.size(), spans);
        }
        traces_.clear();
        held_bytes_ = 0;
      } else {
        while (!traces_.empty()) EvictOldest(Early::kShutdown, now);
      }
      CutOutput();
    }
    absl::Duration backoff = kMinRetryDelay;
    while (true) {
      Flush(true);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (pending_out_.empty()) break;
      }
      const absl::Time now = absl::Now();
      if (now >= deadline) break;
      absl::SleepFor(std::min(backoff, deadline - now));  // a retry's backoff, not a wait for a condition
      backoff = std::min(backoff * 2, absl::Seconds(1));
    }
    std::lock_guard<std::mutex> lock(mu_);
    size_t spans = 0;
    for (const Out& o : pending_out_) spans += o.spans;
    if (spans > 0) {
      meter_.Dropped(Signal::kTraces, spans);
      settings_.logger->error(
          "dropped {} sampled spans at shutdown: the next consumer did not take them by the deadline", spans);
    }
    pending_out_.clear();
    pending_bytes_ = 0;
    UpdateGauges();
    return absl::OkStatus();
  }

 private:
  struct Out {
    pdata::Traces data;
    size_t spans = 0;
    size_t bytes = 0;
  };
  struct Item {
    uint32_t scope;
    uint32_t span;  // index in spans_
  };
  struct Group {
    TraceKey key;
    std::vector<Item> items;
  };

  // ---- on the event loop ----
  void Arm() {
    if (stopped_on_loop_) return;
    timer_->expires_after(absl::ToChronoNanoseconds(tick_));
    timer_->async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_on_loop_) return;
      OnTick();
      Arm();
    });
  }

  void OnTick() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      const int64_t now = SteadyNs();
      const int64_t start = now;
      size_t decided = 0;
      while (!root_order_.empty() && std::get<2>(root_order_.front()) <= now) {
        auto [key, seq, at] = root_order_.front();
        root_order_.pop_front();
        auto it = traces_.find(key);
        if (it != traces_.end() && it->second.seq == seq) {
          Decide(it, now);
          ++decided;
        }
      }
      while (!order_.empty()) {
        auto [key, seq] = order_.front();
        auto it = traces_.find(key);
        if (it == traces_.end() || it->second.seq != seq) {
          order_.pop_front();
          continue;
        }
        if (it->second.decide_at_ns > now) break;
        order_.pop_front();
        Decide(it, now);
        ++decided;
      }
      if (decided > 0) decision_latency_->Observe(static_cast<double>(SteadyNs() - start) * 1e-9);
      CutOutput();
      UpdateGauges();
    }
    Flush(false);
  }

  // ---- under mu_ ----
  void IngestResource(const WireResource& r, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // Group the spans by trace (keeping their order), then append one ResourceSpans per
    // trace, with a ScopeSpans per scope it has spans in.
    size_t ngroups = 0, nspans = 0;
    group_index_.clear();
    for (size_t si = 0; si < r.scopes.size(); ++si) {
      for (std::string_view raw : r.scopes[si].spans) {
        if (spans_.size() <= nspans) spans_.emplace_back();
        SpanView& v = spans_[nspans];
        if (!ParseSpan(raw, &v)) continue;  // pdata checked it: cannot happen
        TraceKey key = KeyOf(v.trace_id);
        auto [it, inserted] = group_index_.try_emplace(key, static_cast<uint32_t>(ngroups));
        if (inserted) {
          if (groups_.size() <= ngroups) groups_.emplace_back();
          groups_[ngroups].key = key;
          groups_[ngroups].items.clear();
          ++ngroups;
        }
        groups_[it->second].items.push_back(Item{static_cast<uint32_t>(si), static_cast<uint32_t>(nspans)});
        ++nspans;
      }
    }
    if (ngroups == 0) return;
    wire_resource_ = &r;
    resource_attrs_.clear();
    ParseAttributes(r.resource_payload, 1, &resource_attrs_);
    policies_->MatchResource(resource_attrs_, &resource_bits_);
    decoded_resource_ = false;
    decoded_scope_ = SIZE_MAX;
    for (size_t g = 0; g < ngroups; ++g) {
      const Group& group = groups_[g];
      if (sampled_cache_.Hit(group.key)) {
        // Decided and sampled: these spans follow at once.
        const size_t size = GroupSize(group);
        const size_t at = out_.size();
        out_.resize(at + size);
        WriteGroup(group, out_.data() + at);
        out_spans_ += group.items.size();
        late_sampled_->Increment(static_cast<double>(group.items.size()));
        continue;
      }
      if (non_sampled_cache_.Hit(group.key)) {
        late_not_sampled_->Increment(static_cast<double>(group.items.size()));
        continue;
      }
      auto it = traces_.find(group.key);
      if (it == traces_.end()) {
        while (traces_.size() >= cfg_.num_traces && !traces_.empty()) EvictOldest(Early::kNumTraces, now);
        it = traces_.try_emplace(group.key).first;
        Trace& t = it->second;
        t.seq = ++seq_;
        t.arrival_ns = now;
        t.decide_at_ns = now + wait_ns_;
        policies_->Init(&t.state);
        order_.emplace_back(group.key, t.seq);
        held_bytes_ += kTraceOverhead;
      }
      Trace& t = it->second;
      const size_t before = t.data.capacity();
      WriteGroup(group, t.data.Extend(GroupSize(group)));
      held_bytes_ += t.data.capacity() - before;
      t.spans += group.items.size();
      policies_->Merge(resource_bits_, &t.state);
      for (const Item& item : group.items) {
        const SpanView& span = spans_[item.span];
        if (policies_->needs_decoded()) {
          policies_->OnSpan(span, &t.state, [&] { return Decoded(item); });
        } else {
          policies_->OnSpan(span, &t.state, nullptr);
        }
        if (!t.root_seen && span.parent_span_id.empty()) {
          t.root_seen = true;
          if (root_wait_ns_ > 0 && now + root_wait_ns_ < t.decide_at_ns) {
            t.decide_at_ns = now + root_wait_ns_;
            root_order_.emplace_back(group.key, t.seq, t.decide_at_ns);
          }
        }
      }
      if (cfg_.maximum_trace_size_bytes > 0 && t.data.size() > cfg_.maximum_trace_size_bytes) {
        too_large_->Increment();
        non_sampled_cache_.Put(it->first);
        Erase(it);
      }
    }
  }

  // The span of `item` with its resource and scope, decoded for OTTL conditions (the
  // resource once per ResourceSpans, the scope once per ScopeSpans).
  ottl::EvalContext* Decoded(const Item& item) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const WireResource& r = *wire_resource_;
    if (!decoded_resource_) {
      ottl_resource_.Clear();
      ottl_resource_.ParseFromArray(r.resource_payload.data(), static_cast<int>(r.resource_payload.size()));
      decoded_resource_ = true;
    }
    if (decoded_scope_ != item.scope) {
      const std::string_view sp = r.scopes[item.scope].scope_payload;
      ottl_scope_.Clear();
      ottl_scope_.ParseFromArray(sp.data(), static_cast<int>(sp.size()));
      decoded_scope_ = item.scope;
    }
    const std::string_view raw = spans_[item.span].raw;
    ottl_span_.Clear();
    if (!ottl_span_.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) return nullptr;
    ottl_ctx_.resource = &ottl_resource_;
    ottl_ctx_.scope = &ottl_scope_;
    ottl_ctx_.span = &ottl_span_;
    return &ottl_ctx_;
  }

  // The encoded size of `g` as one ResourceSpans field (runs_ gets each ScopeSpans' size).
  size_t GroupSize(const Group& g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    runs_.clear();
    const WireResource& r = *wire_resource_;
    size_t rs_len = r.resource.size() + r.schema.size();
    size_t i = 0;
    while (i < g.items.size()) {
      const uint32_t si = g.items[i].scope;
      size_t payload = r.scopes[si].scope.size() + r.scopes[si].schema.size();
      for (; i < g.items.size() && g.items[i].scope == si; ++i)
        payload += FieldSize(spans_[g.items[i].span].raw.size());
      runs_.push_back(payload);
      rs_len += FieldSize(payload);
    }
    group_len_ = rs_len;
    return FieldSize(rs_len);
  }

  // Writes `g` (after GroupSize) at `p`.
  void WriteGroup(const Group& g, char* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto copy = [&](std::string_view s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    const WireResource& r = *wire_resource_;
    *p++ = 0x0A;  // ExportTraceServiceRequest.resource_spans
    p = WriteVarint(p, group_len_);
    copy(r.resource);
    size_t i = 0, run = 0;
    while (i < g.items.size()) {
      const uint32_t si = g.items[i].scope;
      *p++ = 0x12;  // ResourceSpans.scope_spans
      p = WriteVarint(p, runs_[run++]);
      copy(r.scopes[si].scope);
      for (; i < g.items.size() && g.items[i].scope == si; ++i) {
        *p++ = 0x12;  // ScopeSpans.spans
        const std::string_view raw = spans_[g.items[i].span].raw;
        p = WriteVarint(p, raw.size());
        std::memcpy(p, raw.data(), raw.size());
        p += raw.size();
      }
      copy(r.scopes[si].schema);
    }
    copy(r.schema);
  }

  using Map = absl::node_hash_map<TraceKey, Trace>;

  void Erase(Map::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    held_bytes_ -= it->second.data.capacity() + kTraceOverhead;
    traces_.erase(it);
  }

  void EvictOldest(Early why, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!order_.empty()) {
      auto [key, seq] = order_.front();
      order_.pop_front();
      auto it = traces_.find(key);
      if (it == traces_.end() || it->second.seq != seq) continue;
      (why == Early::kNumTraces ? early_num_traces_
       : why == Early::kMemory  ? early_memory_
                                : early_shutdown_)
          ->Increment();
      Decide(it, now);
      return;
    }
    // Unreachable (every trace is in order_); never loop forever.
    if (!traces_.empty()) Erase(traces_.begin());
  }

  void Decide(Map::iterator it, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Trace& t = it->second;
    Policies::TraceInfo info;
    info.trace_id = it->first.view();
    info.spans = t.spans;
    info.bytes = t.data.size();
    info.now_ns = now;
    info.now_unix_s = absl::ToUnixSeconds(absl::Now());
    Policies::Result r = policies_->Decide(t.state, info, cfg_.sample_on_first_match);
    for (size_t i = 0; i < r.per_policy.size(); ++i) {
      if (r.per_policy[i] < 0) continue;
      std::string_view label = DecisionLabel(static_cast<Decision>(r.per_policy[i]));
      size_t idx = label == "sampled" ? 0 : label == "not_sampled" ? 1 : label == "dropped" ? 2 : 3;
      policy_counters_[i][idx]->Increment();
    }
    trace_age_->Observe(static_cast<double>(now - t.arrival_ns) * 1e-9);
    if (r.decision == Decision::kSampled) {
      decided_sampled_->Increment();
      if (out_.empty()) out_.reserve(kOutputChunk + kOutputChunk / 4);
      out_.append(t.data.view());
      out_spans_ += t.spans;
      sampled_cache_.Put(it->first);
      if (out_.size() >= kOutputChunk) CutOutput();
    } else {
      (r.decision == Decision::kDropped ? decided_dropped_ : decided_not_sampled_)->Increment();
      non_sampled_cache_.Put(it->first);
    }
    Erase(it);
  }

  // Moves the sampled output gathered so far to the queue of requests to send.
  void CutOutput() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (out_.empty()) return;
    const size_t bytes = out_.size();
    const size_t spans = out_spans_;
    auto data = pdata::Traces::FromProto(std::move(out_));
    out_ = std::string();
    out_spans_ = 0;
    if (!data.ok()) {  // cannot happen: we encoded it
      meter_.Dropped(Signal::kTraces, spans);
      settings_.logger->error("dropped {} sampled spans: {}", spans, data.status().ToString());
      return;
    }
    pending_out_.push_back(Out{std::move(*data), spans, bytes});
    pending_bytes_ += bytes;
  }

  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    traces_held_->Set(static_cast<double>(traces_.size()));
    bytes_held_->Set(static_cast<double>(held_bytes_ + pending_bytes_));
  }

  // ---- any thread, without mu_ ----
  // Sends the queued output; a retryable refusal keeps it (tried again after a backoff,
  // by the timer), a permanent one drops it, counted.
  void Flush(bool force) ABSL_LOCKS_EXCLUDED(mu_) {
    while (true) {
      Out o;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (pending_out_.empty()) return;
        if (!force && absl::Now() < retry_at_) return;
        o = std::move(pending_out_.front());
        pending_out_.pop_front();
        pending_bytes_ -= o.bytes;
      }
      absl::Status st = next_->ConsumeTraces(o.data.Clone());
      if (st.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        retry_delay_ = kMinRetryDelay;
        retry_at_ = absl::InfinitePast();
        UpdateGauges();
        continue;
      }
      if (exporterhelper::IsRetryable(st)) {
        std::lock_guard<std::mutex> lock(mu_);
        pending_bytes_ += o.bytes;
        pending_out_.push_front(std::move(o));
        retry_at_ = absl::Now() + retry_delay_;
        settings_.logger->debug("next consumer pushed back ({}); retrying in {}", st.ToString(),
                                absl::FormatDuration(retry_delay_));
        retry_delay_ = std::min(retry_delay_ * 2, kMaxRetryDelay);
        UpdateGauges();
        return;
      }
      meter_.Dropped(Signal::kTraces, o.spans);
      settings_.logger->error("dropped {} sampled spans: permanent error downstream: {}", o.spans, st.ToString());
    }
  }

  static constexpr size_t kTraceOverhead = sizeof(Trace) + sizeof(TraceKey) + 64;

  CreateSettings settings_;
  Config cfg_;
  Consumer* next_;
  ProcessorMeter meter_;
  int64_t wait_ns_ = 0;
  int64_t root_wait_ns_ = 0;
  size_t max_bytes_ = 0;
  absl::Duration tick_;

  std::vector<std::array<prometheus::Counter*, 4>> policy_counters_;
  prometheus::Counter *decided_sampled_, *decided_not_sampled_, *decided_dropped_;
  prometheus::Counter *early_num_traces_, *early_memory_, *early_shutdown_, *too_large_;
  prometheus::Counter *late_sampled_, *late_not_sampled_, *refused_full_, *refused_backlog_;
  prometheus::Histogram *decision_latency_, *trace_age_;
  prometheus::Gauge *traces_held_, *bytes_held_;

  std::mutex mu_;
  std::unique_ptr<Policies> policies_ ABSL_GUARDED_BY(mu_);
  Map traces_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<TraceKey, uint64_t>> order_ ABSL_GUARDED_BY(mu_);  // arrival order
  std::deque<std::tuple<TraceKey, uint64_t, int64_t>> root_order_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  size_t held_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  DecisionCache sampled_cache_ ABSL_GUARDED_BY(mu_);
  DecisionCache non_sampled_cache_ ABSL_GUARDED_BY(mu_);
  std::string out_ ABSL_GUARDED_BY(mu_);
  size_t out_spans_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Out> pending_out_ ABSL_GUARDED_BY(mu_);
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration retry_delay_ ABSL_GUARDED_BY(mu_) = kMinRetryDelay;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_ ABSL_GUARDED_BY(mu_) = false;
  // Scratch of IngestResource (reused across calls).
  absl::flat_hash_map<TraceKey, uint32_t> group_index_ ABSL_GUARDED_BY(mu_);
  std::string wire_bytes_;
  std::vector<WireResource> wire_;
  std::vector<Group> groups_ ABSL_GUARDED_BY(mu_);
  const WireResource* wire_resource_ = nullptr;
  std::vector<SpanView> spans_;
  std::vector<AttrView> resource_attrs_;
  // OTTL policies read decoded records.
  opentelemetry::proto::resource::v1::Resource ottl_resource_;
  opentelemetry::proto::common::v1::InstrumentationScope ottl_scope_;
  tpb::Span ottl_span_;
  ottl::EvalContext ottl_ctx_;
  bool decoded_resource_ = false;
  size_t decoded_scope_ = SIZE_MAX;
  std::vector<size_t> runs_;
  size_t group_len_ = 0;
  TraceState resource_bits_;

  // The timer (its handlers run on the loop only).
  asio::io_context* io_ = nullptr;
  std::unique_ptr<asio::steady_timer> timer_;
  bool stopped_on_loop_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Processor>> NewTailSamplingProcessor(const CreateSettings& settings, const Config& cfg,
                                                                    Consumer* next) {
  auto policies = Policies::Compile(cfg.policies, settings.logger);
  if (!policies.ok()) return policies.status();
  return std::unique_ptr<Processor>(std::make_unique<TailSamplingProcessor>(settings, cfg, next, std::move(*policies)));
}

}  // namespace outrigger::processors::tail_sampling
