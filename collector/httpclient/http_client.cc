#include "collector/httpclient/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/otlp/wire.h"
#include "collector/tls/config.h"

namespace outrigger::httpclient {

void TlsConfig::Decode(config::Node& node) {
  node.Read("insecure", &insecure);
  node.Read("insecure_skip_verify", &insecure_skip_verify);
  node.Read("ca_file", &ca_file);
  node.Read("cert_file", &cert_file);
  node.Read("key_file", &key_file);
  node.Read("server_name_override", &server_name_override);
  node.Read("min_version", &min_version);
  node.Read("max_version", &max_version);
  // Upstream options this client does not have, with what to do instead.
  const std::pair<const char*, const char*> unsupported[] = {
      {"ca_pem", "write the PEM to a file and set ca_file"},
      {"cert_pem", "write the PEM to a file and set cert_file"},
      {"key_pem", "write the PEM to a file and set key_file"},
      {"include_system_ca_certs_pool",
       "put the system CAs and yours in one file for ca_file (without ca_file the system CAs are used)"},
      {"reload_interval",
       "remove it: HTTP exporters read the files for each new connection, the otlp exporter at start"},
      {"cipher_suites", "remove it: the TLS library's default suites are used"},
      {"curve_preferences", "remove it: the TLS library's default curves are used"},
  };
  for (const auto& [key, instead] : unsupported) node.Unsupported(key, instead);
}

absl::Status TlsConfig::Validate() const {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("tls.cert_file and tls.key_file go together");
  }
  if (auto st = tls::ValidateVersions("tls", min_version, max_version); !st.ok()) return st;
  for (char c : server_name_override) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return absl::InvalidArgumentError(
          StrCat("tls.server_name_override \"", server_name_override, "\" is not a host name"));
    }
  }
  return absl::OkStatus();
}

void AuthConfig::Decode(config::Node& node) { node.Read("authenticator", &authenticator); }

absl::StatusOr<ClientAuthenticator*> AuthConfig::Resolve(Host& host) const {
  if (authenticator.empty()) return static_cast<ClientAuthenticator*>(nullptr);
  Extension* ext = host.GetExtension(authenticator);
  if (ext == nullptr) {
    return absl::FailedPreconditionError(StrCat("auth.authenticator: no extension \"", authenticator,
                                                "\" in service.extensions; add it there (e.g. a bearertokenauth)"));
  }
  auto* auth = dynamic_cast<ClientAuthenticator*>(ext);
  if (auth == nullptr) {
    return absl::FailedPreconditionError(
        StrCat("auth.authenticator: extension \"", authenticator, "\" does not authenticate clients' requests"));
  }
  return auth;
}

std::string InsecureIgnoredWarning(const TlsConfig& tls, absl::Span<const std::string> urls) {
  if (!tls.insecure || tls.insecure_skip_verify) return "";
  auto https = std::find_if(urls.begin(), urls.end(), [](const std::string& u) { return u.rfind("https://", 0) == 0; });
  if (https == urls.end()) return "";
  const std::string& url = *https;
  return StrCat("tls.insecure does not turn off the verification of ", url,
                "'s certificate (as upstream; for HTTP the URL's scheme decides TLS): set tls.insecure_skip_verify: "
                "true for that");
}

absl::Status AppendAuthHeaders(ClientAuthenticator* auth, std::vector<std::string>* headers) {
  if (auth == nullptr) return absl::OkStatus();
  auto h = auth->Headers();
  if (!h.ok()) return absl::UnavailableError(StrCat("auth: ", h.status().message()));
  for (const auto& [k, v] : *h) headers->push_back(StrCat(k, ": ", v));
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

long SslVersion(const TlsConfig& t) {
  long min = CURL_SSLVERSION_TLSv1_2;
  switch (tls::VersionNumber(t.min_version)) {
    case 10:
      min = CURL_SSLVERSION_TLSv1_0;
      break;
    case 11:
      min = CURL_SSLVERSION_TLSv1_1;
      break;
    case 13:
      min = CURL_SSLVERSION_TLSv1_3;
      break;
    default:
      break;
  }
  long max = CURL_SSLVERSION_MAX_DEFAULT;
  switch (tls::VersionNumber(t.max_version)) {
    case 10:
      max = CURL_SSLVERSION_MAX_TLSv1_0;
      break;
    case 11:
      max = CURL_SSLVERSION_MAX_TLSv1_1;
      break;
    case 12:
      max = CURL_SSLVERSION_MAX_TLSv1_2;
      break;
    case 13:
      max = CURL_SSLVERSION_MAX_TLSv1_3;
      break;
    default:
      break;
  }
  return min | max;
}

struct Override {
  std::string url;          // https://<name>:<port>/...
  std::string connect_to;   // "<name>:<port>:<host>:<port>"
  std::string host_header;  // "Host: <host>[:<port>]"
};

// For an https:// URL, what makes curl connect to its host while it sends and checks
// `name` (nothing for other URLs: there is no certificate to check).
std::optional<Override> OverrideServerName(const std::string& url, const std::string& name) {
  CURLU* u = curl_url();
  std::optional<Override> out;
  char *scheme = nullptr, *host = nullptr, *port = nullptr, *rewritten = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && std::string_view(scheme) == "https" &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    char* explicit_port = nullptr;
    const bool has_port = curl_url_get(u, CURLUPART_PORT, &explicit_port, 0) == CURLUE_OK;
    curl_free(explicit_port);
    if (curl_url_set(u, CURLUPART_HOST, name.c_str(), 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &rewritten, 0) == CURLUE_OK) {
      out = Override{rewritten, StrCat(name, ":", port, ":", host, ":", port),
                     has_port ? StrCat("Host: ", host, ":", port) : StrCat("Host: ", host)};
    }
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(rewritten);
  curl_url_cleanup(u);
  return out;
}

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

namespace {
constexpr size_t kDefaultUploadBuffer = 64 * 1024;  // libcurl's
constexpr long kLargeUploadBuffer = 512 * 1024;
}  // namespace

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
  // libcurl copies a body through its upload buffer (64 KiB by default) and polls the
  // socket before each send: a 1 MB export was ~16 sends and ~40 polls. A larger buffer
  // for large bodies (the heap keeps it between requests of the handle).
  if (body.size() > kDefaultUploadBuffer) curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, kLargeUploadBuffer);
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
  curl_slist* connect_to = nullptr;
  std::string target = url;
  if (!tls_.server_name_override.empty()) {
    if (auto o = OverrideServerName(url, tls_.server_name_override)) {
      // The URL names the override (so it is the SNI and the name checked in the
      // certificate); CONNECT_TO still reaches the URL's host; Host keeps its name.
      target = o->url;
      connect_to = curl_slist_append(nullptr, o->connect_to.c_str());
      list = curl_slist_append(list, o->host_header.c_str());
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
    }
  }
  curl_easy_setopt(h, CURLOPT_URL, target.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent_.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  long timeout_ms = std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(deadline - absl::Now())));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  if (tls_.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(h, CURLOPT_SSLVERSION, SslVersion(tls_));
  // Rotated CA files are read again for the next connection.
  curl_easy_setopt(h, CURLOPT_CA_CACHE_TIMEOUT, 0L);
  if (!tls_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls_.ca_file.c_str());
  if (!tls_.cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, tls_.cert_file.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, tls_.key_file.c_str());
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.code);
  curl_slist_free_all(list);
  curl_slist_free_all(connect_to);
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
