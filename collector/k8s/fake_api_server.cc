#include "collector/k8s/fake_api_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace outrigger::k8s::testing {
namespace {

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Chunk(const std::string& s) {
  char hex[32];
  std::snprintf(hex, sizeof(hex), "%zx\r\n", s.size());
  return std::string(hex) + s + "\r\n";
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      if (absl::SimpleHexAtoi(std::string(s.substr(i + 1, 2)), &v)) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

nlohmann::json StatusObject(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

std::string Answer(int code, const std::string& text, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(code) + " " + text +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// "/api/v1/namespaces/ns/pods" -> ("/api/v1/pods", "ns"); other paths unchanged.
std::pair<std::string, std::string> Collection(const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  // api v1 namespaces ns pods | apis g v namespaces ns rs
  size_t base = (parts.size() > 0 && parts[0] == "api") ? 2 : 3;
  if (parts.size() == base + 3 && parts[base] == "namespaces") {
    std::string coll;
    for (size_t i = 0; i < base; ++i) coll += "/" + parts[i];
    return {coll + "/" + parts[base + 2], parts[base + 1]};
  }
  return {path, ""};
}

bool Matches(const nlohmann::json& obj, const std::string& ns, const std::string& field_selector,
             const std::string& label_selector) {
  if (!ns.empty() && obj["metadata"].value("namespace", "") != ns) return false;
  // Equality terms only ("k=v,k2=v2").
  std::vector<std::string> terms = absl::StrSplit(label_selector, ',', absl::SkipEmpty());
  for (const std::string& term : terms) {
    size_t eq = term.find('=');
    if (eq == std::string::npos) continue;
    std::string key(term.substr(0, eq));
    std::string want(term.substr(eq + 1));
    const auto& md = obj["metadata"];
    if (!md.contains("labels") || !md["labels"].is_object() || md["labels"].value(key, "") != want) return false;
  }
  if (absl::StartsWith(field_selector, "spec.nodeName=")) {
    std::string node = field_selector.substr(strlen("spec.nodeName="));
    if (!obj.contains("spec") || obj["spec"].value("nodeName", "") != node) return false;
  }
  return true;
}

}  // namespace

FakeApiServer::FakeApiServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof(a);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  accept_thread_ = std::thread([this] { Accept(); });
}

FakeApiServer::~FakeApiServer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    hang_ = false;
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  ::shutdown(listen_fd_, SHUT_RDWR);
  accept_thread_.join();
  ::close(listen_fd_);
  std::vector<std::thread> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    conns.swap(conns_);
  }
  for (auto& t : conns) t.join();
}

void FakeApiServer::SetToken(std::string token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(token);
}
void FakeApiServer::Forbid(std::string prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  forbidden_.push_back(std::move(prefix));
}
void FakeApiServer::SetHang(bool hang) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hang_ = hang;
  }
  cv_.notify_all();
}

int64_t FakeApiServer::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}
size_t FakeApiServer::open_watches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_watches_;
}
std::vector<std::string> FakeApiServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}
size_t FakeApiServer::CountRequests(const std::string& substring) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& r : requests_) n += r.find(substring) != std::string::npos ? 1 : 0;
  return n;
}

void FakeApiServer::Emit(const std::string& path, const std::string& type, const nlohmann::json& obj, int64_t rv) {
  history_.push_back(Event{rv, path, type, obj});
  cv_.notify_all();
}

int64_t FakeApiServer::Add(const std::string& path, nlohmann::json obj) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t rv = ++rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  objects_[path].push_back(obj);
  Emit(path, "ADDED", obj, rv);
  return rv;
}

int64_t FakeApiServer::Modify(const std::string& path, nlohmann::json obj) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t rv = ++rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  auto& v = objects_[path];
  std::string name = obj["metadata"].value("name", "");
  std::string ns = obj["metadata"].value("namespace", "");
  bool found = false;
  for (auto& o : v) {
    if (o["metadata"].value("name", "") == name && o["metadata"].value("namespace", "") == ns) {
      o = obj;
      found = true;
    }
  }
  if (!found) v.push_back(obj);
  Emit(path, "MODIFIED", obj, rv);
  return rv;
}

int64_t FakeApiServer::Delete(const std::string& path, const std::string& name_or_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t rv = ++rv_;
  auto& v = objects_[path];
  for (auto it = v.begin(); it != v.end(); ++it) {
    if ((*it)["metadata"].value("name", "") == name_or_uid || (*it)["metadata"].value("uid", "") == name_or_uid) {
      nlohmann::json obj = *it;
      obj["metadata"]["resourceVersion"] = std::to_string(rv);
      v.erase(it);
      Emit(path, "DELETED", obj, rv);
      break;
    }
  }
  return rv;
}

void FakeApiServer::Bookmark(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json obj = {
      {"kind", "Pod"},
      {"apiVersion", "v1"},
      {"metadata",
       {{"resourceVersion", std::to_string(rv_)}, {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
  Emit(path, "BOOKMARK", obj, rv_);
}

void FakeApiServer::CompactHistory() {
  std::lock_guard<std::mutex> lock(mu_);
  oldest_rv_ = ++rv_;  // (as if something else changed, then etcd compacted)
}

void FakeApiServer::DropWatches() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++drop_epoch_;
  }
  cv_.notify_all();
}

void FakeApiServer::SendRaw(const std::string& path, const std::string& line) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    raw_.emplace_back(path, line);
    ++raw_epoch_;
  }
  cv_.notify_all();
}

void FakeApiServer::Accept() {
  while (!stop_) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stop_) return;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      ::close(fd);
      return;
    }
    conn_fds_.push_back(fd);
    conns_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeApiServer::Serve(int fd) {
  auto finish = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    std::erase(conn_fds_, fd);
  };
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return finish();
    req.append(buf, static_cast<size_t>(n));
  }
  std::vector<std::string> lines = absl::StrSplit(req.substr(0, req.find("\r\n\r\n")), "\r\n");
  std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
  std::string target = first.size() > 1 ? first[1] : "/";
  std::string auth;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (absl::StartsWithIgnoreCase(lines[i], "authorization:")) {
      auth = std::string(absl::StripAsciiWhitespace(lines[i].substr(strlen("authorization:"))));
    }
  }
  std::string path = target.substr(0, target.find('?'));
  std::map<std::string, std::string> q;
  if (target.find('?') != std::string::npos) {
    std::vector<std::string> kvs = absl::StrSplit(target.substr(target.find('?') + 1), '&', absl::SkipEmpty());
    for (const std::string& kv : kvs) {
      size_t eq = kv.find('=');
      q[UrlDecode(kv.substr(0, eq))] = eq == std::string::npos ? "" : UrlDecode(kv.substr(eq + 1));
    }
  }
  std::unique_lock<std::mutex> lock(mu_);
  requests_.push_back("GET " + target);
  cv_.wait(lock, [&] { return !hang_ || stop_.load(); });
  if (!token_.empty() && auth != "Bearer " + token_) {
    std::string body = StatusObject(401, "Unauthorized", "Unauthorized").dump();
    lock.unlock();
    WriteAll(fd, Answer(401, "Unauthorized", body));
    return finish();
  }
  for (const auto& f : forbidden_) {
    if (absl::StartsWith(path, f)) {
      std::string body =
          StatusObject(403, "Forbidden",
                       "pods is forbidden: User \"system:serviceaccount:default:outrigger\" cannot list resource "
                       "\"pods\" in API group \"\" at the cluster scope")
              .dump();
      lock.unlock();
      WriteAll(fd, Answer(403, "Forbidden", body));
      return finish();
    }
  }
  auto [coll, ns] = Collection(path);
  std::string selector = q.count("fieldSelector") ? q["fieldSelector"] : "";
  std::string labels = q.count("labelSelector") ? q["labelSelector"] : "";
  if (q["watch"] != "1" && q["watch"] != "true") {
    // A list, paged: continue is the offset.
    const auto& objs = objects_[coll];
    std::vector<const nlohmann::json*> match;
    for (const auto& o : objs) {
      if (Matches(o, ns, selector, labels)) match.push_back(&o);
    }
    size_t offset = 0;
    size_t limit = match.size();
    if (q.count("continue")) absl::SimpleAtoi(q["continue"], &offset);
    if (q.count("limit")) absl::SimpleAtoi(q["limit"], &limit);
    nlohmann::json list = {{"kind", "List"}, {"apiVersion", "v1"}, {"items", nlohmann::json::array()}};
    list["metadata"]["resourceVersion"] = std::to_string(rv_);
    for (size_t i = offset; i < match.size() && i < offset + limit; ++i) list["items"].push_back(*match[i]);
    if (offset + limit < match.size()) list["metadata"]["continue"] = std::to_string(offset + limit);
    std::string body = list.dump();
    lock.unlock();
    WriteAll(fd, Answer(200, "OK", body));
    return finish();
  }
  // A watch.
  int64_t from = 0;
  absl::SimpleAtoi(q["resourceVersion"], &from);
  bool bookmarks = q["allowWatchBookmarks"] == "true";
  int64_t timeout_s = 0;
  if (q.count("timeoutSeconds")) absl::SimpleAtoi(q["timeoutSeconds"], &timeout_s);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s > 0 ? timeout_s : 3600);
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  if (from < oldest_rv_) {
    nlohmann::json ev = {{"type", "ERROR"},
                         {"object", StatusObject(410, "Expired",
                                                 "too old resource version: " + std::to_string(from) + " (" +
                                                     std::to_string(oldest_rv_) + ")")}};
    lock.unlock();
    WriteAll(fd, head + Chunk(ev.dump() + "\n") + "0\r\n\r\n");
    return finish();
  }
  ++open_watches_;
  lock.unlock();
  bool ok = WriteAll(fd, head);
  lock.lock();
  size_t idx = 0;
  const size_t start_idx = history_.size();  // events after this one are new: always sent
  size_t raw_idx = raw_.size();
  uint64_t epoch = drop_epoch_;
  while (ok && !stop_ && drop_epoch_ == epoch) {
    std::string out;
    for (; idx < history_.size(); ++idx) {
      const Event& e = history_[idx];
      if (e.path != coll) continue;
      if (idx < start_idx && (e.rv <= from || e.type == "BOOKMARK")) continue;
      if (e.type == "BOOKMARK") {
        if (bookmarks) out += Chunk(nlohmann::json{{"type", "BOOKMARK"}, {"object", e.object}}.dump() + "\n");
        continue;
      }
      if (!Matches(e.object, ns, selector, labels)) continue;
      out += Chunk(nlohmann::json{{"type", e.type}, {"object", e.object}}.dump() + "\n");
    }
    for (; raw_idx < raw_.size(); ++raw_idx) {
      if (raw_[raw_idx].first == coll) out += Chunk(raw_[raw_idx].second + "\n");
    }
    if (!out.empty()) {
      lock.unlock();
      ok = WriteAll(fd, out);
      lock.lock();
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      // The server's timeoutSeconds: end the answer normally.
      lock.unlock();
      WriteAll(fd, "0\r\n\r\n");
      lock.lock();
      break;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(50));
    // The client went away (closed or stopped): end as the real server does.
    pollfd pfd{fd, POLLIN | POLLRDHUP, 0};
    char peek;
    if (::poll(&pfd, 1, 0) > 0 &&
        (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR) || ::recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) == 0)) {
      break;
    }
  }
  --open_watches_;
  lock.unlock();
  finish();
}

}  // namespace outrigger::k8s::testing
