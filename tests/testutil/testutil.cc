#include "tests/testutil/testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace outrigger::testutil {

namespace {
std::string Id(int seed, int i, int len) {
  std::string s(static_cast<size_t>(len), '\0');
  uint64_t v = (static_cast<uint64_t>(seed) << 32) | static_cast<uint32_t>(i + 1);
  for (int k = 0; k < len; ++k)
    s[static_cast<size_t>(k)] = static_cast<char>((v >> ((k % 8) * 8)) & 0xff) ^ static_cast<char>(k);
  return s;
}
void SetService(opentelemetry::proto::resource::v1::Resource* r, const std::string& service) {
  auto* kv = r->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
}
}  // namespace

pdata::Traces MakeTraces(int spans, const std::string& service, const std::string& prefix, int seed) {
  tpb::ExportTraceServiceRequest* req;
  auto d = pdata::Traces::New(&req);
  auto* rs = req->add_resource_spans();
  SetService(rs->mutable_resource(), service);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("test");
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_name(absl::StrCat(prefix, "-", i));
    s->set_trace_id(Id(seed, i, 16));
    s->set_span_id(Id(seed, i, 8));
    s->set_start_time_unix_nano(1000 + static_cast<uint64_t>(i));
    s->set_end_time_unix_nano(2000 + static_cast<uint64_t>(i));
    auto* a = s->add_attributes();
    a->set_key("i");
    a->mutable_value()->set_int_value(i);
  }
  return d;
}

pdata::Metrics MakeMetrics(int points, const std::string& service) {
  mpb::ExportMetricsServiceRequest* req;
  auto d = pdata::Metrics::New(&req);
  auto* rm = req->add_resource_metrics();
  SetService(rm->mutable_resource(), service);
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name("gauge");
  for (int i = 0; i < points; ++i) {
    auto* p = m->mutable_gauge()->add_data_points();
    p->set_as_double(i);
    p->set_time_unix_nano(static_cast<uint64_t>(i));
  }
  return d;
}

void SetStringAttrs(google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* out,
                    const StringAttrs& attrs) {
  for (const auto& [k, v] : attrs) {
    auto* kv = out->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
}

pdata::Metrics MetricsWith(const StringAttrs& resource,
                           const std::function<void(opentelemetry::proto::metrics::v1::ScopeMetrics*)>& fill,
                           const std::string& scope_name, const std::string& scope_version) {
  mpb::ExportMetricsServiceRequest* req;
  auto d = pdata::Metrics::New(&req);
  auto* rm = req->add_resource_metrics();
  SetStringAttrs(rm->mutable_resource()->mutable_attributes(), resource);
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name(scope_name);
  sm->mutable_scope()->set_version(scope_version);
  fill(sm);
  return d;
}

pdata::Logs MakeLogs(int records, const std::string& service) {
  lpb::ExportLogsServiceRequest* req;
  auto d = pdata::Logs::New(&req);
  auto* rl = req->add_resource_logs();
  SetService(rl->mutable_resource(), service);
  auto* sl = rl->add_scope_logs();
  for (int i = 0; i < records; ++i) {
    auto* l = sl->add_log_records();
    l->mutable_body()->set_string_value(absl::StrCat("line ", i));
    l->set_severity_text("INFO");
  }
  return d;
}

std::vector<std::string> SpanNames(const pdata::Traces& d) {
  std::vector<std::string> out;
  d.ForEachRequest([&](const tpb::ExportTraceServiceRequest& r) {
    for (const auto& rs : r.resource_spans())
      for (const auto& ss : rs.scope_spans())
        for (const auto& s : ss.spans()) out.push_back(s.name());
  });
  return out;
}

template <typename T>
absl::Status Sink::Take(T&& d, std::vector<T>* into) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !blocked_; });
  ++calls_;
  if (fail_next_ > 0) {
    --fail_next_;
    return fail_status_;
  }
  into->push_back(std::move(d));
  cv_.notify_all();
  return absl::OkStatus();
}

absl::Status Sink::ConsumeTraces(pdata::Traces&& d) { return Take(std::move(d), &traces_); }
absl::Status Sink::ConsumeMetrics(pdata::Metrics&& d) { return Take(std::move(d), &metrics_); }
absl::Status Sink::ConsumeLogs(pdata::Logs&& d) { return Take(std::move(d), &logs_); }

void Sink::FailNext(int n, absl::Status st) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_ = n;
  fail_status_ = std::move(st);
}
void Sink::Block() {
  std::lock_guard<std::mutex> lock(mu_);
  blocked_ = true;
}
void Sink::Unblock() {
  std::lock_guard<std::mutex> lock(mu_);
  blocked_ = false;
  cv_.notify_all();
}
size_t Sink::SpanCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& t : traces_) n += t.ItemCount();
  return n;
}
size_t Sink::PointCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& t : metrics_) n += t.ItemCount();
  return n;
}
size_t Sink::LogCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& t : logs_) n += t.ItemCount();
  return n;
}
size_t Sink::Calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}
std::vector<std::string> Sink::SpanNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& t : traces_) {
    auto n = testutil::SpanNames(t);
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}
std::vector<size_t> Sink::BatchSizes() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<size_t> out;
  for (const auto& t : traces_) out.push_back(t.ItemCount());
  return out;
}
bool Sink::WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return pred();
}

bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout) {
  const auto until = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

TestHost::TestHost() : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
TestHost::~TestHost() {
  work_.reset();
  io_.stop();
  thread_.join();
}

CreateSettings Settings(Telemetry* t, const std::string& id, Kind kind) {
  return CreateSettings{*ComponentId::Parse(id), kind, t, spdlog::default_logger()->clone(id)};
}

int ConnectTcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace outrigger::testutil
