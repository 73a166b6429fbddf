#include "collector/service/service.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "collector/component/admission.h"
#include "collector/http/config.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/sink.h"
#include "spdlog/spdlog.h"

namespace outrigger {

// ---------------- logging ----------------
namespace {

class JsonEscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"':
          dest.append(std::string_view("\\\""));
          break;
        case '\\':
          dest.append(std::string_view("\\\\"));
          break;
        case '\n':
          dest.append(std::string_view("\\n"));
          break;
        case '\r':
          dest.append(std::string_view("\\r"));
          break;
        case '\t':
          dest.append(std::string_view("\\t"));
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            snprintf(buf, sizeof(buf), "\\u%04x", c);
            dest.append(std::string_view(buf));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonEscapedMessage>(); }
};

}  // namespace

void ConfigureLogging(const std::string& level, const std::string& encoding) {
  auto logger = spdlog::default_logger();
  logger->set_level(spdlog::level::from_str(level));
  for (auto& sink : logger->sinks()) {
    if (encoding == "json") {
      auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
      f->add_flag<JsonEscapedMessage>('*').set_pattern(
          R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":"%*"})");
      sink->set_formatter(std::move(f));
    } else {
      sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] %v",
                                                                      spdlog::pattern_time_type::utc));
    }
  }
}

std::shared_ptr<spdlog::logger> ComponentLogger(const std::string& name) {
  return spdlog::default_logger()->clone(name);
}

// ---------------- graph ----------------
namespace {

struct Decl {
  ComponentId id;
  const Factory* factory = nullptr;
  std::unique_ptr<ComponentConfig> cfg;
  std::string canon;  // the canonical form of its config section: what a reload compares
};

struct PipelineDecl {
  std::string id;
  Signal signal;
  std::vector<ComponentId> receivers, processors, exporters;
  std::string path;
  int line = 0;
};

// Hands each consumer its own handle; parts are shared copy-on-write, so a consumer
// that mutates copies only what it changes.
class FanOut : public Consumer {
 public:
  explicit FanOut(std::vector<Consumer*> outs) : outs_(std::move(outs)) {}
  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Do(std::move(d)); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Do(std::move(d)); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Do(std::move(d)); }

 private:
  template <typename T>
  absl::Status Do(T&& d) {
    absl::Status result;
    for (size_t i = 0; i + 1 < outs_.size(); ++i) result.Update(outs_[i]->Consume(d.Clone()));
    result.Update(outs_.back()->Consume(std::move(d)));
    return result;
  }
  std::vector<Consumer*> outs_;
};

// The entry of a receiver for one signal, the consumer it is given for good: forwards to
// the pipelines it feeds. A reload points it at the next service's pipelines with `Swap`,
// which returns once no call is still inside the old target, so the old pipelines can be
// stopped right after. Calls arriving during a swap wait for it (they are not refused);
// waiting swaps go first, so a stream of calls cannot hold a reload back.
class SwitchConsumer : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Do(std::move(d)); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Do(std::move(d)); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Do(std::move(d)); }

  void Swap(Consumer* next) {
    std::unique_lock<std::mutex> l(mu_);
    ++swapping_;
    cv_.wait(l, [&] { return in_flight_ == 0; });
    target_ = next;
    --swapping_;
    cv_.notify_all();
  }

 private:
  template <typename T>
  absl::Status Do(T&& d) {
    Consumer* t;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return swapping_ == 0; });
      t = target_;
      ++in_flight_;
    }
    absl::Status st = t != nullptr ? t->Consume(std::move(d)) : absl::UnavailableError("no pipeline yet");
    {
      std::lock_guard<std::mutex> l(mu_);
      if (--in_flight_ == 0 && swapping_ > 0) cv_.notify_all();
    }
    return st;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  Consumer* target_ = nullptr;
  int in_flight_ = 0;
  int swapping_ = 0;
};

std::optional<Signal> ParseSignal(std::string_view s) {
  for (Signal sig : kAllSignals) {
    if (SignalName(sig) == s) return sig;
  }
  return std::nullopt;
}

std::string ListIds(const std::map<ComponentId, Decl>& m) {
  std::vector<std::string> v;
  for (const auto& [id, d] : m) v.push_back(id.String());
  return v.empty() ? "(none configured)" : absl::StrJoin(v, ", ");
}

// A YAML value as text that does not depend on key order or style: mappings sorted by
// key, every scalar quoted. Two sections with the same canonical form decode alike.
void Canonical(const YAML::Node& n, std::string* out) {
  if (!n || n.IsNull()) {
    out->append("~");
  } else if (n.IsScalar()) {
    out->push_back('"');
    for (char c : n.Scalar()) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    // `5` and `"5"` differ for the readers that check plainness.
    out->append(n.Tag() == "!" ? "\"!" : "\"");
  } else if (n.IsSequence()) {
    out->push_back('[');
    for (const auto& item : n) {
      Canonical(item, out);
      out->push_back(',');
    }
    out->push_back(']');
  } else if (n.IsMap()) {
    std::map<std::string, YAML::Node> sorted;
    for (const auto& kv : n) sorted.emplace(kv.first.as<std::string>(""), kv.second);
    out->push_back('{');
    for (const auto& [k, v] : sorted) {
      Canonical(YAML::Node(k), out);
      out->push_back(':');
      Canonical(v, out);
      out->push_back(',');
    }
    out->push_back('}');
  }
}

// root[k1][k2]..., or an undefined node if one is missing or not a mapping (yaml-cpp
// throws for a subscript of a scalar or of a missing node). Recursive: assigning to a
// YAML::Node would write through it into the tree.
YAML::Node LookupFrom(const YAML::Node& n, const char* const* keys, size_t count) {
  if (count == 0) return n;
  if (!n || !n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return LookupFrom(n[keys[0]], keys + 1, count - 1);
}
YAML::Node Lookup(const YAML::Node& n, std::initializer_list<const char*> keys) {
  return LookupFrom(n, keys.begin(), keys.size());
}

std::string CanonicalOf(const YAML::Node& n) {
  std::string out;
  Canonical(n, &out);
  return out;
}

std::string Sha256Prefix(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 8 && i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace

// The Host every component is started with. A carried component keeps the Host it was
// started with, so this one outlives each service and answers for the one running now.
class Service::StableHost : public Host {
 public:
  explicit StableHost(boost::asio::io_context& io) : io_(io) {}
  boost::asio::io_context& IoContext() override { return io_; }
  bool Ready() const override { return ready_.load(); }
  // Called at Start only (main thread), by components looking up an extension.
  Extension* GetExtension(const std::string& id) override {
    return current_ != nullptr ? current_->GetExtension(id) : nullptr;
  }
  void SetCurrent(Service* s) { current_ = s; }
  Service* current() const { return current_; }
  void SetReady(bool r) { ready_ = r; }

 private:
  boost::asio::io_context& io_;
  Service* current_ = nullptr;
  std::atomic<bool> ready_{false};
};

struct Service::Graph {
  std::map<ComponentId, Decl> receivers, processors, exporters, extensions, connectors;
  std::vector<PipelineDecl> pipelines;
  std::vector<ComponentId> service_extensions;
  std::vector<size_t> order;              // pipelines, downstream first
  std::vector<std::vector<size_t>> next;  // next[a]: the pipelines pipeline a feeds through connectors
  std::string extensions_canon;           // service.extensions and their configs

  // Instances, in start order within each kind, with their names for messages. Shared:
  // an instance carried over by a reload belongs to two services for a moment.
  template <typename T>
  struct Named {
    std::string name;
    std::string fingerprint;  // equal fingerprints: the instance can be carried over
    std::shared_ptr<T> c;
    bool carried = false;  // started by a previous service
    T* operator->() const { return c.get(); }
  };
  // What one pipeline runs, carried over whole by a reload when neither it nor anything
  // behind it changed.
  struct PipelineRun {
    std::string id;
    std::string fingerprint;
    std::vector<Named<Connector>> connectors;
    std::vector<Named<Processor>> processors;  // downstream first
    std::vector<std::unique_ptr<Consumer>> fanouts;
    Consumer* entry = nullptr;
    // The memory limiters' admission controls of this pipeline and of those it feeds.
    std::vector<AdmissionControl*> admission;
  };
  // A receiver and its entries (one per signal it feeds), which keep their identity
  // when the receiver is carried over; `targets` is what they will point at.
  struct ReceiverRun : Named<Receiver> {
    std::shared_ptr<std::array<SwitchConsumer, 3>> entries;
    std::array<Consumer*, 3> targets{};
  };
  std::vector<Named<Extension>> extension_instances;
  std::vector<Named<Exporter>> exporter_instances;
  std::vector<std::shared_ptr<PipelineRun>> runs;  // by pipeline index
  std::vector<bool> run_carried;                   // runs[i] was started by a previous service
  std::vector<ReceiverRun> receiver_instances;
  std::vector<std::unique_ptr<Consumer>> fanouts;  // the receivers' (targets of entries)

  Consumer* Join(std::vector<Consumer*> outs, std::vector<std::unique_ptr<Consumer>>* owner) {
    if (outs.size() == 1) return outs[0];
    owner->push_back(std::make_unique<FanOut>(std::move(outs)));
    return owner->back().get();
  }
};

namespace {

void DecodeSection(config::Node& root, std::string_view key, Kind kind, const Registry& registry,
                   std::map<ComponentId, Decl>* out) {
  config::Node& section = root.Child(key);
  for (const std::string& k : section.Keys()) {
    config::Node& n = section.Child(k);
    auto id = ComponentId::Parse(k);
    if (!id.ok()) {
      section.ErrorAt(k, id.status().message());
      continue;
    }
    const Factory* f = registry.Find(kind, id->type);
    if (f == nullptr) {
      auto types = registry.TypesOf(kind);
      std::string msg = StrCat("unknown ", KindName(kind), " type \"", id->type, "\"");
      if (auto s = config::Suggest(id->type, types)) {
        StrAppend(&msg, "; did you mean '", *s, "'?");
      } else {
        StrAppend(&msg, "; available: ", types.empty() ? "none" : absl::StrJoin(types, ", "));
      }
      section.ErrorAt(k, msg);
      (*out)[*id] = Decl{*id, nullptr, nullptr, ""};  // known, so references to it are not errors too
      continue;
    }
    Decl d{*id, f, f->CreateDefaultConfig(), ""};
    size_t before = n.errors()->list().size();
    d.cfg->Decode(n);
    if (n.errors()->list().size() == before) {
      if (auto st = d.cfg->Validate(); !st.ok()) n.Error(st.message());
    }
    (*out)[*id] = std::move(d);
  }
}

// ---- Build, step by step: parse, check references, order, instantiate ----

// service.telemetry.metrics: where /metrics is served. Upstream's legacy `address`, or its
// current `readers` with one pull reader of the Prometheus exporter (host, port and the
// options that shape names); a push (periodic) reader is refused.
void ReadMetricsEndpoint(config::Node& metrics, ServiceSettings* settings) {
  metrics.Read("address", &settings->metrics_address);
  if (!metrics.Has("readers")) return;
  std::vector<config::Node*> readers = metrics.ReadMappings("readers");
  if (metrics.Has("address")) {
    metrics.ErrorAt("readers", "set either address (legacy) or readers, not both: the collector serves one /metrics");
  }
  int pulls = 0;
  for (config::Node* r : readers) {
    r->Unsupported("periodic",
                   "pushing the collector's own metrics (OTLP) is not supported; use a pull reader and scrape "
                   "/metrics with a prometheus receiver in a metrics pipeline");
    r->Unsupported("producers", "the collector's own metrics are the only producer here; remove it");
    r->Unsupported("cardinality_limits", "the collector's own series are bounded by its components; remove it");
    if (!r->Has("pull")) continue;
    if (++pulls > 1) {
      r->Error("only one pull reader is supported: the collector serves one /metrics");
      r->AcceptAll();
      continue;
    }
    config::Node& exporter = r->Child("pull").Child("exporter");
    exporter.Unsupported("prometheus/development", "use prometheus (its without_* options are supported)");
    if (!exporter.Has("prometheus")) {
      exporter.Error("a pull reader needs exporter.prometheus (host, port)");
      continue;
    }
    config::Node& prom = exporter.Child("prometheus");
    std::string host = "localhost";
    int port = -1;
    prom.Read("host", &host);
    prom.Read("port", &port);
    if (!prom.Has("port")) {
      prom.Error("port is required");
    } else if (port < 0 || port > 65535) {
      prom.ErrorAt("port", "must be between 0 and 65535");
    }
    if (host == "localhost") host = "127.0.0.1";
    if (host.find(':') != std::string::npos && host.front() != '[') host = StrCat("[", host, "]");
    settings->metrics_address = StrCat(host, ":", port);
    prom.Read("without_type_suffix", &settings->metrics_exposition.without_type_suffix);
    prom.Read("without_units", &settings->metrics_exposition.without_units);
    bool without_scope_info = true;
    prom.Read("without_scope_info", &without_scope_info);
    if (!without_scope_info) {
      prom.ErrorAt("without_scope_info",
                   "false is not supported: the collector's own metrics have no instrumentation scopes; remove it");
    }
    prom.Unsupported("with_resource_constant_labels",
                     "the /metrics endpoint carries no resource attributes; add them as target labels where it is "
                     "scraped");
    prom.Unsupported("translation_strategy",
                     "use service.telemetry.metrics.naming (outrigger or otelcol) and without_type_suffix / "
                     "without_units");
    prom.Unsupported("without_target_info", "there is no target_info series here; remove it");
  }
  if (pulls == 0 && !readers.empty()) {
    metrics.ErrorAt("readers", "needs a pull reader (pull.exporter.prometheus with host and port)");
  }
}

// Step 1: the component sections and the service section. Every component's config is
// decoded and validated; pipelines are read as lists of ids.
void ParseService(config::Node& root, const Registry& registry, Service::Graph& g, ServiceSettings* settings,
                  config::Errors* errors) {
  DecodeSection(root, "receivers", Kind::kReceiver, registry, &g.receivers);
  DecodeSection(root, "processors", Kind::kProcessor, registry, &g.processors);
  DecodeSection(root, "exporters", Kind::kExporter, registry, &g.exporters);
  DecodeSection(root, "extensions", Kind::kExtension, registry, &g.extensions);
  DecodeSection(root, "connectors", Kind::kConnector, registry, &g.connectors);

  config::Node& service = root.Child("service");
  if (service.IsNull()) errors->Add("service", 0, "missing: the service section declares the pipelines");
  std::vector<std::string> ext_names;
  service.Read("extensions", &ext_names);
  for (const auto& e : ext_names) {
    auto id = ComponentId::Parse(e);
    if (!id.ok()) {
      service.ErrorAt("extensions", id.status().message());
    } else if (!g.extensions.count(*id)) {
      service.ErrorAt("extensions", StrCat("references extension \"", e,
                                           "\" which is not configured; configured: ", ListIds(g.extensions)));
    } else if (g.extensions.at(*id).factory != nullptr) {  // an unknown type is reported already
      g.service_extensions.push_back(*id);
    }
  }
  service.Read("shutdown_timeout", &settings->shutdown_timeout);
  config::Node& tel = service.Child("telemetry");
  config::Node& logs = tel.Child("logs");
  logs.ReadEnum("level", &settings->log_level, {"debug", "info", "warn", "error"});
  logs.ReadEnum("encoding", &settings->log_encoding, {"console", "json"});
  config::Node& metrics = tel.Child("metrics");
  ReadMetricsEndpoint(metrics, settings);
  if (metrics.Has("tls")) {
    settings->metrics_tls.Decode(metrics.Child("tls"));
    if (auto s = settings->metrics_tls.Validate("tls"); !s.ok()) metrics.ErrorAt("tls", s.message());
  }
  std::string mlevel = "normal";
  metrics.ReadEnum("level", &mlevel, {"none", "basic", "normal", "detailed"});
  if (mlevel == "none") settings->metrics_address.clear();
  std::string naming = "outrigger";
  metrics.ReadEnum("naming", &naming, {"outrigger", "otelcol"});
  settings->metrics_exposition.naming = naming == "otelcol" ? MetricNaming::kOtelcol : MetricNaming::kOutrigger;
  metrics.Unsupported("views",
                      "the collector's own metrics have fixed aggregations here; drop or relabel series where "
                      "they are scraped (metric_relabel_configs)");
  tel.Unsupported("traces",
                  "the collector does not trace itself; its own metrics (service.telemetry.metrics) and logs "
                  "are what it reports");
  tel.Unsupported("resource",
                  "the /metrics endpoint carries no resource attributes; add them as target labels where it is "
                  "scraped");

  config::Node& pipelines = service.Child("pipelines");
  for (const std::string& key : pipelines.Keys()) {
    config::Node& p = pipelines.Child(key);
    PipelineDecl pd;
    pd.id = key;
    pd.path = p.path();
    pd.line = p.line();
    auto type = std::string_view(key).substr(0, key.find('/'));
    auto sig = ParseSignal(type);
    if (!sig) {
      p.Error(StrCat("pipeline type \"", type, "\" must be traces, metrics or logs"));
      for (const char* k : {"receivers", "processors", "exporters"}) p.Accept(k);
      continue;
    }
    pd.signal = *sig;
    auto read_ids = [&](const char* field, std::vector<ComponentId>* out) {
      std::vector<std::string> names;
      p.Read(field, &names);
      std::set<std::string> seen;
      for (const auto& n : names) {
        if (!seen.insert(n).second) {
          p.ErrorAt(field, StrCat("\"", n, "\" is listed twice"));
          continue;
        }
        auto id = ComponentId::Parse(n);
        if (!id.ok()) {
          p.ErrorAt(field, id.status().message());
          continue;
        }
        out->push_back(*id);
      }
    };
    read_ids("receivers", &pd.receivers);
    read_ids("processors", &pd.processors);
    read_ids("exporters", &pd.exporters);
    g.pipelines.push_back(std::move(pd));
  }
  if (!service.IsNull() && g.pipelines.empty() && errors->empty()) {
    pipelines.Error("at least one pipeline is required under service.pipelines");
  }
  root.Finish();
}

// Step 2: every id a pipeline names is configured, of a known type, for that signal; each
// connector is the exporter of one pipeline and the receiver of another, for signals it
// can join. Components of unknown types were reported in step 1 and are skipped here.
void CheckReferences(const Service::Graph& g, config::Errors* errors) {
  for (const auto& [id, d] : g.connectors) {
    for (const auto& [kind, decls] : {std::pair{"an exporter", &g.exporters}, std::pair{"a receiver", &g.receivers}}) {
      if (decls->count(id)) {
        errors->Add(StrCat("connectors.", id.String()), 0,
                    StrCat("\"", id.String(), "\" is configured both as a connector and as ", kind,
                           "; a pipeline could not tell which one it names: rename one of them"));
      }
    }
  }
  std::map<ComponentId, std::pair<int, int>> connector_use;  // as exporter, as receiver
  for (const auto& pd : g.pipelines) {
    const std::string sname(SignalName(pd.signal));
    auto check = [&](const ComponentId& id, const char* field, Kind kind, const std::map<ComponentId, Decl>& decls) {
      auto it = decls.find(id);
      const Decl* d = it == decls.end() ? nullptr : &it->second;
      if (d == nullptr && kind != Kind::kProcessor) {
        auto c = g.connectors.find(id);
        if (c != g.connectors.end()) {
          auto& use = connector_use[id];
          (kind == Kind::kExporter ? use.first : use.second)++;
          return;
        }
      }
      if (d != nullptr && d->factory == nullptr) return;  // unknown type, already reported
      if (d == nullptr) {
        errors->Add(StrCat(pd.path, ".", field), pd.line,
                    StrCat("references ", KindName(kind), " \"", id.String(),
                           "\" which is not configured; configured: ", ListIds(decls),
                           kind == Kind::kProcessor ? "" : " (nor is it one of the connectors)"));
        return;
      }
      if (!d->factory->Signals().count(pd.signal)) {
        errors->Add(StrCat(pd.path, ".", field), pd.line,
                    StrCat(KindName(kind), " \"", id.String(), "\" does not support ", sname));
      }
    };
    for (const auto& id : pd.receivers) check(id, "receivers", Kind::kReceiver, g.receivers);
    for (const auto& id : pd.processors) check(id, "processors", Kind::kProcessor, g.processors);
    for (const auto& id : pd.exporters) check(id, "exporters", Kind::kExporter, g.exporters);
    if (pd.receivers.empty()) errors->Add(pd.path, pd.line, "a pipeline needs at least one receiver");
    if (pd.exporters.empty()) errors->Add(pd.path, pd.line, "a pipeline needs at least one exporter");
  }
  for (const auto& [id, use] : connector_use) {
    if (g.connectors.at(id).factory == nullptr) continue;  // unknown type, already reported
    if (use.first == 0 || use.second == 0) {
      errors->Add(StrCat("connectors.", id.String()), 0,
                  "a connector must be an exporter in one pipeline and a receiver in another");
    }
  }
  for (const auto& pd : g.pipelines) {
    for (const auto& cid : pd.exporters) {
      auto c = g.connectors.find(cid);
      if (c == g.connectors.end() || c->second.factory == nullptr) continue;
      for (const auto& other : g.pipelines) {
        if (std::find(other.receivers.begin(), other.receivers.end(), cid) == other.receivers.end()) continue;
        if (!static_cast<const ConnectorFactory*>(c->second.factory)->Supports(pd.signal, other.signal)) {
          errors->Add(StrCat("connectors.", cid.String()), 0,
                      StrCat("connector \"", cid.String(), "\" cannot connect ", SignalName(pd.signal), " (pipeline ",
                             pd.id, ") to ", SignalName(other.signal), " (pipeline ", other.id, ")"));
        }
      }
    }
  }
}

// Step 3: pipelines in topological order over connector edges (downstream first, into
// g.order; g.next[a] are the pipelines a feeds). A cycle is an error.
bool OrderPipelines(Service::Graph& g, config::Errors* errors) {
  const size_t np = g.pipelines.size();
  g.next.assign(np, {});
  for (size_t a = 0; a < np; ++a) {
    for (const auto& cid : g.pipelines[a].exporters) {
      if (!g.connectors.count(cid)) continue;
      for (size_t b = 0; b < np; ++b) {
        const auto& r = g.pipelines[b].receivers;
        if (std::find(r.begin(), r.end(), cid) != r.end()) g.next[a].push_back(b);
      }
    }
  }
  std::vector<int> state(np, 0);  // 0 new, 1 on stack, 2 done
  std::vector<size_t> stack;
  std::function<bool(size_t)> visit = [&](size_t a) -> bool {
    state[a] = 1;
    stack.push_back(a);
    for (size_t b : g.next[a]) {
      if (state[b] == 1) {
        std::vector<std::string> cycle;
        auto it = std::find(stack.begin(), stack.end(), b);
        for (; it != stack.end(); ++it) cycle.push_back(g.pipelines[*it].id);
        cycle.push_back(g.pipelines[b].id);
        errors->Add("service.pipelines", 0,
                    StrCat("pipelines form a cycle through connectors: ", absl::StrJoin(cycle, " -> ")));
        return false;
      }
      if (state[b] == 0 && !visit(b)) return false;
    }
    stack.pop_back();
    state[a] = 2;
    g.order.push_back(a);  // post-order: downstream first
    return true;
  };
  for (size_t a = 0; a < np; ++a) {
    if (state[a] == 0 && !visit(a)) return false;
  }
  return true;
}

}  // namespace

Service::Service() = default;

Service::~Service() {
  Shutdown();
  if (host_ && host_->current() == this) host_->SetCurrent(nullptr);
}

std::string ReloadPlan::Summary() const {
  auto list = [](const std::vector<std::string>& v) { return v.empty() ? "none" : absl::StrJoin(v, ", "); };
  if (!partial) return StrCat("everything restarted (", why_full, ")");
  return StrCat("kept: ", list(kept), "; replaced: ", list(replaced), "; added: ", list(added),
                "; removed: ", list(removed));
}

absl::StatusOr<std::unique_ptr<Service>> Service::Build(const YAML::Node& root_yaml, const Registry& registry,
                                                        Telemetry& telemetry, config::Errors* errors,
                                                        const Service* previous) {
  std::unique_ptr<Service> svc(new Service());
  svc->telemetry_ = &telemetry;
  svc->graph_ = std::make_unique<Graph>();
  Graph& g = *svc->graph_;
  config::Node root(root_yaml, "", errors);
  if (!root.IsMap()) {
    errors->Add("", 0, "the configuration is empty or not a mapping");
    return absl::InvalidArgumentError(errors->Joined());
  }
  ParseService(root, registry, g, &svc->settings_, errors);
  CheckReferences(g, errors);
  if (!errors->empty() || !OrderPipelines(g, errors)) return absl::InvalidArgumentError(errors->Joined());
  // What a reload compares: each component's section, canonical.
  for (const auto& [key, decls] : {std::pair{"receivers", &g.receivers}, std::pair{"processors", &g.processors},
                                   std::pair{"exporters", &g.exporters}, std::pair{"extensions", &g.extensions},
                                   std::pair{"connectors", &g.connectors}}) {
    const YAML::Node section = Lookup(root_yaml, {key});
    if (!section || !section.IsMap()) continue;
    for (const auto& kv : section) {
      auto id = ComponentId::Parse(kv.first.as<std::string>(""));
      if (id.ok() && decls->count(*id)) (*decls)[*id].canon = CanonicalOf(kv.second);
    }
  }
  for (const auto& id : g.service_extensions)
    StrAppend(&g.extensions_canon, id.String(), "=", g.extensions[id].canon, ";");
  svc->telemetry_canon_ = CanonicalOf(Lookup(root_yaml, {"service", "telemetry", "metrics"}));
  svc->config_hash_ = Sha256Prefix(CanonicalOf(root_yaml));
  ConfigureLogging(svc->settings_.log_level, svc->settings_.log_encoding);
  if (auto st = svc->Instantiate(registry, telemetry, errors, previous); !st.ok()) return st;
  return svc;
}

// Step 4: instances, from the exporters up (each processor and connector gets the
// consumer it feeds), then the receivers with one consumer per signal. With `previous`,
// an instance whose fingerprint is unchanged is shared with it instead of created:
//  - extensions: all of them, if service.extensions and their configs are unchanged;
//    otherwise nothing at all is carried (components keep what GetExtension gave them);
//  - an exporter: same id and config;
//  - a pipeline (its processors and connector instances): same id, same lists, same
//    processor, exporter and connector configs, and every pipeline its connectors feed
//    carried too (they hold that pipeline's entry);
//  - a receiver: same id and config, feeding the same signals. Its entries are kept and
//    pointed at the new pipelines by TakeOver, whatever pipelines it feeds now.
absl::Status Service::Instantiate(const Registry& registry, Telemetry& telemetry, config::Errors* errors,
                                  const Service* previous) {
  Graph& g = *graph_;
  const Graph* pg = previous != nullptr && !previous->shut_down_ ? previous->graph_.get() : nullptr;
  plan_ = ReloadPlan();
  if (pg == nullptr) {
    plan_.why_full = "first start";
  } else if (pg->extensions_canon != g.extensions_canon) {
    plan_.why_full = "the extensions changed";
  } else {
    plan_.partial = true;
    host_ = previous->host_;
  }
  auto settings_for = [&](const ComponentId& id, Kind kind) {
    return CreateSettings{id, kind, &telemetry, ComponentLogger(StrCat(KindName(kind), "/", id.String()))};
  };
  auto fail = [&](const std::string& where, const absl::Status& st) {
    errors->Add(where, 0, st.message());
    return absl::InvalidArgumentError(errors->Joined());
  };
  // The instance of `name` in `list` if its fingerprint is unchanged; notes the decision.
  auto carry = [&](const auto& list, const std::string& name, const std::string& fingerprint) {
    using Item = std::remove_cvref_t<decltype(list[0])>;
    const Item* found = nullptr;
    if (plan_.partial) {
      for (const auto& item : list) {
        if (item.name == name) found = &item;
      }
    }
    if (found != nullptr && found->fingerprint == fingerprint) {
      plan_.kept.push_back(name);
      return found;
    }
    (found != nullptr ? plan_.replaced : plan_.added).push_back(name);
    return static_cast<const Item*>(nullptr);
  };
  for (const auto& id : g.service_extensions) {
    const std::string name = StrCat("extension ", id.String());
    if (plan_.partial) {
      for (const auto& e : pg->extension_instances) {
        if (e.name == name) g.extension_instances.push_back({e.name, e.fingerprint, e.c, true});
      }
      continue;
    }
    const Decl& d = g.extensions.at(id);
    auto e =
        static_cast<const ExtensionFactory*>(d.factory)->CreateExtension(settings_for(id, Kind::kExtension), *d.cfg);
    if (!e.ok()) return fail(StrCat("extensions.", id.String()), e.status());
    g.extension_instances.push_back({name, d.canon, std::move(*e)});
  }
  std::map<ComponentId, Exporter*> exporters;
  for (const auto& pd : g.pipelines) {
    for (const auto& id : pd.exporters) {
      if (exporters.count(id) || g.connectors.count(id)) continue;
      const Decl& d = g.exporters.at(id);
      const std::string name = StrCat("exporter ", id.String());
      if (auto* kept = plan_.partial ? carry(pg->exporter_instances, name, d.canon) : nullptr) {
        g.exporter_instances.push_back({name, d.canon, kept->c, true});
        exporters[id] = kept->c.get();
        continue;
      }
      auto e =
          static_cast<const ExporterFactory*>(d.factory)->CreateExporter(settings_for(id, Kind::kExporter), *d.cfg);
      if (!e.ok()) return fail(StrCat("exporters.", id.String()), e.status());
      exporters[id] = e->get();
      g.exporter_instances.push_back({name, d.canon, std::move(*e)});
    }
  }
  const size_t np = g.pipelines.size();
  g.runs.resize(np);
  g.run_carried.assign(np, false);
  for (size_t idx : g.order) {  // downstream pipelines first
    const PipelineDecl& pd = g.pipelines[idx];
    // The fingerprint: everything the run holds or points at.
    std::string fp = StrCat(SignalName(pd.signal), "|processors:");
    for (const auto& id : pd.processors) StrAppend(&fp, id.String(), "=", g.processors.at(id).canon, ";");
    StrAppend(&fp, "|exporters:");
    for (const auto& id : pd.exporters) {
      auto c = g.connectors.find(id);
      if (c == g.connectors.end()) {
        StrAppend(&fp, id.String(), "=", g.exporters.at(id).canon, ";");
        continue;
      }
      StrAppend(&fp, "connector ", id.String(), "=", c->second.canon, "->");
      for (size_t b : g.next[idx]) {
        const auto& r = g.pipelines[b].receivers;
        if (std::find(r.begin(), r.end(), id) != r.end()) {
          // The very instance it feeds: a rebuilt downstream pipeline is another object.
          StrAppend(&fp, g.pipelines[b].id, "@", reinterpret_cast<uintptr_t>(g.runs[b].get()), ",");
        }
      }
      StrAppend(&fp, ";");
    }
    const std::string name = StrCat("pipeline ", pd.id);
    if (plan_.partial) {
      std::vector<Graph::Named<Graph::PipelineRun>> old;  // the previous runs, named for `carry`
      for (const auto& run : pg->runs) old.push_back({StrCat("pipeline ", run->id), run->fingerprint, run});
      if (auto* kept = carry(old, name, fp)) {
        g.runs[idx] = kept->c;
        g.run_carried[idx] = true;
        continue;
      }
    }
    auto run = std::make_shared<Graph::PipelineRun>();
    run->id = pd.id;
    run->fingerprint = fp;
    std::vector<Consumer*> outs;
    for (const auto& id : pd.exporters) {
      auto c = g.connectors.find(id);
      if (c == g.connectors.end()) {
        outs.push_back(exporters.at(id));
        continue;
      }
      // One connector instance per (connector, upstream pipeline), feeding every pipeline
      // that receives from it.
      std::vector<Consumer*> downstream;
      Signal out_signal = pd.signal;
      for (size_t b : g.next[idx]) {
        const auto& r = g.pipelines[b].receivers;
        if (std::find(r.begin(), r.end(), id) != r.end()) {
          downstream.push_back(g.runs[b]->entry);
          out_signal = g.pipelines[b].signal;
        }
      }
      auto conn = static_cast<const ConnectorFactory*>(c->second.factory)
                      ->CreateConnector(settings_for(id, Kind::kConnector), *c->second.cfg, pd.signal, out_signal,
                                        g.Join(downstream, &run->fanouts));
      if (!conn.ok()) return fail(StrCat("connectors.", id.String()), conn.status());
      outs.push_back(conn->get());
      run->connectors.push_back({StrCat("connector ", id.String()), "", std::move(*conn)});
    }
    Consumer* next_consumer = g.Join(outs, &run->fanouts);
    // Admission controls: this pipeline's own processors', and those of the pipelines it
    // feeds through connectors (downstream first, so already known).
    for (size_t b : g.next[idx]) {
      for (AdmissionControl* c : g.runs[b]->admission) run->admission.push_back(c);
    }
    for (auto it = pd.processors.rbegin(); it != pd.processors.rend(); ++it) {
      const Decl& d = g.processors.at(*it);
      auto p = static_cast<const ProcessorFactory*>(d.factory)->CreateProcessor(settings_for(*it, Kind::kProcessor),
                                                                                *d.cfg, pd.signal, next_consumer);
      if (!p.ok()) return fail(StrCat("processors.", it->String()), p.status());
      next_consumer = p->get();
      if (auto* provider = dynamic_cast<AdmissionProvider*>(p->get())) {
        if (AdmissionControl* c = provider->admission()) run->admission.push_back(c);
      }
      run->processors.push_back({StrCat("processor ", it->String(), " in pipeline ", pd.id), "", std::move(*p)});
    }
    run->entry = next_consumer;
    g.runs[idx] = std::move(run);
  }
  std::set<ComponentId> receiver_ids;
  for (const auto& pd : g.pipelines) {
    for (const auto& id : pd.receivers) {
      if (!g.connectors.count(id)) receiver_ids.insert(id);
    }
  }
  for (const auto& id : receiver_ids) {
    Graph::ReceiverRun rr;
    std::string signals;
    Admission admits;
    std::string admits_fp;  // the controls are per processor instance: new ones, new receiver
    for (Signal s : kAllSignals) {
      std::vector<Consumer*> outs;
      for (size_t i = 0; i < np; ++i) {
        const auto& pd = g.pipelines[i];
        if (pd.signal == s && std::find(pd.receivers.begin(), pd.receivers.end(), id) != pd.receivers.end()) {
          outs.push_back(g.runs[i]->entry);
          for (AdmissionControl* c : g.runs[i]->admission) {
            admits.Add(c);
            StrAppend(&admits_fp, reinterpret_cast<uintptr_t>(c), ",");
          }
        }
      }
      if (outs.empty()) continue;
      rr.targets[static_cast<size_t>(s)] = g.Join(outs, &g.fanouts);
      StrAppend(&signals, SignalName(s), ",");
    }
    const Decl& d = g.receivers.at(id);
    rr.name = StrCat("receiver ", id.String());
    rr.fingerprint = StrCat(d.canon, "|signals:", signals, "|admission:", admits_fp);
    std::vector<Graph::Named<Receiver>> old;
    if (plan_.partial) {
      for (const auto& r : pg->receiver_instances) old.push_back({r.name, r.fingerprint, r.c});
    }
    if (auto* kept = plan_.partial ? carry(old, rr.name, rr.fingerprint) : nullptr) {
      for (const auto& r : pg->receiver_instances) {
        if (r.c == kept->c) rr.entries = r.entries;
      }
      rr.c = kept->c;
      rr.carried = true;
      g.receiver_instances.push_back(std::move(rr));
      continue;
    }
    auto r = static_cast<const ReceiverFactory*>(d.factory)->CreateReceiver(settings_for(id, Kind::kReceiver), *d.cfg);
    if (!r.ok()) return fail(StrCat("receivers.", id.String()), r.status());
    rr.entries = std::make_shared<std::array<SwitchConsumer, 3>>();
    Receiver::Consumers consumers;
    for (Signal s : kAllSignals) {
      const size_t i = static_cast<size_t>(s);
      if (rr.targets[i] == nullptr) continue;
      (*rr.entries)[i].Swap(rr.targets[i]);  // not shared yet: no call can be in flight
      (s == Signal::kTraces    ? consumers.traces
       : s == Signal::kMetrics ? consumers.metrics
                               : consumers.logs) = &(*rr.entries)[i];
    }
    (*r)->SetConsumers(consumers);
    if (auto* client = dynamic_cast<AdmissionClient*>(r->get())) client->SetAdmission(std::move(admits));
    rr.c = std::move(*r);
    g.receiver_instances.push_back(std::move(rr));
  }
  if (plan_.partial) {
    auto gone = [&](const std::string& name) {
      for (const auto* l : {&plan_.kept, &plan_.replaced, &plan_.added}) {
        if (std::find(l->begin(), l->end(), name) != l->end()) return;
      }
      plan_.removed.push_back(name);
    };
    for (const auto& e : pg->exporter_instances) gone(e.name);
    for (const auto& run : pg->runs) gone(StrCat("pipeline ", run->id));
    for (const auto& r : pg->receiver_instances) gone(r.name);
  }
  return absl::OkStatus();
}

Extension* Service::GetExtension(const std::string& id) {
  const std::string name = StrCat("extension ", id);
  for (auto& e : graph_->extension_instances) {
    if (e.name == name) return e.c.get();
  }
  return nullptr;
}

absl::Status Service::StartTelemetryServer(boost::asio::io_context& io) {
  if (settings_.metrics_address.empty()) return absl::OkStatus();
  auto opts = http::MakeServerOptions(nullptr, http::ServerLimits(), settings_.metrics_tls, tls::ServerAuth(),
                                      telemetry_, "service/telemetry", nullptr);
  if (!opts.ok()) {
    return absl::Status(opts.status().code(), StrCat("service.telemetry.metrics: ", opts.status().message()));
  }
  Telemetry* telemetry = telemetry_;  // the server may outlive this service (carried by a reload)
  const ExpositionOptions exposition = settings_.metrics_exposition;
  auto srv = http::Server::Listen(io, settings_.metrics_address, std::move(*opts),
                                  [telemetry, exposition](http::Request& req) {
                                    http::Response r;
                                    if (req.path != "/metrics") {
                                      r.status = 404;
                                      r.body = "not found; try /metrics\n";
                                      return r;
                                    }
                                    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                                    r.body = telemetry->Render(exposition);
                                    return r;
                                  });
  if (!srv.ok())
    return absl::Status(srv.status().code(), StrCat("service.telemetry.metrics: ", srv.status().message()));
  telemetry_server_ = std::move(*srv);
  return absl::OkStatus();
}

namespace {

template <typename List>
absl::Status StartEach(List& list, Host& host) {
  for (auto& c : list) {
    if (c.carried) continue;
    auto st = c->Start(host);
    if (!st.ok()) return absl::Status(st.code(), StrCat("cannot start ", c.name, ": ", st.message()));
  }
  return absl::OkStatus();
}

// Stops in reverse order, skipping what `keep` says.
template <typename List, typename Keep>
void StopEach(List& list, absl::Time deadline, Keep keep) {
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    if (keep(*it)) continue;
    auto st = (*it)->Shutdown(deadline);
    if (!st.ok()) spdlog::warn("{} shutdown: {}", it->name, st.ToString());
  }
}

}  // namespace

absl::Status Service::Start(boost::asio::io_context& io) {
  io_ = &io;
  started_ = true;
  if (!host_) host_ = std::make_shared<StableHost>(io);
  host_->SetCurrent(this);
  Graph& g = *graph_;
  if (auto s = StartTelemetryServer(io); !s.ok()) return s;
  if (auto s = StartEach(g.extension_instances, *host_); !s.ok()) return s;
  if (auto s = StartEach(g.exporter_instances, *host_); !s.ok()) return s;
  for (size_t idx : g.order) {  // downstream first: connectors, then processors (last first)
    if (g.run_carried[idx]) continue;
    if (auto s = StartEach(g.runs[idx]->connectors, *host_); !s.ok()) return s;
    if (auto s = StartEach(g.runs[idx]->processors, *host_); !s.ok()) return s;
  }
  if (auto s = StartEach(g.receiver_instances, *host_); !s.ok()) return s;
  ready_ = true;
  host_->SetReady(true);
  size_t processors = 0;
  for (const auto& run : g.runs) processors += run->processors.size();
  spdlog::info("everything is ready: {} pipelines, {} receivers, {} processors, {} exporters", g.pipelines.size(),
               g.receiver_instances.size(), processors, g.exporter_instances.size());
  return absl::OkStatus();
}

void Service::Shutdown() {
  if (shut_down_ || !graph_) return;
  shut_down_ = true;
  // Never started: nothing runs, and what it shares with a running service (built for a
  // reload) is not its to stop.
  if (!started_) return;
  ready_ = false;
  if (host_ && host_->current() == this) host_->SetReady(false);
  Graph& g = *graph_;
  const absl::Time deadline = absl::Now() + settings_.shutdown_timeout;
  auto all = [](const auto&) { return false; };
  // Receivers first; pipelines upstream first, each its processors (first first) and then
  // its connectors, so each flush lands in a component that is still running.
  StopEach(g.receiver_instances, deadline, all);
  for (auto it = g.order.rbegin(); it != g.order.rend(); ++it) {
    StopEach(g.runs[*it]->processors, deadline, all);
    StopEach(g.runs[*it]->connectors, deadline, all);
  }
  StopEach(g.exporter_instances, deadline, all);
  StopEach(g.extension_instances, deadline, all);
  if (telemetry_server_) telemetry_server_->Stop();
}

absl::Status Service::TakeOver(Service& previous, boost::asio::io_context& io, bool* untouched) {
  *untouched = true;
  if (!plan_.partial) return absl::FailedPreconditionError("not built for a partial reload");
  io_ = &io;
  started_ = true;
  Graph& g = *graph_;
  Graph& pg = *previous.graph_;
  // 1. What is new behind the receivers starts while the previous graph still runs. On
  // an error it stops again, and the previous service runs on unchanged.
  auto undo = [&](const absl::Status& st) {
    const absl::Time deadline = absl::Now() + settings_.shutdown_timeout;
    auto carried = [](const auto& c) { return c.carried; };
    for (auto it = g.order.rbegin(); it != g.order.rend(); ++it) {
      if (g.run_carried[*it]) continue;
      StopEach(g.runs[*it]->processors, deadline, carried);
      StopEach(g.runs[*it]->connectors, deadline, carried);
    }
    StopEach(g.exporter_instances, deadline, carried);
    shut_down_ = true;  // so that destroying it stops nothing carried
    return st;
  };
  if (auto s = StartEach(g.exporter_instances, *host_); !s.ok()) return undo(s);
  for (size_t idx : g.order) {
    if (g.run_carried[idx]) continue;
    if (auto s = StartEach(g.runs[idx]->connectors, *host_); !s.ok()) return undo(s);
    if (auto s = StartEach(g.runs[idx]->processors, *host_); !s.ok()) return undo(s);
  }
  // 2. From here on the previous service is changed. The carried receivers' entries
  // point at the new pipelines (each swap waits for the calls still in the old ones).
  *untouched = false;
  ready_ = true;
  host_->SetCurrent(this);
  for (auto& r : g.receiver_instances) {
    if (!r.carried) continue;
    for (size_t i = 0; i < 3; ++i) {
      if (r.targets[i] != nullptr) (*r.entries)[i].Swap(r.targets[i]);
    }
  }
  const absl::Time deadline = absl::Now() + previous.settings_.shutdown_timeout;
  std::set<const void*> shared;
  for (const auto& r : g.receiver_instances) shared.insert(r.c.get());
  for (const auto& run : g.runs) shared.insert(run.get());
  for (const auto& e : g.exporter_instances) shared.insert(e.c.get());
  auto is_shared = [&](const auto& c) { return shared.count(c.c.get()) > 0; };
  // 3. Receivers replaced or removed stop (flushing into their pipelines, still running),
  // then the new ones start: a changed receiver may keep its port.
  StopEach(pg.receiver_instances, deadline, is_shared);
  // The telemetry server likewise, if its settings changed.
  if (telemetry_canon_ == previous.telemetry_canon_ && previous.telemetry_server_) {
    telemetry_server_ = std::move(previous.telemetry_server_);
  } else {
    if (previous.telemetry_server_) previous.telemetry_server_->Stop();
    previous.telemetry_server_.reset();
    if (auto s = StartTelemetryServer(io); !s.ok()) return s;
  }
  if (auto s = StartEach(g.receiver_instances, *host_); !s.ok()) return s;
  // 4. The previous pipelines no longer fed stop, upstream first, then its exporters.
  auto never = [](const auto&) { return false; };
  for (auto it = pg.order.rbegin(); it != pg.order.rend(); ++it) {
    if (shared.count(pg.runs[*it].get())) continue;
    StopEach(pg.runs[*it]->processors, deadline, never);
    StopEach(pg.runs[*it]->connectors, deadline, never);
  }
  StopEach(pg.exporter_instances, deadline, is_shared);
  previous.shut_down_ = true;  // what it still holds is stopped or carried here
  previous.ready_ = false;
  host_->SetReady(true);
  return absl::OkStatus();
}

}  // namespace outrigger
