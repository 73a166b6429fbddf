// The bearertokenauth extension's config: the documented defaults, testdata/config.yaml
// decoding to its values, and the refusals.
#include "extensions/bearertokenauth/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::extensions::bearertokenauth {
namespace {

TEST(BearerTokenAuthConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_EQ(cfg.scheme, "Bearer");
  EXPECT_EQ(cfg.header, "Authorization");
  EXPECT_TRUE(cfg.token.empty());
  EXPECT_TRUE(cfg.tokens.empty());
  EXPECT_TRUE(cfg.filename.empty());
  // No token at all is refused.
  EXPECT_FALSE(cfg.Validate().ok());
}

TEST(BearerTokenAuthConfig, TestdataDecodesToItsValues) {
  const std::string path = "extensions/bearertokenauth/testdata/config.yaml";
  Config server, client;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(path, "extensions", "bearertokenauth/server", &server, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(server.scheme, "Token");
  EXPECT_EQ(server.header, "X-Auth");
  EXPECT_EQ(server.tokens, (std::vector<std::string>{"first-secret", "second-secret"}));
  EXPECT_TRUE(server.Validate().ok());
  ASSERT_TRUE(testutil::DecodeComponentConfig(path, "extensions", "bearertokenauth/client", &client, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(client.token, "client-secret");
  EXPECT_EQ(client.scheme, "Bearer");
  EXPECT_TRUE(client.Validate().ok());
}

TEST(BearerTokenAuthConfig, OneSourceOfTokens) {
  Config cfg;
  EXPECT_EQ(cfg.Validate().message(), "one of token, tokens or filename is required");
  cfg.token = "a";
  cfg.filename = "/tmp/x";
  EXPECT_TRUE(cfg.Validate().ok());  // upstream accepts it: filename wins
  cfg.filename.clear();
  cfg.tokens = {"b"};
  auto st = cfg.Validate();
  EXPECT_EQ(st.message(), "either tokens or token should be provided, not both");
  cfg.filename = "/tmp/x";
  EXPECT_FALSE(cfg.Validate().ok());  // still both token and tokens
  cfg.filename.clear();
  cfg.token.clear();
  EXPECT_TRUE(cfg.Validate().ok());
  cfg.tokens = {"b", ""};
  EXPECT_FALSE(cfg.Validate().ok());
}

TEST(BearerTokenAuthConfig, RefusesValuesThatWouldBreakTheHeader) {
  Config cfg;
  cfg.token = "abc\r\nX-Evil: 1";
  EXPECT_FALSE(cfg.Validate().ok());
  cfg.token = "abc";
  cfg.header = "Bad Header";
  EXPECT_FALSE(cfg.Validate().ok());
  cfg.header = "";
  EXPECT_FALSE(cfg.Validate().ok());
}

TEST(BearerTokenAuthConfig, UnknownKeyIsReported) {
  Config cfg;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("token: a\ntokenz: b\n", &cfg, &errors).ok());
  EXPECT_NE(errors.Joined().find("tokenz"), std::string::npos) << errors.Joined();
}

}  // namespace
}  // namespace outrigger::extensions::bearertokenauth
