// The file_storage extension: directory creation and checks, the lock between two
// processes (two instances here), one store per component, the shared max_size.
#include "extensions/file_storage/file_storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/testutil/testutil.h"

namespace outrigger::extensions::file_storage {
namespace {

namespace fs = std::filesystem;

class FileStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/file_storage_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<FileStorage> Make(const Config& cfg, const std::string& id = "file_storage") {
    return std::make_unique<FileStorage>(testutil::Settings(&telemetry_, id, Kind::kExtension), cfg);
  }
  Telemetry telemetry_;
  testutil::TestHost host_;
  std::string dir_;
};

TEST_F(FileStorageTest, MissingDirectoryIsAnErrorUnlessCreated) {
  Config cfg;
  cfg.directory = dir_ + "/a/b";
  auto st = Make(cfg)->Start(host_);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("create_directory"), std::string_view::npos) << st;
  cfg.create_directory = true;
  cfg.directory_permissions = "0700";
  auto ext = Make(cfg);
  ASSERT_TRUE(ext->Start(host_).ok());
  struct stat s;
  ASSERT_EQ(stat(cfg.directory.c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0700u);
}

TEST_F(FileStorageTest, TwoUsersOfOneDirectoryAreRefused) {
  Config cfg;
  cfg.directory = dir_;
  cfg.timeout = absl::Milliseconds(100);
  auto first = Make(cfg);
  ASSERT_TRUE(first->Start(host_).ok());
  auto second = Make(cfg, "file_storage/2");
  auto st = second->Start(host_);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("in use by another process"), std::string_view::npos) << st;
  ASSERT_TRUE(first->Shutdown(absl::Now()).ok());
  EXPECT_TRUE(second->Start(host_).ok());  // released at shutdown (a reload starts a new one)
}

TEST_F(FileStorageTest, EachComponentHasItsOwnStoreAndTheyShareMaxSize) {
  Config cfg;
  cfg.directory = dir_;
  cfg.segment_size = 4096;
  cfg.max_size = 3 * 4096;
  auto ext = Make(cfg);
  ASSERT_TRUE(ext->Start(host_).ok());
  auto a = ext->OpenLog("exporter", "otlp/a", {});
  auto b = ext->OpenLog("exporter", "otlp/b", {});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(fs::is_directory(dir_ + "/exporter_otlp_a"));
  EXPECT_TRUE(fs::is_directory(dir_ + "/exporter_otlp_b"));
  const std::string rec(1000, 'r');
  absl::Status st;
  int n = 0;
  while ((st = ((n % 2) ? *a : *b)->Append(rec)).ok()) ++n;
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LE(ext->budget()->used(), 3 * 4096);
  EXPECT_GE(n, 6);
  auto dir = ext->Directory("receiver", "filelog/app");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(*dir, dir_ + "/receiver_filelog_app");
  EXPECT_TRUE(fs::is_directory(*dir));
}

TEST_F(FileStorageTest, StoresAreRefusedBeforeStart) {
  Config cfg;
  cfg.directory = dir_;
  auto ext = Make(cfg);
  EXPECT_FALSE(ext->OpenLog("exporter", "otlp", {}).ok());
  EXPECT_FALSE(ext->Directory("receiver", "filelog").ok());
}

}  // namespace
}  // namespace outrigger::extensions::file_storage
