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

}  // namespace outrigger::exporters::elasticsearch
