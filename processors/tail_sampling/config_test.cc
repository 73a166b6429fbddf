#include "processors/tail_sampling/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::tail_sampling {
namespace {

constexpr char kTestdata[] = "processors/tail_sampling/testdata/config.yaml";

TEST(TailSamplingConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.decision_wait, absl::Seconds(30));
  EXPECT_EQ(c.decision_wait_after_root_received, absl::ZeroDuration());
  EXPECT_EQ(c.num_traces, 50000u);
  EXPECT_EQ(c.expected_new_traces_per_sec, 0u);
  EXPECT_FALSE(c.sample_on_first_match);
  EXPECT_FALSE(c.drop_pending_traces_on_shutdown);
  EXPECT_FALSE(c.block_on_overflow);
  EXPECT_EQ(c.maximum_trace_size_bytes, 0u);
  EXPECT_EQ(c.sampled_cache_size, 100000u);  // ours: on (upstream: 0)
  EXPECT_EQ(c.non_sampled_cache_size, 100000u);
  EXPECT_EQ(c.max_memory_mib, 256u);
  EXPECT_TRUE(c.policies.empty());
  EXPECT_FALSE(c.Validate().ok());  // policies are required
}

TEST(TailSamplingConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "tail_sampling", &c, &errors).ok())
      << errors.Joined();
  ASSERT_TRUE(c.Validate().ok()) << c.Validate();
  EXPECT_EQ(c.decision_wait, absl::Seconds(10));
  EXPECT_EQ(c.decision_wait_after_root_received, absl::Seconds(2));
  EXPECT_EQ(c.num_traces, 100u);
  EXPECT_EQ(c.expected_new_traces_per_sec, 10u);
  EXPECT_TRUE(c.sample_on_first_match);
  EXPECT_EQ(c.max_memory_mib, 64u);
  EXPECT_EQ(c.maximum_trace_size_bytes, 1u << 20);
  EXPECT_EQ(c.sampled_cache_size, 100000u);
  EXPECT_EQ(c.non_sampled_cache_size, 50000u);
  ASSERT_EQ(c.policies.size(), 18u);
  EXPECT_EQ(c.policies[1].type, "latency");
  EXPECT_EQ(c.policies[1].upper_threshold_ms, 10000);
  EXPECT_EQ(c.policies[2].min_value, 50);
  EXPECT_EQ(c.policies[2].max_value, 100);
  EXPECT_EQ(c.policies[3].sampling_percentage, 10);
  EXPECT_EQ(c.policies[4].status_codes, (std::vector<std::string>{"ERROR", "UNSET"}));
  EXPECT_TRUE(c.policies[6].enabled_regex_matching);
  EXPECT_EQ(c.policies[6].cache_max_size, 10);
  EXPECT_EQ(c.policies[7].spans_per_second, 35);
  EXPECT_EQ(c.policies[8].burst_capacity, 2048000);
  EXPECT_EQ(c.policies[9].max_spans, 20);
  EXPECT_EQ(c.policies[10].values, (std::vector<std::string>{"value1", "value2"}));
  EXPECT_TRUE(c.policies[11].bool_value);
  EXPECT_EQ(c.policies[12].error_mode, ottl::ErrorMode::kIgnore);
  EXPECT_EQ(c.policies[12].span_conditions.size(), 2u);
  EXPECT_EQ(c.policies[12].spanevent_conditions.size(), 2u);
  EXPECT_EQ(c.policies[13].type, "trace_flags");
  ASSERT_EQ(c.policies[14].sub.size(), 2u);
  EXPECT_EQ(c.policies[14].sub[1].key, "key2");
  ASSERT_EQ(c.policies[15].sub.size(), 1u);
  EXPECT_EQ(c.policies[15].sub[0].status_codes, (std::vector<std::string>{"ERROR"}));
  EXPECT_EQ(c.policies[16].sub[0].values, (std::vector<std::string>{"\\/health", "\\/metrics"}));
  const PolicyCfg& comp = c.policies[17];
  EXPECT_EQ(comp.max_total_spans_per_second, 1000);
  EXPECT_EQ(comp.sub.size(), 3u);
  ASSERT_EQ(comp.rate_allocation.size(), 2u);
  EXPECT_EQ(comp.rate_allocation[1].policy, "test-composite-policy-2");
  EXPECT_EQ(comp.rate_allocation[1].percent, 25);
}

std::string DecodeError(const std::string& yaml) {
  Config c;
  config::Errors errors;
  if (!testutil::DecodeYaml(yaml, &c, &errors).ok()) return errors.Joined();
  absl::Status st = c.Validate();
  return st.ok() ? "" : std::string(st.message());
}

TEST(TailSamplingConfig, ErrorsNameTheProblem) {
  EXPECT_NE(DecodeError("policies: [{name: a, type: nope}]").find("unknown policy type 'nope'"), std::string::npos);
  EXPECT_NE(DecodeError("policies: [{name: a, type: always_sample}, {name: a, type: always_sample}]")
                .find("duplicate policy name 'a'"),
            std::string::npos);
  EXPECT_NE(DecodeError("policies: [{type: always_sample}]").find("has no name"), std::string::npos);
  EXPECT_NE(DecodeError("policies: [{name: a, type: status_code, status_code: {status_codes: [BAD]}}]")
                .find("unknown status code 'BAD'"),
            std::string::npos);
  EXPECT_NE(DecodeError("policies: [{name: a, type: string_attribute, string_attribute: {key: k, values: ['(['], "
                        "enabled_regex_matching: true}}]")
                .find("invalid regular expression"),
            std::string::npos);
  EXPECT_NE(DecodeError("policies: [{name: a, type: numeric_attribute, numeric_attribute: {key: k}}]")
                .find("min_value or max_value"),
            std::string::npos);
  EXPECT_NE(DecodeError("policies: [{name: a, type: rate_limiting, rate_limiting: {spans_per_second: 0}}]")
                .find("spans_per_second must be positive"),
            std::string::npos);
  // A section of another type is not silently ignored.
  EXPECT_NE(DecodeError("policies: [{name: a, type: boolean_attribute, string_attribute: {key: k}}]")
                .find("its 'string_attribute' section would not be read"),
            std::string::npos);
  // Combinators only where upstream allows them.
  EXPECT_NE(DecodeError("policies: [{name: a, type: and, and: {and_sub_policy: [{name: b, type: drop}]}}]")
                .find("cannot be used inside"),
            std::string::npos);
  EXPECT_NE(DecodeError("policies: [{name: c, type: composite, composite: {max_total_spans_per_second: 10, "
                        "composite_sub_policy: [{name: x, type: always_sample}], rate_allocation: [{policy: y, "
                        "percent: 10}]}}]")
                .find("rate_allocation names 'y'"),
            std::string::npos);
  EXPECT_NE(DecodeError("policies: [{name: a, type: ottl_condition, ottl_condition: {span: ['nope(']}}]"), "");
  // Upstream options we do not have are refused, naming what to do.
  EXPECT_NE(DecodeError("tail_storage: file_storage\npolicies: [{name: a, type: always_sample}]")
                .find("tail_storage is not supported"),
            std::string::npos);
  EXPECT_NE(DecodeError("sampling_strategy: span-ingest\npolicies: [{name: a, type: always_sample}]")
                .find("only 'trace-complete'"),
            std::string::npos);
  EXPECT_NE(DecodeError("num_shards: 4\npolicies: [{name: a, type: always_sample}]").find("num_shards"),
            std::string::npos);
  EXPECT_EQ(DecodeError("sampling_strategy: trace-complete\nnum_shards: 1\npolicies: [{name: a, type: always_sample}]"),
            "");
  EXPECT_NE(DecodeError("decision_wait: 0s\npolicies: [{name: a, type: always_sample}]").find("decision_wait"),
            std::string::npos);
}

}  // namespace
}  // namespace outrigger::processors::tail_sampling
