#pragma once
// Prometheus remote write 1.0 over libcurl: snappy-compressed protobuf WriteRequests.
// Queueing, retries and timeouts come from exporterhelper; this is the push.

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"
#include "exporters/prometheusremotewrite/config.h"

namespace prometheus {
class WriteRequest;
}

namespace outrigger::exporters::prometheusremotewrite {

// The HTTP statuses remote write retries: 429 and every 5xx.
bool Retryable(long code);

class RemoteWritePusher : public exporterhelper::Pusher {
 public:
  RemoteWritePusher(const CreateSettings& settings, const Config& cfg);

  // Finds the auth extension, if any.
  absl::Status Start(Host& host) override;
  absl::Status PushMetrics(const pdata::Metrics& d, absl::Time deadline) override;

 private:
  bool WarnOnce(const std::string& name);
  absl::Status Post(const ::prometheus::WriteRequest& req, absl::Time deadline);

  CreateSettings settings_;
  Config cfg_;
  std::mutex mu_;
  httpclient::Client client_;
  ClientAuthenticator* auth_ = nullptr;
  std::vector<std::string> warned_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace outrigger::exporters::prometheusremotewrite
