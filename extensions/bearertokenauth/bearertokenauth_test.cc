// bearertokenauth as a server authenticator (constant-time match against every token,
// refusals that never echo the secret, counts) and as a client authenticator, with
// tokens from the config and from a file rotated while running.
#include "extensions/bearertokenauth/bearertokenauth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "tests/testutil/testutil.h"

namespace outrigger::extensions::bearertokenauth {
namespace {

using Headers = std::map<std::string, std::string>;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "bearertokenauth_" + std::to_string(::getpid()) + "_" + name;
}

void WriteFile(const std::string& path, const std::string& content) {
  // Written beside and renamed, as a secret mounter rotates a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
  }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

class BearerTokenAuthTest : public ::testing::Test {
 protected:
  std::unique_ptr<BearerTokenAuth> Make(const Config& cfg) {
    EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate().message();
    return std::make_unique<BearerTokenAuth>(testutil::Settings(&telemetry_, "bearertokenauth", Kind::kExtension), cfg);
  }
  Telemetry telemetry_;
  testutil::TestHost host_;
};

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("Bearer abc", "Bearer abc"));
  EXPECT_FALSE(ConstantTimeEquals("Bearer abd", "Bearer abc"));
  EXPECT_FALSE(ConstantTimeEquals("Bearer ab", "Bearer abc"));
  EXPECT_FALSE(ConstantTimeEquals("Bearer abcd", "Bearer abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST_F(BearerTokenAuthTest, RightTokenAcceptedWrongRefusedAndCounted) {
  Config cfg;
  cfg.token = "s3cret-token";
  auto auth = Make(cfg);
  ASSERT_TRUE(auth->Start(host_).ok());
  EXPECT_TRUE(auth->Authenticate({{"authorization", "Bearer s3cret-token"}}).ok());
  absl::Status wrong = auth->Authenticate({{"authorization", "Bearer s3cret-tokeN"}});
  EXPECT_EQ(wrong.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.message().find("s3cret"), std::string_view::npos) << wrong.message();
  EXPECT_NE(wrong.message().find("Authorization"), std::string_view::npos) << wrong.message();
  // The token without its scheme, or with another, is refused.
  EXPECT_EQ(auth->Authenticate({{"authorization", "s3cret-token"}}).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->Authenticate({{"authorization", "Basic s3cret-token"}}).code(), absl::StatusCode::kUnauthenticated);
  absl::Status missing = auth->Authenticate({{"x-other", "Bearer s3cret-token"}});
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(missing.message().find("missing"), std::string_view::npos) << missing.message();
  EXPECT_EQ(auth->accepted(), 1);
  EXPECT_EQ(auth->refused(), 4);
  EXPECT_EQ(telemetry_.Value("outrigger_extension_bearertokenauth_requests_total",
                             {{"extension", "bearertokenauth"}, {"result", "refused"}}),
            4);
}

TEST_F(BearerTokenAuthTest, AnyOfSeveralTokensWithACustomHeaderAndScheme) {
  Config cfg;
  cfg.tokens = {"one", "two", "three"};
  cfg.header = "X-Api-Key";
  cfg.scheme = "";
  auto auth = Make(cfg);
  ASSERT_TRUE(auth->Start(host_).ok());
  for (const char* t : {"one", "two", "three"}) {
    EXPECT_TRUE(auth->Authenticate({{"x-api-key", t}}).ok()) << t;
  }
  EXPECT_FALSE(auth->Authenticate({{"x-api-key", "four"}}).ok());
  EXPECT_FALSE(auth->Authenticate({{"x-api-key", "Bearer one"}}).ok());
  // The client sends the first token, under the configured name, without a scheme.
  auto h = auth->Headers();
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, (std::vector<std::pair<std::string, std::string>>{{"X-Api-Key", "one"}}));
}

TEST_F(BearerTokenAuthTest, ClientAddsSchemeAndToken) {
  Config cfg;
  cfg.token = "abc";
  auto auth = Make(cfg);
  ASSERT_TRUE(auth->Start(host_).ok());
  auto h = auth->Headers();
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, (std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer abc"}}));
}

TEST_F(BearerTokenAuthTest, MissingFileIsAClearErrorAtStart) {
  Config cfg;
  cfg.filename = TempPath("does-not-exist");
  auto auth = Make(cfg);
  absl::Status st = auth->Start(host_);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find(cfg.filename), std::string_view::npos) << st.message();
  EXPECT_NE(st.message().find("cannot be read"), std::string_view::npos) << st.message();

  const std::string empty = TempPath("empty");
  WriteFile(empty, "\n  \n");
  cfg.filename = empty;
  auto auth2 = Make(cfg);
  st = auth2->Start(host_);
  EXPECT_NE(st.message().find("holds no token"), std::string_view::npos) << st.message();
  std::remove(empty.c_str());
}

// As upstream (its testdata's bearertokenauth/both): with filename, token and tokens
// are ignored.
TEST_F(BearerTokenAuthTest, FilenameWinsOverTokenAndTokens) {
  const std::string path = TempPath("wins");
  WriteFile(path, "from-file\n");
  Config cfg;
  cfg.token = "ignoredtoken";
  cfg.filename = path;
  auto auth = Make(cfg);
  ASSERT_TRUE(auth->Start(host_).ok());
  EXPECT_EQ(auth->Headers()->front().second, "Bearer from-file");
  EXPECT_FALSE(auth->Authenticate({{"authorization", "Bearer ignoredtoken"}}).ok());
  Config many;
  many.tokens = {"ignoredtoken1", "ignoredtoken2"};
  many.filename = path;
  auto auth2 = Make(many);
  ASSERT_TRUE(auth2->Start(host_).ok());
  EXPECT_TRUE(auth2->Authenticate({{"authorization", "Bearer from-file"}}).ok());
  EXPECT_FALSE(auth2->Authenticate({{"authorization", "Bearer ignoredtoken1"}}).ok());
  std::remove(path.c_str());
}

TEST_F(BearerTokenAuthTest, RotatedFileTakesEffectWithoutRestart) {
  const std::string path = TempPath("rotated");
  WriteFile(path, "old-token\n");
  Config cfg;
  cfg.filename = path;
  auto auth = Make(cfg);
  ASSERT_TRUE(auth->Start(host_).ok());
  EXPECT_TRUE(auth->Authenticate({{"authorization", "Bearer old-token"}}).ok());
  EXPECT_EQ(auth->Headers()->front().second, "Bearer old-token");

  // A new file (new inode) is seen on the next use.
  WriteFile(path, "new-token\n");
  EXPECT_TRUE(auth->Authenticate({{"authorization", "Bearer new-token"}}).ok());
  EXPECT_FALSE(auth->Authenticate({{"authorization", "Bearer old-token"}}).ok());
  EXPECT_EQ(auth->Headers()->front().second, "Bearer new-token");

  // Rewritten in place with the same length (same size, maybe the same mtime tick):
  // seen within the once-a-second re-read at the latest.
  {
    std::ofstream out(path, std::ios::trunc);
    out << "nEw-token\n";
  }
  EXPECT_TRUE(testutil::WaitFor([&] { return auth->Authenticate({{"authorization", "Bearer nEw-token"}}).ok(); }));
  EXPECT_FALSE(auth->Authenticate({{"authorization", "Bearer new-token"}}).ok());

  // Gone for a moment (a rotation in two steps): the last tokens stay in use.
  std::remove(path.c_str());
  EXPECT_TRUE(auth->Authenticate({{"authorization", "Bearer nEw-token"}}).ok());
  WriteFile(path, "after-a\nafter-b\n");
  EXPECT_TRUE(auth->Authenticate({{"authorization", "Bearer after-b"}}).ok());
  EXPECT_TRUE(auth->Authenticate({{"authorization", "Bearer after-a"}}).ok());
  EXPECT_FALSE(auth->Authenticate({{"authorization", "Bearer nEw-token"}}).ok());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace outrigger::extensions::bearertokenauth
