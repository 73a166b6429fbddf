#include "processors/tail_sampling/config.h"

#include <set>

#include "re2/re2.h"

namespace outrigger::processors::tail_sampling {
namespace {

// Where a policy sits: upstream allows different types at each level.
enum class Level { kTop, kAndSub, kNotSub, kCompositeSub };

// The sections named after a policy type (upstream's mapstructure keys).
const std::vector<std::string>& Sections() {
  static const std::vector<std::string> s = {"latency",
                                             "numeric_attribute",
                                             "probabilistic",
                                             "status_code",
                                             "string_attribute",
                                             "rate_limiting",
                                             "bytes_limiting",
                                             "span_count",
                                             "trace_state",
                                             "boolean_attribute",
                                             "ottl_condition",
                                             "and",
                                             "not",
                                             "drop",
                                             "composite"};
  return s;
}

const std::set<std::string>& SharedTypes() {
  static const std::set<std::string> s = {"always_sample", "latency",          "numeric_attribute", "probabilistic",
                                          "status_code",   "string_attribute", "rate_limiting",     "bytes_limiting",
                                          "span_count",    "trace_state",      "boolean_attribute", "ottl_condition",
                                          "trace_flags"};
  return s;
}

void DecodePolicy(config::Node& n, Level level, PolicyCfg* p);

// A count that may be written with digit separators, as upstream's README does
// (`100_000`, which YAML 1.1 reads as an integer).
void ReadCount(config::Node& node, std::string_view key, uint64_t* out) {
  config::Node& v = node.Value(key);
  if (v.IsNull()) return;
  std::string s;
  if (!v.As(&s)) return;
  std::string digits;
  for (char c : s) {
    if (c != '_') digits.push_back(c);
  }
  uint64_t n = 0;
  if (digits.empty() || digits.size() > 19 || s.front() == '_' || s.back() == '_' ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    v.Error(StrCat("expected a non-negative integer, got \"", s, "\""));
    return;
  }
  for (char c : digits) n = n * 10 + static_cast<uint64_t>(c - '0');
  *out = n;
}

void DecodeSubList(config::Node& section, std::string_view key, Level level, PolicyCfg* p) {
  for (config::Node* item : section.ReadMappings(key)) {
    PolicyCfg sub;
    DecodePolicy(*item, level, &sub);
    p->sub.push_back(std::move(sub));
  }
}

void DecodeConditions(config::Node& section, std::string_view key, ottl::ContextKind ctx,
                      std::vector<ottl::Condition>* out) {
  config::Node& list = section.Value(key);
  if (list.IsNull()) return;
  for (config::Node* item : list.Items()) {
    if (auto c = ottl::CompileConditionAt(*item, ctx)) out->push_back(std::move(*c));
  }
}

void DecodePolicy(config::Node& n, Level level, PolicyCfg* p) {
  n.Read("name", &p->name);
  n.Read("type", &p->type);
  const std::string& t = p->type;
  // Sections of other types are mistakes upstream ignores silently (its README's own
  // example has one); here they are errors, so a policy is never read half-empty.
  for (const std::string& s : Sections()) {
    if (s != t && n.Has(s)) {
      n.ErrorAt(s, StrCat("policy '", p->name, "' is of type '", t, "'; its '", s,
                          "' section would not be read (set type: ", s, ", or move the options under '", t, "')"));
      n.Accept(s);
    }
  }
  if (t.empty()) {
    n.Error(StrCat("policy '", p->name, "': type is required"));
    return;
  }
  const bool shared = SharedTypes().count(t) > 0;
  const bool allowed = shared ||
                       (level == Level::kTop && (t == "and" || t == "not" || t == "drop" || t == "composite")) ||
                       (level == Level::kCompositeSub && (t == "and" || t == "not"));
  if (!allowed) {
    static const std::set<std::string> combinators = {"and", "not", "drop", "composite"};
    if (combinators.count(t) > 0) {
      n.ErrorAt("type", StrCat("policy '", p->name, "': type '", t, "' cannot be used inside ",
                               level == Level::kCompositeSub ? "a composite policy (only and, not)"
                                                             : "an and, not or drop policy"));
    } else {
      n.ErrorAt("type",
                StrCat("policy '", p->name, "': unknown policy type '", t,
                       "' (always_sample, latency, numeric_attribute, probabilistic, status_code, string_attribute, "
                       "rate_limiting, bytes_limiting, span_count, trace_state, trace_flags, boolean_attribute, "
                       "ottl_condition, and, not, drop, composite)"));
    }
    return;
  }
  if (t == "always_sample" || t == "trace_flags") return;
  config::Node& s = n.Child(t);
  if (t == "latency") {
    s.Read("threshold_ms", &p->threshold_ms);
    s.Read("upper_threshold_ms", &p->upper_threshold_ms);
  } else if (t == "numeric_attribute") {
    s.Read("key", &p->key);
    s.Read("min_value", &p->min_value);
    s.Read("max_value", &p->max_value);
    s.Read("invert_match", &p->invert_match);
  } else if (t == "probabilistic") {
    s.Read("hash_salt", &p->hash_salt);
    s.Read("sampling_percentage", &p->sampling_percentage);
  } else if (t == "status_code") {
    s.Read("status_codes", &p->status_codes);
  } else if (t == "string_attribute") {
    s.Read("key", &p->key);
    s.Read("values", &p->values);
    s.Read("enabled_regex_matching", &p->enabled_regex_matching);
    s.Read("cache_max_size", &p->cache_max_size);
    s.Read("invert_match", &p->invert_match);
  } else if (t == "rate_limiting") {
    s.Read("spans_per_second", &p->spans_per_second);
    s.Read("burst_capacity", &p->burst_capacity);
  } else if (t == "bytes_limiting") {
    s.Read("bytes_per_second", &p->bytes_per_second);
    s.Read("burst_capacity", &p->burst_capacity);
  } else if (t == "span_count") {
    s.Read("min_spans", &p->min_spans);
    s.Read("max_spans", &p->max_spans);
  } else if (t == "trace_state") {
    s.Read("key", &p->key);
    s.Read("values", &p->values);
  } else if (t == "boolean_attribute") {
    s.Read("key", &p->key);
    s.Read("value", &p->bool_value);
    s.Read("invert_match", &p->invert_match);
  } else if (t == "ottl_condition") {
    ottl::ReadErrorMode(s, "error_mode", &p->error_mode);
    DecodeConditions(s, "span", ottl::ContextKind::kSpan, &p->span_conditions);
    DecodeConditions(s, "spanevent", ottl::ContextKind::kSpanEvent, &p->spanevent_conditions);
  } else if (t == "and") {
    DecodeSubList(s, "and_sub_policy", Level::kAndSub, p);
  } else if (t == "drop") {
    DecodeSubList(s, "drop_sub_policy", Level::kAndSub, p);
  } else if (t == "not") {
    config::Node& sub = s.Child("not_sub_policy");
    if (!sub.IsNull()) {
      PolicyCfg c;
      DecodePolicy(sub, Level::kNotSub, &c);
      p->sub.push_back(std::move(c));
    }
  } else if (t == "composite") {
    s.Read("max_total_spans_per_second", &p->max_total_spans_per_second);
    s.Read("policy_order", &p->policy_order);
    DecodeSubList(s, "composite_sub_policy", Level::kCompositeSub, p);
    for (config::Node* a : s.ReadMappings("rate_allocation")) {
      PolicyCfg::Allocation alloc;
      a->Read("policy", &alloc.policy);
      a->Read("percent", &alloc.percent);
      p->rate_allocation.push_back(std::move(alloc));
    }
  }
}

constexpr int64_t kMaxRate = 1'000'000'000'000'000;

absl::Status Invalid(const PolicyCfg& p, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("policy '", p.name, "' (", p.type, "): ", what));
}

absl::Status ValidatePolicy(const PolicyCfg& p) {
  if (p.name.empty()) return absl::InvalidArgumentError(StrCat("a policy of type '", p.type, "' has no name"));
  const std::string& t = p.type;
  if (t == "latency") {
    if (p.threshold_ms < 0 || p.upper_threshold_ms < 0) return Invalid(p, "thresholds must not be negative");
    if (p.upper_threshold_ms > 0 && p.upper_threshold_ms < p.threshold_ms) {
      return Invalid(p, "upper_threshold_ms must be 0 (none) or at least threshold_ms");
    }
  } else if (t == "numeric_attribute") {
    if (p.key.empty()) return Invalid(p, "key is required");
    if (p.min_value == 0 && p.max_value == 0) return Invalid(p, "min_value or max_value is required");
    if (p.min_value != 0 && p.max_value != 0 && p.max_value < p.min_value) {
      return Invalid(p, "max_value must be at least min_value");
    }
  } else if (t == "probabilistic") {
    if (p.sampling_percentage < 0) return Invalid(p, "sampling_percentage must not be negative");
  } else if (t == "status_code") {
    if (p.status_codes.empty()) return Invalid(p, "status_codes must list at least one of OK, ERROR, UNSET");
    for (const std::string& c : p.status_codes) {
      if (c != "OK" && c != "ERROR" && c != "UNSET") {
        return Invalid(p, StrCat("unknown status code '", c, "' (OK, ERROR, UNSET)"));
      }
    }
  } else if (t == "string_attribute") {
    if (p.key.empty()) return Invalid(p, "key is required");
    if (p.enabled_regex_matching) {
      for (const std::string& v : p.values) {
        RE2 re(v, RE2::Quiet);
        if (!re.ok()) return Invalid(p, StrCat("values: invalid regular expression '", v, "': ", re.error()));
      }
    }
  } else if (t == "rate_limiting") {
    if (p.spans_per_second <= 0 || p.spans_per_second > kMaxRate) {
      return Invalid(p, "spans_per_second must be positive (at most 10^15)");
    }
    if (p.burst_capacity > kMaxRate) return Invalid(p, "burst_capacity must be at most 10^15");
    if (p.burst_capacity < 0) return Invalid(p, "burst_capacity must not be negative");
  } else if (t == "bytes_limiting") {
    if (p.bytes_per_second <= 0 || p.bytes_per_second > kMaxRate) {
      return Invalid(p, "bytes_per_second must be positive (at most 10^15)");
    }
    if (p.burst_capacity > kMaxRate) return Invalid(p, "burst_capacity must be at most 10^15");
    if (p.burst_capacity < 0) return Invalid(p, "burst_capacity must not be negative");
  } else if (t == "span_count") {
    if (p.min_spans < 0 || p.max_spans < 0) return Invalid(p, "min_spans and max_spans must not be negative");
    if (p.max_spans != 0 && p.max_spans < p.min_spans) return Invalid(p, "max_spans must be 0 or at least min_spans");
  } else if (t == "trace_state") {
    if (p.key.empty()) return Invalid(p, "key is required");
    if (p.values.empty()) return Invalid(p, "values must list at least one value");
  } else if (t == "boolean_attribute") {
    if (p.key.empty()) return Invalid(p, "key is required");
  } else if (t == "ottl_condition") {
    if (p.span_conditions.empty() && p.spanevent_conditions.empty()) {
      return Invalid(p, "at least one span or spanevent condition is required");
    }
  } else if (t == "and" || t == "drop" || t == "composite") {
    if (p.sub.empty()) {
      return Invalid(p, StrCat(t == "and"    ? "and_sub_policy"
                               : t == "drop" ? "drop_sub_policy"
                                             : "composite_sub_policy",
                               " must list at least one policy"));
    }
  } else if (t == "not") {
    if (p.sub.size() != 1) return Invalid(p, "not_sub_policy is required");
  }
  if (t == "composite") {
    if (p.max_total_spans_per_second <= 0) return Invalid(p, "max_total_spans_per_second must be positive");
    std::set<std::string> names;
    for (const PolicyCfg& s : p.sub) names.insert(s.name);
    int64_t total = 0;
    for (const auto& a : p.rate_allocation) {
      if (names.count(a.policy) == 0) {
        return Invalid(p, StrCat("rate_allocation names '", a.policy, "', which is not a composite_sub_policy"));
      }
      if (a.percent < 0) return Invalid(p, "rate_allocation percent must not be negative");
      total += a.percent;
    }
    if (total > 100) return Invalid(p, "rate_allocation percentages add up to more than 100");
    for (const std::string& o : p.policy_order) {
      if (names.count(o) == 0) return Invalid(p, StrCat("policy_order names '", o, "', which is not a sub-policy"));
    }
  }
  for (const PolicyCfg& s : p.sub) {
    if (auto st = ValidatePolicy(s); !st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace

void Config::Decode(config::Node& node) {
  node.Read("decision_wait", &decision_wait);
  node.Read("decision_wait_after_root_received", &decision_wait_after_root_received);
  node.Read("num_traces", &num_traces);
  node.Read("expected_new_traces_per_sec", &expected_new_traces_per_sec);
  node.Read("sample_on_first_match", &sample_on_first_match);
  node.Read("drop_pending_traces_on_shutdown", &drop_pending_traces_on_shutdown);
  node.Read("block_on_overflow", &block_on_overflow);
  node.ReadBytes("maximum_trace_size_bytes", &maximum_trace_size_bytes);
  node.Read("max_memory_mib", &max_memory_mib);
  config::Node& cache = node.Child("decision_cache");
  ReadCount(cache, "sampled_cache_size", &sampled_cache_size);
  ReadCount(cache, "non_sampled_cache_size", &non_sampled_cache_size);
  for (config::Node* item : node.ReadMappings("policies")) {
    PolicyCfg p;
    DecodePolicy(*item, Level::kTop, &p);
    policies.push_back(std::move(p));
  }
  std::string strategy;
  node.Read("sampling_strategy", &strategy);
  if (!strategy.empty() && strategy != "trace-complete") {
    node.ErrorAt("sampling_strategy",
                 StrCat("sampling_strategy '", strategy,
                        "' is not supported: only 'trace-complete' (the default) is; remove the option"));
  }
  uint64_t shards = 1;
  node.Read("num_shards", &shards);
  if (shards != 1) {
    node.ErrorAt("num_shards",
                 "num_shards other than 1 is not supported: traces are held in one map under one lock "
                 "(see max_memory_mib); remove the option");
  }
  node.Unsupported("tail_storage", "span data is held in memory, bounded by max_memory_mib; remove the option");
}

absl::Status Config::Validate() const {
  if (policies.empty()) return absl::InvalidArgumentError("policies: at least one policy is required");
  if (decision_wait <= absl::ZeroDuration()) return absl::InvalidArgumentError("decision_wait must be positive");
  if (decision_wait_after_root_received < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("decision_wait_after_root_received must not be negative");
  }
  if (num_traces == 0) return absl::InvalidArgumentError("num_traces must be positive");
  if (max_memory_mib > (1ull << 30)) return absl::InvalidArgumentError("max_memory_mib must be at most 2^30 (1 PiB)");
  std::set<std::string> names;
  for (const PolicyCfg& p : policies) {
    if (!p.name.empty() && !names.insert(p.name).second) {
      return absl::InvalidArgumentError(StrCat("duplicate policy name '", p.name, "'"));
    }
    if (auto st = ValidatePolicy(p); !st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace outrigger::processors::tail_sampling
