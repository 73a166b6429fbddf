#include "processors/tail_sampling/policy.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <map>

#include "collector/ottl/context.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "re2/re2.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::tail_sampling {

namespace tpb = opentelemetry::proto::trace::v1;
namespace cpb = opentelemetry::proto::common::v1;
namespace rpb = opentelemetry::proto::resource::v1;

std::string_view DecisionLabel(Decision d) {
  switch (d) {
    case Decision::kSampled:
    case Decision::kInvertSampled:
      return "sampled";
    case Decision::kNotSampled:
    case Decision::kInvertNotSampled:
      return "not_sampled";
    case Decision::kDropped:
      return "dropped";
    case Decision::kError:
      return "error";
  }
  return "not_sampled";
}

uint64_t ProbabilisticHash(std::string_view salt, std::string_view trace_id) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 (Go's hash/fnv New64a)
  for (unsigned char c : salt) h = (h ^ c) * 1099511628211ull;
  for (unsigned char c : trace_id) h = (h ^ c) * 1099511628211ull;
  return h;
}

uint64_t ProbabilisticThreshold(double percentage) {
  // upstream: big.Float(MaxUint64) × big.NewFloat(ratio), at 64 bits of precision
  // (rounded to nearest even), then Uint64() (truncated, saturating). x86-64's long
  // double has exactly that 64-bit significand and rounding.
  static_assert(LDBL_MANT_DIG == 64, "needs an 80-bit long double");
  const double ratio = percentage / 100;
  if (!(ratio > 0)) return 0;
  const long double max = static_cast<long double>(std::numeric_limits<uint64_t>::max());
  const long double v = max * static_cast<long double>(ratio);
  if (v >= 18446744073709551616.0L) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(v);
}

namespace {

enum class Kind {
  kAlways,
  kLatency,
  kNumeric,
  kProbabilistic,
  kStatus,
  kString,
  kRate,
  kBytes,
  kSpanCount,
  kTraceState,
  kTraceFlags,
  kBool,
  kOttl,
  kAnd,
  kNot,
  kDrop,
  kComposite
};

// golang.org/x/time/rate's Limiter as AllowN uses it: starts full, refills continuously.
struct Bucket {
  double rate = 0;
  double burst = 0;
  double tokens = 0;
  int64_t last_ns = 0;
  bool started = false;
  bool Allow(int64_t now_ns, double n) {
    if (!started) {
      started = true;
      tokens = burst;
      last_ns = now_ns;
    }
    double t = std::min(burst, tokens + static_cast<double>(std::max<int64_t>(0, now_ns - last_ns)) * 1e-9 * rate);
    if (n > burst || t < n) return false;
    tokens = t - n;
    last_ns = now_ns;
    return true;
  }
};

const AttrView* Find(const std::vector<AttrView>& attrs, const std::string& key) {
  for (const AttrView& a : attrs) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

// Go's pcommon Value.Str(): the string, or "" for any other type.
std::string_view Str(const AttrView& v) { return v.type == AttrView::kString ? v.str : std::string_view(); }

// W3C tracestate: the value of `key`, or false when absent or the header is malformed.
bool TraceStateGet(std::string_view ts, std::string_view key, std::string_view* out) {
  bool found = false;
  while (!ts.empty()) {
    size_t comma = ts.find(',');
    std::string_view member = ts.substr(0, comma);
    ts = comma == std::string_view::npos ? std::string_view() : ts.substr(comma + 1);
    while (!member.empty() && (member.front() == ' ' || member.front() == '\t')) member.remove_prefix(1);
    while (!member.empty() && (member.back() == ' ' || member.back() == '\t')) member.remove_suffix(1);
    if (member.empty()) continue;
    size_t eq = member.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;  // malformed: upstream's parse fails
    if (!found && member.substr(0, eq) == key) {
      *out = member.substr(eq + 1);
      found = true;
    }
  }
  return found;
}

}  // namespace

struct Policies::Node {
  Kind kind = Kind::kAlways;
  std::string name;
  int bit = -1;  // leaves folded span by span
  // attributes
  std::string key;
  bool invert = false;
  std::vector<std::string> exact;  // few: a scan beats hashing
  bool Exact(std::string_view v) const {
    for (const std::string& e : exact) {
      if (e == v) return true;
    }
    return false;
  }
  std::vector<std::unique_ptr<RE2>> regexes;
  int64_t min = 0, max = 0;
  bool bool_value = false;
  // latency
  int64_t threshold_ms = 0, upper_ms = 0;
  // status codes wanted (1 << code)
  uint8_t status_mask = 0;
  // probabilistic
  std::string salt;
  uint64_t threshold = 0;
  // limiters
  Bucket bucket;
  // span_count
  int64_t min_spans = 0, max_spans = 0;
  // ottl
  ottl::ErrorMode error_mode = ottl::ErrorMode::kPropagate;
  std::vector<ottl::Condition> span_conds, event_conds;
  // combinators
  std::vector<std::unique_ptr<Node>> subs;
  // composite
  int64_t max_total = 0;
  std::vector<int64_t> allocated;  // per sub
  std::vector<int64_t> sampled;    // per sub, this second
  int64_t current_second = 0;
  bool is_drop = false;

  bool StringMatch(std::string_view v) const {
    if (!regexes.empty()) {
      for (const auto& re : regexes) {
        if (RE2::PartialMatch(v, *re)) return true;  // Go's MatchString: unanchored
      }
      return false;
    }
    return Exact(v);
  }
  // The attribute test of string/numeric/boolean policies; `span` adds upstream's
  // "non-empty string" requirement for span attributes of string policies.
  bool AttrMatch(const AttrView& v, bool span) const {
    switch (kind) {
      case Kind::kString: {
        std::string_view s = Str(v);
        if (span && s.empty()) return false;
        return StringMatch(s);
      }
      case Kind::kNumeric:
        // upstream reads any value with Int() (0 for non-integers); only integers here.
        return v.type == AttrView::kInt && v.i >= min && v.i <= max;
      case Kind::kBool:
        return v.type == AttrView::kBool && v.b == bool_value;
      default:
        return false;
    }
  }
};

namespace {

using Node = Policies::Node;

Kind KindOf(const std::string& t) {
  static const std::map<std::string, Kind> m = {{"always_sample", Kind::kAlways},
                                                {"latency", Kind::kLatency},
                                                {"numeric_attribute", Kind::kNumeric},
                                                {"probabilistic", Kind::kProbabilistic},
                                                {"status_code", Kind::kStatus},
                                                {"string_attribute", Kind::kString},
                                                {"rate_limiting", Kind::kRate},
                                                {"bytes_limiting", Kind::kBytes},
                                                {"span_count", Kind::kSpanCount},
                                                {"trace_state", Kind::kTraceState},
                                                {"trace_flags", Kind::kTraceFlags},
                                                {"boolean_attribute", Kind::kBool},
                                                {"ottl_condition", Kind::kOttl},
                                                {"and", Kind::kAnd},
                                                {"not", Kind::kNot},
                                                {"drop", Kind::kDrop},
                                                {"composite", Kind::kComposite}};
  auto it = m.find(t);
  return it == m.end() ? Kind::kAlways : it->second;
}

bool HasBit(const TraceState& st, int bit) { return (st.bits[static_cast<size_t>(bit) / 64] >> (bit % 64)) & 1; }

}  // namespace

absl::StatusOr<std::unique_ptr<Policies>> Policies::Compile(const std::vector<PolicyCfg>& cfgs,
                                                            std::shared_ptr<spdlog::logger> logger) {
  std::unique_ptr<Policies> p(new Policies());
  p->logger_ = std::move(logger);
  std::function<absl::StatusOr<std::unique_ptr<Node>>(const PolicyCfg&)> build =
      [&](const PolicyCfg& c) -> absl::StatusOr<std::unique_ptr<Node>> {
    auto n = std::make_unique<Node>();
    n->kind = KindOf(c.type);
    n->name = c.name;
    switch (n->kind) {
      case Kind::kLatency:
        n->threshold_ms = c.threshold_ms;
        n->upper_ms = c.upper_threshold_ms;
        break;
      case Kind::kNumeric:
        n->key = c.key;
        n->min = c.min_value != 0 ? c.min_value : std::numeric_limits<int64_t>::min();
        n->max = c.max_value != 0 ? c.max_value : std::numeric_limits<int64_t>::max();
        n->invert = c.invert_match;
        break;
      case Kind::kString:
        n->key = c.key;
        n->invert = c.invert_match;
        if (c.enabled_regex_matching) {
          for (const std::string& v : c.values) {
            auto re = std::make_unique<RE2>(v, RE2::Quiet);
            if (!re->ok()) return absl::InvalidArgumentError(StrCat("policy '", c.name, "': invalid regex '", v, "'"));
            n->regexes.push_back(std::move(re));
          }
        } else {
          for (const std::string& v : c.values) {
            if (!v.empty()) n->exact.push_back(v);
          }
        }
        break;
      case Kind::kBool:
        n->key = c.key;
        n->bool_value = c.bool_value;
        n->invert = c.invert_match;
        break;
      case Kind::kStatus:
        for (const std::string& s : c.status_codes) {
          n->status_mask |= static_cast<uint8_t>(1u << (s == "UNSET" ? 0 : s == "OK" ? 1 : 2));
        }
        break;
      case Kind::kProbabilistic:
        n->salt = c.hash_salt.empty() ? "default-hash-seed" : c.hash_salt;
        n->threshold = ProbabilisticThreshold(c.sampling_percentage);
        break;
      case Kind::kRate:
        n->bucket.rate = static_cast<double>(c.spans_per_second);
        n->bucket.burst = static_cast<double>(c.burst_capacity > 0 ? c.burst_capacity : 2 * c.spans_per_second);
        break;
      case Kind::kBytes:
        n->bucket.rate = static_cast<double>(c.bytes_per_second);
        n->bucket.burst = static_cast<double>(c.burst_capacity > 0 ? c.burst_capacity : 2 * c.bytes_per_second);
        break;
      case Kind::kSpanCount:
        n->min_spans = c.min_spans;
        n->max_spans = c.max_spans;
        break;
      case Kind::kTraceState:
        n->key = c.key;
        for (const std::string& v : c.values) {
          // upstream keeps only values that fit a tracestate member (key=value < 256).
          if (c.key.size() + v.size() < 256) n->exact.push_back(v);
        }
        break;
      case Kind::kOttl:
        p->has_ottl_ = true;
        n->error_mode = c.error_mode;
        n->span_conds = c.span_conditions;
        n->event_conds = c.spanevent_conditions;
        break;
      case Kind::kComposite: {
        n->max_total = c.max_total_spans_per_second;
        const double max_total = static_cast<double>(c.max_total_spans_per_second);
        const double default_sps = c.sub.empty() ? 0 : max_total / static_cast<double>(c.sub.size());
        std::map<std::string, double> alloc;  // upstream's getRateAllocationMap
        for (const auto& a : c.rate_allocation) {
          alloc[a.policy] = a.percent > 0 ? (static_cast<double>(a.percent) / 100) * max_total : default_sps;
        }
        for (const PolicyCfg& s : c.sub) {
          auto it = alloc.find(s.name);
          n->allocated.push_back(it == alloc.end() ? 0 : static_cast<int64_t>(std::min(it->second, 9e18)));
          n->sampled.push_back(0);
        }
        break;
      }
      default:
        break;
    }
    n->is_drop = n->kind == Kind::kDrop;
    switch (n->kind) {
      case Kind::kLatency:
      case Kind::kNumeric:
      case Kind::kString:
      case Kind::kBool:
      case Kind::kStatus:
      case Kind::kTraceState:
      case Kind::kTraceFlags:
      case Kind::kOttl:
        n->bit = static_cast<int>(p->leaves_.size());
        p->leaves_.push_back(n.get());
        if (n->kind == Kind::kNumeric || n->kind == Kind::kString || n->kind == Kind::kBool) {
          p->resource_leaves_.push_back(n.get());
        }
        if (n->kind == Kind::kLatency) {
          p->latency_leaves_.push_back(n.get());
        } else if (n->kind != Kind::kStatus) {
          p->span_leaves_.push_back(n.get());
        }
        break;
      default:
        break;
    }
    for (const PolicyCfg& s : c.sub) {
      auto sub = build(s);
      if (!sub.ok()) return sub.status();
      n->subs.push_back(std::move(*sub));
    }
    return n;
  };
  // Drop policies first (upstream's loadSamplingPolicies), each group in config order.
  for (int pass = 0; pass < 2; ++pass) {
    for (const PolicyCfg& c : cfgs) {
      if ((c.type == "drop") != (pass == 0)) continue;
      auto n = build(c);
      if (!n.ok()) return n.status();
      p->names_.push_back(c.name);
      p->top_.push_back(std::move(*n));
    }
  }
  p->words_ = std::max<size_t>(1, (p->leaves_.size() + 63) / 64);
  return p;
}

Policies::~Policies() = default;

void Policies::Init(TraceState* st) const { st->bits.assign(2 * words_, 0); }

void Policies::MatchResource(const std::vector<AttrView>& attrs, TraceState* scratch) const {
  Init(scratch);
  for (const Node* n : resource_leaves_) {
    const AttrView* v = Find(attrs, n->key);
    bool m;
    if (n->kind == Kind::kString) {
      // upstream checks resource values without the non-empty requirement of spans.
      m = v != nullptr && n->StringMatch(Str(*v));
    } else {
      m = v != nullptr && n->AttrMatch(*v, false);
    }
    if (m) scratch->bits[static_cast<size_t>(n->bit) / 64] |= 1ull << (n->bit % 64);
  }
}

void Policies::Merge(const TraceState& resource_bits, TraceState* st) const {
  for (size_t i = 0; i < words_; ++i) st->bits[i] |= resource_bits.bits[i];
}

void Policies::OnSpan(const SpanView& span, TraceState* st, const std::function<ottl::EvalContext*()>& decoded) {
  const int code = span.status;
  if (code >= 0 && code <= 2) st->status_mask |= static_cast<uint8_t>(1u << code);
  if (st->min_start == 0 || span.start < st->min_start) st->min_start = span.start;
  if (st->max_end == 0 || span.end > st->max_end) st->max_end = span.end;
  auto set = [&](const Node* n) { st->bits[static_cast<size_t>(n->bit) / 64] |= 1ull << (n->bit % 64); };
  auto err = [&](const Node* n) { st->bits[words_ + static_cast<size_t>(n->bit) / 64] |= 1ull << (n->bit % 64); };
  auto decided = [&](const Node* n) {
    return HasBit(*st, n->bit) || ((st->bits[words_ + static_cast<size_t>(n->bit) / 64] >> (n->bit % 64)) & 1);
  };
  if (!latency_leaves_.empty()) {
    // upstream evaluates its running duration after each span, so a trace matches when
    // any prefix of its spans (in arrival order) did.
    // In uint64 (wraps, as Go's int64 subtraction does), then read as signed: no overflow.
    const int64_t ms = static_cast<int64_t>(st->max_end - st->min_start) / 1000000;
    for (const Node* n : latency_leaves_) {
      if (n->upper_ms == 0 ? ms >= n->threshold_ms : (n->threshold_ms < ms && ms <= n->upper_ms)) set(n);
    }
  }
  for (const Node* n : leaves_) {
    if (n->kind == Kind::kStatus) {
      if (st->status_mask & n->status_mask) set(n);
    }
  }
  for (const Node* n : span_leaves_) {
    if (decided(n)) continue;
    switch (n->kind) {
      case Kind::kString:
      case Kind::kNumeric:
      case Kind::kBool: {
        const AttrView* v = Find(span.attrs, n->key);
        if (v != nullptr && n->AttrMatch(*v, true)) set(n);
        break;
      }
      case Kind::kTraceState: {
        std::string_view value;
        if (TraceStateGet(span.trace_state, n->key, &value) && n->Exact(value)) set(n);
        break;
      }
      case Kind::kTraceFlags:
        if (span.flags & 0x1) set(n);  // W3C sampled flag
        break;
      case Kind::kOttl: {
        ottl::EvalContext* ctx = decoded();
        if (ctx == nullptr) break;
        ottl::EvalContext& c = *ctx;
        c.event = nullptr;
        auto eval = [&](const std::vector<ottl::Condition>& conds) -> int {  // 1 match, -1 error, 0 neither
          for (const ottl::Condition& cond : conds) {
            c.cache.Clear();
            absl::StatusOr<bool> r2 = cond.Eval(c);
            if (!r2.ok()) {
              if (n->error_mode == ottl::ErrorMode::kPropagate) return -1;
              ++ottl_errors_;
              if (n->error_mode == ottl::ErrorMode::kIgnore && (ottl_errors_ & (ottl_errors_ - 1)) == 0) {
                logger_->warn("policy '{}': `{}` failed: {} ({} errors so far; error_mode ignore)", n->name,
                              cond.text(), r2.status().message(), ottl_errors_);
              }
              continue;
            }
            if (*r2) return 1;
          }
          return 0;
        };
        int r2 = eval(n->span_conds);
        for (int i = 0; r2 == 0 && !n->event_conds.empty() && i < c.span->events_size(); ++i) {
          c.event = c.span->mutable_events(i);
          r2 = eval(n->event_conds);
        }
        c.event = nullptr;
        if (r2 == 1) set(n);
        if (r2 == -1) err(n);
        break;
      }
      default:
        break;
    }
  }
}

namespace {

Decision Eval(Node& n, const TraceState& st, const Policies::TraceInfo& info, size_t words) {
  switch (n.kind) {
    case Kind::kAlways:
      return Decision::kSampled;
    case Kind::kLatency:
    case Kind::kStatus:
    case Kind::kTraceState:
    case Kind::kTraceFlags:
      return HasBit(st, n.bit) ? Decision::kSampled : Decision::kNotSampled;
    case Kind::kOttl:
      if (HasBit(st, n.bit)) return Decision::kSampled;
      if ((st.bits[words + static_cast<size_t>(n.bit) / 64] >> (n.bit % 64)) & 1) return Decision::kError;
      return Decision::kNotSampled;
    case Kind::kString:
    case Kind::kNumeric:
    case Kind::kBool:
      if (n.invert) return HasBit(st, n.bit) ? Decision::kInvertNotSampled : Decision::kInvertSampled;
      return HasBit(st, n.bit) ? Decision::kSampled : Decision::kNotSampled;
    case Kind::kProbabilistic:
      return ProbabilisticHash(n.salt, info.trace_id) <= n.threshold ? Decision::kSampled : Decision::kNotSampled;
    case Kind::kRate:
      return n.bucket.Allow(info.now_ns, static_cast<double>(info.spans)) ? Decision::kSampled : Decision::kNotSampled;
    case Kind::kBytes:
      return n.bucket.Allow(info.now_ns, static_cast<double>(info.bytes)) ? Decision::kSampled : Decision::kNotSampled;
    case Kind::kSpanCount: {
      const int64_t c = static_cast<int64_t>(info.spans);
      if (c >= n.min_spans && (n.max_spans == 0 || c <= n.max_spans)) return Decision::kSampled;
      return Decision::kNotSampled;
    }
    case Kind::kAnd:
      for (auto& s : n.subs) {
        Decision d = Eval(*s, st, info, words);
        if (d == Decision::kError) return d;
        if (d == Decision::kNotSampled || d == Decision::kInvertNotSampled) return Decision::kNotSampled;
      }
      return Decision::kSampled;
    case Kind::kDrop:
      for (auto& s : n.subs) {
        Decision d = Eval(*s, st, info, words);
        if (d == Decision::kError) return d;
        if (d == Decision::kNotSampled || d == Decision::kInvertNotSampled) return Decision::kNotSampled;
      }
      return Decision::kDropped;
    case Kind::kNot: {
      Decision d = Eval(*n.subs[0], st, info, words);
      if (d == Decision::kSampled) return Decision::kNotSampled;
      if (d == Decision::kNotSampled) return Decision::kSampled;
      return d;
    }
    case Kind::kComposite: {
      if (n.current_second != info.now_unix_s) {
        n.current_second = info.now_unix_s;
        std::fill(n.sampled.begin(), n.sampled.end(), 0);
      }
      for (size_t i = 0; i < n.subs.size(); ++i) {
        Decision d = Eval(*n.subs[i], st, info, words);
        if (d == Decision::kError) return d;
        if (d == Decision::kSampled || d == Decision::kInvertSampled) {
          const int64_t if_sampled = n.sampled[i] + static_cast<int64_t>(info.spans);
          if (if_sampled <= n.allocated[i] && if_sampled <= n.max_total) {
            n.sampled[i] = if_sampled;
            return Decision::kSampled;
          }
          return Decision::kNotSampled;
        }
      }
      return Decision::kNotSampled;
    }
  }
  return Decision::kNotSampled;
}

}  // namespace

Policies::Result Policies::Decide(const TraceState& st, const TraceInfo& info, bool sample_on_first_match) {
  Result r;
  r.per_policy.assign(top_.size(), -1);
  bool seen[6] = {false, false, false, false, false, false};
  for (size_t i = 0; i < top_.size(); ++i) {
    Decision d = Eval(*top_[i], st, info, words_);
    r.per_policy[i] = static_cast<int8_t>(d);
    seen[static_cast<int>(d)] = true;
    if (d == Decision::kDropped) break;
    if (sample_on_first_match && d == Decision::kSampled) break;
  }
  auto has = [&](Decision d) { return seen[static_cast<int>(d)]; };
  if (has(Decision::kDropped)) {
    r.decision = Decision::kDropped;
  } else if (has(Decision::kInvertNotSampled)) {
    r.decision = Decision::kNotSampled;
  } else if (has(Decision::kSampled)) {
    r.decision = Decision::kSampled;
  } else if (has(Decision::kInvertSampled) && !has(Decision::kNotSampled)) {
    r.decision = Decision::kSampled;
  } else {
    r.decision = Decision::kNotSampled;
  }
  return r;
}

}  // namespace outrigger::processors::tail_sampling
