#include "collector/k8s/client.h"

#include <curl/curl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "collector/common/strings.h"
#include "collector/common/thread_name.h"

namespace outrigger::k8s {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(StrCat("cannot read ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Adds the Status object's message of an error answer.
absl::Status StatusFor(long code, std::string_view body, std::string_view what) {
  std::string msg = StrCat(what, ": HTTP ", code);
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  std::string_view m = StringAt(j, {"message"});
  if (!m.empty()) {
    msg = StrCat(msg, ": ", m);
  } else if (!body.empty()) {
    msg = StrCat(msg, ": ", body.substr(0, 200));
  }
  switch (code) {
    case 401:
      return absl::UnauthenticatedError(msg);
    case 403:
      return absl::PermissionDeniedError(msg);
    case 404:
      return absl::NotFoundError(msg);
    case 410:
      return absl::AbortedError(msg);
    case 429:
      return absl::UnavailableError(msg);
    default:
      if (code >= 500) return absl::UnavailableError(msg);
      return absl::InvalidArgumentError(msg);
  }
}

constexpr size_t kMaxBody = size_t{512} << 20;

struct StreamState {
  const std::function<bool(std::string_view)>* on_line = nullptr;  // Stream
  const std::atomic<bool>* stop = nullptr;
  std::string* whole = nullptr;  // Get: the whole body
  std::string buf;               // the incomplete line (stream) or the start of an error answer
  long code = 0;                 // known once the body starts
  bool ended_by_callback = false;
  size_t max_line = 16 << 20;
  bool too_long = false;
};

size_t OnData(char* ptr, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamState*>(user);
  size_t len = size * n;
  if (s->code < 200 || s->code > 299) {
    // An error answer: its start, for the message.
    if (s->buf.size() < (1 << 20)) s->buf.append(ptr, std::min(len, (size_t{1} << 20) - s->buf.size()));
    return len;
  }
  if (s->whole != nullptr) {
    if (s->whole->size() + len > kMaxBody) {
      s->too_long = true;
      return 0;
    }
    s->whole->append(ptr, len);
    return len;
  }
  s->buf.append(ptr, len);
  size_t start = 0;
  for (;;) {
    size_t nl = s->buf.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(s->buf.data() + start, nl - start);
    start = nl + 1;
    if (!line.empty() && !(*s->on_line)(line)) {
      s->ended_by_callback = true;
      return 0;  // aborts the transfer
    }
  }
  s->buf.erase(0, start);
  if (s->buf.size() > s->max_line) {
    s->too_long = true;
    return 0;
  }
  return len;
}

size_t OnHeader(char* ptr, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamState*>(user);
  std::string_view h(ptr, size * n);
  if (h.starts_with("HTTP/")) {
    // "HTTP/1.1 200 OK"
    size_t sp = h.find(' ');
    if (sp != std::string_view::npos) {
      long code = 0;
      std::string_view rest = h.substr(sp + 1, 3);
      auto [ptr_end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), code);
      if (ec == std::errc() && ptr_end == rest.data() + rest.size()) s->code = code;
    }
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* s = static_cast<StreamState*>(user);
  return (s->stop != nullptr && s->stop->load()) ? 1 : 0;
}

std::once_flag curl_once;

}  // namespace

const nlohmann::json* Field(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string_view StringAt(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
  const nlohmann::json* cur = &j;
  for (std::string_view k : path) {
    cur = Field(*cur, k);
    if (cur == nullptr) return {};
  }
  if (!cur->is_string()) return {};
  return cur->get_ref<const std::string&>();
}

bool IsGone(const absl::Status& st) { return st.code() == absl::StatusCode::kAborted; }

absl::StatusOr<ClusterConfig> InClusterConfig() {
  std::string host = Env("KUBERNETES_SERVICE_HOST");
  std::string port = Env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return absl::FailedPreconditionError(
        "not in a Kubernetes cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  std::string dir = Env(kServiceAccountDirEnv);
  if (dir.empty()) dir = kServiceAccountDir;
  ClusterConfig cfg;
  bool plain = Env(kTestPlainHttpEnv) == "1";
  if (host.find(':') != std::string::npos) host = StrCat("[", host, "]");  // IPv6
  cfg.server = StrCat(plain ? "http://" : "https://", host, ":", port);
  cfg.token_file = StrCat(dir, "/token");
  if (!plain) cfg.ca_file = StrCat(dir, "/ca.crt");
  auto token = ReadFile(cfg.token_file);
  if (!token.ok()) return token.status();
  return cfg;
}

Client::Client(ClusterConfig cfg) : cfg_(std::move(cfg)) {
  std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::StatusOr<std::vector<std::string>> Client::Headers() const {
  std::vector<std::string> h = {"Accept: application/json"};
  std::string token = cfg_.token;
  if (!cfg_.token_file.empty()) {
    auto t = ReadFile(cfg_.token_file);
    if (!t.ok()) return absl::UnauthenticatedError(t.status().message());
    token = std::string(absl::StripAsciiWhitespace(*t));
  }
  if (!token.empty()) h.push_back(StrCat("Authorization: ", cfg_.auth_scheme, " ", token));
  return h;
}

absl::Status Client::Stream(std::string_view path, absl::Duration timeout,
                            const std::function<bool(std::string_view)>& on_line, const std::atomic<bool>* stop) const {
  return Perform(path, timeout, &on_line, stop, nullptr);
}

absl::Status Client::Perform(std::string_view path, absl::Duration timeout,
                             const std::function<bool(std::string_view)>* on_line, const std::atomic<bool>* stop,
                             std::string* whole) const {
  auto headers = Headers();
  if (!headers.ok()) return headers.status();
  CURL* h = curl_easy_init();
  if (h == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const auto& s : *headers) list = curl_slist_append(list, s.c_str());
  std::string url = StrCat(cfg_.server, path);
  StreamState state;
  state.on_line = on_line;
  state.stop = stop;
  state.whole = whole;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_USERAGENT, cfg_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout))));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &state);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!cfg_.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(cfg_.ca_pem.data()), cfg_.ca_pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  } else if (!cfg_.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, cfg_.ca_file.c_str());
  }
  if (!cfg_.cert_pem.empty()) {
    curl_blob cert{const_cast<char*>(cfg_.cert_pem.data()), cfg_.cert_pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!cfg_.cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, cfg_.cert_file.c_str());
  }
  if (!cfg_.key_pem.empty()) {
    curl_blob key{const_cast<char*>(cfg_.key_pem.data()), cfg_.key_pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!cfg_.key_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLKEY, cfg_.key_file.c_str());
  }
  if (cfg_.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  std::string what = StrCat("GET ", url);
  if (state.ended_by_callback) return absl::OkStatus();
  if (stop != nullptr && stop->load()) return absl::OkStatus();
  if (state.too_long) {
    return absl::InvalidArgumentError(
        StrCat(what, whole != nullptr ? ": an answer over 512 MiB" : ": a line over 16 MiB"));
  }
  if (code != 0 && (code < 200 || code > 299)) return StatusFor(code, state.buf, what);
  if (rc != CURLE_OK) return absl::UnavailableError(StrCat(what, ": ", curl_easy_strerror(rc)));
  if (state.whole != nullptr) return absl::OkStatus();
  // A last line without its newline.
  if (!state.buf.empty()) (*on_line)(state.buf);
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> Client::Get(std::string_view path, absl::Duration timeout) const {
  // The whole answer, whatever its lines (a list page is one long line).
  std::string body;
  absl::Status st = Perform(path, timeout, nullptr, nullptr, &body);
  if (!st.ok()) return st;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return absl::InvalidArgumentError(StrCat("GET ", path, ": the answer is not JSON"));
  return j;
}

// --- Informer ---

Informer::Informer(std::shared_ptr<const Client> client, InformerOptions opts, Handler* handler,
                   std::shared_ptr<spdlog::logger> logger)
    : client_(std::move(client)), opts_(std::move(opts)), handler_(handler), logger_(std::move(logger)) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = NamedThread("k8s-watch", [this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitSynced(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [this] { return synced_.load() || stop_.load(); }) &&
         synced_.load();
}

std::string Informer::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void Informer::SetError(const absl::Status& st) {
  stats_.errors++;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = std::string(st.message());
  }
  if (logger_) logger_->warn("kubernetes {}: {}", opts_.path, st.ToString());
  if (opts_.on_error) opts_.on_error(st);
}

bool Informer::SleepFor(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(d), [this] { return stop_.load(); });
  return !stop_.load();
}

namespace {
std::string UrlEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(hex[(static_cast<unsigned char>(c) >> 4) & 15]);
      out.push_back(hex[static_cast<unsigned char>(c) & 15]);
    }
  }
  return out;
}
}  // namespace

std::string Informer::Query(bool watch) const {
  std::string q;
  if (!opts_.field_selector.empty()) q = StrCat(q, "&fieldSelector=", UrlEncode(opts_.field_selector));
  if (!opts_.label_selector.empty()) q = StrCat(q, "&labelSelector=", UrlEncode(opts_.label_selector));
  if (watch) {
    q = StrCat(q, "&watch=1&allowWatchBookmarks=true&resourceVersion=", UrlEncode(resource_version_),
               "&timeoutSeconds=", std::max<int64_t>(1, absl::ToInt64Seconds(opts_.watch_timeout)));
  }
  return q;
}

absl::Status Informer::List() {
  std::vector<nlohmann::json> items;
  std::string cont;
  std::string rv;
  for (;;) {
    std::string path = StrCat(opts_.path, "?limit=", opts_.page_size, Query(false));
    if (!cont.empty()) path = StrCat(path, "&continue=", UrlEncode(cont));
    auto page = client_->Get(path, opts_.list_timeout);
    if (!page.ok()) {
      // An expired continue token: start the list again.
      return page.status();
    }
    if (stop_) return absl::CancelledError("stopped");
    const nlohmann::json* list_items = Field(*page, "items");
    if (list_items != nullptr && list_items->is_array()) {
      if (opts_.max_items > 0 && items.size() + list_items->size() > static_cast<size_t>(opts_.max_items)) {
        return absl::ResourceExhaustedError(
            StrCat("GET ", opts_.path, ": more than ", opts_.max_items, " objects; the list is refused"));
      }
      for (auto& it : *list_items) items.push_back(std::move(it));
    } else if (list_items != nullptr && !list_items->is_null()) {
      return absl::InvalidArgumentError(StrCat("GET ", path, ": items is not a list"));
    }
    rv = std::string(StringAt(*page, {"metadata", "resourceVersion"}));
    std::string next(StringAt(*page, {"metadata", "continue"}));
    if (next.empty()) break;
    if (next == cont) return absl::InternalError(StrCat("GET ", path, ": the same continue token again"));
    cont = std::move(next);
  }
  resource_version_ = rv;
  handler_->Replace(std::move(items));
#ifdef __GLIBC__
  // The pages parsed were large and short-lived: hand their memory back.
  malloc_trim(0);
#endif
  stats_.lists++;
  return absl::OkStatus();
}

absl::Status Informer::Watch() {
  stats_.watches++;
  absl::Status event_error;
  std::string path = StrCat(opts_.path, "?", Query(true).substr(1));
  absl::Status st = client_->Stream(
      path, opts_.watch_timeout + absl::Seconds(15),
      [&](std::string_view line) {
        nlohmann::json ev = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
        std::string_view type = StringAt(ev, {"type"});
        nlohmann::json* obj = ev.is_object() ? &ev["object"] : nullptr;
        if (ev.is_discarded() || type.empty() || obj == nullptr || !obj->is_object()) {
          event_error = absl::InvalidArgumentError(StrCat("watch ", opts_.path, ": a line that is no watch event"));
          return false;
        }
        if (type == "ERROR") {
          const nlohmann::json* code = Field(*obj, "code");
          std::string msg(StringAt(*obj, {"message"}));
          if (code != nullptr && code->is_number_integer() && code->get<int64_t>() == 410) {
            event_error = absl::AbortedError(StrCat("watch ", opts_.path, ": 410 Gone: ", msg));
          } else {
            event_error = absl::UnavailableError(StrCat("watch ", opts_.path, ": ERROR event: ", msg));
          }
          return false;
        }
        std::string_view rv = StringAt(*obj, {"metadata", "resourceVersion"});
        if (type == "BOOKMARK") {
          if (!rv.empty()) resource_version_ = std::string(rv);
          stats_.bookmarks++;
          return true;
        }
        EventType t;
        if (type == "ADDED") {
          t = EventType::kAdded;
        } else if (type == "MODIFIED") {
          t = EventType::kModified;
        } else if (type == "DELETED") {
          t = EventType::kDeleted;
        } else {
          event_error = absl::InvalidArgumentError(StrCat("watch ", opts_.path, ": unknown event type ", type));
          return false;
        }
        if (!rv.empty()) resource_version_ = std::string(rv);
        stats_.events++;
        handler_->Apply(t, std::move(*obj));
        return !stop_.load();
      },
      &stop_);
  if (!event_error.ok()) return event_error;
  return st;
}

void Informer::Run() {
  absl::Duration backoff = opts_.initial_backoff;
  bool need_list = true;
  while (!stop_) {
    absl::Status st;
    if (need_list) {
      st = List();
      if (st.ok()) {
        need_list = false;
        {
          std::lock_guard<std::mutex> lock(mu_);
          synced_ = true;
        }
        cv_.notify_all();
      }
    } else {
      absl::Time started = absl::Now();
      st = Watch();
      if (st.ok() && absl::Now() - started < absl::Seconds(1)) {
        // A server that ends watches at once: do not spin.
        if (!SleepFor(opts_.initial_backoff)) break;
      }
      if (IsGone(st)) {
        stats_.gone++;
        if (logger_) logger_->info("kubernetes {}: {}; listing again", opts_.path, st.message());
        need_list = true;
        continue;
      }
    }
    if (stop_) break;
    if (st.ok()) {
      backoff = opts_.initial_backoff;
      continue;  // the watch ended (server timeout): watch again from the last version
    }
    SetError(st);
    if (!SleepFor(backoff)) break;
    backoff = std::min(backoff * 2, opts_.max_backoff);
  }
}

}  // namespace outrigger::k8s
