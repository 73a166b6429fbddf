#include "exporters/elasticsearch/bulk.h"

#include "collector/common/strings.h"
#include "nlohmann/json.hpp"

namespace outrigger::exporters::elasticsearch {

using nlohmann::json;

namespace {
// o[key] when it is a string, else `fallback`: Elasticsearch sends `"reason": null` for
// exceptions without a message, and proxies send other shapes (json::value() would throw).
std::string StringField(const json& o, const char* key, const char* fallback) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}
}  // namespace

absl::StatusOr<std::vector<ItemResult>> ParseBulkResponse(std::string_view body, size_t expected) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::UnavailableError(StrCat("the _bulk answer is not JSON: ", body.substr(0, 200)));
  }
  auto items = j.find("items");
  if (items == j.end() || !items->is_array()) {
    return absl::UnavailableError(StrCat("the _bulk answer has no items: ", body.substr(0, 200)));
  }
  if (items->size() != expected) {
    return absl::UnavailableError(
        StrCat("the _bulk answer has ", items->size(), " items for ", expected, " documents"));
  }
  std::vector<ItemResult> out(expected);
  auto errors = j.find("errors");
  const bool any_error = errors == j.end() || !errors->is_boolean() || errors->get<bool>();
  for (size_t i = 0; i < expected; ++i) {
    const json& item = (*items)[i];
    if (!item.is_object() || item.size() != 1 || !item.begin()->is_object()) {
      return absl::UnavailableError(StrCat("item ", i, " of the _bulk answer is malformed"));
    }
    const json& r = *item.begin();
    auto st = r.find("status");
    if (st == r.end() || !st->is_number_integer()) {
      return absl::UnavailableError(StrCat("item ", i, " of the _bulk answer has no status"));
    }
    out[i].status = st->get<int>();
    if (!any_error) continue;
    auto err = r.find("error");
    if (err != r.end() && err->is_object()) {
      out[i].error_type = StringField(*err, "type", "");
      out[i].error_reason = StringField(*err, "reason", "");
    }
  }
  return out;
}

std::string ErrorSummary(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    auto e = j.find("error");
    if (e != j.end() && e->is_object()) {
      return StrCat(StringField(*e, "type", "error"), ": ", StringField(*e, "reason", ""));
    }
    if (e != j.end() && e->is_string()) return e->get<std::string>();
  }
  std::string s(body.substr(0, 300));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

absl::StatusOr<std::vector<std::string>> ParseNodesHttp(std::string_view body, std::string_view scheme) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::UnavailableError(StrCat("the _nodes/http answer is not JSON: ", body.substr(0, 200)));
  }
  auto nodes = j.find("nodes");
  if (nodes == j.end() || !nodes->is_object()) {
    return absl::UnavailableError(StrCat("the _nodes/http answer has no nodes: ", body.substr(0, 200)));
  }
  std::vector<std::string> out;
  for (const auto& [id, node] : nodes->items()) {
    if (!node.is_object()) continue;
    auto roles = node.find("roles");
    if (roles != node.end() && roles->is_array() && roles->size() == 1 && (*roles)[0] == "master") continue;
    auto http = node.find("http");
    if (http == node.end() || !http->is_object()) continue;
    auto pa = http->find("publish_address");
    if (pa == http->end() || !pa->is_string()) continue;
    std::string addr = pa->get<std::string>();
    std::string host;
    const size_t colon = addr.rfind(':');
    if (colon == std::string::npos || colon + 1 == addr.size()) continue;
    const std::string port = addr.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos) continue;
    if (size_t slash = addr.find('/'); slash != std::string::npos && slash > 0) {
      host = addr.substr(0, slash);  // the published hostname
    } else {
      host = addr.substr(slash == std::string::npos ? 0 : 1, colon - (slash == std::string::npos ? 0 : 1));
    }
    if (host.empty()) continue;
    out.push_back(StrCat(scheme, "://", host, ":", port));
  }
  return out;
}

}  // namespace outrigger::exporters::elasticsearch
