#include "collector/http/cors.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "collector/common/strings.h"

namespace outrigger::http {

void CorsConfig::Decode(config::Node& node) {
  node.Read("allowed_origins", &allowed_origins);
  node.Read("allowed_headers", &allowed_headers);
  node.Read("max_age", &max_age);
}

absl::Status CorsConfig::Validate(const std::string& where) const {
  const std::string prefix = where.empty() ? "cors." : where + ".cors.";
  for (const auto& o : allowed_origins) {
    if (o.empty()) return absl::InvalidArgumentError(StrCat(prefix, "allowed_origins holds an empty origin"));
    if (std::count(o.begin(), o.end(), '*') > 1) {
      return absl::InvalidArgumentError(
          StrCat(prefix, "allowed_origins: \"", o, "\" has more than one '*' (one wildcard per origin)"));
    }
  }
  if (max_age < 0) return absl::InvalidArgumentError(StrCat(prefix, "max_age must not be negative"));
  return absl::OkStatus();
}

Cors::Cors(const CorsConfig& cfg) : max_age_(cfg.max_age) {
  for (const auto& o : cfg.allowed_origins) {
    std::string lower = absl::AsciiStrToLower(o);
    if (lower == "*") {
      all_origins_ = true;
    } else if (auto star = lower.find('*'); star != std::string::npos) {
      wild_.emplace_back(lower.substr(0, star), lower.substr(star + 1));
    } else {
      exact_.push_back(std::move(lower));
    }
  }
  if (cfg.allowed_headers.empty()) {
    headers_ = {"accept", "content-type", "x-requested-with"};
  }
  for (const auto& h : cfg.allowed_headers) {
    if (h == "*") all_headers_ = true;
    headers_.push_back(absl::AsciiStrToLower(h));
  }
  headers_.push_back("origin");
}

bool Cors::OriginAllowed(std::string_view origin) const {
  if (all_origins_) return true;
  const std::string o = absl::AsciiStrToLower(std::string(origin));
  if (std::find(exact_.begin(), exact_.end(), o) != exact_.end()) return true;
  for (const auto& [pre, suf] : wild_) {
    if (o.size() >= pre.size() + suf.size() && o.starts_with(pre) && o.ends_with(suf)) return true;
  }
  return false;
}

// As rs/cors' defaults (confighttp sets no AllowedMethods).
bool Cors::MethodAllowed(std::string_view method) const {
  const std::string m = absl::AsciiStrToUpper(std::string(method));
  return m == "GET" || m == "POST" || m == "HEAD" || m == "OPTIONS";
}

bool Cors::HeadersAllowed(std::string_view requested) const {
  if (all_headers_) return true;
  const std::string list(requested);
  for (absl::string_view h : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    const std::string name = absl::AsciiStrToLower(std::string(absl::StripAsciiWhitespace(h)));
    if (name.empty()) continue;
    if (std::find(headers_.begin(), headers_.end(), name) == headers_.end()) return false;
  }
  return true;
}

std::optional<Response> Cors::Preflight(const Request& head) const {
  if (head.method != "OPTIONS" || !head.headers.contains("access-control-request-method")) return std::nullopt;
  Response r;
  r.status = 204;
  r.content_type.clear();
  r.headers = {{"Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}};
  const std::string origin = head.Header("origin");
  const std::string method = head.Header("access-control-request-method");
  const std::string req_headers = head.Header("access-control-request-headers");
  // A refused preflight is still 204, without the Allow headers: the browser refuses.
  if (origin.empty() || !OriginAllowed(origin) || !MethodAllowed(method) || !HeadersAllowed(req_headers)) return r;
  r.headers.emplace_back("Access-Control-Allow-Origin", origin);
  r.headers.emplace_back("Access-Control-Allow-Methods", absl::AsciiStrToUpper(method));
  if (!req_headers.empty()) r.headers.emplace_back("Access-Control-Allow-Headers", req_headers);
  r.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  if (max_age_ > 0) r.headers.emplace_back("Access-Control-Max-Age", StrCat(max_age_));
  return r;
}

void Cors::AddHeaders(const Request& head, std::vector<std::pair<std::string, std::string>>* out) const {
  // A preflight answered by Preflight() carries its own.
  if (head.method == "OPTIONS" && head.headers.contains("access-control-request-method")) return;
  out->emplace_back("Vary", "Origin");
  const std::string origin = head.Header("origin");
  if (origin.empty() || !OriginAllowed(origin) || !MethodAllowed(head.method)) return;
  out->emplace_back("Access-Control-Allow-Origin", origin);
  out->emplace_back("Access-Control-Allow-Credentials", "true");
}

}  // namespace outrigger::http
