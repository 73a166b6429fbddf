#include "exporters/prometheus/prometheus_exporter.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "collector/otlp/wire.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::prometheus {
namespace {

constexpr char kTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kText1ContentType[] = "text/plain; version=1.0.0; charset=utf-8";
constexpr char kOpenMetricsContentType[] = "application/openmetrics-text; version=1.0.0; charset=utf-8";
// Scrapes are GETs: no body worth accepting.
constexpr uint64_t kMaxRequestBody = 64 * 1024;
// Smaller answers are not worth compressing.
constexpr size_t kGzipMinBytes = 1024;

bool AcceptsGzip(std::string_view accept_encoding) {
  for (absl::string_view part : absl::StrSplit(ToAbsl(accept_encoding), ',')) {
    std::string p = absl::AsciiStrToLower(absl::StripAsciiWhitespace(part));
    std::string_view token = p;
    std::string_view params;
    if (size_t semi = token.find(';'); semi != std::string_view::npos) {
      params = token.substr(semi + 1);
      token = ToStd(absl::StripAsciiWhitespace(ToAbsl(token.substr(0, semi))));
    }
    if (token != "gzip") continue;
    std::string q(absl::StripAsciiWhitespace(ToAbsl(params)));
    q.erase(std::remove(q.begin(), q.end(), ' '), q.end());
    return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000";
  }
  return false;
}

}  // namespace

PrometheusExporter::PrometheusExporter(const CreateSettings& settings, const Config& cfg, Accumulator::Clock clock)
    : settings_(settings),
      cfg_(cfg),
      meter_(settings.telemetry->ForExporter(settings.id)),
      accumulator_(cfg, settings.logger, std::move(clock)) {}

PrometheusExporter::~PrometheusExporter() { (void)Shutdown(absl::Now()); }

absl::Status PrometheusExporter::Start(Host& host) {
  if (server_) return absl::OkStatus();
  auto opts = http::MakeServerOptions(&host, cfg_.limits, cfg_.tls, cfg_.auth, settings_.telemetry,
                                      "exporter/" + settings_.id.String(), settings_.logger);
  if (!opts.ok()) {
    return absl::Status(opts.status().code(), StrCat("prometheus exporter: ", opts.status().message()));
  }
  if (cfg_.limits.max_request_body_size == 0) opts->max_body_bytes = kMaxRequestBody;
  auto srv = http::Server::Listen(host.IoContext(), cfg_.endpoint, std::move(*opts),
                                  [this](http::Request& req) { return Handle(req); });
  if (!srv.ok()) {
    return absl::Status(srv.status().code(),
                        StrCat("prometheus exporter cannot serve on ", cfg_.endpoint, ": ", srv.status().message()));
  }
  server_ = std::move(*srv);
  if (settings_.logger) {
    settings_.logger->info("serving Prometheus metrics on {} (port {}) at {}", cfg_.endpoint, server_->port(),
                           kMetricsPath);
  }
  return absl::OkStatus();
}

absl::Status PrometheusExporter::Shutdown(absl::Time) {
  if (server_) server_->Stop();
  server_.reset();
  return absl::OkStatus();
}

absl::Status PrometheusExporter::ConsumeMetrics(pdata::Metrics&& data) {
  Accumulator::AddResult r = accumulator_.Add(data);
  if (r.taken > 0) meter_.Sent(Signal::kMetrics, r.taken);
  if (r.dropped > 0) meter_.Dropped(Signal::kMetrics, r.dropped);
  return absl::OkStatus();
}

http::Response PrometheusExporter::Handle(const http::Request& req) {
  http::Response r;
  if (req.path != kMetricsPath) {
    r.status = 404;
    r.body = StrCat("not found: metrics are served at ", kMetricsPath, "\n");
    return r;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    r.status = 405;
    r.body = "method not allowed: use GET\n";
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const Negotiation n = Negotiate(req.Header("accept"));
  const bool om = cfg_.enable_open_metrics && n.open_metrics;
  // Without an escaping parameter (every scraper before UTF-8 names), names are escaped
  // with underscores, as Prometheus's client libraries do.
  const std::optional<Escaping> asked = om ? n.om_escaping : n.text_escaping;
  const Escaping escaping = asked.value_or(Escaping::kUnderscores);
  // Text 1.0.0 is 0.0.4 plus quoted UTF-8 names: answered as such to a scraper that asks.
  r.content_type = om ? kOpenMetricsContentType : n.text_v1 ? kText1ContentType : kTextContentType;
  if (asked) r.content_type += StrCat("; escaping=", prom::EscapingName(escaping));
  r.body = accumulator_.Render(om ? Format::kOpenMetrics : Format::kText, escaping);
  r.headers.emplace_back("Vary", "Accept, Accept-Encoding");
  if (r.body.size() >= kGzipMinBytes && AcceptsGzip(req.Header("accept-encoding"))) {
    r.body = outrigger::otlp::Gzip(r.body, 1);
    r.headers.emplace_back("Content-Encoding", "gzip");
  }
  if (req.method == "HEAD") r.body.clear();
  return r;
}

}  // namespace outrigger::exporters::prometheus
