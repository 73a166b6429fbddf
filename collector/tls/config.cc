#include "collector/tls/config.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace outrigger::tls {

int VersionNumber(const std::string& name) {
  if (name == "1.0") return 10;
  if (name == "1.1") return 11;
  if (name == "1.2") return 12;
  if (name == "1.3") return 13;
  return 0;
}

void ServerConfig::Decode(config::Node& node) {
  node.Read("cert_file", &cert_file);
  node.Read("key_file", &key_file);
  node.Read("ca_file", &ca_file);
  node.Read("client_ca_file", &client_ca_file);
  node.Read("min_version", &min_version);
  node.Read("max_version", &max_version);
  node.Read("cipher_suites", &cipher_suites);
  node.Read("reload_interval", &reload_interval);
  const std::pair<const char*, const char*> inline_pem[] = {
      {"cert_pem", "cert_file"}, {"key_pem", "key_file"}, {"ca_pem", "ca_file"}, {"client_ca_pem", "client_ca_file"}};
  for (const auto& [pem, file] : inline_pem) {
    if (!node.Has(pem)) continue;
    node.ErrorAt(pem, absl::StrCat(pem, " (inline PEM) is not supported: write the PEM to a file and set ", file));
    node.Accept(pem);
  }
}

absl::Status ServerConfig::Validate(const std::string& where) const {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".cert_file and ", where, ".key_file go together"));
  }
  if (!enabled() && (!client_ca_file.empty() || !ca_file.empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": client_ca_file/ca_file need a server certificate (cert_file and key_file)"));
  }
  int min = VersionNumber(min_version);
  if (min == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".min_version \"", min_version, "\" is not one of 1.0, 1.1, 1.2, 1.3"));
  }
  if (!max_version.empty()) {
    int max = VersionNumber(max_version);
    if (max == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".max_version \"", max_version, "\" is not one of 1.0, 1.1, 1.2, 1.3"));
    }
    if (max < min) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".max_version is older than min_version"));
    }
  }
  if (reload_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".reload_interval must not be negative"));
  }
  return absl::OkStatus();
}

void ServerAuth::Decode(config::Node& node) { node.Read("authenticator", &authenticator); }

}  // namespace outrigger::tls
