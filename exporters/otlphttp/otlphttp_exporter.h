#pragma once
// OTLP/HTTP exporter over libcurl: protobuf (or JSON) bodies, gzip, Retry-After.
// Queueing, retries and timeouts come from exporterhelper; this is the push.

#include <string>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"
#include "exporters/otlphttp/config.h"

namespace outrigger::exporters::otlphttp {

// The HTTP statuses OTLP/HTTP retries: 429, 502, 503, 504.
bool Retryable(long code);

class HttpPusher : public exporterhelper::SignalPusher<HttpPusher> {
 public:
  HttpPusher(const CreateSettings& settings, const Config& cfg);

  // Finds the auth extension, if any.
  absl::Status Start(Host& host) override;

  template <typename D>
  absl::Status Send(Signal signal, const D& d, absl::Time deadline);

 private:
  CreateSettings settings_;
  Config cfg_;
  httpclient::Client client_;
  ClientAuthenticator* auth_ = nullptr;
  std::string urls_[3];  // by Signal
};

}  // namespace outrigger::exporters::otlphttp
