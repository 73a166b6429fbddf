// The file exporter's config: the defaults documented in README.md, and
// testdata/config.yaml decoding to the values written in it.
#include "exporters/file/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "tests/testutil/config_util.h"

namespace outrigger::exporters::file {
namespace {

constexpr char kTestdata[] = "exporters/file/testdata/config.yaml";

TEST(FileExporterConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_EQ(cfg.path, "");
  EXPECT_EQ(cfg.format, "json");
  EXPECT_EQ(cfg.max_line_size, 64u << 20);
  EXPECT_EQ(cfg.compression, "");
  EXPECT_EQ(cfg.flush_interval, absl::ZeroDuration());  // ours; upstream buffers 1s
  EXPECT_TRUE(cfg.append);                              // ours; upstream truncates
  EXPECT_FALSE(cfg.rotation.enabled);
  EXPECT_EQ(cfg.rotation.max_megabytes, 100);
  EXPECT_EQ(cfg.rotation.max_days, 0);
  EXPECT_EQ(cfg.rotation.max_backups, 100);
  EXPECT_FALSE(cfg.rotation.localtime);
  const auto& q = cfg.helper.sending_queue;
  EXPECT_FALSE(q.enabled);  // unlike the other exporters
  EXPECT_EQ(q.num_consumers, 2);
  EXPECT_EQ(q.sizer, "items");
  EXPECT_EQ(q.queue_size, 0);
  EXPECT_EQ(q.Capacity(), 32768);
  EXPECT_TRUE(q.block_on_overflow);
  EXPECT_FALSE(q.batch.enabled);
  EXPECT_EQ(q.batch.flush_timeout, absl::Milliseconds(200));
  EXPECT_EQ(q.batch.sizer, "items");
  EXPECT_EQ(q.batch.min_size, 8192);
  EXPECT_EQ(q.batch.max_size, 0);
  const auto& r = cfg.helper.retry_on_failure;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.initial_interval, absl::Seconds(5));
  EXPECT_EQ(r.randomization_factor, 0.5);
  EXPECT_EQ(r.multiplier, 1.5);
  EXPECT_EQ(r.max_interval, absl::Seconds(30));
  EXPECT_EQ(r.max_elapsed_time, absl::Minutes(5));
  EXPECT_EQ(cfg.helper.timeout, absl::Seconds(5));
  // path is required.
  EXPECT_FALSE(cfg.Validate().ok());
}

TEST(FileExporterConfig, TestdataDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "file", &cfg, &errors).ok()) << errors.Joined();
  EXPECT_EQ(cfg.path, "/tmp/outrigger-testdata-all.jsonl");
  EXPECT_EQ(cfg.format, "json");
  EXPECT_EQ(cfg.max_line_size, 16u << 20);
  EXPECT_EQ(cfg.flush_interval, absl::Seconds(1));
  EXPECT_FALSE(cfg.append);
  EXPECT_FALSE(cfg.rotation.enabled);
  EXPECT_FALSE(cfg.helper.sending_queue.enabled);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(FileExporterConfig, TestdataQueuedDecodesToItsValues) {
  unsetenv("OUTRIGGER_ARCHIVE_DIR");  // the file's ${env:OUTRIGGER_ARCHIVE_DIR:-/tmp}
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "file/queued", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(cfg.path, "/tmp/outrigger-testdata-logs.jsonl");
  EXPECT_EQ(cfg.format, "json");
  const auto& q = cfg.helper.sending_queue;
  EXPECT_TRUE(q.enabled);
  EXPECT_EQ(q.num_consumers, 3);
  EXPECT_EQ(q.sizer, "requests");
  EXPECT_EQ(q.queue_size, 50);
  EXPECT_FALSE(q.block_on_overflow);
  EXPECT_TRUE(q.batch.enabled);  // by the presence of `batch`
  EXPECT_EQ(q.batch.flush_timeout, absl::Seconds(1));
  EXPECT_EQ(q.batch.sizer, "bytes");
  EXPECT_EQ(q.batch.min_size, 65536);
  EXPECT_EQ(q.batch.max_size, 1048576);
  const auto& r = cfg.helper.retry_on_failure;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.initial_interval, absl::Seconds(1));
  EXPECT_EQ(r.randomization_factor, 0.25);
  EXPECT_EQ(r.multiplier, 2.0);
  EXPECT_EQ(r.max_interval, absl::Seconds(10));
  EXPECT_EQ(r.max_elapsed_time, absl::Minutes(2));
  EXPECT_EQ(cfg.helper.timeout, absl::Seconds(2));
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(FileExporterConfig, TestdataNoRetryDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "file/no_retry", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(cfg.path, "/tmp/outrigger-testdata-metrics.jsonl");
  EXPECT_FALSE(cfg.helper.retry_on_failure.enabled);
  EXPECT_FALSE(cfg.helper.sending_queue.enabled);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(FileExporterConfig, TestdataRotatedDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "file/rotated", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(cfg.format, "proto");
  EXPECT_EQ(cfg.compression, "zstd");
  EXPECT_TRUE(cfg.rotation.enabled);
  EXPECT_EQ(cfg.rotation.max_megabytes, 10);
  EXPECT_EQ(cfg.rotation.max_days, 3);
  EXPECT_EQ(cfg.rotation.max_backups, 3);
  EXPECT_TRUE(cfg.rotation.localtime);
  EXPECT_EQ(cfg.flush_interval, absl::Seconds(5));
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(FileExporterConfig, RotationGivenEmptyIsOnWithUpstreamsDefaults) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("path: /tmp/x\nrotation:\n", &cfg, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(cfg.rotation.enabled);
  EXPECT_EQ(cfg.rotation.max_megabytes, 100);
  EXPECT_EQ(cfg.rotation.max_backups, 100);
  EXPECT_TRUE(cfg.Validate().ok());
  cfg.rotation.max_megabytes = 0;
  EXPECT_NE(cfg.Validate().message().find("max_megabytes"), std::string::npos);
}

TEST(FileExporterConfig, UnsupportedUpstreamOptionsAreRefusedWithWhatToDo) {
  Config cfg;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("path: /tmp/x-*.json\ngroup_by:\n  enabled: true\n  resource_attribute: a\n"
                                    "encoding: otlp_json\n",
                                    &cfg, &errors)
                   .ok());
  std::string all = errors.Joined();
  EXPECT_NE(all.find("group_by is not supported: use one file exporter per destination"), std::string::npos) << all;
  EXPECT_NE(all.find("encoding is not supported: Outrigger has no encoding extensions"), std::string::npos) << all;
  // group_by written but disabled (upstream's documented defaults) is accepted.
  Config off;
  config::Errors off_errors;
  EXPECT_TRUE(testutil::DecodeYaml("path: /tmp/x\ngroup_by:\n  enabled: false\n  resource_attribute: "
                                   "fileexporter.path_segment\n  max_open_files: 100\n",
                                   &off, &off_errors)
                  .ok())
      << off_errors.Joined();
}

TEST(FileExporterConfig, DirectoryPermissionsAsUpstreamChecksThem) {
  Config cfg;
  cfg.path = "/tmp/x";
  cfg.directory_permissions = "0750";
  EXPECT_EQ(cfg.Validate().message(), "directory_permissions requires create_directory to be true");
  cfg.create_directory = true;
  EXPECT_TRUE(cfg.Validate().ok());
  EXPECT_EQ(cfg.DirectoryMode(), 0750u);
  cfg.directory_permissions = "0789";
  EXPECT_EQ(cfg.Validate().message(), "directory_permissions value must be a valid octal representation");
  cfg.directory_permissions = "1777";
  EXPECT_EQ(cfg.Validate().message(), "directory_permissions contain invalid bits for file access");
  cfg.directory_permissions.clear();
  EXPECT_EQ(cfg.DirectoryMode(), 0755u);  // upstream's default
}

TEST(FileExporterConfig, CompressionOtherThanZstdIsAnError) {
  Config cfg;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("path: /tmp/x\ncompression: gzip\n", &cfg, &errors).ok());
  EXPECT_NE(errors.Joined().find("compression"), std::string::npos) << errors.Joined();
}

TEST(FileExporterConfig, FormatOtherThanJsonOrProtoIsAnError) {
  // Through the same reader the service uses, from an inline file.
  const std::string path = ::testing::TempDir() + "/outrigger-file-config-test.yaml";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("exporters:\n  file:\n    path: /tmp/x.jsonl\n    format: xml\n", f);
    std::fclose(f);
  }
  Config cfg;
  config::Errors errors;
  EXPECT_EQ(testutil::DecodeComponentConfig(path, "exporters", "file", &cfg, &errors).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(errors.Joined().find("exporters.file.format"), std::string::npos) << errors.Joined();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace outrigger::exporters::file
