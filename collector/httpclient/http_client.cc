#include "collector/httpclient/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/otlp/wire.h"

namespace outrigger::httpclient {

void TlsConfig::Decode(config::Node& node) {
  node.Read("insecure", &insecure);
  node.Read("ca_file", &ca_file);
  node.Read("cert_file", &cert_file);
  node.Read("key_file", &key_file);
}

absl::Status TlsConfig::Validate() const {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("tls.cert_file and tls.key_file go together");
  }
  return absl::OkStatus();
}

namespace {

struct Sink {
  Response* r;
  size_t max_body;
  bool too_big = false;
};

size_t CollectBody(char* ptr, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  if (s->r->body.size() + size * n > s->max_body) {
    s->too_big = true;
    return 0;  // aborts the transfer
  }
  s->r->body.append(ptr, size * n);
  return size * n;
}

size_t CollectHeader(char* ptr, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  std::string_view line(ptr, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = absl::AsciiStrToLower(std::string(line.substr(0, colon)));
    std::string value(absl::StripAsciiWhitespace(ToAbsl(line.substr(colon + 1))));
    if (name == "retry-after") s->r->retry_after = value;
    if (name == "content-type") s->r->content_type = value;
  }
  return size * n;
}

std::once_flag curl_init;

}  // namespace

struct Client::Pool {
  std::mutex mu;
  std::vector<CURL*> idle ABSL_GUARDED_BY(mu);
};

Client::Client(TlsConfig tls, std::string user_agent)
    : pool_(std::make_unique<Pool>()), tls_(std::move(tls)), user_agent_(std::move(user_agent)) {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Client::~Client() {
  std::lock_guard<std::mutex> lock(pool_->mu);
  for (CURL* h : pool_->idle) curl_easy_cleanup(h);
}

void* Client::Acquire() {
  std::lock_guard<std::mutex> lock(pool_->mu);
  if (!pool_->idle.empty()) {
    CURL* h = pool_->idle.back();
    pool_->idle.pop_back();
    curl_easy_reset(h);
    return h;
  }
  return curl_easy_init();
}

void Client::Release(void* h) {
  std::lock_guard<std::mutex> lock(pool_->mu);
  pool_->idle.push_back(static_cast<CURL*>(h));
}

absl::StatusOr<Response> Client::Post(const std::string& url, std::string_view body,
                                      const std::vector<std::string>& headers, absl::Time deadline) {
  CURL* h = static_cast<CURL*>(Acquire());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  return Perform(h, url, headers, deadline, 64 << 20);
}

absl::StatusOr<Response> Client::Get(const std::string& url, const std::vector<std::string>& headers,
                                     absl::Time deadline, size_t max_body) {
  CURL* h = static_cast<CURL*>(Acquire());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
  return Perform(h, url, headers, deadline, max_body);
}

absl::StatusOr<Response> Client::Perform(void* handle, const std::string& url, const std::vector<std::string>& headers,
                                         absl::Time deadline, size_t max_body) {
  CURL* h = static_cast<CURL*>(handle);
  curl_slist* list = curl_slist_append(nullptr, "Expect:");
  for (const auto& hd : headers) list = curl_slist_append(list, hd.c_str());
  Response r;
  Sink sink{&r, max_body};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent_.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  long timeout_ms = std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(deadline - absl::Now())));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  if (tls_.insecure) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!tls_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls_.ca_file.c_str());
  if (!tls_.cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, tls_.cert_file.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, tls_.key_file.c_str());
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.code);
  curl_slist_free_all(list);
  Release(h);
  if (sink.too_big) {
    return absl::ResourceExhaustedError(StrCat(url, ": the answer is larger than ", max_body, " bytes"));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(StrCat(url, ": ", curl_easy_strerror(rc)));
  }
  return r;
}

absl::Status StatusOf(const Response& r, std::string_view what, bool (*retryable)(long code)) {
  if (r.code >= 200 && r.code < 300) return absl::OkStatus();
  std::string msg = StrCat(what, ": HTTP ", r.code);
  if (retryable(r.code)) {
    absl::Status st = r.code == 429 ? absl::ResourceExhaustedError(msg) : absl::UnavailableError(msg);
    if (auto delay = otlp::ParseRetryAfter(r.retry_after)) st = exporterhelper::WithRetryDelay(st, *delay);
    return st;
  }
  std::string body = r.body.substr(0, 512);
  absl::StripTrailingAsciiWhitespace(&body);
  return absl::InvalidArgumentError(StrCat(msg, " (permanent): ", body));
}

}  // namespace outrigger::httpclient
