// Explicit configurations of the Kubernetes client: the Pod's own namespace and kubeconfig
// files (see client.h).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "collector/common/strings.h"
#include "collector/k8s/client.h"
#include "yaml-cpp/yaml.h"

namespace outrigger::k8s {
namespace {

constexpr size_t kMaxKubeconfig = 4 << 20;

absl::StatusOr<std::string> ReadText(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(StrCat("cannot read ", path));
  std::string out;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max) return absl::InvalidArgumentError(StrCat(path, ": larger than ", max, " bytes"));
  }
  return out;
}

// The mapping of the named entry of a kubeconfig list ("clusters", "users", "contexts").
YAML::Node Named(const YAML::Node& root, const char* list, const std::string& name, const char* inner) {
  const YAML::Node l = root[list];
  if (!l || !l.IsSequence()) return YAML::Node();
  for (const auto& e : l) {
    if (!e.IsMap()) continue;
    const YAML::Node n = e["name"];
    if (n && n.IsScalar() && n.Scalar() == name) {
      const YAML::Node v = e[inner];
      return v && v.IsMap() ? v : YAML::Node();
    }
  }
  return YAML::Node();
}

std::string Scalar(const YAML::Node& m, const char* key) {
  if (!m || !m.IsMap()) return "";
  const YAML::Node v = m[key];
  return v && v.IsScalar() ? v.Scalar() : "";
}

}  // namespace

absl::StatusOr<std::string> OwnNamespace() {
  const char* env = std::getenv(kServiceAccountDirEnv);
  std::string dir = env != nullptr && *env != '\0' ? env : kServiceAccountDir;
  auto text = ReadText(StrCat(dir, "/namespace"), 4096);
  if (!text.ok()) {
    return absl::FailedPreconditionError(
        StrCat("own_namespace: the Pod's namespace is not known (", text.status().message(), ")"));
  }
  std::string ns(absl::StripAsciiWhitespace(*text));
  if (ns.empty()) return absl::FailedPreconditionError(StrCat("own_namespace: ", dir, "/namespace is empty"));
  return ns;
}

absl::StatusOr<ClusterConfig> KubeConfigFile(const std::string& path) {
  auto text = ReadText(path, kMaxKubeconfig);
  if (!text.ok()) return text.status();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat(path, ": not YAML: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError(StrCat(path, ": not a kubeconfig (no mapping)"));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  auto file = [&](const std::string& f) -> std::string {
    if (f.empty() || f[0] == '/' || dir.empty()) return f;
    return StrCat(dir, "/", f);
  };
  auto data = [&](const YAML::Node& m, const char* key, std::string* out) -> absl::Status {
    std::string b64 = Scalar(m, key);
    if (b64.empty()) return absl::OkStatus();
    if (!absl::Base64Unescape(b64, out)) return absl::InvalidArgumentError(StrCat(path, ": ", key, " is not base64"));
    return absl::OkStatus();
  };
  const std::string current = Scalar(root, "current-context");
  if (current.empty()) return absl::InvalidArgumentError(StrCat(path, ": no current-context"));
  const YAML::Node ctx = Named(root, "contexts", current, "context");
  if (!ctx) return absl::InvalidArgumentError(StrCat(path, ": context \"", current, "\" is not defined"));
  const std::string cluster_name = Scalar(ctx, "cluster");
  const YAML::Node cluster = Named(root, "clusters", cluster_name, "cluster");
  if (!cluster) return absl::InvalidArgumentError(StrCat(path, ": cluster \"", cluster_name, "\" is not defined"));
  ClusterConfig cfg;
  cfg.server = Scalar(cluster, "server");
  while (!cfg.server.empty() && cfg.server.back() == '/') cfg.server.pop_back();
  if (cfg.server.empty())
    return absl::InvalidArgumentError(StrCat(path, ": cluster \"", cluster_name, "\" has no server"));
  cfg.ca_file = file(Scalar(cluster, "certificate-authority"));
  if (auto st = data(cluster, "certificate-authority-data", &cfg.ca_pem); !st.ok()) return st;
  cfg.insecure_skip_verify = Scalar(cluster, "insecure-skip-tls-verify") == "true";
  if (!Scalar(cluster, "tls-server-name").empty() || !Scalar(cluster, "proxy-url").empty()) {
    return absl::InvalidArgumentError(
        StrCat(path, ": cluster \"", cluster_name, "\": tls-server-name and proxy-url are not supported"));
  }
  const std::string user_name = Scalar(ctx, "user");
  if (user_name.empty()) return cfg;
  const YAML::Node user = Named(root, "users", user_name, "user");
  if (!user) return absl::InvalidArgumentError(StrCat(path, ": user \"", user_name, "\" is not defined"));
  for (const char* plugin : {"exec", "auth-provider"}) {
    if (user[plugin]) {
      return absl::InvalidArgumentError(StrCat(path, ": user \"", user_name, "\": ", plugin,
                                               " credential plugins are not supported; use a token, tokenFile or a "
                                               "client certificate"));
    }
  }
  cfg.token = Scalar(user, "token");
  cfg.token_file = file(Scalar(user, "tokenFile"));
  if (std::string u = Scalar(user, "username"); !u.empty() && cfg.token.empty() && cfg.token_file.empty()) {
    cfg.auth_scheme = "Basic";
    cfg.token = absl::Base64Escape(StrCat(u, ":", Scalar(user, "password")));
  }
  cfg.cert_file = file(Scalar(user, "client-certificate"));
  cfg.key_file = file(Scalar(user, "client-key"));
  if (auto st = data(user, "client-certificate-data", &cfg.cert_pem); !st.ok()) return st;
  if (auto st = data(user, "client-key-data", &cfg.key_pem); !st.ok()) return st;
  return cfg;
}

}  // namespace outrigger::k8s
