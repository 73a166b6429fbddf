#include "collector/tls/config.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "collector/common/strings.h"

namespace outrigger::tls {

int VersionNumber(const std::string& name) {
  if (name == "1.0") return 10;
  if (name == "1.1") return 11;
  if (name == "1.2") return 12;
  if (name == "1.3") return 13;
  return 0;
}

absl::Status ValidateVersions(std::string_view where, const std::string& min_version, const std::string& max_version) {
  const int min = VersionNumber(min_version);
  if (min == 0) {
    return absl::InvalidArgumentError(
        StrCat(where, ".min_version \"", min_version, "\" is not one of 1.0, 1.1, 1.2, 1.3"));
  }
  if (max_version.empty()) return absl::OkStatus();
  const int max = VersionNumber(max_version);
  if (max == 0) {
    return absl::InvalidArgumentError(
        StrCat(where, ".max_version \"", max_version, "\" is not one of 1.0, 1.1, 1.2, 1.3"));
  }
  if (max < min) return absl::InvalidArgumentError(StrCat(where, ".max_version is older than ", where, ".min_version"));
  return absl::OkStatus();
}

absl::Status GrpcFixedVersions(std::string_view where, const std::string& min_version, const std::string& max_version) {
  if (min_version != "1.2") {
    return absl::InvalidArgumentError(StrCat(where, ".min_version \"", min_version,
                                             "\" is not supported: gRPC always uses TLS 1.2 or 1.3; remove it "
                                             "or set \"1.2\""));
  }
  if (!max_version.empty() && max_version != "1.3") {
    return absl::InvalidArgumentError(StrCat(where, ".max_version \"", max_version,
                                             "\" is not supported: gRPC always uses TLS 1.2 or 1.3; remove it "
                                             "or set \"1.3\""));
  }
  return absl::OkStatus();
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
      {"cert_pem", "write the PEM to a file and set cert_file"},
      {"key_pem", "write the PEM to a file and set key_file"},
      {"ca_pem", "write the PEM to a file and set ca_file"},
      {"client_ca_pem", "write the PEM to a file and set client_ca_file"}};
  for (const auto& [pem, instead] : inline_pem) node.Unsupported(pem, instead);
  const std::pair<const char*, const char*> unsupported[] = {
      {"client_ca_file_reload", "the client CA file is re-read with the certificate (reload_interval); remove it"},
      {"include_system_ca_certs_pool", "put the system's CAs and yours in one client_ca_file"},
      {"curve_preferences", "OpenSSL's default curves are used; remove it"},
      {"tpm_config", "keys are read from key_file only"}};
  for (const auto& [key, instead] : unsupported) node.Unsupported(key, instead);
}

absl::Status ServerConfig::Validate(const std::string& where) const {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(StrCat(where, ".cert_file and ", where, ".key_file go together"));
  }
  if (!enabled() && (!client_ca_file.empty() || !ca_file.empty())) {
    return absl::InvalidArgumentError(
        StrCat(where, ": client_ca_file/ca_file need a server certificate (cert_file and key_file)"));
  }
  if (auto st = ValidateVersions(where, min_version, max_version); !st.ok()) return st;
  if (reload_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(StrCat(where, ".reload_interval must not be negative"));
  }
  return absl::OkStatus();
}

void ServerAuth::Decode(config::Node& node) {
  node.Read("authenticator", &authenticator);
  node.Unsupported("request_params",
                   "authenticators see the request headers only; send the credential in a header instead");
}

}  // namespace outrigger::tls
