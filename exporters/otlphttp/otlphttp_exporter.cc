// OTLP/HTTP exporter over libcurl: protobuf (or JSON) bodies, gzip, Retry-After.
#include <curl/curl.h>

#include <mutex>
#include <vector>

#include "absl/strings/ascii.h"
#include "collector/otlp/wire.h"
#include "exporters/otlp/config.h"
#include "exporters/otlphttp/factory.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::otlphttp {
namespace {

struct Config : otlp::Config {
  Config() { http = true; }
};

size_t CollectBody(char* ptr, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(ptr, size * n);
  return size * n;
}

size_t CollectHeader(char* ptr, size_t size, size_t n, void* user) {
  std::string_view line(ptr, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = absl::AsciiStrToLower(std::string(line.substr(0, colon)));
    if (name == "retry-after") {
      *static_cast<std::string*>(user) =
          std::string(absl::StripAsciiWhitespace(ToAbsl(line.substr(colon + 1))));
    }
  }
  return size * n;
}

class HttpPusher : public exporterhelper::SignalPusher<HttpPusher> {
 public:
  HttpPusher(const CreateSettings& settings, const Config& cfg) : settings_(settings), cfg_(cfg) {
    std::string base = cfg.endpoint;
    while (!base.empty() && base.back() == '/') base.pop_back();
    urls_[0] = cfg.traces_endpoint.empty() ? base + "/v1/traces" : cfg.traces_endpoint;
    urls_[1] = cfg.metrics_endpoint.empty() ? base + "/v1/metrics" : cfg.metrics_endpoint;
    urls_[2] = cfg.logs_endpoint.empty() ? base + "/v1/logs" : cfg.logs_endpoint;
  }
  ~HttpPusher() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  absl::Status Start(Host&) override {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return absl::OkStatus();
  }

 private:
  friend class exporterhelper::SignalPusher<HttpPusher>;
  // Handles are reused so connections stay open between requests.
  CURL* Acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      CURL* h = idle_.back();
      idle_.pop_back();
      curl_easy_reset(h);
      return h;
    }
    return curl_easy_init();
  }
  void Release(CURL* h) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(h);
  }

  template <typename D>
  absl::Status Send(Signal signal, const D& d, absl::Time deadline) {
    const bool json = cfg_.encoding == "json";
    std::string body = json ? d.ToJson() : d.ToProto();
    if (cfg_.compression == "gzip") body = outrigger::otlp::Gzip(body);
    const std::string& url = urls_[static_cast<size_t>(signal)];

    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, json ? "Content-Type: application/json"
                                              : "Content-Type: application/x-protobuf");
    if (cfg_.compression == "gzip") headers = curl_slist_append(headers, "Content-Encoding: gzip");
    headers = curl_slist_append(headers, "Expect:");
    for (const auto& [k, v] : cfg_.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());

    CURL* h = Acquire();
    std::string resp_body, retry_after;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "outrigger");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    long timeout_ms = std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(deadline - absl::Now())));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &retry_after);
    if (cfg_.tls.insecure) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!cfg_.tls.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, cfg_.tls.ca_file.c_str());
    if (!cfg_.tls.cert_file.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLCERT, cfg_.tls.cert_file.c_str());
      curl_easy_setopt(h, CURLOPT_SSLKEY, cfg_.tls.key_file.c_str());
    }
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    Release(h);

    if (rc != CURLE_OK) {
      return absl::UnavailableError(StrCat("POST ", url, ": ", curl_easy_strerror(rc)));
    }
    if (code >= 200 && code < 300) {
      int64_t rejected = 0;
      std::string message;
      if (!json && outrigger::otlp::DecodeExportResponse(signal, resp_body, &rejected, &message) && rejected > 0) {
        settings_.logger->warn("the server rejected {} of {} {}: {}", rejected, d.ItemCount(), ItemNoun(signal),
                               message);
      }
      return absl::OkStatus();
    }
    std::string msg = StrCat("POST ", url, ": HTTP ", code);
    if (outrigger::otlp::HttpRetryable(static_cast<int>(code))) {
      absl::Status st = code == 429 ? absl::ResourceExhaustedError(msg) : absl::UnavailableError(msg);
      if (auto delay = outrigger::otlp::ParseRetryAfter(retry_after)) {
        st = exporterhelper::WithRetryDelay(st, *delay);
      }
      return st;
    }
    return absl::InvalidArgumentError(StrCat(msg, " (permanent): ", resp_body.substr(0, 512)));
  }

  CreateSettings settings_;
  Config cfg_;
  std::string urls_[3];
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, HttpPusher>>(
      "otlphttp", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs});
}

}  // namespace outrigger::exporters::otlphttp
