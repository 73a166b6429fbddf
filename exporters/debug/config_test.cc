#include "exporters/debug/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::exporters::debug {
namespace {

constexpr char kTestdata[] = "exporters/debug/testdata/config.yaml";

TEST(DebugExporterConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.verbosity, "basic");
  EXPECT_EQ(c.sampling_initial, 2);
  EXPECT_EQ(c.sampling_thereafter, 1);
  EXPECT_TRUE(c.use_internal_logger);
  EXPECT_EQ(c.output_paths, std::vector<std::string>{"stdout"});
  // Synchronous: no queue, no retries.
  EXPECT_FALSE(c.helper.sending_queue.enabled);
  EXPECT_FALSE(c.helper.retry_on_failure.enabled);
  EXPECT_EQ(c.helper.timeout, exporterhelper::kDefaultTimeout);
  EXPECT_TRUE(c.Validate().ok());
}

TEST(DebugExporterConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "debug", &c, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.verbosity, "detailed");
  EXPECT_EQ(c.sampling_initial, 5);
  EXPECT_EQ(c.sampling_thereafter, 200);
  EXPECT_TRUE(c.use_internal_logger);
  EXPECT_FALSE(c.helper.sending_queue.enabled);

  Config q;
  config::Errors q_errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "debug/queued", &q, &q_errors).ok())
      << q_errors.Joined();
  EXPECT_TRUE(q.Validate().ok());
  EXPECT_EQ(q.verbosity, "normal");
  EXPECT_TRUE(q.helper.sending_queue.enabled);
  EXPECT_EQ(q.helper.sending_queue.num_consumers, 1);
  EXPECT_EQ(q.helper.sending_queue.sizer, "requests");
  EXPECT_EQ(q.helper.sending_queue.queue_size, 100);
  EXPECT_EQ(q.helper.timeout, absl::Seconds(1));
  EXPECT_FALSE(q.helper.retry_on_failure.enabled);
  EXPECT_FALSE(q.use_internal_logger);
  EXPECT_EQ(q.output_paths, (std::vector<std::string>{"stderr", "/tmp/outrigger-debug-testdata.log"}));
}

TEST(DebugExporterConfig, OutputPathsMustNotBeEmptyWithoutTheInternalLogger) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("use_internal_logger: false\noutput_paths: []\n", &c, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(c.Validate().message(), "output_paths must be specified and non-empty when use_internal_logger is false");
  c.use_internal_logger = true;  // ignored then, as upstream
  EXPECT_TRUE(c.Validate().ok());
}

TEST(DebugExporterConfig, OutputFiltersAreRefusedWithWhatToDo) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("output:\n  record:\n    attributes:\n      include: [a]\n", &c, &errors).ok());
  EXPECT_NE(errors.Joined().find("output is not supported: the record, scope and resource switches"), std::string::npos)
      << errors.Joined();
}

TEST(DebugExporterConfig, NegativeSamplingIsAnError) {
  Config c;
  c.sampling_thereafter = -1;
  EXPECT_NE(c.Validate().message().find("sampling_thereafter"), std::string::npos);
  c.sampling_thereafter = 0;
  c.sampling_initial = -2;
  EXPECT_NE(c.Validate().message().find("sampling_initial"), std::string::npos);
}

TEST(DebugExporterConfig, UnknownVerbosityIsAnError) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("verbosity: loud\n", &c, &errors).ok());
}

}  // namespace
}  // namespace outrigger::exporters::debug
