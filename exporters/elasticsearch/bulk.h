#pragma once
// The Elasticsearch _bulk response: per-item outcomes.
// https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace outrigger::exporters::elasticsearch {

struct ItemResult {
  int status = 0;
  std::string error_type, error_reason;  // empty on success
};

// The items of a 2xx _bulk answer, in request order; an error if the body is not a
// bulk response or holds another number of items than `expected`.
absl::StatusOr<std::vector<ItemResult>> ParseBulkResponse(std::string_view body, size_t expected);

// "type: reason" of an Elasticsearch error answer ({"error":{"type","reason"},"status"}),
// else the start of the body.
std::string ErrorSummary(std::string_view body);

// The base URLs of the nodes in a GET _nodes/http answer
// (https://www.elastic.co/guide/en/elasticsearch/reference/current/cluster-nodes-info.html):
// each node's http.publish_address ("hostname/ip:port" uses the hostname, "ip:port" the
// ip) with `scheme`; nodes whose only role is master are left out (as upstream's
// transport). In node-id order. An error if the body is not such an answer.
absl::StatusOr<std::vector<std::string>> ParseNodesHttp(std::string_view body, std::string_view scheme);

}  // namespace outrigger::exporters::elasticsearch
