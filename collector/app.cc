#include "collector/app.h"

#include <signal.h>

#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_join.h"
#include "collector/common/loop_ticker.h"
#include "collector/common/thread_name.h"
#include "collector/component/registry.h"
#include "collector/config/node.h"
#include "collector/memory/resident_code.h"
#include "collector/service/config_watcher.h"
#include "collector/service/service.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace outrigger {
namespace {

constexpr char kUsage[] = R"(outrigger: an observability sidecar (OTLP, StatsD, Prometheus, logs).

Usage:
  outrigger [--config FILE]... [--watch-config=true|false]
                                          run (the embedded default config if none is given)
  outrigger validate [--config FILE]...   check a config: exit 0, or 1 with every error listed
  outrigger components                    list the built-in components per kind and signal
  outrigger print-default-config          print the embedded default config
  outrigger --version | --help

Several --config files are merged in order (later files win; mappings merge).
Values may use ${env:VAR}, ${VAR} and ${env:VAR:-default}; "$$" is a literal "$".
Signals: SIGTERM/SIGINT shut down gracefully (flushing within service.shutdown_timeout),
SIGHUP reloads the config files (an invalid new config is refused, the old one keeps running;
only the components that changed are replaced). --watch-config (default true) also reloads
when the content of a config file changes (edits, renames, Kubernetes ConfigMap updates).
)";

struct Args {
  std::string command = "run";
  std::vector<std::string> configs;
  bool watch_config = true;
};

bool ParseArgs(const std::vector<std::string>& args, Args* out, std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config" || a == "-c") {
      if (i + 1 >= args.size()) {
        *error = "--config needs a file name";
        return false;
      }
      out->configs.push_back(args[++i]);
    } else if (a.rfind("--config=", 0) == 0) {
      out->configs.push_back(a.substr(9));
    } else if (a == "--watch-config" || a == "--watch-config=true") {
      out->watch_config = true;
    } else if (a == "--watch-config=false") {
      out->watch_config = false;
    } else if (a.rfind("--watch-config=", 0) == 0) {
      *error = "--watch-config takes true or false";
      return false;
    } else if (a == "--version" || a == "version") {
      out->command = "version";
    } else if (a == "--help" || a == "-h" || a == "help") {
      out->command = "help";
    } else if (a == "validate" || a == "components" || a == "run" || a == "print-default-config") {
      out->command = a;
    } else {
      *error = "unknown argument \"" + a + "\"";
      return false;
    }
  }
  return true;
}

bool ReadSources(const std::vector<std::string>& files, std::vector<config::Source>* out, std::string* error) {
  out->clear();
  if (files.empty()) {
    out->push_back({"<embedded default>", kDefaultConfigYaml});
    return true;
  }
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) {
      *error = "cannot read config file \"" + f + "\": " + std::strerror(errno);
      return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    out->push_back({f, ss.str()});
  }
  return true;
}

// Reads, merges and builds; prints nothing. Errors go to *errors; the merged YAML to
// *root_out (kept so a failed reload can go back to it).
absl::StatusOr<std::unique_ptr<Service>> Load(const std::vector<std::string>& files, const Registry& registry,
                                              Telemetry& telemetry, config::Errors* errors,
                                              YAML::Node* root_out = nullptr, const Service* previous = nullptr,
                                              ConfigWatcher* watcher = nullptr) {
  std::vector<config::Source> sources;
  std::string err;
  if (!ReadSources(files, &sources, &err)) {
    errors->Add("", 0, err);
    return absl::InvalidArgumentError(err);
  }
  if (watcher != nullptr) {
    std::vector<std::string> contents;
    for (const auto& s : sources) contents.push_back(s.text);
    watcher->Loaded(contents);
  }
  YAML::Node root = config::LoadAndMerge(sources, errors);
  if (!errors->empty()) return absl::InvalidArgumentError(errors->Joined());
  if (root_out != nullptr) root_out->reset(YAML::Clone(root));  // rebinds (see Run)
  return Service::Build(root, registry, telemetry, errors, previous);
}

int ListComponents(const Registry& registry) {
  for (Kind k : {Kind::kReceiver, Kind::kProcessor, Kind::kExporter, Kind::kConnector, Kind::kExtension}) {
    std::cout << KindName(k) << "s:\n";
    for (const Factory* f : registry.OfKind(k)) {
      std::vector<std::string> sigs;
      for (Signal s : f->Signals()) sigs.emplace_back(SignalName(s));
      std::cout << "  " << f->Type();
      if (!sigs.empty()) std::cout << "  [" << absl::StrJoin(sigs, ", ") << "]";
      const auto aliases = f->Aliases();
      for (size_t i = 0; i < aliases.size(); ++i) std::cout << (i == 0 ? "  (also: " : ", ") << aliases[i];
      if (!aliases.empty()) std::cout << ")";
      std::cout << "\n";
    }
  }
  return 0;
}

// The soft open-files limit is often 1024 while the hard one is far higher: every server
// holds a descriptor per connection, so take what the hard limit allows (as Go's runtime
// and nginx do). Reaching it is still survived (net::Acceptor), just later.
void RaiseOpenFilesLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
  const rlim_t before = lim.rlim_cur;
  lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 1 << 20);
  if (lim.rlim_cur > before && setrlimit(RLIMIT_NOFILE, &lim) == 0) {
    spdlog::debug("open files limit raised from {} to {} (the hard limit)", before, lim.rlim_cur);
  }
}

// The reload metrics: outcome, duration, and which configuration runs.
class ReloadMetrics {
 public:
  explicit ReloadMetrics(Telemetry& t)
      : reloads_(prometheus::BuildCounter()
                     .Name("outrigger_config_reloads_total")
                     .Help("Configuration reloads (SIGHUP or a config file change) by outcome: success, invalid "
                           "(refused, the running config stays), failed (could not start; the previous config "
                           "was restored)")
                     .Register(t.registry())),
        info_(prometheus::BuildGauge()
                  .Name("outrigger_config_info")
                  .Help("1 for the configuration running now, labelled with its hash (SHA-256 of its canonical "
                        "form, first 16 hex digits)")
                  .Register(t.registry())),
        duration_(t.AddHistogram("outrigger_config_reload_duration_seconds",
                                 "Time from the reload request to the new configuration running (or refused)", {},
                                 {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30})) {
    for (const char* o : {"success", "invalid", "failed"}) reloads_.Add({{"outcome", o}});
  }
  void Done(const char* outcome, absl::Duration took) {
    reloads_.Add({{"outcome", outcome}}).Increment();
    duration_.Observe(absl::ToDoubleSeconds(took));
  }
  void Running(const std::string& hash) {
    if (current_ != nullptr) info_.Remove(current_);
    current_ = &info_.Add({{"hash", hash}});
    current_->Set(1);
  }

 private:
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Family<prometheus::Gauge>& info_;
  prometheus::Histogram& duration_;
  prometheus::Gauge* current_ = nullptr;
};

// Builds and starts `root` with nothing carried over; null if it cannot.
std::unique_ptr<Service> StartFresh(const YAML::Node& root, const Registry& registry, Telemetry& telemetry,
                                    boost::asio::io_context& io) {
  config::Errors errors;
  auto svc = Service::Build(YAML::Clone(root), registry, telemetry, &errors);
  if (!svc.ok()) return nullptr;
  if (auto st = (*svc)->Start(io); !st.ok()) {
    spdlog::error("{}", st.message());
    (*svc)->Shutdown();
    return nullptr;
  }
  return std::move(*svc);
}

int Run(const Args& args, const Registry& registry) {
  // Signals are taken by sigwait() on this thread; every thread started later inherits
  // the mask, so none of them is interrupted.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  RaiseOpenFilesLimit();

  Telemetry telemetry;
  ReloadMetrics reload_metrics(telemetry);
  boost::asio::io_context io(1);
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread = NamedThread("event-loop", [&io] { io.run(); });
  auto stop_io = [&] {
    work.reset();
    io.stop();
    io_thread.join();
  };

  config::Errors errors;
  // The running config, to go back to. Rebound with reset(), never `=`: YAML::Node's
  // assignment writes through into the node it refers to and merges the other tree's
  // memory into it, so every reload added the whole new tree to this one (the ~30 KB per
  // reload of issue 14).
  YAML::Node current_root;
  auto svc = Load(args.configs, registry, telemetry, &errors, &current_root);
  if (!svc.ok()) {
    spdlog::error("invalid configuration:\n{}", errors.Joined());
    stop_io();
    return 1;
  }
  std::unique_ptr<Service> service = std::move(*svc);
  if (auto st = service->Start(io); !st.ok()) {
    spdlog::error("{}", st.message());
    service->Shutdown();
    stop_io();
    return 1;
  }
  reload_metrics.Running(service->config_hash());
  // Start-up code and the library pages mapped around it leave the resident set, now and
  // once the new components have settled (memory/resident_code.h).
  common::LoopTicker code_release;
  auto release_code = [&] {
    memory::ReleaseCodePages();
    code_release.Stop();
    code_release.Start(io, memory::kCodeSettle, memory::kCodeReleaseEvery, [] { memory::ReleaseCodePages(); });
  };
  release_code();
  spdlog::info("outrigger {} running ({})", kVersion,
               args.configs.empty() ? "embedded default config" : absl::StrJoin(args.configs, ", "));
  // A change of a config file is a SIGHUP queued to ourselves: it is coalesced with
  // SIGHUPs already pending (a reload under way takes the next one after it).
  std::unique_ptr<ConfigWatcher> watcher;
  if (args.watch_config && !args.configs.empty()) {
    auto w = ConfigWatcher::Start(io, args.configs, kConfigWatchDebounce, [] { sigqueue(getpid(), SIGHUP, sigval{}); });
    if (w.ok()) {
      watcher = std::move(*w);
    } else {
      spdlog::warn("config files are not watched ({}); reload with SIGHUP", w.status().message());
    }
  }

  while (true) {
    int sig = 0;
    siginfo_t info{};
    sig = sigwaitinfo(&set, &info);
    if (sig < 0) continue;  // EINTR
    if (sig != SIGHUP) {
      spdlog::info("received {}, shutting down (deadline {})", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                   absl::FormatDuration(service->settings().shutdown_timeout));
      break;
    }
    const absl::Time began = absl::Now();
    const bool from_file = info.si_code == SI_QUEUE && info.si_pid == getpid();
    spdlog::info("{}, reloading the configuration", from_file ? "a config file changed" : "received SIGHUP");
    config::Errors reload_errors;
    YAML::Node next_root;
    auto next = Load(args.configs, registry, telemetry, &reload_errors, &next_root, service.get(), watcher.get());
    if (!next.ok()) {
      spdlog::error("reload refused, the running configuration stays:\n{}", reload_errors.Joined());
      reload_metrics.Done("invalid", absl::Now() - began);
      continue;
    }
    const ReloadPlan plan = (*next)->plan();
    std::string summary = plan.Summary();
    if (plan.partial) {
      bool untouched = true;
      auto st = (*next)->TakeOver(*service, io, &untouched);
      if (st.ok()) {
        service = std::move(*next);
        current_root.reset(next_root);
        reload_metrics.Running(service->config_hash());
        reload_metrics.Done("success", absl::Now() - began);
        release_code();
        spdlog::info("configuration reloaded in {}: {}", absl::FormatDuration(absl::Now() - began), plan.Summary());
        continue;
      }
      if (untouched) {
        // The new components could not start beside the old ones (a port both use, say):
        // replace the whole graph instead, as below.
        spdlog::warn("partial reload not possible ({}); restarting every component", st.message());
        summary = StrCat("everything restarted (", st.message(), ")");
        next->reset();
        config::Errors again;
        next = Service::Build(YAML::Clone(next_root), registry, telemetry, &again);
        if (!next.ok()) {  // cannot be: it was built once already
          spdlog::error("reload refused, the running configuration stays:\n{}", again.Joined());
          reload_metrics.Done("invalid", absl::Now() - began);
          continue;
        }
      } else {
        spdlog::error("reload failed ({}); going back to the previous configuration", st.message());
        (*next)->Shutdown();
        next->reset();
        service->Shutdown();
        service = StartFresh(current_root, registry, telemetry, io);
        reload_metrics.Done("failed", absl::Now() - began);
        if (!service) {
          spdlog::critical("cannot restore a running configuration; exiting");
          stop_io();
          return 1;
        }
        continue;
      }
    }
    // Everything is replaced. Ports are reused, so the old graph stops (flushing) before
    // the new one starts.
    service->Shutdown();
    if (auto st = (*next)->Start(io); !st.ok()) {
      spdlog::error("reload failed ({}); going back to the previous configuration", st.message());
      (*next)->Shutdown();
      next->reset();
      service.reset();
      service = StartFresh(current_root, registry, telemetry, io);
      reload_metrics.Done("failed", absl::Now() - began);
      if (!service) {
        spdlog::critical("cannot restore a running configuration; exiting");
        stop_io();
        return 1;
      }
      continue;
    }
    service = std::move(*next);
    current_root.reset(next_root);
    reload_metrics.Running(service->config_hash());
    reload_metrics.Done("success", absl::Now() - began);
    release_code();
    spdlog::info("configuration reloaded in {}: {}", absl::FormatDuration(absl::Now() - began), summary);
  }
  watcher.reset();
  code_release.Stop();
  service->Shutdown();
  stop_io();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int RunMain(const std::vector<std::string>& argv) {
  auto logger = spdlog::stderr_color_mt("outrigger");
  spdlog::set_default_logger(logger);
  ConfigureLogging("info", "console");

  Args args;
  std::string err;
  if (!ParseArgs(argv, &args, &err)) {
    std::cerr << "outrigger: " << err << "\n\n" << kUsage;
    return 2;
  }
  if (args.command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (args.command == "version") {
    std::cout << "outrigger " << kVersion << "\n";
    return 0;
  }
  if (args.command == "print-default-config") {
    std::cout << kDefaultConfigYaml;
    return 0;
  }
  Registry registry;
  RegisterBuiltins(registry);
  if (args.command == "components") return ListComponents(registry);
  if (args.command == "validate") {
    Telemetry telemetry;
    config::Errors errors;
    spdlog::set_level(spdlog::level::warn);
    auto svc = Load(args.configs, registry, telemetry, &errors);
    if (!svc.ok()) {
      std::cerr << "invalid configuration (" << errors.list().size() << " error"
                << (errors.list().size() == 1 ? "" : "s") << "):\n";
      for (const auto& e : errors.list()) std::cerr << "  " << e << "\n";
      if (errors.empty()) std::cerr << "  " << svc.status().message() << "\n";
      return 1;
    }
    std::cout << "configuration is valid\n";
    return 0;
  }
  return Run(args, registry);
}

}  // namespace outrigger
