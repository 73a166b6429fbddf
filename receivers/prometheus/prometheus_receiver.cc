#include "receivers/prometheus/prometheus_receiver.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <chrono>
#include <unordered_map>

#include "absl/strings/escaping.h"
#include "collector/common/thread_name.h"
#include "receivers/prometheus/kubernetes_sd.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::prometheus {

namespace {

// A scrape whose body was this large gives the freed memory back to the system after.
constexpr size_t kTrimAfterBody = 8 << 20;
// A Kubernetes discovery is polled when its watch reports a change, at most this often
// (a burst of events is one rebuild of the targets), and otherwise at kKubernetesSdPoll.
// 5 s, as Prometheus's discovery manager sends target updates: a full rebuild of 10,000
// Pods' targets costs ~0.3 s of CPU (bench/prometheus_k8s_sd_bench).
constexpr absl::Duration kKubernetesSdMinPoll = absl::Seconds(5);
constexpr absl::Duration kKubernetesSdPoll = absl::Seconds(30);

std::string KeyOf(const ScrapeTarget& t) {
  std::string key = t.url;
  for (const auto& [k, v] : t.labels) StrAppend(&key, "\x1f", k, "\x1e", v);
  return key;
}

}  // namespace

PrometheusReceiver::PrometheusReceiver(const CreateSettings& settings, const Config& cfg)
    : settings_(settings),
      cfg_(cfg),
      meter_(settings.telemetry->ForReceiver(settings.id, "http")),
      discovery_meter_(settings.telemetry->ForReceiver(settings.id, "discovery")) {
  // Decode compiled the rules; a Config built in code has them compiled here (Validate
  // has checked that they compile).
  for (ScrapeConfig& sc : cfg_.scrape_configs) {
    for (auto* rules : {&sc.relabel_configs, &sc.metric_relabel_configs}) {
      for (RelabelConfig& r : *rules) {
        if (!r.compiled()) (void)r.Compile();
      }
    }
  }
}

PrometheusReceiver::~PrometheusReceiver() { (void)Shutdown(absl::Now()); }

int64_t PrometheusReceiver::scrapes() const {
  std::lock_guard<std::mutex> l(mu_);
  return scrapes_;
}

std::vector<std::string> PrometheusReceiver::target_urls() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> urls;
  for (const Target& t : targets_) urls.push_back(t.url);
  return urls;
}

std::optional<PrometheusReceiver::Target> PrometheusReceiver::MakeTarget(const ScrapeConfig& sc,
                                                                         httpclient::Client* client,
                                                                         const LabelSet& group, int source) {
  auto st = PopulateTarget(sc, cfg_.IntervalOf(sc), cfg_.TimeoutOf(sc), group);
  if (!st.ok()) {
    auto addr = group.find("__address__");
    settings_.logger->warn("job {}: target {} is skipped: {}", sc.job_name,
                           addr == group.end() ? std::string("?") : addr->second, st.status().message());
    return std::nullopt;
  }
  if (!st->has_value()) return std::nullopt;  // dropped by relabel_configs
  return TargetFrom(sc, client, **st, source);
}

PrometheusReceiver::Target PrometheusReceiver::TargetFrom(const ScrapeConfig& sc, httpclient::Client* client,
                                                          const ScrapeTarget& spec, int source) {
  Target t;
  t.sc = &sc;
  t.client = client;
  t.url = spec.url;
  // Prometheus's own Accept header (OpenMetrics first), or the job's scrape_protocols;
  // the answer's Content-Type picks the parser (KnownFormatOf), else the job's
  // fallback_scrape_protocol.
  t.headers = {StrCat("Accept: ", AcceptOf(t.sc->scrape_protocols))};
  t.headers.push_back(StrCat("X-Prometheus-Scrape-Timeout-Seconds: ", absl::ToDoubleSeconds(spec.timeout)));
  if (!sc.basic_auth_username.empty()) {
    t.headers.push_back(StrCat("Authorization: Basic ",
                               absl::Base64Escape(StrCat(sc.basic_auth_username, ":", sc.basic_auth_password))));
  } else if (!sc.authorization_credentials.empty()) {
    t.headers.push_back(StrCat("Authorization: ", sc.authorization_type, " ", sc.authorization_credentials));
  }
  t.interval = spec.interval;
  t.timeout = spec.timeout;
  t.next = absl::Now() + cfg_.initial_scrape_offset;  // the first scrape right away, unless offset
  t.state =
      std::make_unique<TargetState>(sc, spec.address, std::map<std::string, std::string>(spec.labels), spec.scheme);
  t.source = source;
  t.key = KeyOf(spec);
  return t;
}

absl::Status PrometheusReceiver::Start(Host&) {
  if (worker_.joinable()) return absl::OkStatus();
  const absl::Time now = absl::Now();
  std::lock_guard<std::mutex> l(mu_);
  for (const ScrapeConfig& sc : cfg_.scrape_configs) {
    httpclient::TlsConfig tls = sc.tls;
    clients_.push_back(std::make_unique<httpclient::Client>(tls, "outrigger-prometheus-receiver"));
    for (const StaticConfig& st : sc.static_configs) {
      for (const std::string& addr : st.targets) {
        LabelSet group(st.labels.begin(), st.labels.end());
        group["__address__"] = addr;
        if (auto t = MakeTarget(sc, clients_.back().get(), group, -1)) targets_.push_back(std::move(*t));
      }
    }
    for (const PodAnnotationsSdConfig& pa : sc.pod_annotations_sd_configs) {
      Discovery d;
      d.sc = &sc;
      d.client = clients_.back().get();
      d.d = std::make_unique<PodAnnotationsDiscovery>(pa.file);
      d.every = pa.refresh_interval > absl::ZeroDuration() ? pa.refresh_interval : cfg_.IntervalOf(sc);
      d.next = now;  // the first poll right away, on the worker
      discoveries_.push_back(std::move(d));
    }
    for (const FileSdConfig& fs : sc.file_sd_configs) {
      Discovery d;
      d.sc = &sc;
      d.client = clients_.back().get();
      d.d = std::make_unique<FileSdDiscovery>(fs.files);
      d.every = fs.refresh_interval;
      d.next = now;
      discoveries_.push_back(std::move(d));
    }
    for (const KubernetesSdConfig& ks : sc.kubernetes_sd_configs) {
      const std::string receiver = settings_.id.String(), job = sc.job_name;
      Telemetry* telemetry = settings_.telemetry;
      auto k = KubernetesSdDiscovery::Create(ks, settings_.logger, [telemetry, receiver, job](std::string_view reason) {
        telemetry
            ->AddCounter(
                "outrigger_receiver_prometheus_kubernetes_sd_errors_total",
                "Kubernetes discovery answers refused, by reason (request: a failed list or watch, or a "
                "line that is no watch event; object: an object that is no Pod/Node/Service/Endpoints; limit: more "
                "objects than the discovery keeps)",
                {{"receiver", receiver}, {"job", job}, {"reason", std::string(reason)}})
            .Increment();
      });
      if (!k.ok()) {
        discoveries_.clear();
        targets_.clear();
        return absl::FailedPreconditionError(
            StrCat("job ", sc.job_name, ": kubernetes_sd_configs (role ", ks.role, "): ", k.status().message()));
      }
      Discovery d;
      d.sc = &sc;
      d.client = clients_.back().get();
      d.d = std::move(*k);
      d.every = kKubernetesSdPoll;
      d.next = now;
      discoveries_.push_back(std::move(d));
    }
  }
  // The watches start last: a change wakes the worker to poll that discovery.
  for (size_t i = 0; i < discoveries_.size(); ++i) {
    discoveries_[i].d->Start([this, i] {
      std::lock_guard<std::mutex> l(mu_);
      Discovery& d = discoveries_[i];
      d.dirty = true;
      d.next = std::min(d.next, d.last + kKubernetesSdMinPoll);
      wake_ = true;
      cv_.notify_all();
    });
  }
  settings_.logger->info("scraping {} static target(s) of {} job(s), {} discovery source(s) to watch", targets_.size(),
                         cfg_.scrape_configs.size(), discoveries_.size());
  worker_ = NamedThread("prom-scrape", [this] { Run(); });
  return absl::OkStatus();
}

void PrometheusReceiver::Rediscover(size_t i, std::unique_lock<std::mutex>& lock) {
  Discovery& d = discoveries_[i];
  lock.unlock();
  auto r = d.d->Poll();
  // The targets the groups make (relabel_configs), without the lock: the groups are the
  // worker's, and a discovery's watch threads must not wait on this.
  std::vector<ScrapeTarget> specs;
  std::vector<std::string> keys;
  if (r.changed) {
    for (const LabelSet& g : d.d->groups()) {
      auto st = PopulateTarget(*d.sc, cfg_.IntervalOf(*d.sc), cfg_.TimeoutOf(*d.sc), g);
      if (!st.ok()) {
        auto addr = g.find("__address__");
        settings_.logger->warn("job {}: target {} is skipped: {}", d.sc->job_name,
                               addr == g.end() ? std::string("?") : addr->second, st.status().message());
        continue;
      }
      if (!st->has_value()) continue;  // dropped by relabel_configs
      keys.push_back(KeyOf(**st));
      specs.push_back(std::move(**st));
    }
  }
  lock.lock();
  if (!r.error.ok()) {
    discovery_meter_.Malformed();
    settings_.logger->error("job {}: {}: {}; keeping the {} target(s) found before", d.sc->job_name, d.d->kind(),
                            r.error.message(), d.d->groups().size());
  }
  if (!r.changed) return;
  // Matched by key (URL and labels), in time linear in the targets: the same key is the
  // same target, which keeps its state and schedule; a key twice is one target.
  std::unordered_map<std::string_view, size_t> wanted;  // key -> its first index in specs
  for (size_t k = 0; k < keys.size(); ++k) wanted.emplace(keys[k], k);
  std::vector<bool> taken(specs.size(), false);
  std::vector<Target> kept, removed;
  for (Target& t : targets_) {
    if (t.source != static_cast<int>(i)) {
      kept.push_back(std::move(t));
      continue;
    }
    auto it = wanted.find(t.key);
    if (it != wanted.end() && !taken[it->second]) {
      taken[it->second] = true;
      kept.push_back(std::move(t));
    } else {
      removed.push_back(std::move(t));
    }
  }
  for (size_t k = 0; k < specs.size(); ++k) {
    if (taken[k] || wanted.at(keys[k]) != k) continue;
    taken[k] = true;
    settings_.logger->info("job {}: new target {}", d.sc->job_name, specs[k].url);
    kept.push_back(TargetFrom(*d.sc, d.client, specs[k], static_cast<int>(i)));
  }
  targets_ = std::move(kept);
  specs.clear();
  keys.clear();
  d.d->Release();
  lock.unlock();
  // A target that is gone: its series end now (as Prometheus does when a target disappears).
  const uint64_t now_ns = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  for (Target& t : removed) {
    settings_.logger->info("job {}: target {} is gone", d.sc->job_name, t.url);
    pdata::MetricsBuilder b(t.state->Resource(), kScopeName, "");
    t.state->EmitStaleAll(now_ns, &b);
    if (consumers_.metrics != nullptr && b.points() > 0) {
      const size_t n = b.points();
      if (consumers_.metrics->ConsumeMetrics(b.Build()).ok()) {
        meter_.Accepted(Signal::kMetrics, n);
      } else {
        meter_.Refused(Signal::kMetrics, n);
      }
    }
  }
  lock.lock();
}

void PrometheusReceiver::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    absl::Time due = absl::InfiniteFuture();
    for (const Target& t : targets_) due = std::min(due, t.next);
    for (const Discovery& d : discoveries_) due = std::min(due, d.next);
    if (due == absl::InfiniteFuture()) {
      cv_.wait(lock, [this] { return stop_ || wake_; });
    } else {
      cv_.wait_until(lock, absl::ToChronoTime(due), [this] { return stop_ || wake_; });
    }
    if (stop_) break;
    wake_ = false;
    const absl::Time now = absl::Now();
    for (size_t i = 0; i < discoveries_.size() && !stop_; ++i) {
      if (discoveries_[i].next > now) continue;
      discoveries_[i].last = now;
      discoveries_[i].dirty = false;
      Rediscover(i, lock);
      Discovery& d = discoveries_[i];
      d.next += d.every;
      if (d.next <= now) d.next = now + d.every;
      // A change reported while polling (the lock is released then) is polled soon.
      if (d.dirty) d.next = std::min(d.next, d.last + kKubernetesSdMinPoll);
    }
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
  // scrape_on_shutdown: one last scrape of every target (each within its timeout), so
  // that what happened since the last one is not lost.
  if (cfg_.scrape_on_shutdown) {
    for (Target& t : targets_) {
      lock.unlock();
      ScrapeOne(t);
      lock.lock();
      ++scrapes_;
    }
  }
}

void PrometheusReceiver::ScrapeOne(Target& t) {
  // Admission (a memory_limiter in a pipeline of this receiver), by the size of the last
  // answer: refused, this scrape is skipped (counted) and the next is on its interval.
  constexpr size_t kMinScrapeEstimate = 64 << 10;
  auto admitted = admission_.Admit(std::max(t.last_body, kMinScrapeEstimate));
  if (!admitted.ok()) {
    settings_.telemetry
        ->AddCounter("outrigger_receiver_prometheus_scrapes_skipped_total",
                     "Scrapes not made, by reason (memory_limit: the memory limit refused the expected answer size)",
                     {{"receiver", settings_.id.String()}, {"job", t.sc->job_name}, {"reason", "memory_limit"}})
        .Increment();
    if (!t.memory_skipping) {
      settings_.logger->warn("scrapes of {} (job {}) are skipped: {}", t.url, t.sc->job_name,
                             admitted.status().message());
    }
    t.memory_skipping = true;
    return;
  }
  if (t.memory_skipping) settings_.logger->info("scrapes of {} (job {}) are made again", t.url, t.sc->job_name);
  t.memory_skipping = false;
  const size_t body_size = ScrapeAndSend(t);
  t.last_body = body_size;
#if defined(__GLIBC__)
  // The body and what was made of it are freed now; glibc would keep most of it (its
  // mmap threshold rises with the first large free): a 55 MB scrape left ~84 MiB held.
  if (body_size >= kTrimAfterBody) malloc_trim(0);
#endif
}

size_t PrometheusReceiver::ScrapeAndSend(Target& t) {
  const absl::Time start = absl::Now();
  const size_t max_body = t.sc->body_size_limit == 0 ? SIZE_MAX : static_cast<size_t>(t.sc->body_size_limit);
  auto resp = t.client->Get(t.url, t.headers, start + t.timeout, max_body);
  if (!resp.ok() && absl::IsResourceExhausted(resp.status())) {
    resp = absl::ResourceExhaustedError(
        StrCat("body_size_limit exceeded: the answer is larger than ", t.sc->body_size_limit, " bytes"));
  }
  absl::StatusOr<std::string> body;
  Format format = Format::kPrometheusText;
  if (!resp.ok()) {
    body = resp.status();
  } else if (resp->code != 200) {
    body = absl::UnavailableError(StrCat("HTTP ", resp->code, " from ", t.url));
  } else {
    body = std::move(resp->body);
    format = KnownFormatOf(resp->content_type).value_or(t.sc->fallback_format.value_or(Format::kPrometheusText));
  }
  const size_t body_size = body.ok() ? body->size() : 0;
  const double duration = absl::ToDoubleSeconds(absl::Now() - start);
  pdata::MetricsBuilder b(t.state->Resource(), kScopeName, "");
  ScrapeResult r = t.state->Process(body, format, static_cast<uint64_t>(absl::ToUnixNanos(start)), duration, &b);
  if (r.malformed) meter_.Malformed();
  if (!r.limit.empty()) {
    settings_.telemetry
        ->AddCounter("outrigger_receiver_prometheus_scrape_limit_failures_total",
                     "Scrapes failed (up = 0) because they exceeded a limit of their scrape config",
                     {{"receiver", settings_.id.String()}, {"job", t.sc->job_name}, {"limit", std::string(r.limit)}})
        .Increment();
  }
  if (!r.status.ok() && t.was_up) {
    settings_.logger->warn("scrape of {} (job {}) failed: {}", t.url, t.sc->job_name, r.status.ToString());
  } else if (r.status.ok() && !t.was_up) {
    settings_.logger->info("scrape of {} (job {}) succeeds again", t.url, t.sc->job_name);
  }
  t.was_up = r.status.ok();
  if (consumers_.metrics == nullptr) return body_size;
  const size_t n = b.points();
  pdata::Metrics metrics = b.Build();
  t.state->AddDescriptions(&metrics);
  auto st = consumers_.metrics->ConsumeMetrics(std::move(metrics));
  if (st.ok()) {
    meter_.Accepted(Signal::kMetrics, n);
  } else {
    meter_.Refused(Signal::kMetrics, n);
    settings_.logger->warn("the pipeline refused {} points scraped from {}: {}", n, t.url, st.ToString());
  }
  return body_size;
}

absl::Status PrometheusReceiver::Shutdown(absl::Time) {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  // The watches (their threads call back into mu_ and cv_, so they stop while both live).
  std::vector<TargetDiscovery*> ds;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (Discovery& d : discoveries_) ds.push_back(d.d.get());
  }
  for (TargetDiscovery* d : ds) d->Stop();
  return absl::OkStatus();
}

}  // namespace outrigger::receivers::prometheus
