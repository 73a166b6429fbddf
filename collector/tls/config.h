#pragma once
// Server-side TLS settings, as the OpenTelemetry Collector's configtls.ServerConfig names
// them: one `tls:` block under every server we run (OTLP gRPC and HTTP, the Prometheus
// exporter, the own-metrics endpoint, health_check). TLS is on when cert_file is set;
// client_ca_file turns on mTLS (a client certificate signed by it is required).

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "collector/config/node.h"

namespace outrigger::tls {

inline constexpr char kDefaultMinVersion[] = "1.2";

struct ServerConfig {
  std::string cert_file;       // PEM certificate chain; TLS is on when set
  std::string key_file;        // PEM private key of cert_file
  std::string ca_file;         // as upstream: CAs for client certificates when client_ca_file is empty
  std::string client_ca_file;  // mTLS: clients must present a certificate signed by these CAs
  std::string min_version = kDefaultMinVersion;  // "1.0", "1.1", "1.2", "1.3"
  std::string max_version;                       // empty: the newest the library has
  std::vector<std::string> cipher_suites;        // IANA names (TLS 1.2 and older); empty: library defaults
  // How often the certificate, key and CA files are looked at; when one changed (its
  // modification time, size or inode), they are loaded again for new connections.
  // 0: every second (tls::kDefaultReloadCheck).
  absl::Duration reload_interval = absl::ZeroDuration();

  bool enabled() const { return !cert_file.empty(); }
  // Whether clients must present a certificate (signed by client_ca_file). With only
  // ca_file, a client certificate is asked for and verified if sent, not required.
  bool mutual() const { return !client_ca_file.empty(); }
  void Decode(config::Node& node);
  // `where` prefixes messages ("protocols.http.tls").
  absl::Status Validate(const std::string& where) const;
};

// min_version / max_version as named under `where` ("tls"): each one of 1.0 to 1.3, max
// (empty: the newest) not older than min.
absl::Status ValidateVersions(std::string_view where, const std::string& min_version, const std::string& max_version);

// For gRPC (1.51), which always negotiates TLS 1.2 or 1.3 and has no setting for it: any
// other min_version / max_version is refused with what to set instead.
absl::Status GrpcFixedVersions(std::string_view where, const std::string& min_version, const std::string& max_version);

// A version name ("1.2") as a number for comparisons (0x0302 style: 1.0 = 10, 1.3 = 13);
// 0 for a name that is not a TLS version.
int VersionNumber(const std::string& name);

// `auth: {authenticator: <extension id>}` under a server: the extension that checks each
// request (e.g. bearertokenauth).
struct ServerAuth {
  std::string authenticator;  // empty: no authentication
  void Decode(config::Node& node);
};

}  // namespace outrigger::tls
