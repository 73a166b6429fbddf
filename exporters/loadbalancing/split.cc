#include "exporters/loadbalancing/split.h"

#include <algorithm>
#include <cstring>

#include "collector/common/protowire.h"

namespace outrigger::exporters::loadbalancing {
namespace {

using protowire::ReadVarint;

constexpr int kVarint = 0, kI64 = 1, kLen = 2, kI32 = 5;

// One field of a message: its whole encoding and, for length-delimited ones, the payload.
struct Field {
  uint32_t number = 0;
  int wire = 0;
  const char* begin = nullptr;  // the tag
  const char* end = nullptr;    // past the value
  std::string_view payload;     // kLen only
};

// Reads the next field of [p, end); false at the end (*ok false if malformed).
bool NextField(const char*& p, const char* end, Field* f, bool* ok) {
  if (p == end) return false;
  f->begin = p;
  uint64_t tag = 0;
  if (!ReadVarint(p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX) {
    *ok = false;
    return false;
  }
  f->number = static_cast<uint32_t>(tag >> 3);
  f->wire = static_cast<int>(tag & 7);
  uint64_t v = 0;
  switch (f->wire) {
    case kVarint:
      if (!ReadVarint(p, end, &v)) *ok = false;
      break;
    case kI64:
      if (end - p < 8) *ok = false;
      p += 8;
      break;
    case kI32:
      if (end - p < 4) *ok = false;
      p += 4;
      break;
    case kLen:
      if (!ReadVarint(p, end, &v) || v > static_cast<uint64_t>(end - p)) {
        *ok = false;
      } else {
        f->payload = std::string_view(p, v);
        p += v;
      }
      break;
    default:
      *ok = false;
  }
  if (!*ok) return false;
  f->end = p;
  return true;
}

// The first length-delimited field `number` of a message; empty if none.
std::string_view FindLen(std::string_view msg, uint32_t number, bool* found = nullptr) {
  const char* p = msg.data();
  const char* end = p + msg.size();
  Field f;
  bool ok = true;
  while (NextField(p, end, &f, &ok)) {
    if (f.number == number && f.wire == kLen) {
      if (found) *found = true;
      return f.payload;
    }
  }
  if (found) *found = false;
  return {};
}

using protowire::VarintSize;
using protowire::WriteVarint;

// The attributes (KeyValue, field `attr_field`) of a message, sorted: an identity that does
// not depend on their order.
void AppendSortedAttributes(std::string_view msg, uint32_t attr_field, std::string* key) {
  std::vector<std::string_view> kvs;
  const char* p = msg.data();
  const char* end = p + msg.size();
  Field f;
  bool ok = true;
  while (NextField(p, end, &f, &ok)) {
    if (f.number == attr_field && f.wire == kLen) kvs.push_back(f.payload);
  }
  std::sort(kvs.begin(), kvs.end());
  for (auto kv : kvs) {
    key->append(std::to_string(kv.size()));
    key->push_back(':');
    key->append(kv);
  }
}

// service.name of a Resource (its string value); empty if absent.
std::string_view ServiceName(std::string_view resource) {
  const char* p = resource.data();
  const char* end = p + resource.size();
  Field f;
  bool ok = true;
  while (NextField(p, end, &f, &ok)) {
    if (f.number != 1 || f.wire != kLen) continue;
    if (FindLen(f.payload, 1) != "service.name") continue;
    std::string_view any = FindLen(f.payload, 2);
    return FindLen(any, 1);  // AnyValue.string_value
  }
  return {};
}

// The output tree: a node is a submessage split between backends; a piece is a range of
// the input going to one backend, to every backend the node goes to (the node's other
// fields), or a child node.
struct Piece {
  const char* begin;
  const char* end;
  int32_t backend;  // >= 0: that backend only; -1: every backend the node goes to
  int32_t child;    // >= 0: a child node (begin/end unused)
};
struct Node {
  uint32_t field = 0;
  std::vector<Piece> pieces;
};

class Splitter {
 public:
  Splitter(Signal signal, RoutingKey key, const HashRing& ring)
      : signal_(signal), key_(key), ring_(ring), n_(ring.endpoints().size()), items_(n_, 0) {}

  absl::Status Run(std::string_view request, std::vector<SplitPart>* out) {
    nodes_.emplace_back();
    if (!Walk(0, request, 0)) return absl::InvalidArgumentError("malformed OTLP request: cannot split it");
    body_.assign(nodes_.size() * n_, 0);
    for (size_t i = nodes_.size(); i-- > 0;) ComputeSizes(i);
    out->clear();
    out->resize(n_);
    for (size_t b = 0; b < n_; ++b) {
      uint64_t size = body_[b];
      if (size == 0) continue;
      auto& s = (*out)[b].bytes;
      s.resize(size);
      char* end = Emit(0, b, s.data());
      s.resize(end - s.data());
      (*out)[b].items = items_[b];
    }
    return absl::OkStatus();
  }

 private:
  // Levels: 0 request, 1 Resource{Spans,Logs,Metrics}, 2 Scope*, 3 record (span, log
  // record, metric), 4 a metric's data (gauge, sum, ...), 5 a data point.
  bool IsChild(int depth, uint32_t number) const {
    switch (depth) {
      case 0:
        return number == 1;
      case 1:
      case 2:
        return number == 2;
      case 3:
        return number == 5 || number == 7 || number == 9 || number == 10 || number == 11;
      case 4:
        return number == 1;
      default:
        return false;
    }
  }

  // The backend a child at `depth` goes to as a whole, or -1 to split it further.
  int Decide(int depth, std::string_view child) {
    switch (signal_) {
      case Signal::kTraces:
      case Signal::kLogs:
        if (key_ == RoutingKey::kTraceId) {
          if (depth < 2) return -1;
          std::string_view tid = FindLen(child, signal_ == Signal::kTraces ? 1 : 9);
          if (!tid.empty()) return ring_.IndexFor(tid);
          return ring_.IndexFor(resource_key_);
        }
        return depth == 0 ? ring_.IndexFor(resource_key_) : -1;
      case Signal::kMetrics:
        switch (key_) {
          case RoutingKey::kTraceId:
          case RoutingKey::kService:
          case RoutingKey::kResource:
            return depth == 0 ? ring_.IndexFor(resource_key_) : -1;
          case RoutingKey::kMetric:
            return depth == 2 ? ring_.IndexFor(metric_key_) : -1;
          case RoutingKey::kStreamId:
            if (depth < 4) return -1;
            stream_key_ = metric_key_;
            AppendSortedAttributes(child, data_field_ == 10 ? 1 : (data_field_ == 9 ? 9 : 7), &stream_key_);
            return ring_.IndexFor(stream_key_);
        }
    }
    return -1;
  }

  // Context of the keys, set as the walk enters a level.
  void Enter(int depth, uint32_t field, std::string_view msg) {
    if (depth == 0) {  // a Resource* message: its Resource is field 1
      std::string_view resource = FindLen(msg, 1);
      resource_key_.clear();
      if (key_ == RoutingKey::kService || (signal_ == Signal::kMetrics && key_ == RoutingKey::kTraceId)) {
        resource_key_.assign(ServiceName(resource));
      } else {
        AppendSortedAttributes(resource, 1, &resource_key_);
      }
    } else if (signal_ != Signal::kMetrics) {
      return;
    } else if (depth == 1) {  // a Scope*: its InstrumentationScope is field 1 (name 1, version 2)
      std::string_view scope = FindLen(msg, 1);
      scope_key_ = resource_key_;
      std::string_view name = FindLen(scope, 1), version = FindLen(scope, 2);
      scope_key_.append(std::to_string(name.size())).append(":").append(name).append(version).append("|");
    } else if (depth == 2) {  // a Metric: name 1, unit 3
      metric_key_ = scope_key_;
      std::string_view name = FindLen(msg, 1), unit = FindLen(msg, 3);
      metric_key_.append(std::to_string(name.size())).append(":").append(name).append(unit).append("|");
    } else if (depth == 3) {
      data_field_ = field;
      metric_key_.append(std::to_string(field));
    }
  }

  bool Walk(int depth, std::string_view msg, int32_t node) {
    const char* p = msg.data();
    const char* end = p + msg.size();
    Field f;
    bool ok = true;
    while (NextField(p, end, &f, &ok)) {
      if (!IsChild(depth, f.number) || f.wire != kLen) {
        AddPiece(node, f.begin, f.end, -1);
        continue;
      }
      Enter(depth, f.number, f.payload);
      int backend = Decide(depth, f.payload);
      if (backend >= 0) {
        AddPiece(node, f.begin, f.end, backend);
        items_[backend] += CountItems(depth, f.payload);
        continue;
      }
      int32_t child = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      nodes_.back().field = f.number;
      nodes_[node].pieces.push_back(Piece{nullptr, nullptr, -1, child});
      if (!Walk(depth + 1, f.payload, child)) return false;
    }
    return ok;
  }

  // Spans or log records in a child at `depth` routed whole (metrics: not counted).
  size_t CountItems(int depth, std::string_view child) const {
    if (signal_ == Signal::kMetrics) return 0;
    if (depth == 2) return 1;
    size_t n = 0;
    const char* p = child.data();
    const char* end = p + child.size();
    Field f;
    bool ok = true;
    while (NextField(p, end, &f, &ok)) {
      if (!IsChild(depth + 1, f.number) || f.wire != kLen) continue;
      n += CountItems(depth + 1, f.payload);
    }
    return n;
  }

  void AddPiece(int32_t node, const char* begin, const char* end, int32_t backend) {
    auto& pieces = nodes_[node].pieces;
    if (!pieces.empty()) {
      Piece& last = pieces.back();
      if (last.child < 0 && last.backend == backend && last.end == begin) {
        last.end = end;
        return;
      }
    }
    pieces.push_back(Piece{begin, end, backend, -1});
  }

  // The body size of node `i` for each backend (0: the node does not go there).
  // Children come after their parent, so a reverse pass sees them first.
  void ComputeSizes(size_t i) {
    const Node& node = nodes_[i];
    uint64_t* body = &body_[i * n_];
    uint64_t common = 0;
    for (const Piece& pc : node.pieces) {
      if (pc.child >= 0) {
        const uint64_t* cb = &body_[pc.child * n_];
        uint64_t tag = VarintSize((static_cast<uint64_t>(nodes_[pc.child].field) << 3) | kLen);
        for (size_t b = 0; b < n_; ++b) {
          if (cb[b] != 0) body[b] += tag + VarintSize(cb[b]) + cb[b];
        }
      } else if (pc.backend >= 0) {
        body[pc.backend] += pc.end - pc.begin;
      } else {
        common += pc.end - pc.begin;
      }
    }
    if (common == 0) return;
    for (size_t b = 0; b < n_; ++b) {
      if (body[b] != 0) body[b] += common;
    }
  }

  char* Emit(size_t i, size_t b, char* dst) const {
    for (const Piece& pc : nodes_[i].pieces) {
      if (pc.child >= 0) {
        uint64_t size = body_[pc.child * n_ + b];
        if (size == 0) continue;
        dst = WriteVarint(dst, (static_cast<uint64_t>(nodes_[pc.child].field) << 3) | kLen);
        dst = WriteVarint(dst, size);
        dst = Emit(pc.child, b, dst);
      } else if (pc.backend < 0 || static_cast<size_t>(pc.backend) == b) {
        std::memcpy(dst, pc.begin, pc.end - pc.begin);
        dst += pc.end - pc.begin;
      }
    }
    return dst;
  }

  Signal signal_;
  RoutingKey key_;
  const HashRing& ring_;
  size_t n_;
  std::vector<size_t> items_;
  std::vector<Node> nodes_;
  std::vector<uint64_t> body_;  // node * n_ + backend
  std::string resource_key_, scope_key_, metric_key_, stream_key_;
  uint32_t data_field_ = 0;
};

}  // namespace

RoutingKey ParseRoutingKey(std::string_view s) {
  if (s == "service") return RoutingKey::kService;
  if (s == "resource") return RoutingKey::kResource;
  if (s == "metric") return RoutingKey::kMetric;
  if (s == "streamID") return RoutingKey::kStreamId;
  return RoutingKey::kTraceId;
}

absl::Status SplitRequest(Signal signal, std::string_view request, RoutingKey key, const HashRing& ring,
                          std::vector<SplitPart>* out) {
  if (signal != Signal::kMetrics && (key == RoutingKey::kMetric || key == RoutingKey::kStreamId)) {
    return absl::InvalidArgumentError(StrCat("routing_key ", key == RoutingKey::kMetric ? "metric" : "streamID",
                                             " applies to metrics only; use traceID, service or resource for ",
                                             SignalName(signal)));
  }
  if (ring.empty()) return absl::UnavailableError("no backend is known yet");
  Splitter s(signal, key, ring);
  return s.Run(request, out);
}

template <typename D>
absl::Status Split(Signal signal, const D& data, RoutingKey key, const HashRing& ring, std::vector<D>* out) {
  std::vector<SplitPart> parts;
  std::string bytes = data.ToProto();
  if (auto st = SplitRequest(signal, bytes, key, ring, &parts); !st.ok()) return st;
  out->clear();
  out->resize(parts.size());
  for (size_t b = 0; b < parts.size(); ++b) {
    if (parts[b].bytes.empty()) continue;
    // Scanned again (and counted) by FromProto: the parts are valid when the input was.
    auto d = D::FromProto(std::move(parts[b].bytes));
    if (!d.ok()) return d.status();
    (*out)[b] = std::move(*d);
  }
  return absl::OkStatus();
}

template absl::Status Split(Signal, const pdata::Traces&, RoutingKey, const HashRing&, std::vector<pdata::Traces>*);
template absl::Status Split(Signal, const pdata::Metrics&, RoutingKey, const HashRing&, std::vector<pdata::Metrics>*);
template absl::Status Split(Signal, const pdata::Logs&, RoutingKey, const HashRing&, std::vector<pdata::Logs>*);

}  // namespace outrigger::exporters::loadbalancing
