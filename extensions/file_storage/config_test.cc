// The file_storage extension's config: the documented defaults, testdata/config.yaml
// decoding to its values (upstream's compaction keys accepted), and the refusals.
#include "extensions/file_storage/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::extensions::file_storage {
namespace {

TEST(FileStorageConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_EQ(cfg.directory, "/var/lib/otelcol/file_storage");
  EXPECT_FALSE(cfg.create_directory);
  EXPECT_EQ(cfg.directory_permissions, "0750");
  EXPECT_EQ(cfg.Mode(), 0750u);
  EXPECT_EQ(cfg.timeout, absl::Seconds(1));
  EXPECT_FALSE(cfg.fsync);
  EXPECT_EQ(cfg.fsync_interval, absl::ZeroDuration());
  EXPECT_EQ(cfg.max_size, uint64_t{1} << 30);
  EXPECT_EQ(cfg.segment_size, uint64_t{8} << 20);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(FileStorageConfig, TestdataDecodesToItsValues) {
  const std::string path = "extensions/file_storage/testdata/config.yaml";
  Config ours, upstream;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(path, "extensions", "file_storage", &ours, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(ours.directory, "/var/lib/outrigger/queue");
  EXPECT_TRUE(ours.create_directory);
  EXPECT_EQ(ours.Mode(), 0700u);
  EXPECT_EQ(ours.timeout, absl::Seconds(2));
  EXPECT_TRUE(ours.fsync);
  EXPECT_EQ(ours.max_size, uint64_t{256} << 20);
  EXPECT_EQ(ours.segment_size, uint64_t{4} << 20);
  EXPECT_FALSE(ours.compaction_requested);
  EXPECT_TRUE(ours.Validate().ok());
  ASSERT_TRUE(testutil::DecodeComponentConfig(path, "extensions", "file_storage/upstream", &upstream, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(upstream.directory, "/var/lib/otelcol/file_storage");
  EXPECT_TRUE(upstream.compaction_requested);  // accepted, and said to be unnecessary at start
  EXPECT_TRUE(upstream.Validate().ok());
}

TEST(FileStorageConfig, RefusesBadValues) {
  Config cfg;
  cfg.directory_permissions = "0759";
  EXPECT_FALSE(cfg.Validate().ok());
  cfg.directory_permissions = "rwx";
  EXPECT_FALSE(cfg.Validate().ok());
  cfg = Config();
  cfg.directory = "";
  EXPECT_FALSE(cfg.Validate().ok());
  cfg = Config();
  cfg.segment_size = 100;
  EXPECT_FALSE(cfg.Validate().ok());
  cfg = Config();
  cfg.max_size = 1 << 20;  // below the 8 MiB segment
  auto st = cfg.Validate();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("max_size"), std::string_view::npos) << st;
  cfg = Config();
  cfg.timeout = absl::Seconds(-1);
  EXPECT_FALSE(cfg.Validate().ok());
}

TEST(FileStorageConfig, UnknownKeyIsReported) {
  Config cfg;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("directory: /tmp\nfsynk: true\n", &cfg, &errors).ok());
  EXPECT_NE(errors.Joined().find("fsynk"), std::string::npos) << errors.Joined();
}

}  // namespace
}  // namespace outrigger::extensions::file_storage
