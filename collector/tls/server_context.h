#pragma once
// The OpenSSL context of a TLS server, built from a tls::ServerConfig and re-built when
// the certificate, key or CA files change on disk (certificate rotation without a
// restart). Connections take Current() when they are accepted, so a new context serves
// new connections while open ones keep the one they started with.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "collector/tls/config.h"

namespace spdlog {
class logger;
}

namespace outrigger::tls {

// When reload_interval is 0, how often the files' modification times are looked at.
inline constexpr absl::Duration kDefaultReloadCheck = absl::Seconds(1);

class ServerContext {
 public:
  // Reads the files; an error names the file and what is wrong with it.
  static absl::StatusOr<std::shared_ptr<ServerContext>> Create(const ServerConfig& cfg,
                                                               std::shared_ptr<spdlog::logger> logger);

  // The context for a new connection. At most once per check interval (reload_interval,
  // else kDefaultReloadCheck) it looks at the files; if one changed, a new context is
  // built. A new context that fails (a broken or mismatched certificate) is logged and
  // the previous one kept; it is tried again when the files change again.
  std::shared_ptr<boost::asio::ssl::context> Current();

  // How many times a changed set of files was loaded, and how many loads failed.
  int reloads() const;
  int reload_failures() const;

 private:
  struct FileStamp {
    std::string path;
    int64_t mtime_ns = 0;
    int64_t size = 0;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };
  ServerContext(const ServerConfig& cfg, std::shared_ptr<spdlog::logger> logger);
  absl::Duration CheckEvery() const;
  std::vector<FileStamp> Stamps() const;
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> Build() const;

  const ServerConfig cfg_;
  std::shared_ptr<spdlog::logger> logger_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> ctx_ ABSL_GUARDED_BY(mu_);
  std::vector<FileStamp> stamps_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point next_check_ ABSL_GUARDED_BY(mu_);
  int reloads_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace outrigger::tls
