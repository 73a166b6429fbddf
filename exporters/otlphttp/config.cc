#include "exporters/otlphttp/config.h"

#include <string_view>
#include <utility>

namespace outrigger::exporters::otlphttp {

namespace {

// http:// or https:// and a host (the path is the caller's).
absl::Status CheckUrl(const char* key, const std::string& url) {
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return absl::InvalidArgumentError(StrCat(key, " \"", url,
                                             "\" must start with http:// or https:// (e.g. http://collector:4318); "
                                             "for OTLP/gRPC use the otlp exporter"));
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == ':' || rest.front() == '?') {
    return absl::InvalidArgumentError(StrCat(key, " \"", url, "\" has no host"));
  }
  return absl::OkStatus();
}

}  // namespace

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("compression", &compression);
  if (node.Has("compression_params")) node.Child("compression_params").Read("level", &compression_level);
  const std::pair<const char*, const char*> unsupported[] = {
      {"proxy_url",
       "set the HTTPS_PROXY / HTTP_PROXY environment variables (and NO_PROXY) of the Outrigger process: "
       "libcurl uses them"},
      {"read_buffer_size", "libcurl sizes its buffers itself; remove it"},
      {"write_buffer_size", "libcurl sizes its buffers itself; remove it"},
      {"max_idle_conns", "connections are kept in a pool of at most one per sending worker; remove it"},
      {"max_idle_conns_per_host", "connections are kept in a pool of at most one per sending worker; remove it"},
      {"max_conns_per_host", "bound the connections with sending_queue.num_consumers (one per worker)"},
      {"idle_conn_timeout", "libcurl closes connections idle for 118 s; remove it"},
      {"disable_keep_alives", "connections are always reused; remove it"},
      {"force_attempt_http2", "requests use HTTP/1.1; remove it"},
      {"http2_read_idle_timeout", "requests use HTTP/1.1 (no HTTP/2 health checks); remove it"},
      {"http2_ping_timeout", "requests use HTTP/1.1 (no HTTP/2 health checks); remove it"},
      {"cookies", "no cookies are kept between requests; remove it"},
      {"middlewares", "no HTTP middleware extensions exist here; remove the key"},
      {"profiles_endpoint", "profiles are not exported here; remove the key"},
      {"batcher", "use sending_queue.batch (upstream deprecated batcher for it)"},
  };
  for (const auto& [key, instead] : unsupported) node.Unsupported(key, instead);
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
  helper.Decode(node);
  node.Read("traces_endpoint", &traces_endpoint);
  node.Read("metrics_endpoint", &metrics_endpoint);
  node.Read("logs_endpoint", &logs_endpoint);
  node.ReadEnum("encoding", &encoding, {"proto", "json"});
}

absl::Status Config::Validate() const {
  if (endpoint.empty() && (traces_endpoint.empty() || metrics_endpoint.empty() || logs_endpoint.empty())) {
    return absl::InvalidArgumentError("endpoint is required (e.g. http://127.0.0.1:4318)");
  }
  for (auto [key, url] :
       {std::pair{"endpoint", &endpoint}, std::pair{"traces_endpoint", &traces_endpoint},
        std::pair{"metrics_endpoint", &metrics_endpoint}, std::pair{"logs_endpoint", &logs_endpoint}}) {
    if (url->empty()) continue;
    if (auto st = CheckUrl(key, *url); !st.ok()) return st;
  }
  if (compression != "gzip" && compression != "none") {
    const bool upstream = compression == "zstd" || compression == "snappy" || compression == "zlib" ||
                          compression == "deflate" || compression == "lz4" || compression == "x-snappy-framed" ||
                          compression.empty();
    return absl::InvalidArgumentError(StrCat("compression \"", compression, "\" ",
                                             upstream ? "is not supported" : "is no known compression",
                                             ": use gzip (every OTLP/HTTP server takes it) or none"));
  }
  if (compression_level != -1 && (compression_level < 1 || compression_level > 9)) {
    return absl::InvalidArgumentError("compression_params.level must be 1 (fastest) to 9 (smallest) or -1 (default)");
  }
  if (compression_level != -1 && compression != "gzip") {
    return absl::InvalidArgumentError("compression_params.level needs compression: gzip");
  }
  if (auto st = tls.Validate(); !st.ok()) return st;
  return helper.Validate();
}

}  // namespace outrigger::exporters::otlphttp
