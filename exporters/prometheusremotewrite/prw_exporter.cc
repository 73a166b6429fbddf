#include "exporters/prometheusremotewrite/prw_exporter.h"

#include <snappy.h>

#include <algorithm>
#include <system_error>
#include <thread>

#include "absl/strings/ascii.h"
#include "exporters/prometheusremotewrite/translator.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::prometheusremotewrite {
namespace {

constexpr char kUserAgent[] =
    "outrigger/"
    "0.1.0";

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

}  // namespace

bool Retryable(long code) { return code == 429 || (code >= 500 && code < 600); }

RemoteWritePusher::RemoteWritePusher(const CreateSettings& settings, const Config& cfg)
    : settings_(settings), cfg_(cfg), client_(cfg.tls, kUserAgent) {}

absl::Status RemoteWritePusher::Start(Host& host) {
  auto auth = cfg_.auth.Resolve(host);
  if (!auth.ok()) return auth.status();
  auth_ = *auth;
  if (auto w = httpclient::InsecureIgnoredWarning(cfg_.tls, {cfg_.endpoint}); !w.empty())
    settings_.logger->warn("{}", w);
  return absl::OkStatus();
}

absl::Status RemoteWritePusher::PushMetrics(const pdata::Metrics& d, absl::Time deadline) {
  Translation t = Translate(d, cfg_, NowMs());
  if (t.dropped > 0) {
    dropped_ += t.dropped;
    exporterhelper::ReportDropped(t.dropped);  // the helper counts them as dropped, the rest as sent
    for (const auto& [name, why] : t.drop_reasons) {
      if (WarnOnce(name)) {
        settings_.logger->error(
            "dropped the data points of metric \"{}\": {} (logged once per metric; {} dropped "
            "so far)",
            name, why, dropped_.load());
      }
    }
  }
  std::vector<::prometheus::WriteRequest> reqs =
      Split(std::move(t), cfg_.max_samples_per_request, cfg_.max_batch_size_bytes);
  const size_t parallel = std::min(reqs.size(), static_cast<size_t>(cfg_.max_batch_request_parallelism));
  if (parallel <= 1) {
    absl::Status permanent;
    for (const auto& r : reqs) {
      absl::Status st = Post(r, deadline);
      if (st.ok()) continue;
      if (exporterhelper::IsRetryable(st)) {
        // Stop here: the helper retries the whole batch (samples already written are
        // written again; Prometheus accepts identical duplicates).
        return st;
      }
      // The first is returned (and logged by the helper); log the others here.
      if (permanent.ok()) {
        permanent = st;
      } else {
        settings_.logger->error("{}", st.message());
      }
    }
    return permanent;
  }
  // max_batch_request_parallelism: the requests of this batch, `parallel` at a time, each
  // sender taking the next unsent one. Threads live only for this push (see ARCHITECTURE.md).
  std::vector<absl::Status> results(reqs.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> retry{false};
  auto sender = [&] {
    for (size_t i; (i = next.fetch_add(1)) < reqs.size();) {
      if (retry.load()) return;  // the batch is retried whole anyway
      results[i] = Post(reqs[i], deadline);
      if (exporterhelper::IsRetryable(results[i])) retry = true;
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(parallel - 1);
  for (size_t k = 1; k < parallel; ++k) {
    try {
      threads.emplace_back(sender);
    } catch (const std::system_error&) {
      break;  // out of threads: the ones started (and this one) send the rest
    }
  }
  sender();
  for (auto& th : threads) th.join();
  absl::Status permanent;
  for (const auto& st : results) {
    if (exporterhelper::IsRetryable(st)) return st;
  }
  for (const auto& st : results) {
    if (st.ok()) continue;
    if (permanent.ok()) {
      permanent = st;
    } else {
      settings_.logger->error("{}", st.message());
    }
  }
  return permanent;
}

bool RemoteWritePusher::WarnOnce(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (warned_.size() >= 1000) return false;
  for (const auto& w : warned_) {
    if (w == name) return false;
  }
  warned_.push_back(name);
  return true;
}

absl::Status RemoteWritePusher::Post(const ::prometheus::WriteRequest& req, absl::Time deadline) {
  std::string raw = req.SerializeAsString();
  std::string body;
  snappy::Compress(raw.data(), raw.size(), &body);

  std::vector<std::string> headers = {"Content-Type: application/x-protobuf", "Content-Encoding: snappy",
                                      "X-Prometheus-Remote-Write-Version: 0.1.0"};
  for (const auto& [k, v] : cfg_.headers) headers.push_back(k + ": " + v);
  if (auto st = httpclient::AppendAuthHeaders(auth_, &headers); !st.ok()) return st;
  auto resp = client_.Post(cfg_.endpoint, body, headers, deadline);
  if (!resp.ok()) return resp.status();
  absl::Status st = httpclient::StatusOf(*resp, StrCat("POST ", cfg_.endpoint), Retryable);
  if (!st.ok() && !exporterhelper::IsRetryable(st)) {
    return absl::Status(st.code(), StrCat(st.message(), " (", req.timeseries_size(), " series dropped)"));
  }
  return st;
}

}  // namespace outrigger::exporters::prometheusremotewrite
