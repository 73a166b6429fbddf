// health_check: readiness (`path`, default "/") is 200 only while every pipeline is
// started; liveness (`liveness_path`, default "/live") is 200 while the event loop runs.
#include "collector/http/server.h"
#include "extensions/health_check/factory.h"
#include "spdlog/spdlog.h"

namespace outrigger::extensions::health_check {
namespace {

inline constexpr char kDefaultEndpoint[] = "127.0.0.1:13133";

struct Config : ComponentConfig {
  std::string endpoint = kDefaultEndpoint;
  std::string path = "/";
  std::string liveness_path = "/live";
  void Decode(config::Node& node) override {
    node.Read("endpoint", &endpoint);
    node.Read("path", &path);
    node.Read("liveness_path", &liveness_path);
  }
  absl::Status Validate() const override {
    if (auto hp = http::ParseEndpoint(endpoint); !hp.ok()) return hp.status();
    if (path.empty() || path[0] != '/' || liveness_path.empty() || liveness_path[0] != '/') {
      return absl::InvalidArgumentError("path and liveness_path must start with '/'");
    }
    return absl::OkStatus();
  }
};

class HealthCheck : public Extension {
 public:
  HealthCheck(const CreateSettings& settings, const Config& cfg) : settings_(settings), cfg_(cfg) {}
  absl::Status Start(Host& host) override {
    Host* h = &host;
    auto srv = http::Server::Listen(host.IoContext(), cfg_.endpoint, 4096, [this, h](http::Request& req) {
      http::Response r;
      r.content_type = "application/json";
      if (req.path == cfg_.liveness_path) {
        r.body = R"({"status":"Server alive"})";
      } else if (req.path == cfg_.path) {
        bool ready = h->Ready();
        r.status = ready ? 200 : 503;
        r.body = ready ? R"({"status":"Server available"})" : R"({"status":"Server not available"})";
      } else {
        r.status = 404;
        r.body = R"({"status":"not found"})";
      }
      return r;
    });
    if (!srv.ok()) return srv.status();
    server_ = std::move(*srv);
    settings_.logger->info("health check on {} (port {})", cfg_.endpoint, server_->port());
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Time) override {
    if (server_) server_->Stop();
    server_.reset();
    return absl::OkStatus();
  }

 private:
  CreateSettings settings_;
  Config cfg_;
  std::unique_ptr<http::Server> server_;
};

class Factory : public ExtensionFactory {
 public:
  std::string_view Type() const override { return "health_check"; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Extension>> CreateExtension(const CreateSettings& settings,
                                                             const ComponentConfig& cfg) const override {
    return std::unique_ptr<Extension>(std::make_unique<HealthCheck>(settings, static_cast<const Config&>(cfg)));
  }
};

}  // namespace

std::unique_ptr<ExtensionFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::extensions::health_check
