#pragma once
// bearertokenauth: a shared secret in a header. As a server authenticator (the OTLP
// receiver's `auth: {authenticator: bearertokenauth}`) it accepts a request whose
// `<header>` is `<scheme> <token>` for one of the configured tokens, compared in constant
// time against every token; as a client authenticator (an exporter's `auth:`) it adds
// that header to each request. With `filename`, the file is checked on each use (a
// stat; re-read when it changed, and at least once a second), so a rotated token takes
// effect without a restart; while the file cannot be read the last tokens stay in use.

#include <sys/stat.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "collector/component/auth.h"
#include "collector/component/factory.h"
#include "extensions/bearertokenauth/config.h"

namespace prometheus {
class Counter;
}

namespace outrigger::extensions::bearertokenauth {

// True if `a` equals `b`, in a time that depends only on the lengths (no early exit
// at the first differing byte).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class BearerTokenAuth : public Extension, public ServerAuthenticator, public ClientAuthenticator {
 public:
  BearerTokenAuth(const CreateSettings& settings, const Config& cfg);

  // With `filename`: reads it; a missing, unreadable or empty file is an error.
  absl::Status Start(Host& host) override;

  // OK, or UNAUTHENTICATED (missing header, or no token matches); counted either way.
  absl::Status Authenticate(const std::map<std::string, std::string>& headers) override;
  // {header, "<scheme> <token>"} with the first token.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Headers() override;

  // For tests: what Authenticate counted.
  double accepted() const;
  double refused() const;

 private:
  // The header values accepted (and the first one sent): "<scheme> <token>".
  using Tokens = std::shared_ptr<const std::vector<std::string>>;
  // The values in force: re-reads `filename` when it changed.
  Tokens Current();
  absl::StatusOr<std::vector<std::string>> ReadFile(struct stat* st) const;
  Tokens Values(const std::vector<std::string>& tokens) const;

  CreateSettings settings_;
  Config cfg_;
  std::string header_lower_;
  prometheus::Counter* accepted_ = nullptr;
  prometheus::Counter* refused_ = nullptr;

  std::mutex mu_;
  Tokens tokens_ ABSL_GUARDED_BY(mu_);
  // Identity of the file when last read (device, inode, size, modification time).
  struct FileKey {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    int64_t mtime_ns = -1;
    bool operator==(const FileKey&) const = default;
  };
  FileKey key_ ABSL_GUARDED_BY(mu_);
  absl::Time last_read_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace outrigger::extensions::bearertokenauth
