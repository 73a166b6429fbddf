#pragma once

#include <string>
#include <vector>

#include "collector/component/factory.h"

namespace outrigger::extensions::bearertokenauth {

inline constexpr char kDefaultScheme[] = "Bearer";
inline constexpr char kDefaultHeader[] = "Authorization";

// The OpenTelemetry Collector contrib's bearertokenauth options. Exactly one source of
// tokens: `token`, `tokens` or `filename`.
struct Config : ComponentConfig {
  // The token (the client sends it; the server accepts it).
  std::string token;
  // Several tokens: the server accepts any of them; the client sends the first.
  std::vector<std::string> tokens;
  // A file holding the token(s), one per line (blank lines ignored). Re-read when it
  // changes, so a rotated token is used without a restart.
  std::string filename;
  // Prefix of the header's value ("<scheme> <token>"); empty: the token alone.
  std::string scheme = kDefaultScheme;
  // The header (gRPC metadata key, lower-cased there) that carries the token.
  std::string header = kDefaultHeader;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::extensions::bearertokenauth
