// otlp_loadgen: an OTLP trace load generator and sink for benchmarking the collector.
//
//   otlp_loadgen send --protocol grpc|http --endpoint 127.0.0.1:4317 [options]
//     Pre-encodes --distinct ExportTraceServiceRequest payloads of --spans-per-request
//     spans (about 250 B each) and sends them for --duration seconds (or --max-requests)
//     over --concurrency connections, each with one request in flight, at most --rate
//     spans/s in total (0: as fast as the server answers). gRPC goes through a
//     GenericStub with the pre-encoded bytes (no re-encoding); HTTP is OTLP/HTTP protobuf
//     through one keep-alive libcurl handle per connection. Nothing is retried: a refused
//     request is counted and its spans are not sent again, so a downstream sink should
//     receive exactly `accepted_spans`.
//
//   otlp_loadgen sink --endpoint 127.0.0.1:PORT [--stats-file F] [--lifetime S] [--decode]
//     An OTLP/gRPC server (trace, metrics and logs Export) that answers every request with
//     success and counts requests, bytes and spans (by walking the wire format; --decode
//     parses each request fully instead). It stops on SIGTERM/SIGINT or after --lifetime
//     seconds and prints its totals; --stats-file is rewritten every 100 ms.
//
// Both print a final machine-readable line starting with "RESULT" or "SINK".

#include <curl/curl.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/otlp_payload.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace tsvc = opentelemetry::proto::collector::trace::v1;

constexpr char kTraceMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// ---- command line ----

struct Args {
  std::map<std::string, std::string> kv;

  std::string Str(const std::string& k, const std::string& def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  double Num(const std::string& k, double def) const {
    auto it = kv.find(k);
    if (it == kv.end()) return def;
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0') {
      std::fprintf(stderr, "--%s: not a number: %s\n", k.c_str(), it->second.c_str());
      std::exit(2);
    }
    return v;
  }
  bool Flag(const std::string& k) const { return kv.count(k) > 0; }
};

bool ParseArgs(int argc, char** argv, int first, Args* out) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      std::fprintf(stderr, "unexpected argument: %s\n", a.c_str());
      return false;
    }
    a = a.substr(2);
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      out->kv[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (a == "decode" || a == "quiet") {
      out->kv[a] = "1";
    } else if (i + 1 < argc) {
      out->kv[a] = argv[++i];
    } else {
      std::fprintf(stderr, "--%s needs a value\n", a.c_str());
      return false;
    }
  }
  return true;
}

void Usage() {
  std::fprintf(stderr,
               "usage:\n"
               "  otlp_loadgen send --protocol grpc|http --endpoint HOST:PORT\n"
               "      [--path /v1/traces] [--spans-per-request 100] [--distinct 64]\n"
               "      [--concurrency 1] [--duration 10] [--rate 0 (spans/s, 0 = max)]\n"
               "      [--max-requests 0 (0 = no limit)] [--timeout 10] [--label TEXT]\n"
               "  otlp_loadgen sink --endpoint 127.0.0.1:PORT [--stats-file FILE]\n"
               "      [--lifetime 900] [--decode] [--max-recv-mib 512]\n");
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- sender ----

struct Totals {
  uint64_t requests = 0;
  uint64_t sent_spans = 0;      // spans in requests that got an answer (or failed)
  uint64_t accepted_spans = 0;  // in OK answers, minus partial-success rejections
  uint64_t rejected_spans = 0;  // partial success
  uint64_t ok = 0;
  uint64_t exhausted = 0;    // gRPC RESOURCE_EXHAUSTED / HTTP 429
  uint64_t unavailable = 0;  // gRPC UNAVAILABLE / HTTP 503
  uint64_t deadline = 0;     // gRPC DEADLINE_EXCEEDED / HTTP client timeout
  uint64_t other = 0;        // anything else (first one is kept in `first_error`)
  std::string first_error;
  std::vector<uint32_t> latency_us;

  void Merge(const Totals& o) {
    requests += o.requests;
    sent_spans += o.sent_spans;
    accepted_spans += o.accepted_spans;
    rejected_spans += o.rejected_spans;
    ok += o.ok;
    exhausted += o.exhausted;
    unavailable += o.unavailable;
    deadline += o.deadline;
    other += o.other;
    if (first_error.empty()) first_error = o.first_error;
    latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
  }
};

struct SendOptions {
  std::string protocol;
  std::string endpoint;
  std::string path;
  size_t spans_per_request;
  int concurrency;
  double duration_s;
  double rate;  // spans/s, 0 = unlimited
  uint64_t max_requests;
  double timeout_s;
};

int64_t RejectedIn(const std::string& response) {
  if (response.empty()) return 0;
  tsvc::ExportTraceServiceResponse r;
  if (!r.ParseFromString(response)) return 0;
  return r.partial_success().rejected_spans();
}

// Paces one connection: its k-th request goes at start + (k * C + i) * interval, so the
// connections together keep the target rate; a late one goes at once.
class Pacer {
 public:
  Pacer(const SendOptions& o, int worker, Clock::time_point start) : start_(start), worker_(worker), c_(o.concurrency) {
    if (o.rate > 0) interval_ = std::chrono::duration<double>(static_cast<double>(o.spans_per_request) / o.rate);
  }
  // Sleeps until the k-th slot, but never past `stop`.
  void Wait(uint64_t k, Clock::time_point stop) {
    if (interval_.count() <= 0) return;
    auto at =
        start_ + std::chrono::duration_cast<Clock::duration>(
                     interval_ * static_cast<double>(k * static_cast<uint64_t>(c_) + static_cast<uint64_t>(worker_)));
    std::this_thread::sleep_until(std::min(at, stop));
  }

 private:
  Clock::time_point start_;
  int worker_;
  int c_;
  std::chrono::duration<double> interval_{0};
};

class RequestBudget {
 public:
  explicit RequestBudget(uint64_t max) : max_(max) {}
  bool Take() { return max_ == 0 || taken_.fetch_add(1) < max_; }

 private:
  uint64_t max_;
  std::atomic<uint64_t> taken_{0};
};

void GrpcWorker(const SendOptions& o, int worker, const std::vector<grpc::Slice>& payloads, Clock::time_point start,
                Clock::time_point stop, RequestBudget* budget, Totals* t) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  // A separate connection per worker: no subchannel sharing between channels.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("outrigger.loadgen.connection", worker);
  auto channel = grpc::CreateCustomChannel(o.endpoint, grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  Pacer pacer(o, worker, start);
  const std::string method = kTraceMethod;
  for (uint64_t k = 0;; ++k) {
    pacer.Wait(k, stop);
    if (Clock::now() >= stop || !budget->Take()) break;
    const grpc::Slice& slice =
        payloads[(k * static_cast<uint64_t>(o.concurrency) + static_cast<uint64_t>(worker)) % payloads.size()];
    grpc::ByteBuffer request(&slice, 1);  // refs the slice: no copy
    grpc::ByteBuffer response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                            std::chrono::duration<double>(o.timeout_s)));
    std::promise<grpc::Status> done;
    auto t0 = Clock::now();
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status st) { done.set_value(std::move(st)); });
    grpc::Status st = done.get_future().get();
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    t->latency_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
    ++t->requests;
    t->sent_spans += o.spans_per_request;
    if (st.ok()) {
      ++t->ok;
      std::string body;
      grpc::Slice out;
      if (response.DumpToSingleSlice(&out).ok()) body.assign(reinterpret_cast<const char*>(out.begin()), out.size());
      int64_t rej = RejectedIn(body);
      t->rejected_spans += static_cast<uint64_t>(rej);
      t->accepted_spans += o.spans_per_request - static_cast<uint64_t>(rej);
      continue;
    }
    switch (st.error_code()) {
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        ++t->exhausted;
        break;
      case grpc::StatusCode::UNAVAILABLE:
        ++t->unavailable;
        break;
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        ++t->deadline;
        break;
      default:
        ++t->other;
        if (t->first_error.empty()) {
          t->first_error = "grpc code " + std::to_string(st.error_code()) + ": " + st.error_message();
        }
    }
  }
}

size_t CollectBody(char* ptr, size_t size, size_t n, void* userdata) {
  static_cast<std::string*>(userdata)->append(ptr, size * n);
  return size * n;
}

void HttpWorker(const SendOptions& o, int worker, const std::vector<std::string>& payloads, Clock::time_point start,
                Clock::time_point stop, RequestBudget* budget, Totals* t) {
  CURL* h = curl_easy_init();
  if (h == nullptr) {
    ++t->other;
    t->first_error = "curl_easy_init failed";
    return;
  }
  const std::string url = "http://" + o.endpoint + o.path;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/x-protobuf");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  std::string body;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout_s * 1000));
  Pacer pacer(o, worker, start);
  for (uint64_t k = 0;; ++k) {
    pacer.Wait(k, stop);
    if (Clock::now() >= stop || !budget->Take()) break;
    const std::string& p =
        payloads[(k * static_cast<uint64_t>(o.concurrency) + static_cast<uint64_t>(worker)) % payloads.size()];
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, p.data());  // not copied
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(p.size()));
    body.clear();
    auto t0 = Clock::now();
    CURLcode rc = curl_easy_perform(h);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    t->latency_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
    ++t->requests;
    t->sent_spans += o.spans_per_request;
    if (rc != CURLE_OK) {
      if (rc == CURLE_OPERATION_TIMEDOUT) {
        ++t->deadline;
      } else {
        ++t->other;
        if (t->first_error.empty()) t->first_error = std::string("curl: ") + curl_easy_strerror(rc);
      }
      continue;
    }
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code == 200) {
      ++t->ok;
      int64_t rej = RejectedIn(body);
      t->rejected_spans += static_cast<uint64_t>(rej);
      t->accepted_spans += o.spans_per_request - static_cast<uint64_t>(rej);
    } else if (code == 429) {
      ++t->exhausted;
    } else if (code == 503) {
      ++t->unavailable;
    } else {
      ++t->other;
      if (t->first_error.empty()) t->first_error = "http " + std::to_string(code);
    }
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
}

double Percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i] / 1000.0;
}

int RunSend(const Args& a) {
  SendOptions o;
  o.protocol = a.Str("protocol", "grpc");
  o.endpoint = a.Str("endpoint", o.protocol == "http" ? "127.0.0.1:4318" : "127.0.0.1:4317");
  o.path = a.Str("path", "/v1/traces");
  o.spans_per_request = static_cast<size_t>(a.Num("spans-per-request", 100));
  o.concurrency = static_cast<int>(a.Num("concurrency", 1));
  o.duration_s = a.Num("duration", 10);
  o.rate = a.Num("rate", 0);
  o.max_requests = static_cast<uint64_t>(a.Num("max-requests", 0));
  o.timeout_s = a.Num("timeout", 10);
  const size_t distinct = static_cast<size_t>(a.Num("distinct", 64));
  const std::string label = a.Str("label", "");
  if ((o.protocol != "grpc" && o.protocol != "http") || o.concurrency < 1 || o.concurrency > 1024 ||
      o.spans_per_request < 1 || distinct < 1 || o.duration_s <= 0 || o.duration_s > 3600) {
    Usage();
    return 2;
  }

  outrigger::bench::PayloadOptions po;
  po.spans_per_request = o.spans_per_request;
  std::vector<std::string> payloads = outrigger::bench::MakeTraceRequests(po, distinct);
  size_t bytes = 0;
  for (const auto& p : payloads) bytes += p.size();
  std::fprintf(stderr,
               "loadgen: %zu distinct requests of %zu spans, %.0f B/request, %.0f B/span; %s %s x%d, %.0fs, rate %s\n",
               distinct, o.spans_per_request, static_cast<double>(bytes) / static_cast<double>(distinct),
               static_cast<double>(bytes) / static_cast<double>(distinct * o.spans_per_request), o.protocol.c_str(),
               o.endpoint.c_str(), o.concurrency, o.duration_s,
               o.rate > 0 ? (std::to_string(static_cast<long>(o.rate)) + " spans/s").c_str() : "max");

  std::vector<grpc::Slice> slices;
  if (o.protocol == "grpc") {
    for (const auto& p : payloads) slices.emplace_back(p.data(), p.size());
  } else {
    curl_global_init(CURL_GLOBAL_DEFAULT);
  }

  RequestBudget budget(o.max_requests);
  std::vector<Totals> per(static_cast<size_t>(o.concurrency));
  std::vector<std::thread> threads;
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  for (int i = 0; i < o.concurrency; ++i) {
    Totals* t = &per[static_cast<size_t>(i)];
    t->latency_us.reserve(1 << 16);
    if (o.protocol == "grpc") {
      threads.emplace_back([&, i, t] { GrpcWorker(o, i, slices, start, stop, &budget, t); });
    } else {
      threads.emplace_back([&, i, t] { HttpWorker(o, i, payloads, start, stop, &budget, t); });
    }
  }
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu0;
  Totals total;
  for (const auto& t : per) total.Merge(t);

  const double p50 = Percentile(total.latency_us, 0.50);
  const double p99 = Percentile(total.latency_us, 0.99);
  std::fprintf(
      stderr,
      "loadgen: %.2fs: %llu requests, %llu spans sent, %llu accepted (%.0f spans/s), %llu rejected; "
      "errors: %llu %s, %llu %s, %llu deadline, %llu other%s%s; latency p50 %.2f ms p99 %.2f ms; "
      "loadgen cpu %.2fs\n",
      elapsed, static_cast<unsigned long long>(total.requests), static_cast<unsigned long long>(total.sent_spans),
      static_cast<unsigned long long>(total.accepted_spans), static_cast<double>(total.accepted_spans) / elapsed,
      static_cast<unsigned long long>(total.rejected_spans), static_cast<unsigned long long>(total.exhausted),
      o.protocol == "grpc" ? "RESOURCE_EXHAUSTED" : "HTTP 429", static_cast<unsigned long long>(total.unavailable),
      o.protocol == "grpc" ? "UNAVAILABLE" : "HTTP 503", static_cast<unsigned long long>(total.deadline),
      static_cast<unsigned long long>(total.other),
      total.first_error.empty() ? "" : " (first: ", total.first_error.empty() ? "" : (total.first_error + ")").c_str(),
      p50, p99, cpu);
  std::printf(
      "RESULT label=%s protocol=%s concurrency=%d target_rate=%.0f elapsed_s=%.3f requests=%llu sent_spans=%llu "
      "accepted_spans=%llu rejected_spans=%llu ok=%llu err_exhausted=%llu err_unavailable=%llu err_deadline=%llu "
      "err_other=%llu spans_per_s=%.0f p50_ms=%.3f p99_ms=%.3f loadgen_cpu_s=%.2f\n",
      label.empty() ? "-" : label.c_str(), o.protocol.c_str(), o.concurrency, o.rate, elapsed,
      static_cast<unsigned long long>(total.requests), static_cast<unsigned long long>(total.sent_spans),
      static_cast<unsigned long long>(total.accepted_spans), static_cast<unsigned long long>(total.rejected_spans),
      static_cast<unsigned long long>(total.ok), static_cast<unsigned long long>(total.exhausted),
      static_cast<unsigned long long>(total.unavailable), static_cast<unsigned long long>(total.deadline),
      static_cast<unsigned long long>(total.other), static_cast<double>(total.accepted_spans) / elapsed, p50, p99, cpu);
  std::fflush(stdout);
  if (o.protocol == "http") curl_global_cleanup();
  return total.requests > 0 && total.ok == 0 ? 1 : 0;
}

// ---- sink ----

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

struct SinkCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> spans{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<int64_t> last_ns{0};  // steady clock time of the last request
};

class SinkReactor : public grpc::ServerGenericBidiReactor {
 public:
  SinkReactor(SinkCounters* c, bool decode, bool traces) : c_(c), decode_(decode), traces_(traces) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    std::vector<grpc::Slice> slices;
    (void)request_.Dump(&slices);
    std::string joined;
    const char* data;
    size_t size;
    if (slices.size() == 1) {
      data = reinterpret_cast<const char*>(slices[0].begin());
      size = slices[0].size();
    } else {
      for (const auto& s : slices) joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
      data = joined.data();
      size = joined.size();
    }
    c_->bytes.fetch_add(size, std::memory_order_relaxed);
    if (traces_) {
      int64_t n = -1;
      if (decode_) {
        google::protobuf::Arena arena;
        auto* req = google::protobuf::Arena::CreateMessage<tsvc::ExportTraceServiceRequest>(&arena);
        if (req->ParseFromArray(data, static_cast<int>(size))) {
          n = 0;
          for (const auto& rs : req->resource_spans())
            for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
        }
      } else {
        n = outrigger::bench::CountSpansWire(data, size);
      }
      if (n < 0) {
        c_->malformed.fetch_add(1, std::memory_order_relaxed);
      } else {
        c_->spans.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      }
    }
    c_->requests.fetch_add(1, std::memory_order_relaxed);
    c_->last_ns.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    grpc::Slice empty;  // an empty Export*ServiceResponse
    response_ = grpc::ByteBuffer(&empty, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  void OnDone() override { delete this; }

 private:
  SinkCounters* c_;
  bool decode_;
  bool traces_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class SinkService : public grpc::CallbackGenericService {
 public:
  SinkService(SinkCounters* c, bool decode) : c_(c), decode_(decode) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new SinkReactor(c_, decode_, ctx->method() == kTraceMethod);
  }

 private:
  SinkCounters* c_;
  bool decode_;
};

std::string SinkLine(const SinkCounters& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "SINK requests=%llu spans=%llu bytes=%llu malformed=%llu",
                static_cast<unsigned long long>(c.requests.load()), static_cast<unsigned long long>(c.spans.load()),
                static_cast<unsigned long long>(c.bytes.load()), static_cast<unsigned long long>(c.malformed.load()));
  return buf;
}

int RunSink(const Args& a) {
  const std::string endpoint = a.Str("endpoint", "127.0.0.1:4319");
  if (endpoint.rfind("127.0.0.1:", 0) != 0) {
    std::fprintf(stderr, "sink: listens on 127.0.0.1 only; use --endpoint 127.0.0.1:PORT\n");
    return 2;
  }
  const double lifetime = a.Num("lifetime", 900);
  const std::string stats_file = a.Str("stats-file", "");
  const bool decode = a.Flag("decode");
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  SinkCounters counters;
  SinkService service(&counters, decode);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(endpoint, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(a.Num("max-recv-mib", 512)) << 20);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "sink: cannot listen on %s\n", endpoint.c_str());
    return 1;
  }
  std::fprintf(stderr, "sink: listening on %s (%s span counting)\n", endpoint.c_str(), decode ? "decoding" : "wire");
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(lifetime));
  while (!g_stop.load() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!stats_file.empty()) {
      const std::string tmp = stats_file + ".tmp";
      {
        std::ofstream f(tmp, std::ios::trunc);
        f << SinkLine(counters) << " last_ns=" << counters.last_ns.load() << "\n";
      }
      std::rename(tmp.c_str(), stats_file.c_str());
    }
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  std::printf("%s\n", SinkLine(counters).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Usage();
    return 2;
  }
  std::string mode = argv[1];
  Args a;
  if (!ParseArgs(argc, argv, 2, &a)) {
    Usage();
    return 2;
  }
  if (mode == "send") return RunSend(a);
  if (mode == "sink") return RunSink(a);
  Usage();
  return 2;
}
