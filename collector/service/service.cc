#include "collector/service/service.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <functional>
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

}  // namespace

struct Service::Graph {
  std::map<ComponentId, Decl> receivers, processors, exporters, extensions, connectors;
  std::vector<PipelineDecl> pipelines;
  std::vector<ComponentId> service_extensions;
  std::vector<size_t> order;              // pipelines, downstream first
  std::vector<std::vector<size_t>> next;  // next[a]: the pipelines pipeline a feeds through connectors

  // Instances, in start order within each kind, with their names for messages.
  template <typename T>
  struct Named {
    std::string name;
    std::unique_ptr<T> c;
    T* operator->() const { return c.get(); }
  };
  std::vector<Named<Extension>> extension_instances;
  std::vector<Named<Exporter>> exporter_instances;
  std::vector<Named<Connector>> connector_instances;
  std::vector<Named<Processor>> processor_instances;  // downstream first
  std::vector<Named<Receiver>> receiver_instances;
  std::vector<std::unique_ptr<Consumer>> fanouts;

  Consumer* Join(std::vector<Consumer*> outs) {
    if (outs.size() == 1) return outs[0];
    fanouts.push_back(std::make_unique<FanOut>(std::move(outs)));
    return fanouts.back().get();
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
      (*out)[*id] = Decl{*id, nullptr, nullptr};  // known, so references to it are not errors too
      continue;
    }
    Decl d{*id, f, f->CreateDefaultConfig()};
    size_t before = n.errors()->list().size();
    d.cfg->Decode(n);
    if (n.errors()->list().size() == before) {
      if (auto st = d.cfg->Validate(); !st.ok()) n.Error(st.message());
    }
    (*out)[*id] = std::move(d);
  }
}

// ---- Build, step by step: parse, check references, order, instantiate ----

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
  metrics.Read("address", &settings->metrics_address);
  if (metrics.Has("tls")) {
    settings->metrics_tls.Decode(metrics.Child("tls"));
    if (auto s = settings->metrics_tls.Validate("tls"); !s.ok()) metrics.ErrorAt("tls", s.message());
  }
  std::string mlevel = "normal";
  metrics.ReadEnum("level", &mlevel, {"none", "basic", "normal", "detailed"});
  if (mlevel == "none") settings->metrics_address.clear();

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

Service::~Service() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Service>> Service::Build(const YAML::Node& root_yaml, const Registry& registry,
                                                        Telemetry& telemetry, config::Errors* errors) {
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
  ConfigureLogging(svc->settings_.log_level, svc->settings_.log_encoding);
  if (auto st = svc->Instantiate(registry, telemetry, errors); !st.ok()) return st;
  return svc;
}

// Step 4: instances, from the exporters up (each processor and connector gets the
// consumer it feeds), then the receivers with one consumer per signal.
absl::Status Service::Instantiate(const Registry& registry, Telemetry& telemetry, config::Errors* errors) {
  Graph& g = *graph_;
  auto settings_for = [&](const ComponentId& id, Kind kind) {
    return CreateSettings{id, kind, &telemetry, ComponentLogger(StrCat(KindName(kind), "/", id.String()))};
  };
  auto fail = [&](const std::string& where, const absl::Status& st) {
    errors->Add(where, 0, st.message());
    return absl::InvalidArgumentError(errors->Joined());
  };
  for (const auto& id : g.service_extensions) {
    const Decl& d = g.extensions.at(id);
    auto e =
        static_cast<const ExtensionFactory*>(d.factory)->CreateExtension(settings_for(id, Kind::kExtension), *d.cfg);
    if (!e.ok()) return fail(StrCat("extensions.", id.String()), e.status());
    g.extension_instances.push_back({StrCat("extension ", id.String()), std::move(*e)});
  }
  std::map<ComponentId, Exporter*> exporters;
  for (const auto& pd : g.pipelines) {
    for (const auto& id : pd.exporters) {
      if (exporters.count(id) || g.connectors.count(id)) continue;
      const Decl& d = g.exporters.at(id);
      auto e =
          static_cast<const ExporterFactory*>(d.factory)->CreateExporter(settings_for(id, Kind::kExporter), *d.cfg);
      if (!e.ok()) return fail(StrCat("exporters.", id.String()), e.status());
      exporters[id] = e->get();
      g.exporter_instances.push_back({StrCat("exporter ", id.String()), std::move(*e)});
    }
  }
  const size_t np = g.pipelines.size();
  std::vector<Consumer*> entry(np, nullptr);
  std::vector<std::vector<AdmissionControl*>> admission(np);
  for (size_t idx : g.order) {  // downstream pipelines first
    const PipelineDecl& pd = g.pipelines[idx];
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
          downstream.push_back(entry[b]);
          out_signal = g.pipelines[b].signal;
        }
      }
      auto conn = static_cast<const ConnectorFactory*>(c->second.factory)
                      ->CreateConnector(settings_for(id, Kind::kConnector), *c->second.cfg, pd.signal, out_signal,
                                        g.Join(downstream));
      if (!conn.ok()) return fail(StrCat("connectors.", id.String()), conn.status());
      outs.push_back(conn->get());
      g.connector_instances.push_back({StrCat("connector ", id.String()), std::move(*conn)});
    }
    Consumer* next_consumer = g.Join(outs);
    // Admission controls: this pipeline's own processors', and those of the pipelines it
    // feeds through connectors (downstream first, so already known).
    for (size_t b : g.next[idx]) {
      for (AdmissionControl* c : admission[b]) admission[idx].push_back(c);
    }
    for (auto it = pd.processors.rbegin(); it != pd.processors.rend(); ++it) {
      const Decl& d = g.processors.at(*it);
      auto p = static_cast<const ProcessorFactory*>(d.factory)->CreateProcessor(settings_for(*it, Kind::kProcessor),
                                                                                *d.cfg, pd.signal, next_consumer);
      if (!p.ok()) return fail(StrCat("processors.", it->String()), p.status());
      next_consumer = p->get();
      if (auto* provider = dynamic_cast<AdmissionProvider*>(p->get())) {
        if (AdmissionControl* c = provider->admission()) admission[idx].push_back(c);
      }
      g.processor_instances.push_back({StrCat("processor ", it->String(), " in pipeline ", pd.id), std::move(*p)});
    }
    entry[idx] = next_consumer;
  }
  std::set<ComponentId> receiver_ids;
  for (const auto& pd : g.pipelines) {
    for (const auto& id : pd.receivers) {
      if (!g.connectors.count(id)) receiver_ids.insert(id);
    }
  }
  for (const auto& id : receiver_ids) {
    Receiver::Consumers consumers;
    Admission admits;
    for (Signal s : kAllSignals) {
      std::vector<Consumer*> outs;
      for (size_t i = 0; i < np; ++i) {
        const auto& pd = g.pipelines[i];
        if (pd.signal == s && std::find(pd.receivers.begin(), pd.receivers.end(), id) != pd.receivers.end()) {
          outs.push_back(entry[i]);
          for (AdmissionControl* c : admission[i]) admits.Add(c);
        }
      }
      if (outs.empty()) continue;
      Consumer* c = g.Join(outs);
      (s == Signal::kTraces ? consumers.traces : s == Signal::kMetrics ? consumers.metrics : consumers.logs) = c;
    }
    const Decl& d = g.receivers.at(id);
    auto r = static_cast<const ReceiverFactory*>(d.factory)->CreateReceiver(settings_for(id, Kind::kReceiver), *d.cfg);
    if (!r.ok()) return fail(StrCat("receivers.", id.String()), r.status());
    (*r)->SetConsumers(consumers);
    if (auto* client = dynamic_cast<AdmissionClient*>(r->get())) client->SetAdmission(std::move(admits));
    g.receiver_instances.push_back({StrCat("receiver ", id.String()), std::move(*r)});
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

absl::Status Service::Start(boost::asio::io_context& io) {
  io_ = &io;
  started_ = true;
  Graph& g = *graph_;
  auto start_all = [&](auto& list) -> absl::Status {
    for (auto& c : list) {
      auto st = c->Start(*this);
      if (!st.ok()) return absl::Status(st.code(), StrCat("cannot start ", c.name, ": ", st.message()));
    }
    return absl::OkStatus();
  };
  if (!settings_.metrics_address.empty()) {
    auto opts = http::MakeServerOptions(nullptr, http::ServerLimits(), settings_.metrics_tls, tls::ServerAuth(),
                                        telemetry_, "service/telemetry", nullptr);
    if (!opts.ok()) {
      return absl::Status(opts.status().code(), StrCat("service.telemetry.metrics: ", opts.status().message()));
    }
    auto srv = http::Server::Listen(io, settings_.metrics_address, std::move(*opts), [this](http::Request& req) {
      http::Response r;
      if (req.path != "/metrics") {
        r.status = 404;
        r.body = "not found; try /metrics\n";
        return r;
      }
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = telemetry_->Render();
      return r;
    });
    if (!srv.ok())
      return absl::Status(srv.status().code(), StrCat("service.telemetry.metrics: ", srv.status().message()));
    telemetry_server_ = std::move(*srv);
  }
  if (auto s = start_all(g.extension_instances); !s.ok()) return s;
  if (auto s = start_all(g.exporter_instances); !s.ok()) return s;
  if (auto s = start_all(g.connector_instances); !s.ok()) return s;
  if (auto s = start_all(g.processor_instances); !s.ok()) return s;
  if (auto s = start_all(g.receiver_instances); !s.ok()) return s;
  ready_ = true;
  spdlog::info("everything is ready: {} pipelines, {} receivers, {} processors, {} exporters", g.pipelines.size(),
               g.receiver_instances.size(), g.processor_instances.size(), g.exporter_instances.size());
  return absl::OkStatus();
}

void Service::Shutdown() {
  if (shut_down_ || !graph_) return;
  shut_down_ = true;
  ready_ = false;
  Graph& g = *graph_;
  const absl::Time deadline = absl::Now() + settings_.shutdown_timeout;
  auto stop_all = [&](auto& list) {
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      auto st = (*it)->Shutdown(deadline);
      if (!st.ok()) spdlog::warn("{} shutdown: {}", it->name, st.ToString());
    }
  };
  // Receivers first; processors upstream first (reverse of creation), so each flush
  // lands in a component that is still running.
  stop_all(g.receiver_instances);
  stop_all(g.processor_instances);
  stop_all(g.connector_instances);
  stop_all(g.exporter_instances);
  stop_all(g.extension_instances);
  if (telemetry_server_) telemetry_server_->Stop();
}

}  // namespace outrigger
