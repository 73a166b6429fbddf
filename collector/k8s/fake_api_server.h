#pragma once
// TESTS ONLY: a fake Kubernetes API server on 127.0.0.1 (plain HTTP/1.1) with the shapes
// the real one answers: lists `{"kind":"PodList","apiVersion":"v1","metadata":
// {"resourceVersion":"N","continue":"…"},"items":[…]}` (paged by limit/continue),
// watches (`?watch=1&resourceVersion=N&allowWatchBookmarks=true`) streamed in chunked
// encoding as newline-delimited `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR",
// "object":…}`, an ERROR event carrying a `Status` with code 410 when the version asked
// for is older than the history kept, and `Status` bodies for 401 and 403. Objects are
// kept per collection path ("/api/v1/pods"); a list or watch of
// "/api/v1/namespaces/<ns>/pods" sees that namespace's objects, and
// `fieldSelector=spec.nodeName=<n>` is applied to pods, `labelSelector=k=v[,k2=v2]`
// (equality terms) to any object.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"

namespace outrigger::k8s::testing {

class FakeApiServer {
 public:
  FakeApiServer();
  ~FakeApiServer();
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The bearer token requests must carry (else 401); empty: any.
  void SetToken(std::string token);
  // Requests to paths starting with `prefix` are answered 403.
  void Forbid(std::string prefix);
  // Until false, accepted connections get no answer (a hung server: client timeouts).
  void SetHang(bool hang);

  // Adds (ADDED), replaces (MODIFIED) or removes (DELETED) an object of collection
  // `path`; its metadata.resourceVersion is set. Returns the new resourceVersion.
  int64_t Add(const std::string& path, nlohmann::json obj);
  int64_t Modify(const std::string& path, nlohmann::json obj);
  int64_t Delete(const std::string& path, const std::string& name_or_uid);
  // Sends a BOOKMARK at the current resourceVersion to every open watch of `path`.
  void Bookmark(const std::string& path);
  // Forgets the event history: watches from an older version get a 410 ERROR event.
  void CompactHistory();
  // Closes every open watch connection (a dropped connection).
  void DropWatches();
  // Writes `line` raw into every open watch of `path` (malformed input tests).
  void SendRaw(const std::string& path, const std::string& line);

  int64_t resource_version() const;
  size_t open_watches() const;
  // Requests seen, as "GET <target>".
  std::vector<std::string> requests() const;
  size_t CountRequests(const std::string& substring) const;

 private:
  struct Event {
    int64_t rv;
    std::string path;
    std::string type;
    nlohmann::json object;
  };
  void Accept();
  void Serve(int fd);
  void Emit(const std::string& path, const std::string& type, const nlohmann::json& obj, int64_t rv);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> conns_;
  std::vector<int> conn_fds_;
  std::string token_;
  std::vector<std::string> forbidden_;
  bool hang_ = false;
  int64_t rv_ = 100;
  int64_t oldest_rv_ = 100;  // watches from a version below this get 410
  std::map<std::string, std::vector<nlohmann::json>> objects_;
  std::vector<Event> history_;
  std::vector<std::pair<std::string, std::string>> raw_;  // (path, line) for SendRaw
  uint64_t drop_epoch_ = 0;
  uint64_t raw_epoch_ = 0;
  size_t open_watches_ = 0;
  std::vector<std::string> requests_;
};

}  // namespace outrigger::k8s::testing
