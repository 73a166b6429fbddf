#include "processors/k8s_attributes/k8s_attributes_processor.h"

#include <mutex>

#include "absl/strings/str_join.h"
#include "collector/common/strings.h"
#include "collector/pdata/pdata.h"
#include "collector/telemetry/telemetry.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "processors/k8s_attributes/api_store.h"
#include "processors/k8s_attributes/sidecar.h"

namespace outrigger::processors::k8s_attributes {
namespace {

namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace mpb = opentelemetry::proto::collector::metrics::v1;
namespace lpb = opentelemetry::proto::collector::logs::v1;

// What makes two processor configurations share one watch (the processors of every
// pipeline and signal with the same section share it).
std::string Fingerprint(const std::string& id, const Config& c) {
  std::string s = StrCat(id, "|", c.auth_type, "|", c.filter.namespace_, "|", c.NodeFilter(), "|",
                         absl::StrJoin(c.extract.metadata, ","), "|", c.extract.otel_annotations, "|",
                         c.extract.deployment_name_from_replicaset, "|", absl::StrJoin(c.exclude_pods, ","), "|",
                         absl::FormatDuration(c.pod_delete_grace));
  for (const auto* list : {&c.extract.labels, &c.extract.annotations}) {
    for (const auto& f : *list) s = StrCat(s, "|", f.tag_name, ";", f.key, ";", f.key_regex, ";", f.from);
    s += "#";
  }
  for (const auto* list : {&c.filter.fields, &c.filter.labels}) {
    for (const auto& f : *list) s = StrCat(s, "|", f.key, ";", f.op, ";", f.value);
    s += "#";
  }
  for (const auto& rule : c.pod_association) {
    for (const auto& src : rule) s = StrCat(s, "|", src.from, ";", src.name);
  }
  return s;
}

template <typename KVs>
std::string_view ResourceAttr(const KVs& kvs, std::string_view key) {
  for (const auto& kv : kvs) {
    if (kv.key() == key && kv.value().value_case() == opentelemetry::proto::common::v1::AnyValue::kStringValue) {
      return kv.value().string_value();
    }
  }
  return {};
}

class K8sAttributesProcessor : public Processor {
 public:
  K8sAttributesProcessor(const CreateSettings& settings, const Config& cfg, Consumer* next)
      : cfg_(cfg), next_(next), id_(settings.id.String()), logger_(settings.logger) {
    if (!cfg_.api()) sidecar_ = std::make_unique<SidecarIdentity>(cfg_);
    if (settings.telemetry != nullptr) {
      prometheus::Labels l = {{"processor", id_}};
      auto lookups = [&](const char* result) {
        return &settings.telemetry->AddCounter(
            "outrigger_k8s_attributes_lookups_total",
            "Resources looked up in API mode, by result: hit (a Pod found), miss (identifiers found, no Pod), "
            "no_source (no rule had its sources)",
            {{"processor", id_}, {"result", result}});
      };
      hits_ = lookups("hit");
      misses_ = lookups("miss");
      no_source_ = lookups("no_source");
      pods_ = &settings.telemetry->AddGauge("outrigger_k8s_attributes_pods", "Pods held in API mode", l);
      telemetry_ = settings.telemetry;
      sidecar_reloads_ = &settings.telemetry->AddCounter("outrigger_k8s_attributes_sidecar_reloads_total",
                                                         "Sidecar mode: times the Downward API files were (re)read", l);
      sidecar_errors_ = &settings.telemetry->AddCounter(
          "outrigger_k8s_attributes_sidecar_read_errors_total",
          "Sidecar mode: Downward API files that could not be read, and lines that did not parse", l);
      if (sidecar_) sidecar_->SetCounters(sidecar_reloads_, sidecar_errors_);
    }
  }

  bool MutatesData() const override { return true; }

  absl::Status Start(Host&) override {
    if (!cfg_.api() || cfg_.passthrough) return absl::OkStatus();
    Telemetry* t = telemetry_;
    std::string id = id_;
    auto on_error = [t, id](const std::string& resource) {
      if (t != nullptr) {
        t->AddCounter("outrigger_k8s_attributes_api_errors_total",
                      "API mode: failed list/watch requests and bad watch lines, by resource",
                      {{"processor", id}, {"resource", resource}})
            .Increment();
      }
    };
    auto w = ApiWatcher::Get(Fingerprint(id_, cfg_), cfg_, logger_, on_error);
    if (!w.ok()) return w.status();
    watcher_ = *w;
    prometheus::Gauge* pods = pods_;
    if (pods != nullptr) watcher_->store().set_on_change([pods](size_t n) { pods->Set(static_cast<double>(n)); });
    watcher_->Start();
    if (cfg_.wait_for_metadata && !watcher_->WaitSynced(cfg_.wait_for_metadata_timeout)) {
      std::string err = watcher_->last_error();
      watcher_.reset();
      return absl::DeadlineExceededError(StrCat("k8s_attributes: metadata not synced within ",
                                                absl::FormatDuration(cfg_.wait_for_metadata_timeout),
                                                err.empty() ? "" : StrCat(": ", err)));
    }
    return absl::OkStatus();
  }

  absl::Status Shutdown(absl::Time) override {
    watcher_.reset();  // the last one stops the informers
    return absl::OkStatus();
  }

  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    auto sidecar = Prepare();
    d.ForEachMutableRequestWithClient(
        [this, &sidecar](tpb::ExportTraceServiceRequest& req, const pdata::ClientInfo* client) {
          for (auto& rs : *req.mutable_resource_spans())
            Enrich(rs.mutable_resource()->mutable_attributes(), client, sidecar.get());
        });
    return next_->ConsumeTraces(std::move(d));
  }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override {
    auto sidecar = Prepare();
    d.ForEachMutableRequestWithClient(
        [this, &sidecar](mpb::ExportMetricsServiceRequest& req, const pdata::ClientInfo* client) {
          for (auto& rm : *req.mutable_resource_metrics())
            Enrich(rm.mutable_resource()->mutable_attributes(), client, sidecar.get());
        });
    return next_->ConsumeMetrics(std::move(d));
  }
  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    auto sidecar = Prepare();
    d.ForEachMutableRequestWithClient(
        [this, &sidecar](lpb::ExportLogsServiceRequest& req, const pdata::ClientInfo* client) {
          for (auto& rl : *req.mutable_resource_logs())
            Enrich(rl.mutable_resource()->mutable_attributes(), client, sidecar.get());
        });
    return next_->ConsumeLogs(std::move(d));
  }

 private:
  // Once per call: the sidecar's attributes (files re-checked), deleted Pods purged.
  std::shared_ptr<const Attrs> Prepare() {
    if (sidecar_) {
      return sidecar_->Current();
    } else if (watcher_) {
      absl::Time now = absl::Now();
      std::lock_guard<std::mutex> lock(purge_mu_);
      if (now >= next_purge_) {
        next_purge_ = now + absl::Seconds(1);
        watcher_->store().Purge(now);
      }
    }
    return nullptr;
  }

  template <typename KVs>
  void Enrich(KVs* kvs, const pdata::ClientInfo* client, const Attrs* sidecar) {
    if (sidecar != nullptr) {
      SetAttrs(kvs, *sidecar, cfg_.overwrite);
      return;
    }
    if (cfg_.passthrough) {
      // API mode passthrough (upstream's): the connection's address as k8s.pod.ip.
      if (client != nullptr && !client->address.empty())
        SetAttrs(kvs, {{"k8s.pod.ip", client->address}}, cfg_.overwrite);
      return;
    }
    if (!watcher_) return;
    std::shared_ptr<const PodRecord> pod = Associate(*kvs, client);
    if (pod == nullptr) return;
    SetAttrs(kvs, watcher_->store().AttributesFor(*pod, *kvs), cfg_.overwrite);
  }

  // Upstream's rules: in order, the first whose sources are all present decides; if it
  // finds no Pod, the lookup is a miss (later rules are not tried).
  template <typename KVs>
  std::shared_ptr<const PodRecord> Associate(const KVs& kvs, const pdata::ClientInfo* client) {
    static const std::vector<std::vector<AssociationSource>> kDefault = {{{"connection", ""}}};
    const auto& rules = cfg_.pod_association.empty() ? kDefault : cfg_.pod_association;
    const MetadataStore& store = watcher_->store();
    for (const auto& rule : rules) {
      std::vector<std::string_view> values;
      bool complete = true;
      for (const auto& s : rule) {
        std::string_view v = s.from == "connection" ? (client == nullptr ? std::string_view() : client->address)
                                                    : ResourceAttr(kvs, s.name);
        if (v.empty()) {
          complete = false;
          break;
        }
        values.push_back(v);
      }
      if (!complete) continue;
      std::shared_ptr<const PodRecord> found;
      bool agree = true;
      std::string_view ns, name;
      for (size_t i = 0; i < rule.size() && agree; ++i) {
        const auto& s = rule[i];
        std::shared_ptr<const PodRecord> p;
        if (s.name == "k8s.namespace.name") {
          ns = values[i];
          continue;
        }
        if (s.name == "k8s.pod.name") {
          name = values[i];
          continue;
        }
        if (s.from == "connection" || s.name == "k8s.pod.ip" || s.name == "ip" || s.name == "host.name") {
          p = store.ByIp(values[i]);
        } else if (s.name == "k8s.pod.uid") {
          p = store.ByUid(values[i]);
        } else if (s.name == "container.id") {
          p = store.ByContainerId(values[i]);
        }
        if (p == nullptr || (found != nullptr && found != p)) agree = false;
        found = p;
      }
      if (agree && !name.empty()) {
        auto p = store.ByName(ns, name);
        if (p == nullptr || (found != nullptr && found != p)) agree = false;
        found = p;
      }
      if (agree && found != nullptr) {
        if (hits_ != nullptr) hits_->Increment();
        return found;
      }
      if (misses_ != nullptr) misses_->Increment();
      return nullptr;
    }
    if (no_source_ != nullptr) no_source_->Increment();
    return nullptr;
  }

  Config cfg_;
  Consumer* next_;
  std::string id_;
  std::shared_ptr<spdlog::logger> logger_;
  Telemetry* telemetry_ = nullptr;
  std::unique_ptr<SidecarIdentity> sidecar_;
  std::shared_ptr<ApiWatcher> watcher_;
  std::mutex purge_mu_;
  absl::Time next_purge_ = absl::InfinitePast();
  prometheus::Counter* hits_ = nullptr;
  prometheus::Counter* misses_ = nullptr;
  prometheus::Counter* no_source_ = nullptr;
  prometheus::Gauge* pods_ = nullptr;
  prometheus::Counter* sidecar_reloads_ = nullptr;
  prometheus::Counter* sidecar_errors_ = nullptr;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Processor>> NewK8sAttributesProcessor(const CreateSettings& settings, const Config& cfg,
                                                                     Consumer* next) {
  return std::unique_ptr<Processor>(std::make_unique<K8sAttributesProcessor>(settings, cfg, next));
}

}  // namespace outrigger::processors::k8s_attributes
