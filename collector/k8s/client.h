#pragma once
// A small Kubernetes API client: in-cluster configuration, GET of JSON, streamed watches,
// and an Informer (list + watch of one resource path, generic over the resource) that
// keeps a handler in step with the API server. Used by processors/k8s_attributes (pods,
// replicasets, namespaces, nodes) and meant for any component that follows API objects
// (e.g. EndpointSlices). libcurl for HTTP, nlohmann-json for the objects.
//
// Test knobs (documented in the README, never needed in a cluster): the server is
// KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT as in-cluster; the service-account
// directory (token, ca.crt, namespace) can be moved with OUTRIGGER_K8S_SERVICEACCOUNT_DIR;
// OUTRIGGER_K8S_TEST_PLAIN_HTTP=1 talks plain http (for a fake API server in tests only).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "spdlog/logger.h"

namespace outrigger::k8s {

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";
inline constexpr char kServiceAccountDirEnv[] = "OUTRIGGER_K8S_SERVICEACCOUNT_DIR";
inline constexpr char kTestPlainHttpEnv[] = "OUTRIGGER_K8S_TEST_PLAIN_HTTP";

struct ClusterConfig {
  std::string server;      // "https://10.96.0.1:443" (no trailing slash)
  std::string token_file;  // bearer token, re-read before each request (projected tokens rotate)
  std::string token;       // a fixed bearer token, used when token_file is empty (tests)
  std::string ca_file;     // PEM CA of the API server; empty: the system's CAs
  std::string user_agent = "outrigger";
  // What else an explicit configuration (an api_server with client options, a kubeconfig
  // file) may set. The token goes out as "Authorization: <auth_scheme> <token>" ("Basic"
  // with base64(user:password) as the token).
  std::string auth_scheme = "Bearer";
  std::string ca_pem;               // the CA as PEM text (kubeconfig certificate-authority-data); wins over ca_file
  std::string cert_file, key_file;  // client certificate and key (PEM files)
  std::string cert_pem, key_pem;    // the same as PEM text (kubeconfig client-*-data); win over the files
  bool insecure_skip_verify = false;
};

// The namespace of the Pod we run in (the service account's `namespace` file, under
// OUTRIGGER_K8S_SERVICEACCOUNT_DIR if set); FAILED_PRECONDITION when not readable.
absl::StatusOr<std::string> OwnNamespace();

// A kubeconfig file's current context: its cluster (server, certificate-authority[-data],
// insecure-skip-tls-verify) and user (token, tokenFile, client-certificate[-data],
// client-key[-data], username/password). exec and auth-provider plugins are refused
// (INVALID_ARGUMENT naming them); relative file paths are from the file's directory.
absl::StatusOr<ClusterConfig> KubeConfigFile(const std::string& path);

// In-cluster configuration: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
// the service account's token and ca.crt. FAILED_PRECONDITION when not in a cluster
// (the variables are unset).
absl::StatusOr<ClusterConfig> InClusterConfig();

// Status codes of API answers: 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND,
// 410 ABORTED (the resourceVersion is too old: relist), 429/5xx UNAVAILABLE, other
// non-2xx INVALID_ARGUMENT; transport errors and timeouts UNAVAILABLE. The message holds
// the Status object's message.
bool IsGone(const absl::Status& st);

class Client {
 public:
  explicit Client(ClusterConfig cfg);
  const ClusterConfig& config() const { return cfg_; }

  // GETs `path` ("/api/v1/pods?limit=500") and parses the JSON answer.
  absl::StatusOr<nlohmann::json> Get(std::string_view path, absl::Duration timeout) const;
  // GETs `path` and calls on_line for each newline-terminated line of the answer as it
  // arrives (a watch). Returns OK when the server ends the answer, when on_line returns
  // false, or when *stop becomes true (checked at least once a second); an error on a
  // non-2xx answer, a transport error or `timeout`.
  absl::Status Stream(std::string_view path, absl::Duration timeout,
                      const std::function<bool(std::string_view line)>& on_line, const std::atomic<bool>* stop) const;

 private:
  absl::StatusOr<std::vector<std::string>> Headers() const;
  absl::Status Perform(std::string_view path, absl::Duration timeout,
                       const std::function<bool(std::string_view)>* on_line, const std::atomic<bool>* stop,
                       std::string* whole) const;
  ClusterConfig cfg_;
};

enum class EventType { kAdded, kModified, kDeleted };

// What an Informer keeps in step. Called from the informer's thread only.
class Handler {
 public:
  virtual ~Handler() = default;
  // After each (re)list: every object that exists now (objects not in it are gone).
  virtual void Replace(std::vector<nlohmann::json>&& items) = 0;
  virtual void Apply(EventType type, nlohmann::json&& object) = 0;
};

struct InformerOptions {
  std::string path;            // "/api/v1/pods", "/apis/apps/v1/replicasets", "/api/v1/namespaces/ns/pods"
  std::string field_selector;  // e.g. "spec.nodeName=node-1"; empty: none
  std::string label_selector;
  int64_t page_size = 500;  // list in pages (limit/continue) to bound memory
  // A list of more objects than this fails (RESOURCE_EXHAUSTED, retried with backoff)
  // instead of growing without bound on a hostile or broken server; 0: no limit.
  int64_t max_items = 0;
  absl::Duration list_timeout = absl::Seconds(60);
  absl::Duration watch_timeout = absl::Minutes(5);  // asked of the server (timeoutSeconds), then rewatched
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);
  // Called (from the informer's thread) on every failed request or bad watch line, e.g.
  // to count it in a component's metrics.
  std::function<void(const absl::Status&)> on_error;
};

struct InformerStats {
  std::atomic<uint64_t> lists{0};    // complete lists
  std::atomic<uint64_t> gone{0};     // 410 Gone (list again)
  std::atomic<uint64_t> watches{0};  // watch requests made
  std::atomic<uint64_t> events{0};   // ADDED/MODIFIED/DELETED applied
  std::atomic<uint64_t> bookmarks{0};
  std::atomic<uint64_t> errors{0};  // failed requests, bad lines, ERROR events other than 410
};

// List + watch of one resource path on its own thread: lists (paged), hands the objects
// to Handler::Replace, then watches from the list's resourceVersion with bookmarks;
// a watch that ends is resumed from the last resourceVersion seen (events and bookmarks);
// 410 Gone lists again; errors back off exponentially (initial_backoff .. max_backoff).
class Informer {
 public:
  Informer(std::shared_ptr<const Client> client, InformerOptions opts, Handler* handler,
           std::shared_ptr<spdlog::logger> logger);
  ~Informer();  // Stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  void Stop();  // idempotent; returns within about a second
  bool Synced() const { return synced_.load(); }
  // Waits until the first list was handed over; false on timeout or Stop.
  bool WaitSynced(absl::Duration timeout);
  const InformerStats& stats() const { return stats_; }
  std::string last_error() const;

 private:
  void Run();
  absl::Status List();
  absl::Status Watch();  // OK: ended normally; IsGone: relist
  bool SleepFor(absl::Duration d);
  std::string Query(bool watch) const;
  void SetError(const absl::Status& st);

  std::shared_ptr<const Client> client_;
  InformerOptions opts_;
  Handler* handler_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string resource_version_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string last_error_;
  InformerStats stats_;
  std::thread thread_;
};

// Field access on API objects that never throws: the member `key` of an object, or null.
const nlohmann::json* Field(const nlohmann::json& j, std::string_view key);
// The string at `path` (members), or "" when absent or not a string.
std::string_view StringAt(const nlohmann::json& j, std::initializer_list<std::string_view> path);

}  // namespace outrigger::k8s
