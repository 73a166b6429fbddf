#include "processors/probabilistic_sampler/probabilistic_sampler.h"

#include <array>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>

#include "collector/telemetry/telemetry.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::probabilistic_sampler {
namespace {

using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using opentelemetry::proto::logs::v1::LogRecord;
using opentelemetry::proto::trace::v1::Span;
using Attrs = google::protobuf::RepeatedPtrField<KeyValue>;
using sampling::Randomness;
using sampling::Threshold;

// hash_seed mode (sampler_mode.go): 2^14 buckets; a percentage becomes a bucket count in
// float32 arithmetic, truncated, as upstream has always computed it.
constexpr uint32_t kNumHashBuckets = 0x4000;
constexpr uint64_t kBitMaskHashBuckets = kNumHashBuckets - 1;
constexpr float kPercentageScaleFactor = static_cast<float>(kNumHashBuckets) / 100.0f;

constexpr uint32_t kFnvOffset32 = 2166136261u;
constexpr uint32_t kFnvPrime32 = 16777619u;

constexpr std::string_view kPriorityAttr = "sampling.priority";  // traces (OpenTracing's tag)
constexpr std::string_view kLogThresholdAttr = "sampling.threshold";
constexpr std::string_view kLogRandomnessAttr = "sampling.randomness";

// Where an item's randomness came from: upstream's `policy` names.
enum Policy : uint8_t {
  kTraceIdHash,
  kTraceIdW3C,
  kSamplingRandomness,
  kSamplingPriority,
  kAttribute,
  kMissingRandomness,
  kNumPolicies
};
constexpr std::array<std::string_view, kNumPolicies> kPolicyNames = {
    "trace_id_hash", "trace_id_w3c", "sampling_randomness", "sampling_priority", "attribute", "missing_randomness"};

// Why an item's sampling information could not be used (upstream's errors).
enum Err : uint8_t {
  kNoError,
  kMissing,          // no trace ID, `rv` or attribute to take randomness from
  kInvalid,          // tracestate or sampling.* attribute that does not parse
  kInconsistent,     // arriving threshold the randomness does not pass
  kRandomnessInUse,  // hash_seed mode on an item that has an `rv`
  kThresholdInUse,   // hash_seed mode on an item that has a `th`
  kNumErrors
};
constexpr std::array<std::string_view, kNumErrors> kErrNames = {"",
                                                                "missing_randomness",
                                                                "invalid_sampling_info",
                                                                "inconsistent_threshold",
                                                                "randomness_in_use",
                                                                "threshold_in_use"};
constexpr std::array<std::string_view, kNumErrors> kErrTexts = {
    "",
    "missing randomness",
    "invalid sampling information",
    "inconsistent arriving threshold: item should not have been sampled",
    "item has sampling randomness, equalizing or proportional mode recommended",
    "item has sampling threshold, equalizing or proportional mode recommended"};

// What one call counted; added to the counters once per call.
struct Counts {
  std::array<std::array<uint64_t, 2>, kNumPolicies> items{};  // [policy][sampled]
  std::array<uint64_t, kNumErrors> errors{};
  uint64_t kept_threshold = 0;
};

uint32_t FnvBytes(uint32_t h, std::string_view b) {
  for (char c : b) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime32;
  }
  return h;
}

uint32_t FnvSeed(uint32_t seed) {
  uint32_t h = kFnvOffset32;
  for (int i = 0; i < 4; ++i) {
    h ^= (seed >> (8 * i)) & 0xff;
    h *= kFnvPrime32;
  }
  return h;
}

// randomnessFromBytes, given the FNV state after the seed.
Randomness HashRandomnessFrom(uint32_t seeded, std::string_view bytes) {
  uint32_t hashed32 = FnvBytes(seeded, bytes);
  uint64_t hashed = hashed32 & kBitMaskHashBuckets;
  uint64_t rprime14 = kNumHashBuckets - 1 - hashed;
  uint64_t unused = hashed32 >> (32 - 14);  // upstream calls these "unused18"; the shift keeps 14
  uint64_t mixed28 = unused ^ (unused << 10);
  return Randomness{(rprime14 << 42) | (mixed28 << 14) | hashed};
}

const AnyValue* FindAttr(const Attrs& attrs, std::string_view key) {
  for (const KeyValue& kv : attrs) {
    if (kv.key().size() == key.size() && kv.key() == key) return &kv.value();
  }
  return nullptr;
}

void PutStr(Attrs* attrs, std::string_view key, std::string_view value) {
  for (KeyValue& kv : *attrs) {
    if (kv.key() == key) {
      kv.mutable_value()->set_string_value(std::string(value));
      return;
    }
  }
  KeyValue* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

void RemoveAttr(Attrs* attrs, std::string_view key) {
  for (int i = 0; i < attrs->size(); ++i) {
    if (attrs->Get(i).key() == key) {
      attrs->DeleteSubrange(i, 1);
      return;
    }
  }
}

// pcommon.Value.AsString for the scalar kinds (bytes as they are).
std::string ValueBytes(const AnyValue& v) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      return v.string_value();
    case AnyValue::kBytesValue:
      return v.bytes_value();
    case AnyValue::kIntValue:
      return std::to_string(v.int_value());
    case AnyValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case AnyValue::kDoubleValue: {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, v.double_value());
      return std::string(buf, r.ptr);
    }
    default:
      return v.SerializeAsString();  // lists and maps: their encoding, stable for the same value
  }
}

// Removes the elements for which drop(e) is true, keeping the others' order.
template <typename T, typename F>
void RemoveIf(google::protobuf::RepeatedPtrField<T>* list, F&& drop) {
  int kept = 0;
  for (int i = 0; i < list->size(); ++i) {
    if (drop(*list->Mutable(i))) continue;
    if (i != kept) list->SwapElements(i, kept);
    ++kept;
  }
  if (kept != list->size()) list->DeleteSubrange(kept, list->size() - kept);
}

class ProbabilisticSampler : public Processor {
 public:
  ProbabilisticSampler(const CreateSettings& settings, const Config& cfg, Signal signal, Consumer* next)
      : settings_(settings), signal_(signal), next_(next), fail_closed_(cfg.fail_closed) {
    precision_ = cfg.sampling_precision;
    seeded_ = FnvSeed(cfg.hash_seed);
    logs_trace_id_ = cfg.attribute_source == kTraceIdSource;
    from_attribute_ = cfg.from_attribute;
    log_priority_ = cfg.sampling_priority;
    mode_ = cfg.EffectiveMode();
    float pct = cfg.sampling_percentage > 100 ? 100.0f : cfg.sampling_percentage;
    double ratio = static_cast<double>(pct) / 100;
    if (ratio < sampling::kMinSamplingProbability) ratio = sampling::kMinSamplingProbability;
    if (pct == 0) {
      kind_ = Kind::kNever;
    } else if (mode_ == Mode::kEqualizing) {
      kind_ = Kind::kEqualizing;
      fixed_ = sampling::ProbabilityToThreshold(ratio, precision_).value_or(sampling::kNeverSampleThreshold);
    } else if (mode_ == Mode::kProportional) {
      kind_ = Kind::kProportional;
      ratio_ = ratio;
      fixed_ = sampling::ProbabilityToThreshold(ratio, precision_).value_or(sampling::kNeverSampleThreshold);
    } else {
      uint32_t scaled = static_cast<uint32_t>(pct * kPercentageScaleFactor);
      if (scaled == 0) {
        kind_ = Kind::kNever;
        settings.logger->warn("sampling_percentage {}% rounds to 0 of hash_seed's 16384 buckets: nothing is sampled",
                              pct);
      } else {
        kind_ = Kind::kHashSeed;
        fixed_ = Threshold{static_cast<uint64_t>(kNumHashBuckets - scaled) << 42};
      }
    }
    fixed_tvalue_ = fixed_.TValue();
    if (!fixed_tvalue_.empty()) fixed_tracestate_ = StrCat("ot=th:", fixed_tvalue_);
    settings.logger->info("{} ({}): mode {}{}, sampling {}% (threshold th:{}), sampling_precision {}, fail_closed {}",
                          settings.id.String(), SignalName(signal), ModeName(mode_),
                          cfg.mode == Mode::kUnset ? " (the default)" : "", pct,
                          kind_ == Kind::kNever ? "" : fixed_tvalue_, precision_, fail_closed_);

    std::string id = settings.id.String();
    std::string sig(SignalName(signal));
    for (int p = 0; p < kNumPolicies; ++p) {
      std::string reason(kPolicyNames[p]);
      if (p == kAttribute && !from_attribute_.empty()) reason = from_attribute_;  // upstream names it so
      for (int s = 0; s < 2; ++s) {
        items_[p][s] = &settings.telemetry->AddCounter(
            "outrigger_processor_probabilistic_sampler_items_total",
            "Items (spans, log records) the probabilistic sampler kept (decision=sampled) or dropped, by where "
            "their randomness came from (reason: upstream's policy names)",
            {{"processor", id}, {"signal", sig}, {"decision", s ? "sampled" : "dropped"}, {"reason", reason}});
      }
    }
    for (int e = 1; e < kNumErrors; ++e) {
      errors_[e] = &settings.telemetry->AddCounter(
          "outrigger_processor_probabilistic_sampler_errors_total",
          "Items whose sampling information the probabilistic sampler could not use (then decided by fail_closed)",
          {{"processor", id}, {"signal", sig}, {"reason", std::string(kErrNames[e])}});
    }
    kept_threshold_ = &settings.telemetry->AddCounter(
        "outrigger_processor_probabilistic_sampler_threshold_kept_total",
        "Sampled items whose arriving threshold was stricter than this sampler's and was kept (never raised)",
        {{"processor", id}, {"signal", sig}});
  }

  bool MutatesData() const override { return true; }

  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    Counts counts;
    sampling::W3CTraceState ts;
    d.ForEachMutableRequest([&](auto& req) {
      RemoveIf(req.mutable_resource_spans(), [&](auto& rs) {
        RemoveIf(rs.mutable_scope_spans(), [&](auto& ss) {
          RemoveIf(ss.mutable_spans(), [&](Span& s) { return !SampleSpan(s, ts, counts); });
          return ss.spans_size() == 0;
        });
        return rs.scope_spans_size() == 0;
      });
    });
    Flush(counts);
    if (d.ItemCount() == 0) return absl::OkStatus();
    return next_->ConsumeTraces(std::move(d));
  }

  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    Counts counts;
    d.ForEachMutableRequest([&](auto& req) {
      RemoveIf(req.mutable_resource_logs(), [&](auto& rl) {
        RemoveIf(rl.mutable_scope_logs(), [&](auto& sl) {
          RemoveIf(sl.mutable_log_records(), [&](LogRecord& l) { return !SampleLog(l, counts); });
          return sl.log_records_size() == 0;
        });
        return rl.scope_logs_size() == 0;
      });
    });
    Flush(counts);
    if (d.ItemCount() == 0) return absl::OkStatus();
    return next_->ConsumeLogs(std::move(d));
  }

  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return next_->ConsumeMetrics(std::move(d)); }

 private:
  enum class Kind { kNever, kHashSeed, kEqualizing, kProportional };

  // One item on its way through upstream's commonShouldSampleLogic.
  struct Item {
    Randomness rnd = sampling::kAllProbabilitiesRandomness;
    bool missing = true;
    Policy policy = kMissingRandomness;
    Err err = kNoError;
    std::string err_detail;
    sampling::OTelTraceState* carrier = nullptr;  // null: leave the item's sampling info alone
  };

  // The threshold this sampler applies to an item carrying `c` (upstream's decide()).
  Threshold Decide(const sampling::OTelTraceState* c) const {
    switch (kind_) {
      case Kind::kNever:
        return sampling::kNeverSampleThreshold;
      case Kind::kHashSeed:
        return fixed_;
      case Kind::kEqualizing:
        // An arriving threshold stricter than ours is honoured, never raised.
        if (c != nullptr && !c->tvalue.empty() && fixed_ < c->threshold) return c->threshold;
        return fixed_;
      case Kind::kProportional: {
        if (c == nullptr || c->tvalue.empty()) return fixed_;
        auto t = sampling::ProbabilityToThreshold(c->threshold.Probability() * ratio_, precision_);
        return t.value_or(sampling::kNeverSampleThreshold);  // underflow: not sampled
      }
    }
    return sampling::kNeverSampleThreshold;
  }

  // The rest of commonShouldSampleLogic once randomness and carrier are known: the
  // consistency check, fail_closed, the priority override (`priority`: nullopt = none),
  // the decision and the threshold update. True if the item is kept.
  bool Finish(Item& it, std::optional<Threshold> priority, Counts& counts) {
    if (it.err == kNoError) {
      if (it.missing) {
        it.err = kMissing;
      } else if (it.carrier != nullptr && !it.carrier->tvalue.empty() && !it.carrier->threshold.ShouldSample(it.rnd)) {
        it.carrier->ClearThreshold();  // as the spec recommends, in case we fail open
        it.err = kInconsistent;
      }
    }
    Threshold threshold;
    if (it.err == kMissing && Decide(it.carrier) == sampling::kAlwaysSampleThreshold) {
      // Ours, not upstream's (contrib#36119): at 100% every randomness value is sampled,
      // so an item without any is kept, not dropped as an error.
      it.err = kNoError;
      threshold = sampling::kAlwaysSampleThreshold;
    } else if (it.err != kNoError) {
      counts.errors[it.err]++;
      if (settings_.logger->should_log(spdlog::level::debug)) {
        settings_.logger->debug("{} sampler: {}{}", SignalName(signal_), kErrTexts[it.err], it.err_detail);
      }
      threshold = fail_closed_ ? sampling::kNeverSampleThreshold : sampling::kAlwaysSampleThreshold;
    } else {
      threshold = Decide(it.carrier);
    }
    if (priority) {
      threshold = *priority;
      it.policy = kSamplingPriority;
    }
    bool sampled = threshold.ShouldSample(it.rnd);
    if (sampled && it.carrier != nullptr && !it.carrier->UpdateThreshold(threshold)) counts.kept_threshold++;
    counts.items[it.policy][sampled]++;
    return sampled;
  }

  // ---- spans: the tracestate carries rv and th ----

  // upstream's parseSpanSamplingPriority: 0 never, > 0 always, else (or absent) no override.
  static std::optional<Threshold> SpanPriority(const Span& s) {
    const AnyValue* v = FindAttr(s.attributes(), kPriorityAttr);
    if (v == nullptr) return std::nullopt;
    double value;
    switch (v->value_case()) {
      case AnyValue::kIntValue:
        value = static_cast<double>(v->int_value());
        break;
      case AnyValue::kDoubleValue:
        value = v->double_value();
        break;
      case AnyValue::kStringValue: {
        const std::string& str = v->string_value();
        char* end = nullptr;
        value = std::strtod(str.c_str(), &end);
        if (str.empty() || end != str.c_str() + str.size()) return std::nullopt;
        break;
      }
      default:
        return std::nullopt;
    }
    if (value == 0) return sampling::kNeverSampleThreshold;
    if (value > 0) return sampling::kAlwaysSampleThreshold;
    return std::nullopt;  // negative, NaN
  }

  bool SampleSpan(Span& s, sampling::W3CTraceState& ts, Counts& counts) {
    Item it;
    const std::string& tid = s.trace_id();
    bool has_tid = !sampling::TraceIdEmpty(tid);
    bool empty_ts = s.trace_state().empty();
    absl::Status parsed = absl::OkStatus();
    if (empty_ts) {
      if (ts.ot.HasAny()) ts.ot = sampling::OTelTraceState{};  // reset only what a previous span left
      ts.members.clear();
    } else {
      parsed = sampling::W3CTraceState::Parse(s.trace_state(), &ts);
    }
    switch (kind_) {
      case Kind::kNever:
        // The randomness is not used; upstream names these items' policy so.
        it.missing = false;
        it.policy = kSamplingPriority;
        if (parsed.ok()) it.carrier = &ts.ot;
        break;
      case Kind::kHashSeed:
        if (has_tid) {
          it.rnd = HashRandomnessFrom(seeded_, tid);
          it.missing = false;
          it.policy = kTraceIdHash;
        }
        if (!parsed.ok()) {
        } else if (!ts.ot.rvalue.empty()) {
          it.err = kRandomnessInUse;  // leave OTEP 235 information alone
        } else if (!ts.ot.tvalue.empty()) {
          it.err = kThresholdInUse;
        } else {
          it.carrier = &ts.ot;
          if (!it.missing) ts.ot.SetRandomness(it.rnd);
        }
        break;
      case Kind::kEqualizing:
      case Kind::kProportional:
        if (!parsed.ok()) {
        } else if (!ts.ot.rvalue.empty()) {
          it.carrier = &ts.ot;
          it.rnd = ts.ot.randomness;
          it.missing = false;
          it.policy = kSamplingRandomness;
        } else {
          it.carrier = &ts.ot;
          if (has_tid) {
            it.rnd = sampling::TraceIdToRandomness(tid);
            it.missing = false;
            it.policy = kTraceIdW3C;
          }
        }
        break;
    }
    if (!parsed.ok()) {
      it.err = kInvalid;
      it.err_detail = StrCat(": ", parsed.message());
    }
    bool sampled = Finish(it, s.attributes_size() == 0 ? std::nullopt : SpanPriority(s), counts);
    if (sampled && it.carrier != nullptr) {
      if (empty_ts && kind_ != Kind::kHashSeed && !fixed_tracestate_.empty() && it.carrier->tvalue == fixed_tvalue_) {
        s.set_trace_state(fixed_tracestate_);  // the common case, without building the string
      } else {
        s.set_trace_state(ts.Serialize());
      }
    }
    return sampled;
  }

  // ---- log records: sampling.randomness and sampling.threshold attributes ----

  // upstream's logs priority (`sampling_priority`: the name of a numeric attribute, a
  // percentage): 0 never samples, >= 100 always, between: that probability; absent,
  // negative or not a number: no override.
  std::optional<Threshold> LogPriority(const LogRecord& l) const {
    if (log_priority_.empty()) return std::nullopt;
    const AnyValue* v = FindAttr(l.attributes(), log_priority_);
    if (v == nullptr) return std::nullopt;
    double pct;
    if (v->value_case() == AnyValue::kDoubleValue) {
      pct = v->double_value();
    } else if (v->value_case() == AnyValue::kIntValue) {
      pct = static_cast<double>(v->int_value());
    } else {
      return std::nullopt;
    }
    if (pct == 0) return sampling::kNeverSampleThreshold;
    if (!(pct > 0)) return std::nullopt;
    return sampling::ProbabilityToThreshold(pct >= 100 ? 1.0 : pct / 100.0, precision_);
  }

  // The randomness of a record's `from_attribute`, if configured and non-empty.
  bool AttributeRandomness(const LogRecord& l, Item& it) const {
    if (from_attribute_.empty()) return false;
    const AnyValue* v = FindAttr(l.attributes(), from_attribute_);
    if (v == nullptr) return false;
    std::string bytes = ValueBytes(*v);
    if (bytes.empty()) return false;
    it.rnd = HashRandomnessFrom(seeded_, bytes);
    it.missing = false;
    it.policy = kAttribute;
    return true;
  }

  bool SampleLog(LogRecord& l, Counts& counts) {
    Item it;
    sampling::OTelTraceState carrier;
    // The record's own sampling information (upstream's recordCarrier).
    absl::Status parsed = absl::OkStatus();
    for (const KeyValue& kv : l.attributes()) {
      if (kv.value().value_case() != AnyValue::kStringValue || kv.value().string_value().empty()) continue;
      if (kv.key() == kLogThresholdAttr) {
        absl::Status st = sampling::TValueToThreshold(kv.value().string_value(), &carrier.threshold);
        if (st.ok()) {
          carrier.tvalue = kv.value().string_value();
        } else if (parsed.ok()) {
          parsed = st;
        }
      } else if (kv.key() == kLogRandomnessAttr) {
        absl::Status st = sampling::RValueToRandomness(kv.value().string_value(), &carrier.randomness);
        if (st.ok()) {
          carrier.rvalue = kv.value().string_value();
        } else if (parsed.ok()) {
          parsed = st;
        }
      }
    }
    const std::string& tid = l.trace_id();
    bool use_tid = logs_trace_id_ && !sampling::TraceIdEmpty(tid);
    std::string arriving_tvalue = carrier.tvalue;
    switch (kind_) {
      case Kind::kNever:
        it.missing = false;
        it.policy = kSamplingPriority;
        if (parsed.ok()) it.carrier = &carrier;
        break;
      case Kind::kHashSeed:
        if (use_tid) {
          it.rnd = HashRandomnessFrom(seeded_, tid);
          it.missing = false;
          it.policy = kTraceIdHash;
        } else {
          AttributeRandomness(l, it);
        }
        if (!parsed.ok()) {
        } else if (!carrier.rvalue.empty()) {
          it.err = kRandomnessInUse;
        } else if (!carrier.tvalue.empty()) {
          it.err = kThresholdInUse;
        } else {
          it.carrier = &carrier;
          if (!it.missing) {
            carrier.SetRandomness(it.rnd);
            PutStr(l.mutable_attributes(), kLogRandomnessAttr, carrier.rvalue);
          }
        }
        break;
      case Kind::kEqualizing:
      case Kind::kProportional:
        if (!parsed.ok()) break;
        it.carrier = &carrier;
        if (!carrier.rvalue.empty()) {
          it.rnd = carrier.randomness;
          it.missing = false;
          it.policy = kSamplingRandomness;
        } else if (use_tid) {
          it.rnd = sampling::TraceIdToRandomness(tid);
          it.missing = false;
          it.policy = kTraceIdW3C;
        } else {
          // The README's rule (attribute_source: record, or no trace ID): the hashed
          // attribute, as upstream did before it limited these modes to the trace ID.
          AttributeRandomness(l, it);
        }
        break;
    }
    if (!parsed.ok()) {
      it.err = kInvalid;
      it.err_detail = StrCat(": ", parsed.message());
    }
    bool sampled = Finish(it, LogPriority(l), counts);
    if (sampled && it.carrier != nullptr) {
      if (carrier.tvalue.empty() && !arriving_tvalue.empty()) {
        RemoveAttr(l.mutable_attributes(), kLogThresholdAttr);  // cleared as inconsistent
      } else if (carrier.tvalue != arriving_tvalue) {
        PutStr(l.mutable_attributes(), kLogThresholdAttr, carrier.tvalue);
      }
    }
    return sampled;
  }

  void Flush(const Counts& c) {
    for (int p = 0; p < kNumPolicies; ++p) {
      for (int s = 0; s < 2; ++s) {
        if (c.items[p][s] != 0) items_[p][s]->Increment(static_cast<double>(c.items[p][s]));
      }
    }
    for (int e = 1; e < kNumErrors; ++e) {
      if (c.errors[e] != 0) errors_[e]->Increment(static_cast<double>(c.errors[e]));
    }
    if (c.kept_threshold != 0) kept_threshold_->Increment(static_cast<double>(c.kept_threshold));
  }

  CreateSettings settings_;
  Signal signal_;
  Consumer* next_;
  bool fail_closed_;
  int precision_ = kDefaultSamplingPrecision;
  uint32_t seeded_ = 0;  // FNV state after the seed's bytes
  bool logs_trace_id_ = true;
  std::string from_attribute_;
  std::string log_priority_;
  Mode mode_ = Mode::kHashSeed;
  Kind kind_ = Kind::kNever;
  Threshold fixed_ = sampling::kNeverSampleThreshold;  // hash_seed, equalizing; proportional without arriving th
  std::string fixed_tvalue_;
  std::string fixed_tracestate_;  // "ot=th:<fixed>"
  double ratio_ = 1;
  std::array<std::array<prometheus::Counter*, 2>, kNumPolicies> items_{};
  std::array<prometheus::Counter*, kNumErrors> errors_{};
  prometheus::Counter* kept_threshold_ = nullptr;
};

}  // namespace

sampling::Randomness HashSeedRandomness(std::string_view bytes, uint32_t seed) {
  return HashRandomnessFrom(FnvSeed(seed), bytes);
}

std::unique_ptr<Processor> NewProbabilisticSampler(const CreateSettings& settings, const Config& cfg, Signal signal,
                                                   Consumer* next) {
  return std::make_unique<ProbabilisticSampler>(settings, cfg, signal, next);
}

}  // namespace outrigger::processors::probabilistic_sampler
