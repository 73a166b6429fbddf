// Elasticsearch exporter: logs and spans as documents, sent with the _bulk API over the
// shared libcurl client, on the shared exporter helper (queue, whole-batch retry,
// timeout). Within one push, only the documents that failed with a retryable status are
// resent (with exponential backoff); permanent item errors are dropped, counted and
// logged with Elasticsearch's reason; a 413 splits the request; with several endpoints,
// a node that cannot be reached is skipped for the next one at once.
#include "exporters/elasticsearch/elasticsearch_exporter.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "collector/common/thread_name.h"
#include "collector/exporterhelper/backoff.h"
#include "collector/httpclient/http_client.h"
#include "collector/otlp/wire.h"
#include "exporters/elasticsearch/bulk.h"
#include "exporters/elasticsearch/encoder.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::elasticsearch {
namespace {

constexpr char kUserAgent[] = "outrigger/0.1.0";
// Batches whose retryable failures were handed back to the helper, remembered so the
// helper's resend of the same batch skips what was already indexed (or dropped).
constexpr size_t kMaxPendingBatches = 64;
// One GET _nodes/http: at most this long.
constexpr absl::Duration kDiscoverTimeout = absl::Seconds(5);

enum : uint8_t { kPending = 0, kDone = 1, kDropped = 2 };

struct Round {
  std::vector<uint32_t> retry;  // documents to send again
  std::optional<absl::Duration> server_delay;
  bool throttled = false;  // a 429 among them
  std::string last_error;
  size_t dropped = 0;
  std::string first_drop;
};

// Removes "user[:password]@" from a URL's authority (percent-decoded into *user,
// *password); false if there is none.
bool StripUserInfo(std::string* url, std::string* user, std::string* password) {
  const size_t scheme = url->find("://");
  if (scheme == std::string::npos) return false;
  const size_t start = scheme + 3;
  const size_t end = std::min(url->find('/', start), url->size());
  const size_t at = url->rfind('@', end - 1);
  if (at == std::string::npos || at < start) return false;
  const std::string info = url->substr(start, at - start);
  auto decode = [](std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
      };
      if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
        out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
        i += 2;
      } else {
        out.push_back(in[i]);
      }
    }
    return out;
  };
  const size_t colon = info.find(':');
  *user = decode(std::string_view(info).substr(0, colon));
  *password = colon == std::string::npos ? "" : decode(std::string_view(info).substr(colon + 1));
  url->erase(start, at + 1 - start);
  return true;
}

class BulkPusher : public exporterhelper::Pusher {
 public:
  BulkPusher(const CreateSettings& settings, const Config& cfg)
      : settings_(settings),
        cfg_(cfg),
        encoder_(cfg_),
        client_(cfg.tls, kUserAgent),
        urls_(cfg.Urls()),
        malformed_answers_(&settings.telemetry->AddCounter(
            "outrigger_exporter_elasticsearch_malformed_responses_total",
            "2xx answers to _bulk whose body is not a bulk response (not JSON, no items, wrong count): the "
            "documents are sent again",
            {{"exporter", settings.id.String()}})),
        discover_failures_(&settings.telemetry->AddCounter(
            "outrigger_exporter_elasticsearch_discovery_failures_total",
            "node discoveries (GET _nodes/http) that failed or found no node: the nodes in use are kept",
            {{"exporter", settings.id.String()}})) {
    headers_.push_back("Content-Type: application/x-ndjson");
    if (cfg_.compression == "gzip") headers_.push_back("Content-Encoding: gzip");
    // As upstream's transport: an Authorization in `headers` wins; else credentials in the
    // (first) URL; else the API key; else basic authentication with user/password.
    std::string url_user, url_password;
    bool url_credentials = false;
    for (size_t i = 0; i < urls_.size(); ++i) {
      std::string user, password;
      bool had = StripUserInfo(&urls_[i], &user, &password);
      if (i == 0 && had) {
        url_credentials = true;
        url_user = std::move(user);
        url_password = std::move(password);
      }
    }
    bool have_auth = false;
    for (const auto& [k, v] : cfg_.headers) have_auth |= absl::EqualsIgnoreCase(k, "Authorization");
    if (have_auth) {
    } else if (url_credentials) {
      headers_.push_back("Authorization: Basic " + absl::Base64Escape(url_user + ":" + url_password));
    } else if (!cfg_.api_key.empty()) {
      headers_.push_back("Authorization: ApiKey " + cfg_.api_key);
    } else if (!cfg_.user.empty()) {
      headers_.push_back("Authorization: Basic " + absl::Base64Escape(cfg_.user + ":" + cfg_.password));
    }
    for (const auto& [k, v] : cfg_.headers) headers_.push_back(k + ": " + v);
    if (cfg_.include_source_on_error >= 0) {
      bulk_query_ =
          cfg_.include_source_on_error == 1 ? "?include_source_on_error=true" : "?include_source_on_error=false";
    }
    nodes_ = std::make_shared<const std::vector<std::string>>(urls_);
  }

  absl::Status PushLogs(const pdata::Logs& d, absl::Time deadline) override {
    EncodedBatch b;
    encoder_.EncodeLogs(d, static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())), &b);
    return Deliver(Signal::kLogs, b, deadline, [&] { return Fingerprint(d); });
  }
  absl::Status PushTraces(const pdata::Traces& d, absl::Time deadline) override {
    EncodedBatch b;
    encoder_.EncodeTraces(d, static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())), &b);
    return Deliver(Signal::kTraces, b, deadline, [&] { return Fingerprint(d); });
  }
  absl::Status PushMetrics(const pdata::Metrics& d, absl::Time deadline) override {
    if (cfg_.mapping_mode != "otel" && cfg_.mapping_mode != "ecs") {
      // As upstream: these modes have no metrics documents (permanent: dropped and counted).
      return absl::InvalidArgumentError(StrCat("mapping mode \"", cfg_.mapping_mode,
                                               "\" does not support metrics: use mapping.mode otel or ecs (another "
                                               "elasticsearch exporter in the metrics pipeline)"));
    }
    EncodedBatch b;
    encoder_.EncodeMetrics(d, static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())), &b);
    return Deliver(Signal::kMetrics, b, deadline, [&] { return Fingerprint(d); });
  }

 public:
  absl::Status Start(Host& host) override {
    auto auth = cfg_.auth.Resolve(host);
    if (!auth.ok()) return auth.status();
    auth_ = *auth;
    if (auto w = httpclient::InsecureIgnoredWarning(cfg_.tls, urls_); !w.empty()) settings_.logger->warn("{}", w);
    if (cfg_.discover_on_start || cfg_.discover_interval > absl::ZeroDuration()) {
      // Discovery runs beside the pushes (as upstream's on_start, which does not hold the
      // start): until it answers, the configured endpoints are used.
      discoverer_ = NamedThread("es-discover", [this] { DiscoverLoop(); });
    }
    return absl::OkStatus();
  }

  void BeginShutdown(absl::Time deadline) override {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_deadline_ = deadline;
    stop_cv_.notify_all();
  }

  absl::Status Shutdown() override {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      if (stop_deadline_ == absl::InfiniteFuture()) stop_deadline_ = absl::Now();
      stop_cv_.notify_all();
    }
    if (discoverer_.joinable()) discoverer_.join();
    return absl::OkStatus();
  }

  ~BulkPusher() override {
    if (discoverer_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(stop_mu_);
        stop_deadline_ = absl::Now();
        stop_cv_.notify_all();
      }
      discoverer_.join();
    }
  }

  // The nodes requests are spread over: the configured endpoints, or the last discovery.
  std::shared_ptr<const std::vector<std::string>> Nodes() {
    std::lock_guard<std::mutex> lock(nodes_mu_);
    return nodes_;
  }

 private:
  absl::Time StopDeadline() {
    std::lock_guard<std::mutex> lock(stop_mu_);
    return stop_deadline_;
  }
  // Waits `d`; false at once when shutdown has begun.
  bool SleepUnlessStopping(absl::Duration d) {
    std::unique_lock<std::mutex> lock(stop_mu_);
    return !stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(d),
                              [&] { return stop_deadline_ != absl::InfiniteFuture(); });
  }

  // Identifies a batch across the helper's retries: its OTLP content (not the encoded
  // documents, which carry the encoding time for records without one).
  template <typename D>
  static uint64_t Fingerprint(const D& d) {
    const std::string proto = d.ToProto();
    return std::hash<std::string_view>{}(proto) ^ (d.ItemCount() * 0x9E3779B97F4A7C15ULL);
  }

  absl::Status Deliver(Signal sig, const EncodedBatch& b, absl::Time deadline,
                       const std::function<uint64_t()>& fingerprint) {
    const size_t n = b.docs.size();
    if (n == 0 && b.invalid > 0) {
      return absl::InvalidArgumentError(
          StrCat("none of the ", b.invalid, " data points can be indexed, e.g. ", b.first_invalid));
    }
    if (n == 0) return absl::OkStatus();
    std::vector<uint8_t> state(n, kPending);
    uint64_t fp = 0;
    bool have_fp = false, resumed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pending_.empty()) {
        fp = fingerprint();
        have_fp = true;
        auto it = pending_.find(fp);
        if (it != pending_.end() && it->second.size() == n) {
          state = it->second;
          resumed = true;
        }
      }
    }
    std::vector<uint32_t> todo;
    size_t done_before = 0;  // items indexed by an earlier push of this batch
    size_t total_items = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (state[i] == kPending) todo.push_back(i);
      done_before += state[i] == kDone ? b.docs[i].items : 0;
      total_items += b.docs[i].items;
    }

    // Data points that made no document: dropped, counted once (on the first attempt).
    size_t dropped = resumed ? 0 : b.invalid;
    std::string first_drop = resumed ? "" : b.first_invalid;
    exporterhelper::Backoff backoff(
        exporterhelper::RetryConfig::Doubling(cfg_.retry.initial_interval, cfg_.retry.max_interval), /*seed=*/0);
    Round last;
    for (int attempt = 0; !todo.empty(); ++attempt) {
      deadline = std::min(deadline, StopDeadline());
      last = SendRound(b, todo, deadline, state);
      dropped += last.dropped;
      if (first_drop.empty()) first_drop = last.first_drop;
      todo = std::move(last.retry);
      if (todo.empty() || !cfg_.retry.enabled || attempt >= cfg_.retry.max_retries) break;
      const absl::Duration delay = backoff.NextDelay();
      absl::Duration wait = last.server_delay ? std::max(*last.server_delay, delay) : delay;
      if (absl::Now() + wait >= deadline) break;
      settings_.logger->warn("{} of {} documents failed ({}); resending them in {}", todo.size(), n, last.last_error,
                             absl::FormatDuration(wait));
      if (!SleepUnlessStopping(wait)) break;  // shutdown: hand what is left back to the helper
    }
    if (!todo.empty()) {
      LogDrops(sig, dropped, first_drop);
      // Hand the batch back to the helper (which retries it later); remember what is done.
      if (!have_fp) fp = fingerprint();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (pending_.find(fp) == pending_.end()) {
          pending_order_.push_back(fp);
          if (pending_order_.size() > kMaxPendingBatches) {
            pending_.erase(pending_order_.front());
            pending_order_.pop_front();
          }
        }
        pending_[fp] = state;
      }
      exporterhelper::ReportDropped(dropped);  // counted by the helper
      // Indexed by this push: if the helper gives up on the batch, these count as sent.
      size_t done_now = 0;
      for (uint32_t i = 0; i < n; ++i) done_now += state[i] == kDone ? b.docs[i].items : 0;
      exporterhelper::ReportDelivered(done_now - done_before);
      std::string msg = StrCat(todo.size(), " of ", n, " documents not indexed yet: ", last.last_error);
      absl::Status st = last.throttled ? absl::ResourceExhaustedError(msg) : absl::UnavailableError(msg);
      if (last.server_delay) st = exporterhelper::WithRetryDelay(st, *last.server_delay);
      return st;
    }
    if (have_fp || resumed) {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.erase(fp) > 0) {
        pending_order_.erase(std::find(pending_order_.begin(), pending_order_.end(), fp));
      }
    }
    if (dropped == total_items + b.invalid && !resumed) {
      // Nothing indexed: the helper counts and logs the whole batch as dropped.
      return absl::InvalidArgumentError(StrCat("Elasticsearch rejected all ", n, " documents: ", first_drop));
    }
    // The helper counts these as dropped and the rest of the batch as sent.
    LogDrops(sig, dropped, first_drop);
    exporterhelper::ReportDropped(dropped);
    return absl::OkStatus();
  }

  // One pass over `which`, in requests of at most flush.bytes.
  Round SendRound(const EncodedBatch& b, const std::vector<uint32_t>& which, absl::Time deadline,
                  std::vector<uint8_t>& state) {
    Round r;
    std::vector<uint32_t> chunk;
    size_t bytes = 0;
    for (uint32_t i : which) {
      size_t sz = b.DocBytes(b.docs[i]);
      if (!chunk.empty() && bytes + sz > cfg_.flush_bytes) {
        SendRequest(b, chunk, deadline, state, r);
        chunk.clear();
        bytes = 0;
      }
      chunk.push_back(i);
      bytes += sz;
    }
    if (!chunk.empty()) SendRequest(b, chunk, deadline, state, r);
    return r;
  }

  void Drop(const EncodedBatch& b, uint32_t i, std::vector<uint8_t>& state, Round& r, const std::string& why) {
    state[i] = kDropped;
    r.dropped += b.docs[i].items;
    if (r.first_drop.empty()) r.first_drop = StrCat(why, " (index ", b.indices[b.docs[i].index], ")");
  }

  void SendRequest(const EncodedBatch& b, const std::vector<uint32_t>& which, absl::Time deadline,
                   std::vector<uint8_t>& state, Round& r) {
    auto retry_all = [&](const std::string& why) {
      r.retry.insert(r.retry.end(), which.begin(), which.end());
      r.last_error = why;
    };
    std::string body = encoder_.BulkBody(b, which);
    if (cfg_.compression == "gzip") body = outrigger::otlp::Gzip(body, cfg_.compression_level);
    // Round-robin; a transport failure (connection refused, TLS, ...: no HTTP answer) at
    // one node fails over to the next ones at once, each tried once, so a node that is
    // down does not hold the request while others are up. HTTP answers (503 too) are not
    // failed over here: they are retried (on the next node in turn) after the backoff.
    const size_t first = next_url_.fetch_add(1, std::memory_order_relaxed);
    const auto nodes = Nodes();
    const std::vector<std::string>& urls = *nodes;
    std::string url;
    absl::StatusOr<httpclient::Response> resp;
    for (size_t k = 0; k < urls.size(); ++k) {
      url = urls[(first + k) % urls.size()] + "/_bulk" + bulk_query_;
      std::vector<std::string> with_auth;
      if (auth_ != nullptr) {
        with_auth = headers_;
        if (auto st = httpclient::AppendAuthHeaders(auth_, &with_auth); !st.ok()) {
          resp = st;
          break;
        }
      }
      resp = client_.Post(url, body, auth_ != nullptr ? with_auth : headers_, deadline);
      if (resp.ok() || !absl::IsUnavailable(resp.status()) || k + 1 == urls.size() || absl::Now() >= deadline) break;
      LogFailover(resp.status());
    }
    if (!resp.ok()) {
      retry_all(std::string(resp.status().message()));
      return;
    }
    const int code = static_cast<int>(resp->code);
    if (code >= 200 && code < 300) {
      auto items = ParseBulkResponse(resp->body, which.size());
      if (!items.ok()) {
        // Which documents were indexed is unknown: all are sent again (retryable, as
        // upstream's bulk indexer returns the decoding error), and the answer is counted.
        malformed_answers_->Increment();
        retry_all(StrCat("POST ", url, ": HTTP ", code, " with a body that is not a _bulk answer (",
                         items.status().message(), ")"));
        return;
      }
      for (size_t k = 0; k < which.size(); ++k) {
        const ItemResult& it = (*items)[k];
        const uint32_t i = which[k];
        if ((it.status >= 200 && it.status < 300) || (it.status == 409 && !b.docs[i].id.empty())) {
          state[i] = kDone;  // 409 with our content _id: the same document is there already
        } else if (cfg_.Retryable(it.status)) {
          r.retry.push_back(i);
          r.throttled |= it.status == 429;
          r.last_error = StrCat("status ", it.status, " ", it.error_type, ": ", it.error_reason);
        } else {
          Drop(b, i, state, r, StrCat("status ", it.status, " ", it.error_type, ": ", it.error_reason));
        }
      }
      return;
    }
    if (code == 413 && which.size() > 1) {
      // Too large for the server's http.max_content_length: halve and send both.
      std::vector<uint32_t> a(which.begin(), which.begin() + static_cast<ptrdiff_t>(which.size() / 2));
      std::vector<uint32_t> c(which.begin() + static_cast<ptrdiff_t>(which.size() / 2), which.end());
      SendRequest(b, a, deadline, state, r);
      SendRequest(b, c, deadline, state, r);
      return;
    }
    const std::string why = StrCat("POST ", url, ": HTTP ", code, " ", ErrorSummary(resp->body));
    if (cfg_.Retryable(code)) {
      retry_all(why);
      r.throttled |= code == 429;
      if (auto d = outrigger::otlp::ParseRetryAfter(resp->retry_after)) r.server_delay = d;
      return;
    }
    for (uint32_t i : which) Drop(b, i, state, r, why);
  }

  // Node discovery (discover.on_start / interval), as upstream's transport sniffs: GET
  // <node>/_nodes/http on a node in use; each node's http.publish_address ("host/ip:port"
  // or "ip:port") with the first endpoint's scheme; nodes whose only role is master are
  // left out. A failed or empty answer keeps the nodes in use.
  void DiscoverLoop() {
    bool first = true;
    for (;;) {
      if (!first || cfg_.discover_on_start) DiscoverOnce();
      first = false;
      if (cfg_.discover_interval <= absl::ZeroDuration()) return;
      if (!SleepUnlessStopping(cfg_.discover_interval)) return;
    }
  }

  void DiscoverOnce() {
    const auto nodes = Nodes();
    if (nodes->empty() || urls_.empty()) return;
    const std::string& base = (*nodes)[next_url_.fetch_add(1, std::memory_order_relaxed) % nodes->size()];
    // Short, so a node that does not answer holds shutdown (which waits for this) little.
    const absl::Time deadline = std::min(absl::Now() + kDiscoverTimeout, StopDeadline());
    std::vector<std::string> headers;
    for (const auto& h : headers_) {
      if (!absl::StartsWithIgnoreCase(h, "Content-")) headers.push_back(h);
    }
    if (auth_ != nullptr) {
      if (auto st = httpclient::AppendAuthHeaders(auth_, &headers); !st.ok()) {
        discover_failures_->Increment();
        settings_.logger->warn("node discovery: {}", std::string(st.message()));
        return;
      }
    }
    auto resp = client_.Get(base + "/_nodes/http", headers, deadline, 16 << 20);
    absl::StatusOr<std::vector<std::string>> found =
        !resp.ok()          ? absl::StatusOr<std::vector<std::string>>(resp.status())
        : resp->code != 200 ? absl::StatusOr<std::vector<std::string>>(
                                  absl::UnavailableError(StrCat("HTTP ", resp->code, " ", ErrorSummary(resp->body))))
                            : ParseNodesHttp(resp->body, urls_[0].substr(0, urls_[0].find("://")));
    if (!found.ok() || found->empty()) {
      discover_failures_->Increment();
      settings_.logger->warn("node discovery at {}/_nodes/http failed ({}); keeping {} node(s)", base,
                             found.ok() ? "no node with an HTTP address" : std::string(found.status().message()),
                             nodes->size());
      return;
    }
    if (*found != *nodes) {
      settings_.logger->info("node discovery: sending to {} node(s): {}", found->size(), absl::StrJoin(*found, ", "));
    }
    std::lock_guard<std::mutex> lock(nodes_mu_);
    nodes_ = std::make_shared<const std::vector<std::string>>(std::move(*found));
  }

  // At most one line a second; what is not logged is summed into the next line.
  void LogDrops(Signal sig, size_t n, const std::string& first) {
    if (n == 0) return;
    std::lock_guard<std::mutex> lock(log_mu_);
    absl::Time now = absl::Now();
    suppressed_ += n;
    if (now - last_log_ < absl::Seconds(1)) return;
    settings_.logger->error("Elasticsearch rejected {} {} permanently (dropped, not retried); e.g. {}", suppressed_,
                            ItemNoun(sig), first);
    suppressed_ = 0;
    last_log_ = now;
  }

  // At most one line every 10 seconds: a node that is down fails every request sent to it.
  void LogFailover(const absl::Status& st) {
    std::lock_guard<std::mutex> lock(log_mu_);
    absl::Time now = absl::Now();
    ++failovers_;
    if (now - last_failover_log_ < absl::Seconds(10)) return;
    settings_.logger->warn("{}: trying the next endpoint ({} failover(s) since the last such message)",
                           std::string(st.message()), failovers_);
    failovers_ = 0;
    last_failover_log_ = now;
  }

  CreateSettings settings_;
  Config cfg_;
  Encoder encoder_;
  httpclient::Client client_;
  std::vector<std::string> urls_;
  std::vector<std::string> headers_;
  ClientAuthenticator* auth_ = nullptr;
  std::atomic<size_t> next_url_{0};
  std::string bulk_query_;  // ?include_source_on_error=...
  std::mutex nodes_mu_;
  std::shared_ptr<const std::vector<std::string>> nodes_ ABSL_GUARDED_BY(nodes_mu_);
  std::thread discoverer_;
  prometheus::Counter* malformed_answers_;
  prometheus::Counter* discover_failures_;

  std::mutex stop_mu_;  // shutdown's deadline, for the waits inside a push
  std::condition_variable stop_cv_;
  absl::Time stop_deadline_ ABSL_GUARDED_BY(stop_mu_) = absl::InfiniteFuture();
  std::mutex mu_;
  absl::flat_hash_map<uint64_t, std::vector<uint8_t>> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<uint64_t> pending_order_ ABSL_GUARDED_BY(mu_);

  std::mutex log_mu_;
  absl::Time last_log_ ABSL_GUARDED_BY(log_mu_) = absl::InfinitePast();
  size_t suppressed_ ABSL_GUARDED_BY(log_mu_) = 0;
  absl::Time last_failover_log_ ABSL_GUARDED_BY(log_mu_) = absl::InfinitePast();
  size_t failovers_ ABSL_GUARDED_BY(log_mu_) = 0;
};

}  // namespace

std::unique_ptr<exporterhelper::Pusher> NewBulkPusher(const CreateSettings& settings, const Config& cfg) {
  return std::make_unique<BulkPusher>(settings, cfg);
}

}  // namespace outrigger::exporters::elasticsearch
