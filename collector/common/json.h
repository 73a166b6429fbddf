#pragma once
// JSON text pieces for encoders that write JSON by hand (the Elasticsearch exporter's
// documents, attribute values in Prometheus labels).

#include <string>
#include <string_view>

namespace outrigger {

// The escaped content of a JSON string, without quotes: ", \ and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, valid UTF-8 as is.
void AppendJsonEscaped(std::string* out, std::string_view s);
// The same with the quotes.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace outrigger
