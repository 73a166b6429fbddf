#include "receivers/prometheus/prometheus_receiver.h"

#include <chrono>

#include "absl/strings/escaping.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::prometheus {

namespace {

constexpr char kAccept[] = "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1";
constexpr size_t kMaxBody = 64 << 20;

std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

PrometheusReceiver::PrometheusReceiver(const CreateSettings& settings, const Config& cfg)
    : settings_(settings), cfg_(cfg), meter_(settings.telemetry->ForReceiver(settings.id, "http")) {}

PrometheusReceiver::~PrometheusReceiver() { (void)Shutdown(absl::Now()); }

int64_t PrometheusReceiver::scrapes() const {
  std::lock_guard<std::mutex> l(mu_);
  return scrapes_;
}

absl::Status PrometheusReceiver::Start(Host&) {
  if (worker_.joinable()) return absl::OkStatus();
  const absl::Time now = absl::Now();
  for (const ScrapeConfig& sc : cfg_.scrape_configs) {
    httpclient::TlsConfig tls = sc.tls;
    clients_.push_back(std::make_unique<httpclient::Client>(tls, "outrigger-prometheus-receiver"));
    std::string query;
    for (const auto& [k, vs] : sc.params) {
      for (const auto& v : vs) StrAppend(&query, query.empty() ? "?" : "&", UrlEncode(k), "=", UrlEncode(v));
    }
    std::vector<std::string> headers = {kAccept};
    headers.push_back(StrCat("X-Prometheus-Scrape-Timeout-Seconds: ", absl::ToDoubleSeconds(cfg_.TimeoutOf(sc))));
    if (!sc.basic_auth_username.empty()) {
      headers.push_back(StrCat("Authorization: Basic ",
                               absl::Base64Escape(StrCat(sc.basic_auth_username, ":", sc.basic_auth_password))));
    } else if (!sc.authorization_credentials.empty()) {
      headers.push_back(StrCat("Authorization: ", sc.authorization_type, " ", sc.authorization_credentials));
    }
    for (const StaticConfig& st : sc.static_configs) {
      for (const std::string& addr : st.targets) {
        Target t;
        t.sc = &sc;
        t.client = clients_.back().get();
        t.url = StrCat(sc.scheme, "://", addr, sc.metrics_path, query);
        t.headers = headers;
        t.interval = cfg_.IntervalOf(sc);
        t.timeout = cfg_.TimeoutOf(sc);
        t.next = now;  // the first scrape right away
        t.state = std::make_unique<TargetState>(sc, addr, st.labels);
        targets_.push_back(std::move(t));
      }
    }
  }
  settings_.logger->info("scraping {} target(s) of {} job(s)", targets_.size(), cfg_.scrape_configs.size());
  worker_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void PrometheusReceiver::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    absl::Time due = absl::InfiniteFuture();
    for (const Target& t : targets_) due = std::min(due, t.next);
    if (due == absl::InfiniteFuture()) {
      cv_.wait(lock, [this] { return stop_; });
      break;
    }
    if (cv_.wait_until(lock, absl::ToChronoTime(due), [this] { return stop_; })) break;
    const absl::Time now = absl::Now();
    for (Target& t : targets_) {
      if (stop_) break;
      if (t.next > now) continue;
      lock.unlock();
      ScrapeOne(t);
      lock.lock();
      ++scrapes_;
      // The next one on the interval's grid; intervals missed (slow scrapes) are skipped.
      t.next += t.interval;
      const absl::Time after = absl::Now();
      if (t.next <= after) t.next += absl::Ceil(after - t.next, t.interval);
      if (t.next <= after) t.next += t.interval;
    }
  }
}

void PrometheusReceiver::ScrapeOne(Target& t) {
  const absl::Time start = absl::Now();
  auto resp = t.client->Get(t.url, t.headers, start + t.timeout, kMaxBody);
  absl::StatusOr<std::string> body;
  if (!resp.ok()) {
    body = resp.status();
  } else if (resp->code != 200) {
    body = absl::UnavailableError(StrCat("HTTP ", resp->code, " from ", t.url));
  } else {
    body = std::move(resp->body);
  }
  const double duration = absl::ToDoubleSeconds(absl::Now() - start);
  pdata::MetricsBuilder b(t.state->Resource(), kScopeName, "");
  ScrapeResult r = t.state->Process(body, static_cast<uint64_t>(absl::ToUnixNanos(start)), duration, &b);
  if (r.malformed) meter_.Malformed();
  if (!r.status.ok() && t.was_up) {
    settings_.logger->warn("scrape of {} (job {}) failed: {}", t.url, t.sc->job_name, r.status.ToString());
  } else if (r.status.ok() && !t.was_up) {
    settings_.logger->info("scrape of {} (job {}) succeeds again", t.url, t.sc->job_name);
  }
  t.was_up = r.status.ok();
  if (consumers_.metrics == nullptr) return;
  const size_t n = b.points();
  auto st = consumers_.metrics->ConsumeMetrics(b.Build());
  if (st.ok()) {
    meter_.Accepted(Signal::kMetrics, n);
  } else {
    meter_.Refused(Signal::kMetrics, n);
    settings_.logger->warn("the pipeline refused {} points scraped from {}: {}", n, t.url, st.ToString());
  }
}

absl::Status PrometheusReceiver::Shutdown(absl::Time) {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  return absl::OkStatus();
}

}  // namespace outrigger::receivers::prometheus
