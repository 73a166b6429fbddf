#include "exporters/elasticsearch/config.h"

#include <algorithm>

#include "absl/strings/numbers.h"

namespace outrigger::exporters::elasticsearch {

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("endpoints", &endpoints);
  node.Read("logs_index", &logs_index);
  node.Child("logs_dynamic_index").Read("enabled", &logs_dynamic_index);
  node.Read("traces_index", &traces_index);
  node.Child("traces_dynamic_index").Read("enabled", &traces_dynamic_index);
  auto& ls = node.Child("logstash_format");
  ls.Read("enabled", &logstash_format.enabled);
  ls.Read("prefix_separator", &logstash_format.prefix_separator);
  ls.Read("date_format", &logstash_format.date_format);
  node.Read("pipeline", &pipeline);
  node.Child("mapping").ReadEnum("mode", &mapping_mode, {"otel", "ecs", "none", "raw"});
  node.ReadEnum("document_id", &document_id, {"none", "content_hash"});
  node.Read("user", &user);
  node.Read("password", &password);
  node.Read("api_key", &api_key);
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
  node.ReadEnum("compression", &compression, {"gzip", "none"});
  auto& flush = node.Child("flush");
  flush.ReadBytes("bytes", &flush_bytes);
  flush.Read("interval", &flush_interval);
  auto& r = node.Child("retry");
  r.Read("enabled", &retry.enabled);
  r.Read("max_retries", &retry.max_retries);
  if (r.Has("max_requests")) {  // upstream's deprecated form: attempts, not retries
    int max_requests = 0;
    r.Read("max_requests", &max_requests);
    retry.max_retries = std::max(0, max_requests - 1);
  }
  r.Read("initial_interval", &retry.initial_interval);
  r.Read("max_interval", &retry.max_interval);
  std::vector<std::string> codes;
  bool had_codes = r.Has("retry_on_status");
  r.Read("retry_on_status", &codes);
  if (had_codes) {
    retry.retry_on_status.clear();
    for (const auto& c : codes) {
      int v = 0;
      if (!absl::SimpleAtoi(c, &v) || v < 100 || v > 599) {
        r.ErrorAt("retry_on_status", StrCat("\"", c, "\" is not an HTTP status code"));
        continue;
      }
      retry.retry_on_status.push_back(v);
    }
  }
  helper.Decode(node);
  // flush.* is upstream's bulk indexer: here it is the shared queue's batching (data waits
  // in the queue, not in the exporter), unless sending_queue.batch is given explicitly.
  if (!helper.sending_queue.batch.configured) {
    auto& b = helper.sending_queue.batch;
    b.enabled = true;
    b.sizer = "bytes";
    b.min_size = static_cast<int64_t>(flush_bytes);
    b.max_size = 0;
    b.flush_timeout = flush_interval;
  }
}

std::vector<std::string> Config::Urls() const {
  std::vector<std::string> out = endpoints;
  if (!endpoint.empty()) out = {endpoint};
  for (auto& u : out) {
    while (!u.empty() && u.back() == '/') u.pop_back();
  }
  return out;
}

bool Config::Retryable(int status) const {
  if (status == 429 || (status >= 500 && status < 600)) return true;
  return std::find(retry.retry_on_status.begin(), retry.retry_on_status.end(), status) != retry.retry_on_status.end();
}

absl::Status Config::Validate() const {
  if (endpoint.empty() == endpoints.empty()) {
    return absl::InvalidArgumentError(
        "exactly one of endpoint and endpoints is required (e.g. endpoint: https://elasticsearch:9200)");
  }
  for (const auto& u : Urls()) {
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) {
      return absl::InvalidArgumentError(StrCat("endpoint \"", u, "\" must be an http:// or https:// URL"));
    }
  }
  if (logs_index.empty()) return absl::InvalidArgumentError("logs_index must not be empty");
  if (traces_index.empty()) return absl::InvalidArgumentError("traces_index must not be empty");
  if (logstash_format.enabled && logstash_format.date_format.empty()) {
    return absl::InvalidArgumentError("logstash_format.date_format must not be empty");
  }
  if (!api_key.empty() && !user.empty()) {
    return absl::InvalidArgumentError("use either api_key or user/password, not both");
  }
  if (!auth.authenticator.empty() && (!api_key.empty() || !user.empty())) {
    return absl::InvalidArgumentError("use either auth.authenticator or api_key/user/password, not both");
  }
  if (user.empty() != password.empty()) {
    return absl::InvalidArgumentError("user and password go together");
  }
  if (auto st = tls.Validate(); !st.ok()) return st;
  if (flush_bytes < 1024) return absl::InvalidArgumentError("flush.bytes must be at least 1KiB");
  if (flush_interval <= absl::ZeroDuration()) return absl::InvalidArgumentError("flush.interval must be positive");
  if (retry.max_retries < 0) return absl::InvalidArgumentError("retry.max_retries must not be negative");
  if (retry.enabled && retry.initial_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retry.initial_interval must be positive");
  }
  if (retry.enabled && retry.max_interval < retry.initial_interval) {
    return absl::InvalidArgumentError("retry.max_interval must be at least retry.initial_interval");
  }
  return helper.Validate();
}

}  // namespace outrigger::exporters::elasticsearch
