#include "collector/app.h"

#include <signal.h>

#include <sys/resource.h>
#include <algorithm>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_join.h"
#include "collector/component/registry.h"
#include "collector/config/node.h"
#include "collector/service/service.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace outrigger {
namespace {

constexpr char kUsage[] = R"(outrigger: an observability sidecar (OTLP, StatsD, Prometheus, logs).

Usage:
  outrigger [--config FILE]...            run (the embedded default config if none is given)
  outrigger validate [--config FILE]...   check a config: exit 0, or 1 with every error listed
  outrigger components                    list the built-in components per kind and signal
  outrigger print-default-config          print the embedded default config
  outrigger --version | --help

Several --config files are merged in order (later files win; mappings merge).
Values may use ${env:VAR}, ${VAR} and ${env:VAR:-default}; "$$" is a literal "$".
Signals: SIGTERM/SIGINT shut down gracefully (flushing within service.shutdown_timeout),
SIGHUP reloads the config files (an invalid new config is refused, the old one keeps running).
)";

struct Args {
  std::string command = "run";
  std::vector<std::string> configs;
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
                                              YAML::Node* root_out = nullptr) {
  std::vector<config::Source> sources;
  std::string err;
  if (!ReadSources(files, &sources, &err)) {
    errors->Add("", 0, err);
    return absl::InvalidArgumentError(err);
  }
  YAML::Node root = config::LoadAndMerge(sources, errors);
  if (!errors->empty()) return absl::InvalidArgumentError(errors->Joined());
  if (root_out != nullptr) *root_out = YAML::Clone(root);
  return Service::Build(root, registry, telemetry, errors);
}

int ListComponents(const Registry& registry) {
  for (Kind k : {Kind::kReceiver, Kind::kProcessor, Kind::kExporter, Kind::kConnector, Kind::kExtension}) {
    std::cout << KindName(k) << "s:\n";
    for (const Factory* f : registry.OfKind(k)) {
      std::vector<std::string> sigs;
      for (Signal s : f->Signals()) sigs.emplace_back(SignalName(s));
      std::cout << "  " << f->Type();
      if (!sigs.empty()) std::cout << "  [" << absl::StrJoin(sigs, ", ") << "]";
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
  boost::asio::io_context io(1);
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  auto stop_io = [&] {
    work.reset();
    io.stop();
    io_thread.join();
  };

  config::Errors errors;
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
  spdlog::info("outrigger {} running ({})", kVersion,
               args.configs.empty() ? "embedded default config" : absl::StrJoin(args.configs, ", "));

  while (true) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != SIGHUP) {
      spdlog::info("received {}, shutting down (deadline {})", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                   absl::FormatDuration(service->settings().shutdown_timeout));
      break;
    }
    spdlog::info("received SIGHUP, reloading the configuration");
    config::Errors reload_errors;
    YAML::Node next_root;
    auto next = Load(args.configs, registry, telemetry, &reload_errors, &next_root);
    if (!next.ok()) {
      spdlog::error("reload refused, the running configuration stays:\n{}", reload_errors.Joined());
      continue;
    }
    // Ports are reused, so the old graph stops (flushing) before the new one starts.
    service->Shutdown();
    if (auto st = (*next)->Start(io); !st.ok()) {
      spdlog::error("reload failed ({}); going back to the previous configuration", st.message());
      (*next)->Shutdown();
      config::Errors again;
      auto prev = Service::Build(YAML::Clone(current_root), registry, telemetry, &again);
      if (!prev.ok() || !(*prev)->Start(io).ok()) {
        spdlog::critical("cannot restore a running configuration; exiting");
        stop_io();
        return 1;
      }
      service = std::move(*prev);
      continue;
    }
    service = std::move(*next);
    current_root = next_root;
    spdlog::info("configuration reloaded");
  }
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
