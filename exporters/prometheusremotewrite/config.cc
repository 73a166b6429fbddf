#include "exporters/prometheusremotewrite/config.h"

#include "absl/strings/ascii.h"
#include "collector/prometheus/labels.h"

namespace outrigger::exporters::prometheusremotewrite {

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
  node.Read("namespace", &metric_namespace);
  node.Read("external_labels", &external_labels);
  config::Node& rtc = node.Child("resource_to_telemetry_conversion");
  rtc.Read("enabled", &resource_to_telemetry_conversion);
  rtc.Read("exclude_service_attributes", &exclude_service_attributes);
  node.Read("add_metric_suffixes", &add_metric_suffixes);
  node.Read("send_metadata", &send_metadata);
  node.Read("max_samples_per_request", &max_samples_per_request);
  node.ReadBytes("max_batch_size_bytes", &max_batch_size_bytes);
  node.Read("translation_strategy", &translation_strategy);
  node.Read("disable_scope_info", &disable_scope_info);
  node.Child("target_info").Read("enabled", &target_info);
  node.Child("export_created_metric").Read("enabled", &export_created_metric);
  node.Read("max_batch_request_parallelism", &max_batch_request_parallelism);
  node.Read("protobuf_message", &protobuf_message);
  helper.Decode(node);
  // Upstream's queue: the shared helper's queue under other names (queue_size counts
  // requests, i.e. batches of OTLP metrics, as upstream's does).
  if (node.Has("remote_write_queue")) {
    config::Node& q = node.Child("remote_write_queue");
    if (node.Has("sending_queue")) {
      node.Unsupported("remote_write_queue",
                       "with sending_queue beside it (both configure the one queue); keep one of the two");
      q.AcceptAll();
    } else {
      auto& sq = helper.sending_queue;
      sq.sizer = "requests";
      sq.queue_size = kDefaultRemoteWriteQueueSize;
      sq.num_consumers = kDefaultRemoteWriteNumConsumers;
      q.Read("enabled", &sq.enabled);
      q.Read("queue_size", &sq.queue_size);
      q.Read("num_consumers", &sq.num_consumers);
      q.Unsupported("include_metadata_keys", "the queue is not partitioned by client metadata; remove it");
      remote_write_queue_set = true;
    }
  }
  node.Unsupported("wal",
                   "the write-ahead log is not implemented; for data that survives restarts and backend outages use "
                   "sending_queue.storage with a file_storage extension");
  node.Unsupported("http", "write the HTTP client options (endpoint, headers, tls, auth, timeout) at the top level");
  node.Unsupported("scope_info",
                   "otel_scope_info is no longer generated (as upstream); scope name and version are "
                   "labels unless disable_scope_info is true");
  // confighttp client options this client does not have.
  const std::pair<const char*, const char*> unsupported[] = {
      {"compression_params", "remote write is always snappy-compressed; remove it"},
      {"proxy_url", "set HTTPS_PROXY / HTTP_PROXY in the environment (libcurl reads them)"},
      {"read_buffer_size", "libcurl sizes its buffers; remove it"},
      {"write_buffer_size", "libcurl sizes its buffers; remove it"},
      {"max_idle_conns", "connections are pooled per sender thread; remove it"},
      {"max_idle_conns_per_host", "connections are pooled per sender thread; remove it"},
      {"max_conns_per_host", "bound concurrency with sending_queue.num_consumers and max_batch_request_parallelism"},
      {"idle_conn_timeout", "remove it: libcurl closes idle connections itself"},
      {"disable_keep_alives", "remove it: connections are kept alive"},
      {"http2_read_idle_timeout", "requests use HTTP/1.1; remove it"},
      {"http2_ping_timeout", "requests use HTTP/1.1; remove it"},
      {"force_attempt_http2", "requests use HTTP/1.1; remove it"},
      {"cookies", "remove it: cookies are not kept"},
      {"middlewares", "remove it: no middleware extensions"},
  };
  for (const auto& [key, instead] : unsupported) node.Unsupported(key, instead);
  // Remote write is snappy-compressed, as the protocol requires (upstream refuses others too).
  node.Read("compression", &compression);
}

prom::TranslationStrategy Config::Strategy() const {
  if (auto s = prom::ParseTranslationStrategy(translation_strategy)) return *s;
  return add_metric_suffixes ? prom::TranslationStrategy::kUnderscoreEscapingWithSuffixes
                             : prom::TranslationStrategy::kUnderscoreEscapingWithoutSuffixes;
}

absl::Status Config::Validate() const {
  if (endpoint.empty()) {
    return absl::InvalidArgumentError("endpoint is required (e.g. http://127.0.0.1:9090/api/v1/write)");
  }
  // As upstream (Go's url.ParseRequestURI, then an HTTP client): a scheme of http or https in
  // any case, and a host.
  const std::string lower = absl::AsciiStrToLower(endpoint);
  size_t host_at = lower.rfind("http://", 0) == 0 ? 7 : lower.rfind("https://", 0) == 0 ? 8 : 0;
  if (host_at == 0) {
    // Upstream accepts "localhost:8888" (Go parses "localhost" as the scheme) and then fails
    // every send with "unsupported protocol scheme": refused here instead.
    if (endpoint.find("://") != std::string::npos) {
      return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\" must be an http:// or https:// URL"));
    }
    return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint,
                                             "\" must be an http:// or https:// URL, e.g. http://", endpoint,
                                             "/api/v1/write (without a scheme no request could be sent)"));
  }
  if (host_at >= endpoint.size() || endpoint[host_at] == '/' || endpoint[host_at] == '?') {
    return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\" has no host"));
  }
  if (endpoint.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\" contains white space"));
  }
  if (auto st = tls.Validate(); !st.ok()) return st;
  if (!translation_strategy.empty() && !prom::ParseTranslationStrategy(translation_strategy)) {
    return absl::InvalidArgumentError(
        StrCat("invalid translation_strategy: ", translation_strategy,
               " (one of UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, "
               "NoUTF8EscapingWithSuffixes, NoTranslation)"));
  }
  if (!compression.empty() && compression != "snappy") {
    return absl::InvalidArgumentError(StrCat("compression: \"", compression,
                                             "\" is not supported: remote write is snappy-compressed (set snappy or "
                                             "remove the key)"));
  }
  if (protobuf_message == kProtobufMessageV2) {
    return absl::InvalidArgumentError(
        StrCat("protobuf_message: ", kProtobufMessageV2,
               " (remote write 2.0) is not supported: remove it or set prometheus.WriteRequest (remote write 1.0, "
               "which every remote write 2.0 receiver also accepts)"));
  }
  if (protobuf_message != kProtobufMessageV1) {
    return absl::InvalidArgumentError(
        StrCat("protobuf_message: \"", protobuf_message, "\" is not a remote write message; use ", kProtobufMessageV1));
  }
  // Names starting with "__" are allowed, as upstream documents.
  for (const auto& [k, v] : external_labels) {
    if (k.empty()) return absl::InvalidArgumentError("external_labels: a label name is empty");
    if (v.empty()) return absl::InvalidArgumentError(StrCat("external_labels: \"", k, "\" has an empty value"));
  }
  if (max_batch_request_parallelism < 1) {
    return absl::InvalidArgumentError("max_batch_request_parallelism must be at least 1");
  }
  if (remote_write_queue_set) {
    if (helper.sending_queue.queue_size < 0) {
      return absl::InvalidArgumentError("remote_write_queue.queue_size can't be negative");
    }
    if (helper.sending_queue.enabled && helper.sending_queue.queue_size == 0) {
      return absl::InvalidArgumentError("remote_write_queue.queue_size: a 0 size queue would drop all the data");
    }
    if (helper.sending_queue.num_consumers < 0) {
      return absl::InvalidArgumentError("remote_write_queue.num_consumers can't be negative");
    }
    if (helper.sending_queue.enabled && helper.sending_queue.num_consumers == 0) {
      return absl::InvalidArgumentError("remote_write_queue.num_consumers must be at least 1");
    }
  }
  if (max_samples_per_request < 1) return absl::InvalidArgumentError("max_samples_per_request must be at least 1");
  if (max_batch_size_bytes < 1024) return absl::InvalidArgumentError("max_batch_size_bytes must be at least 1KiB");
  return helper.Validate();
}

}  // namespace outrigger::exporters::prometheusremotewrite
