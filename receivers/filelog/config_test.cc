// The filelog receiver's config: the defaults documented in README.md, and
// testdata/config.yaml decoding to the values written in it. The operators' options
// are opaque here (operators/README.md, operators_test.cc): the operators of the
// testdata are checked by what their chain makes of one entry.
#include "receivers/filelog/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "receivers/filelog/glob.h"
#include "tests/testutil/config_util.h"

namespace outrigger::receivers::filelog {
namespace {

constexpr char kTestdata[] = "receivers/filelog/testdata/config.yaml";

using Strings = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;

// `line` through the chain of `cfg.operators`; exactly one entry is expected out.
operators::Entry ThroughChain(const Config& cfg, std::string line) {
  auto chain = operators::BuildChain(cfg.operators);
  EXPECT_TRUE(chain.ok()) << chain.status();
  if (!chain.ok()) return {};
  operators::Entry in;
  in.record.body = pdata::Value(std::move(line));
  in.record.observed_time_ns = 1;
  in.file_path = "/var/log/app/a.log";
  std::vector<operators::Entry> out;
  (*chain)->Process(std::move(in), &out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ((*chain)->stats().parse_errors, 0u);
  return out.empty() ? operators::Entry{} : std::move(out[0]);
}

std::string Str(const pdata::Value* v) {
  return v != nullptr && v->str() != nullptr ? *v->str() : std::string("<none>");
}

TEST(FilelogReceiverConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_TRUE(cfg.include.empty());
  EXPECT_TRUE(cfg.exclude.empty());
  EXPECT_EQ(cfg.start_at, "end");
  EXPECT_EQ(cfg.poll_interval, absl::Milliseconds(200));
  EXPECT_EQ(cfg.fingerprint_size, 1000u);
  EXPECT_EQ(cfg.max_log_size, 1u << 20);
  EXPECT_EQ(cfg.max_concurrent_files, 1024);
  EXPECT_EQ(cfg.max_batch_size, 1000);
  EXPECT_EQ(cfg.max_batch_size_bytes, 4u << 20);
  EXPECT_EQ(cfg.encoding, "utf-8");
  EXPECT_TRUE(cfg.include_file_name);
  EXPECT_FALSE(cfg.include_file_path);
  EXPECT_FALSE(cfg.include_file_name_resolved);
  EXPECT_FALSE(cfg.include_file_path_resolved);
  EXPECT_FALSE(cfg.preserve_leading_whitespaces);
  EXPECT_FALSE(cfg.preserve_trailing_whitespaces);
  EXPECT_EQ(cfg.multiline.line_start_pattern, "");
  EXPECT_EQ(cfg.multiline.line_end_pattern, "");
  EXPECT_FALSE(cfg.multiline.omit_pattern);
  EXPECT_TRUE(cfg.multiline.empty());
  EXPECT_EQ(cfg.force_flush_period, absl::Milliseconds(500));
  EXPECT_FALSE(cfg.delete_after_read);
  EXPECT_TRUE(cfg.attributes.empty());
  EXPECT_TRUE(cfg.resource.empty());
  EXPECT_EQ(cfg.storage, "");
  EXPECT_EQ(cfg.checkpoint_interval, absl::Seconds(1));
  EXPECT_EQ(cfg.retry_initial_interval, absl::Milliseconds(100));
  EXPECT_EQ(cfg.retry_max_interval, absl::Seconds(5));
  EXPECT_TRUE(cfg.operators.ops.empty());
  // `include` is required.
  EXPECT_FALSE(cfg.Validate().ok());
  cfg.include = {"/var/log/*.log"};
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(FilelogReceiverConfig, TestdataDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "filelog", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(cfg.include, (Strings{"/var/log/app/**/*.log", "/var/log/other.log"}));
  EXPECT_EQ(cfg.exclude, Strings{"/var/log/app/**/debug-*.log"});
  EXPECT_EQ(cfg.start_at, "beginning");
  EXPECT_EQ(cfg.poll_interval, absl::Seconds(1));
  EXPECT_EQ(cfg.fingerprint_size, 2000u);
  EXPECT_EQ(cfg.max_log_size, 256u << 10);
  EXPECT_EQ(cfg.max_concurrent_files, 64);
  EXPECT_EQ(cfg.max_batch_size, 500);
  EXPECT_EQ(cfg.max_batch_size_bytes, 1u << 20);
  EXPECT_EQ(cfg.encoding, "latin-1");
  EXPECT_FALSE(cfg.include_file_name);
  EXPECT_TRUE(cfg.include_file_path);
  EXPECT_TRUE(cfg.include_file_name_resolved);
  EXPECT_TRUE(cfg.include_file_path_resolved);
  EXPECT_TRUE(cfg.preserve_leading_whitespaces);
  EXPECT_TRUE(cfg.preserve_trailing_whitespaces);
  EXPECT_EQ(cfg.multiline.line_start_pattern, "^\\d{4}-\\d{2}-\\d{2}");
  EXPECT_EQ(cfg.multiline.line_end_pattern, "");
  EXPECT_FALSE(cfg.multiline.omit_pattern);
  EXPECT_EQ(cfg.force_flush_period, absl::Seconds(2));
  EXPECT_FALSE(cfg.delete_after_read);
  EXPECT_EQ(cfg.attributes, (StringMap{{"team", "payments"}}));
  EXPECT_EQ(cfg.resource, (StringMap{{"service.name", "checkout"}}));
  EXPECT_EQ(cfg.storage, "/var/lib/outrigger/filelog");
  EXPECT_EQ(cfg.checkpoint_interval, absl::Seconds(5));
  EXPECT_EQ(cfg.retry_initial_interval, absl::Milliseconds(500));
  EXPECT_EQ(cfg.retry_max_interval, absl::Minutes(1));
  EXPECT_TRUE(cfg.Validate().ok());

  // operators: regex_parser (with timestamp and severity blocks), then move.
  ASSERT_EQ(cfg.operators.ops.size(), 2u);
  operators::Entry e = ThroughChain(cfg, "2024-05-01T12:00:00+02:00 NOTICE disk almost full\n  /var: 97%");
  EXPECT_EQ(Str(&e.record.body), "disk almost full\n  /var: 97%");  // attributes.msg moved to the body
  EXPECT_EQ(pdata::Find(e.record.attributes, "msg"), nullptr);
  EXPECT_EQ(Str(pdata::Find(e.record.attributes, "time")), "2024-05-01T12:00:00+02:00");
  EXPECT_EQ(Str(pdata::Find(e.record.attributes, "level")), "NOTICE");
  EXPECT_EQ(e.record.time_ns, 1714557600ull * 1000000000);  // 10:00 UTC
  EXPECT_EQ(e.record.severity_number, 13);                  // mapping: warn: notice
  EXPECT_EQ(e.record.severity_text, "WARN");                // overwrite_text
}

TEST(FilelogReceiverConfig, TestdataSpoolDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "filelog/spool", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(cfg.include, Strings{"/var/spool/app/*.json"});
  EXPECT_EQ(cfg.start_at, "beginning");
  EXPECT_TRUE(cfg.delete_after_read);
  EXPECT_EQ(cfg.encoding, "utf-16le");
  EXPECT_EQ(cfg.multiline.line_start_pattern, "");
  EXPECT_EQ(cfg.multiline.line_end_pattern, "\\}$");
  EXPECT_EQ(cfg.force_flush_period, absl::ZeroDuration());
  // The rest keeps its defaults.
  EXPECT_EQ(cfg.poll_interval, absl::Milliseconds(200));
  EXPECT_TRUE(cfg.include_file_name);
  EXPECT_EQ(cfg.storage, "");
  EXPECT_TRUE(cfg.Validate().ok());

  // operators: json_parser into the body, every number a double.
  ASSERT_EQ(cfg.operators.ops.size(), 1u);
  operators::Entry e = ThroughChain(cfg, "{\"id\": \"a1\", \"n\": 3}");
  const pdata::ValueMap* body = e.record.body.map();
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(Str(pdata::Find(*body, "id")), "a1");
  const pdata::Value* n = pdata::Find(*body, "n");
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(std::holds_alternative<double>(n->v));  // parse_ints: false
  EXPECT_EQ(std::get<double>(n->v), 3.0);
}

TEST(FilelogReceiverConfig, RelativeGlobsAreReadAgainstTheWorkingDirectory) {
  char buf[4096];
  ASSERT_NE(getcwd(buf, sizeof(buf)), nullptr);
  const std::string cwd = buf;
  const std::string parent = cwd.substr(0, cwd.rfind('/'));
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(
      testutil::DecodeYaml("include: [logs/*.log, ./a/b.log, ../x/*.log]\nexclude: [logs/old.log]\n", &cfg, &errors)
          .ok())
      << errors.Joined();
  EXPECT_EQ(cfg.include, (Strings{cwd + "/logs/*.log", cwd + "/a/b.log", (parent.empty() ? "" : parent) + "/x/*.log"}));
  EXPECT_EQ(cfg.exclude, Strings{cwd + "/logs/old.log"});
  EXPECT_EQ(Glob::Absolute("../../../../../../../../../../../../x.log", "/a"), "/x.log");
  EXPECT_EQ(Glob::Absolute("/abs/*.log", "/a"), "/abs/*.log");
}

TEST(FilelogReceiverConfig, UpstreamOptionsWorkOrAreNamedUnsupported) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("include: [/a.log]\ninitial_buffer_size: 16KiB\n", &cfg, &errors).ok())
      << errors.Joined();
  const std::pair<const char*, const char*> cases[] = {
      {"exclude_older_than: 1h", "exclude_older_than"},
      {"compression: gzip", "compression"},
      {"header: {pattern: x}", "header"},
      {"polls_to_archive: 2", "polls_to_archive"},
      {"include_file_record_offset: true", "include_file_record_offset"},
      {"retry_on_failure: {max_elapsed_time: 5m}", "max_elapsed_time"},
  };
  for (const auto& [yaml, key] : cases) {
    Config c;
    config::Errors e;
    EXPECT_FALSE(testutil::DecodeYaml(std::string("include: [/a.log]\n") + yaml + "\n", &c, &e).ok()) << yaml;
    EXPECT_NE(e.Joined().find(std::string(key) + " is not supported: "), std::string::npos) << e.Joined();
  }
}

}  // namespace
}  // namespace outrigger::receivers::filelog
