#include "extensions/bearertokenauth/config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace outrigger::extensions::bearertokenauth {

void Config::Decode(config::Node& node) {
  node.Read("token", &token);
  node.Read("tokens", &tokens);
  node.Read("filename", &filename);
  node.Read("scheme", &scheme);
  node.Read("header", &header);
}

namespace {
// A header value must not be able to start a new header line.
bool Printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}
}  // namespace

absl::Status Config::Validate() const {
  // As upstream: filename, when given, wins over token and tokens (they are ignored).
  if (token.empty() && tokens.empty() && filename.empty()) {
    return absl::InvalidArgumentError("one of token, tokens or filename is required");
  }
  if (!token.empty() && !tokens.empty()) {
    return absl::InvalidArgumentError("either tokens or token should be provided, not both");
  }
  for (const auto& t : tokens) {
    if (t.empty()) return absl::InvalidArgumentError("tokens: a token is empty");
  }
  if (!Printable(token) || !Printable(scheme)) {
    return absl::InvalidArgumentError("token and scheme must not hold control characters (such as a line break)");
  }
  for (const auto& t : tokens) {
    if (!Printable(t)) return absl::InvalidArgumentError("tokens must not hold control characters");
  }
  if (header.empty()) return absl::InvalidArgumentError("header must not be empty");
  for (char c : header) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return absl::InvalidArgumentError(
          absl::StrCat("header \"", header, "\" is not a header name (letters, digits, '-' and '_')"));
    }
  }
  return absl::OkStatus();
}

}  // namespace outrigger::extensions::bearertokenauth
