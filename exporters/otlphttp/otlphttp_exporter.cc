#include "exporters/otlphttp/otlphttp_exporter.h"

#include <vector>

#include "collector/otlp/wire.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::otlphttp {

bool Retryable(long code) { return outrigger::otlp::HttpRetryable(static_cast<int>(code)); }

HttpPusher::HttpPusher(const CreateSettings& settings, const Config& cfg)
    : settings_(settings), cfg_(cfg), client_(cfg.tls, "outrigger") {
  std::string base = cfg.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  urls_[0] = cfg.traces_endpoint.empty() ? base + "/v1/traces" : cfg.traces_endpoint;
  urls_[1] = cfg.metrics_endpoint.empty() ? base + "/v1/metrics" : cfg.metrics_endpoint;
  urls_[2] = cfg.logs_endpoint.empty() ? base + "/v1/logs" : cfg.logs_endpoint;
}

absl::Status HttpPusher::Start(Host& host) {
  auto auth = cfg_.auth.Resolve(host);
  if (!auth.ok()) return auth.status();
  auth_ = *auth;
  if (auto w = httpclient::InsecureIgnoredWarning(cfg_.tls, urls_); !w.empty()) settings_.logger->warn("{}", w);
  return absl::OkStatus();
}

template <typename D>
absl::Status HttpPusher::Send(Signal signal, const D& d, absl::Time deadline) {
  const bool json = cfg_.encoding == "json";
  std::string body = json ? d.ToJson() : d.ToProto();
  if (cfg_.compression == "gzip")
    body = outrigger::otlp::Gzip(body, cfg_.compression_level == -1 ? 6 : cfg_.compression_level);
  const std::string& url = urls_[static_cast<size_t>(signal)];

  std::vector<std::string> headers = {json ? "Content-Type: application/json" : "Content-Type: application/x-protobuf"};
  if (cfg_.compression == "gzip") headers.push_back("Content-Encoding: gzip");
  for (const auto& [k, v] : cfg_.headers) headers.push_back(k + ": " + v);
  if (auto st = httpclient::AppendAuthHeaders(auth_, &headers); !st.ok()) return st;
  auto resp = client_.Post(url, body, headers, deadline);
  if (!resp.ok()) return resp.status();
  const long code = resp->code;
  if (code >= 200 && code < 300) {
    int64_t rejected = 0;
    std::string message;
    if (!json && outrigger::otlp::DecodeExportResponse(signal, resp->body, &rejected, &message) && rejected > 0) {
      settings_.logger->warn("the server rejected {} of {} {}: {}", rejected, d.ItemCount(), ItemNoun(signal), message);
    }
    return absl::OkStatus();
  }
  return httpclient::StatusOf(*resp, StrCat("POST ", url), Retryable);
}

template absl::Status HttpPusher::Send(Signal, const pdata::Traces&, absl::Time);
template absl::Status HttpPusher::Send(Signal, const pdata::Metrics&, absl::Time);
template absl::Status HttpPusher::Send(Signal, const pdata::Logs&, absl::Time);

}  // namespace outrigger::exporters::otlphttp
