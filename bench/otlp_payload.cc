#include "bench/otlp_payload.h"

#include <array>
#include <random>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::bench {
namespace {

namespace tsvc = opentelemetry::proto::collector::trace::v1;
namespace tpb = opentelemetry::proto::trace::v1;
namespace cpb = opentelemetry::proto::common::v1;

void AddString(google::protobuf::RepeatedPtrField<cpb::KeyValue>* attrs, const std::string& k, const std::string& v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

void AddInt(google::protobuf::RepeatedPtrField<cpb::KeyValue>* attrs, const std::string& k, int64_t v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_int_value(v);
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t r = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(r >> (8 * j));
  }
  return s;
}

constexpr std::array<const char*, 6> kRoutes = {"/api/v1/users/{id}", "/api/v1/orders", "/api/v1/orders/{id}/items",
                                                "/api/v1/cart",       "/api/v1/search", "/healthz"};
constexpr std::array<const char*, 4> kMethods = {"GET", "POST", "PUT", "DELETE"};
constexpr std::array<const char*, 5> kPeers = {"db-primary.internal", "cache-0.internal", "payments.internal",
                                               "inventory.internal", "auth.internal"};

}  // namespace

std::string MakeTraceRequest(const PayloadOptions& opt, uint64_t index) {
  std::mt19937_64 rng(opt.seed * 0x9E3779B97F4A7C15ull + index);
  tsvc::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* rattrs = rs->mutable_resource()->mutable_attributes();
  AddString(rattrs, "service.name", "checkout-" + std::to_string(index % 8));
  AddString(rattrs, "service.version", "1.4." + std::to_string(index % 5));
  AddString(rattrs, "service.instance.id", "instance-" + std::to_string(index));
  AddString(rattrs, "host.name", "node-" + std::to_string(index % 16) + ".cluster.local");
  AddString(rattrs, "telemetry.sdk.language", "cpp");
  AddString(rattrs, "telemetry.sdk.name", "opentelemetry");
  AddString(rattrs, "telemetry.sdk.version", "1.12.0");
  rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("io.opentelemetry.contrib.http");
  ss->mutable_scope()->set_version("0.41.0");

  // Spans come in small traces of 10: a server root span and its children.
  const uint64_t base_ns = 1'700'000'000'000'000'000ull + index * 1'000'000'000ull;
  std::string trace_id, root_id;
  for (size_t i = 0; i < opt.spans_per_request; ++i) {
    auto* s = ss->add_spans();
    const bool root = i % 10 == 0;
    if (root) {
      trace_id = RandomBytes(rng, 16);
      root_id = RandomBytes(rng, 8);
      s->set_span_id(root_id);
    } else {
      s->set_span_id(RandomBytes(rng, 8));
      s->set_parent_span_id(root_id);
    }
    s->set_trace_id(trace_id);
    const char* route = kRoutes[rng() % kRoutes.size()];
    const char* method = kMethods[rng() % kMethods.size()];
    s->set_name(root ? std::string(method) + " " + route : std::string("SELECT orders.") + kPeers[i % 5]);
    s->set_kind(root ? tpb::Span::SPAN_KIND_SERVER : tpb::Span::SPAN_KIND_CLIENT);
    const uint64_t start = base_ns + i * 1'000'000 + rng() % 1000;
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(start + 50'000 + rng() % 5'000'000);
    auto* attrs = s->mutable_attributes();
    AddString(attrs, "http.request.method", method);
    AddString(attrs, "http.route", route);
    AddInt(attrs, "http.response.status_code", (rng() % 20 == 0) ? 500 : 200);
    AddString(attrs, "server.address", kPeers[rng() % kPeers.size()]);
    AddInt(attrs, "server.port", 8080 + static_cast<int64_t>(rng() % 4));
    if (rng() % 20 == 0) {
      s->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
      s->mutable_status()->set_message("upstream returned 500");
    } else {
      s->mutable_status()->set_code(tpb::Status::STATUS_CODE_OK);
    }
  }
  return req.SerializeAsString();
}

std::vector<std::string> MakeTraceRequests(const PayloadOptions& opt, size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(MakeTraceRequest(opt, i));
  return out;
}

namespace {

// A minimal protobuf wire reader: varints and field skipping.
struct Reader {
  const uint8_t* p;
  const uint8_t* end;

  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
      uint8_t b = *p++;
      r |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }

  // Reads one field; for length-delimited ones sets *sub to the payload.
  bool Field(uint32_t* number, Reader* sub) {
    uint64_t tag;
    if (!Varint(&tag)) return false;
    *number = static_cast<uint32_t>(tag >> 3);
    sub->p = sub->end = nullptr;
    switch (tag & 7) {
      case 0: {
        uint64_t v;
        return Varint(&v);
      }
      case 1:
        if (end - p < 8) return false;
        p += 8;
        return true;
      case 5:
        if (end - p < 4) return false;
        p += 4;
        return true;
      case 2: {
        uint64_t len;
        if (!Varint(&len) || len > static_cast<uint64_t>(end - p)) return false;
        sub->p = p;
        sub->end = p + len;
        p += len;
        return true;
      }
      default:
        return false;
    }
  }
};

bool SpanIdsValid(Reader r) {
  bool trace = false, span = false, parent = true;
  while (r.p < r.end) {
    uint32_t num;
    Reader sub{nullptr, nullptr};
    if (!r.Field(&num, &sub)) return false;
    if (sub.p == nullptr) continue;
    const auto len = sub.end - sub.p;
    if (num == 1)
      trace = len == 16;
    else if (num == 2)
      span = len == 8;
    else if (num == 4)
      parent = len == 0 || len == 8;
  }
  return trace && span && parent;
}

// path: the field numbers to descend through; counts the fields at the last level.
int64_t CountAt(Reader r, const uint32_t* path, int depth, uint64_t* invalid) {
  int64_t n = 0;
  while (r.p < r.end) {
    uint32_t num;
    Reader sub{nullptr, nullptr};
    if (!r.Field(&num, &sub)) return -1;
    if (num != path[0] || sub.p == nullptr) continue;
    if (depth == 1) {
      ++n;
      if (invalid != nullptr && !SpanIdsValid(sub)) ++*invalid;
    } else {
      int64_t c = CountAt(sub, path + 1, depth - 1, invalid);
      if (c < 0) return -1;
      n += c;
    }
  }
  return n;
}

}  // namespace

int64_t CountSpansWire(const char* data, size_t size, uint64_t* invalid_ids) {
  // ExportTraceServiceRequest.resource_spans = 1, ResourceSpans.scope_spans = 2,
  // ScopeSpans.spans = 2.
  static constexpr uint32_t kPath[] = {1, 2, 2};
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  return CountAt(Reader{p, p + size}, kPath, 3, invalid_ids);
}

}  // namespace outrigger::bench
