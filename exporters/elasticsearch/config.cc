#include "exporters/elasticsearch/config.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace outrigger::exporters::elasticsearch {

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("endpoints", &endpoints);
  node.Read("cloudid", &cloudid);
  env_endpoints.clear();
  if (endpoint.empty() && endpoints.empty() && cloudid.empty()) {
    // As upstream: the comma-separated ELASTICSEARCH_URL stands in for the endpoints.
    if (const char* env = std::getenv("ELASTICSEARCH_URL"); env != nullptr && *env != '\0') {
      for (absl::string_view part : absl::StrSplit(env, ',')) {
        env_endpoints.emplace_back(absl::StripAsciiWhitespace(part));
      }
    }
  }
  auto& disc = node.Child("discover");
  disc.Read("on_start", &discover_on_start);
  disc.Read("interval", &discover_interval);
  // `index`: upstream's deprecated name of logs_index.
  if (node.Has("index") && !node.Has("logs_index")) node.Read("index", &logs_index);
  node.Accept("index");
  node.Read("logs_index", &logs_index);
  node.Child("logs_dynamic_index").Read("enabled", &logs_dynamic_index);
  node.Read("traces_index", &traces_index);
  node.Child("traces_dynamic_index").Read("enabled", &traces_dynamic_index);
  node.Read("metrics_index", &metrics_index);
  node.Child("metrics_dynamic_index").Read("enabled", &metrics_dynamic_index);
  auto& ls = node.Child("logstash_format");
  ls.Read("enabled", &logstash_format.enabled);
  ls.Read("prefix_separator", &logstash_format.prefix_separator);
  ls.Read("date_format", &logstash_format.date_format);
  node.Read("pipeline", &pipeline);
  auto& mapping = node.Child("mapping");
  if (std::string mode; mapping.Has("mode")) {
    mapping.Read("mode", &mode);
    mode = absl::AsciiStrToLower(mode);
    if (mode.empty() || mode == "no") mode = "none";  // upstream's aliases of none
    if (mode == "bodymap") {
      mapping.ErrorAt("mode",
                      "bodymap is not supported: use mapping.mode otel, ecs, none or raw (a log body that is a map "
                      "can be made the record's attributes with a transform processor first)");
    } else if (mode != "otel" && mode != "ecs" && mode != "none" && mode != "raw") {
      mapping.ErrorAt("mode", StrCat("\"", mode, "\" is not one of otel, ecs, none, raw"));
    } else {
      mapping_mode = mode;
    }
  }
  mapping.Unsupported("allowed_modes",
                      "the mapping mode cannot be chosen per request or scope here; set mapping.mode (one exporter "
                      "per mode)");
  // Deprecated upstream and without effect there (keys are always deduplicated; dotted keys
  // are indexed as objects by Elasticsearch either way).
  bool ignored = false;
  mapping.Read("dedup", &ignored);
  mapping.Read("dedot", &ignored);
  node.ReadEnum("document_id", &document_id, {"none", "content_hash"});
  node.Read("user", &user);
  node.Read("password", &password);
  node.Read("api_key", &api_key);
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
  node.ReadEnum("compression", &compression, {"gzip", "none"});
  node.Child("compression_params").Read("level", &compression_level);
  if (node.Has("include_source_on_error")) {
    bool v = false;
    node.Read("include_source_on_error", &v);
    include_source_on_error = v ? 1 : 0;
  }
  node.Unsupported("num_workers", "use sending_queue.num_consumers (workers sending bulk requests in parallel)");
  node.Unsupported("logs_dynamic_id",
                   "document ids from the elasticsearch.document_id attribute are not read; use document_id: "
                   "content_hash for ids that make resends idempotent");
  node.Unsupported("traces_dynamic_id", "use document_id: content_hash");
  node.Unsupported("logs_dynamic_pipeline",
                   "the ingest pipeline cannot be chosen per record; set pipeline (one exporter per pipeline)");
  node.Unsupported("telemetry",
                   "request and response bodies are not logged; failed documents are logged with Elasticsearch's "
                   "error type and reason and counted in outrigger_exporter_dropped_*");
  for (const char* key : {"proxy_url", "read_buffer_size", "write_buffer_size", "max_idle_conns",
                          "max_idle_conns_per_host", "max_conns_per_host", "idle_conn_timeout", "disable_keep_alives",
                          "http2_read_idle_timeout", "http2_ping_timeout", "cookies"}) {
    node.Unsupported(key,
                     "the HTTP client (libcurl) keeps its connections itself; remove this key (parallelism: "
                     "sending_queue.num_consumers)");
  }
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
  DecodeBatcher(node);
  helper.Decode(node);
  if (batcher_set && helper.sending_queue.batch.configured) {
    node.ErrorAt("batcher", "use either batcher or sending_queue.batch, not both (batcher is upstream's older form)");
  }
  if (batcher_set && !helper.sending_queue.batch.configured) {
    // batcher.enabled given (true or false): it replaces flush.*, as upstream.
    helper.sending_queue.batch = batcher;
    return;
  }
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

void Config::DecodeBatcher(config::Node& node) {
  if (!node.Has("batcher")) return;
  auto& b = node.Child("batcher");
  // Upstream's defaults for its batcher (its README): 5000 to 10000 items, 30s.
  batcher = exporterhelper::BatchConfig{};
  batcher.configured = true;
  batcher.flush_timeout = absl::Seconds(30);
  batcher.sizer = "items";
  batcher.min_size = 5000;
  batcher.max_size = 10000;
  batcher_set = b.Has("enabled");
  batcher.enabled = false;
  b.Read("enabled", &batcher.enabled);
  b.Read("flush_timeout", &batcher.flush_timeout);
  if (b.Has("sizer")) {
    std::string sizer;
    b.Read("sizer", &sizer);
    if (sizer == "requests") {
      b.ErrorAt("sizer", "requests is not supported: use items or bytes");
    } else if (sizer != "items" && sizer != "bytes") {
      b.ErrorAt("sizer", StrCat("\"", sizer, "\" is not one of items, bytes"));
    } else {
      batcher.sizer = sizer;
    }
  }
  b.Read("min_size", &batcher.min_size);
  b.Read("max_size", &batcher.max_size);
  // The older names (items only).
  b.Read("min_size_items", &batcher.min_size);
  b.Read("max_size_items", &batcher.max_size);
}

std::vector<std::string> Config::Urls() const {
  int given = (endpoint.empty() ? 0 : 1) + (endpoints.empty() ? 0 : 1) + (cloudid.empty() ? 0 : 1);
  std::vector<std::string> out;
  if (given == 0) {
    out = env_endpoints;
  } else if (given > 1) {
    return {};
  } else if (!endpoint.empty()) {
    out = {endpoint};
  } else if (!endpoints.empty()) {
    out = endpoints;
  } else {
    auto u = DecodeCloudId(cloudid);
    if (!u.ok()) return {};
    out = {*u};
  }
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
  const int given = (endpoint.empty() ? 0 : 1) + (endpoints.empty() ? 0 : 1) + (cloudid.empty() ? 0 : 1);
  if (given > 1 || (given == 0 && env_endpoints.empty())) {
    return absl::InvalidArgumentError(
        "exactly one of [endpoint, endpoints, cloudid] must be specified (or the ELASTICSEARCH_URL environment "
        "variable), e.g. endpoint: https://elasticsearch:9200");
  }
  if (!cloudid.empty()) {
    if (auto u = DecodeCloudId(cloudid); !u.ok()) return u.status();
  }
  for (const auto& u : Urls()) {
    if (u.empty()) return absl::InvalidArgumentError("endpoint must not be empty");
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) {
      return absl::InvalidArgumentError(
          StrCat("invalid endpoint \"", u, "\": invalid scheme, expected \"http\" or \"https\""));
    }
  }
  if (discover_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("discover.interval must not be negative (0: no periodic discovery)");
  }
  if (metrics_index.empty()) return absl::InvalidArgumentError("metrics_index must not be empty");
  if (compression_level < 1 || compression_level > 9) {
    return absl::InvalidArgumentError("compression_params.level must be 1 to 9 for gzip");
  }
  if (logs_index.empty()) return absl::InvalidArgumentError("logs_index must not be empty");
  if (traces_index.empty()) return absl::InvalidArgumentError("traces_index must not be empty");
  if (logstash_format.enabled && logstash_format.date_format.empty()) {
    return absl::InvalidArgumentError("logstash_format.date_format must not be empty");
  }
  if (!auth.authenticator.empty() && (!api_key.empty() || !user.empty())) {
    return absl::InvalidArgumentError("use either auth.authenticator or api_key/user/password, not both");
  }
  // api_key with user/password is accepted as upstream (the API key is sent: README).
  if (api_key.empty() && user.empty() != password.empty()) {
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

absl::StatusOr<std::string> DecodeCloudId(std::string_view cloudid) {
  const size_t colon = cloudid.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("invalid cloudid \"", cloudid, "\": expected <name>:<base64>, as Elastic Cloud shows it"));
  }
  std::string decoded;
  const std::string_view enc = cloudid.substr(colon + 1);
  if (enc.empty() || !absl::Base64Unescape(absl::string_view(enc.data(), enc.size()), &decoded)) {
    return absl::InvalidArgumentError(StrCat("invalid cloudid \"", cloudid, "\": the part after ':' is not base64"));
  }
  std::vector<std::string> parts = absl::StrSplit(decoded, '$');
  if (parts.size() < 2 || parts[0].empty() || parts[1].empty()) {
    return absl::InvalidArgumentError(StrCat("invalid cloudid \"", cloudid, "\": decoded \"", absl::CHexEscape(decoded),
                                             "\" is not <host>$<elasticsearch id>[$<kibana id>]"));
  }
  std::string host = parts[0], port;
  if (size_t c = host.rfind(':'); c != std::string::npos) {
    port = host.substr(c);
    host.resize(c);
  }
  return StrCat("https://", parts[1], ".", host, port);
}

}  // namespace outrigger::exporters::elasticsearch
