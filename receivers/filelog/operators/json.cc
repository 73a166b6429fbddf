#include "receivers/filelog/operators/json.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "collector/common/strings.h"
#include "collector/common/utf8.h"
#include "simdjson.h"

namespace outrigger::receivers::filelog::operators {

using pdata::Value;
using pdata::ValueList;
using pdata::ValueMap;

namespace {

// Keeps the last value of a repeated key at the position of its first occurrence.
void Dedup(ValueMap& m) {
  if (m.size() < 2) return;
  bool dup = false;
  if (m.size() <= 16) {
    for (size_t i = 0; i < m.size() && !dup; ++i) {
      for (size_t j = i + 1; j < m.size(); ++j) {
        if (m[i].first == m[j].first) {
          dup = true;
          break;
        }
      }
    }
  } else {
    std::unordered_set<std::string_view> seen;
    for (const auto& kv : m) {
      if (!seen.insert(kv.first).second) {
        dup = true;
        break;
      }
    }
  }
  if (!dup) return;
  ValueMap out;
  std::unordered_map<std::string, size_t> index;
  for (auto& kv : m) {
    auto [it, inserted] = index.emplace(kv.first, out.size());
    if (inserted) {
      out.push_back(std::move(kv));
    } else {
      out[it->second].second = std::move(kv.second);
    }
  }
  m = std::move(out);
}

// The parse: simdjson's DOM parser (SIMD structural indexing, UTF-8 validation, the
// whole document checked before a value is built), one per thread, reused: its tape and
// string buffer grow to the longest line and stay. The input is copied into a padded
// buffer (simdjson reads up to SIMDJSON_PADDING bytes past the end).
struct ThreadParser {
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> buf;
  size_t cap = 0;
  std::string_view Pad(std::string_view text) {
    if (cap < text.size() + simdjson::SIMDJSON_PADDING) {
      cap = std::max<size_t>(text.size() + simdjson::SIMDJSON_PADDING, 4096);
      buf.reset(new char[cap]);
    }
    std::memcpy(buf.get(), text.data(), text.size());
    std::memset(buf.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    return {buf.get(), text.size()};
  }
};

ThreadParser& Parser() {
  thread_local ThreadParser p;
  return p;
}

// Builds the value of `el` (depth: nesting of `el`).
bool Build(simdjson::dom::element el, bool parse_ints, int depth, Value* out, std::string* error) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::OBJECT: {
      if (depth >= kMaxJsonDepth) {
        *error = StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels");
        return false;
      }
      simdjson::dom::object obj = el.get_object().value_unsafe();
      ValueMap m;
      m.reserve(obj.size());
      for (simdjson::dom::key_value_pair kv : obj) {
        m.emplace_back(std::piecewise_construct, std::forward_as_tuple(kv.key), std::forward_as_tuple());
        if (!Build(kv.value, parse_ints, depth + 1, &m.back().second, error)) return false;
      }
      Dedup(m);
      *out = Value(std::move(m));
      return true;
    }
    case element_type::ARRAY: {
      if (depth >= kMaxJsonDepth) {
        *error = StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels");
        return false;
      }
      simdjson::dom::array arr = el.get_array().value_unsafe();
      ValueList l;
      l.reserve(arr.size());
      for (simdjson::dom::element e : arr) {
        l.emplace_back();
        if (!Build(e, parse_ints, depth + 1, &l.back(), error)) return false;
      }
      *out = Value(std::move(l));
      return true;
    }
    case element_type::STRING:
      *out = Value(std::string(el.get_string().value_unsafe()));
      return true;
    case element_type::INT64: {
      int64_t i = el.get_int64().value_unsafe();
      *out = parse_ints ? Value(i) : Value(static_cast<double>(i));
      return true;
    }
    case element_type::UINT64: {
      uint64_t u = el.get_uint64().value_unsafe();
      if (parse_ints && u <= static_cast<uint64_t>(INT64_MAX)) {
        *out = Value(static_cast<int64_t>(u));
      } else {
        *out = Value(static_cast<double>(u));
      }
      return true;
    }
    case element_type::DOUBLE:
      *out = Value(el.get_double().value_unsafe());
      return true;
    case element_type::BOOL:
      *out = Value(el.get_bool().value_unsafe());
      return true;
    case element_type::NULL_VALUE:
      *out = Value();
      return true;
  }
  *out = Value();
  return true;
}

}  // namespace

absl::StatusOr<ValueMap> ParseJsonObject(std::string_view text, bool parse_ints) {
  ThreadParser& p = Parser();
  simdjson::dom::element root;
  std::string_view padded = p.Pad(text);
  if (auto err = p.parser.parse(padded.data(), padded.size(), /*realloc_if_needed=*/false).get(root); err) {
    return absl::InvalidArgumentError(StrCat("invalid JSON: ", simdjson::error_message(err)));
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) return absl::InvalidArgumentError("not a JSON object");
  Value v;
  std::string error;
  if (!Build(root, parse_ints, 0, &v, &error)) return absl::InvalidArgumentError(error);
  return std::move(*v.map());
}

namespace {

// JSON string starting after the opening quote at s[*pos]; appends the decoded text.
bool DecodeString(std::string_view s, size_t* pos, std::string* out) {
  size_t i = *pos;
  while (true) {
    size_t start = i;
    while (i < s.size() && s[i] != '"' && s[i] != '\\' && static_cast<unsigned char>(s[i]) >= 0x20) ++i;
    out->append(s.data() + start, i - start);
    if (i >= s.size() || static_cast<unsigned char>(s[i]) < 0x20) return false;
    if (s[i] == '"') {
      *pos = i + 1;
      return true;
    }
    // Escape.
    if (++i >= s.size()) return false;
    char e = s[i++];
    switch (e) {
      case '"':
        out->push_back('"');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '/':
        out->push_back('/');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        auto hex4 = [&](uint32_t* cp) {
          if (i + 4 > s.size()) return false;
          uint32_t v = 0;
          for (int k = 0; k < 4; ++k) {
            char c = s[i + k];
            v <<= 4;
            if (c >= '0' && c <= '9') {
              v |= c - '0';
            } else if (c >= 'a' && c <= 'f') {
              v |= c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
              v |= c - 'A' + 10;
            } else {
              return false;
            }
          }
          i += 4;
          *cp = v;
          return true;
        };
        uint32_t cp;
        if (!hex4(&cp)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u') {
            i += 2;
            if (!hex4(&lo)) return false;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              cp = 0xFFFD;
              i -= 6;  // re-read the second escape on its own
            }
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
}

// A string without escapes: its view (the quote at s[*pos - 1]).
bool RawString(std::string_view s, size_t* pos, std::string_view* out) {
  size_t i = *pos;
  while (i < s.size() && s[i] != '"' && s[i] != '\\' && static_cast<unsigned char>(s[i]) >= 0x20) ++i;
  if (i >= s.size() || s[i] != '"') return false;
  *out = s.substr(*pos, i - *pos);
  *pos = i + 1;
  return true;
}

void SkipWs(std::string_view s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r' || s[*i] == '\n')) ++*i;
}

}  // namespace

bool ParseDockerLine(std::string_view s, DockerLine* out) {
  out->log.clear();
  out->stream = {};
  out->time = {};
  bool have_log = false;
  size_t i = 0;
  SkipWs(s, &i);
  if (i >= s.size() || s[i] != '{') return false;
  ++i;
  std::string_view key;
  std::string scratch;
  while (true) {
    SkipWs(s, &i);
    if (i >= s.size() || s[i] != '"') return false;
    ++i;
    if (!RawString(s, &i, &key)) return false;
    SkipWs(s, &i);
    if (i >= s.size() || s[i] != ':') return false;
    ++i;
    SkipWs(s, &i);
    if (i >= s.size() || s[i] != '"') return false;  // only string values on this path
    ++i;
    if (key == "log") {
      out->log.clear();
      if (!DecodeString(s, &i, &out->log)) return false;
      have_log = true;
    } else if (key == "stream") {
      if (!RawString(s, &i, &out->stream)) return false;
    } else if (key == "time") {
      if (!RawString(s, &i, &out->time)) return false;
    } else {
      scratch.clear();
      if (!DecodeString(s, &i, &scratch)) return false;
    }
    SkipWs(s, &i);
    if (i >= s.size()) return false;
    if (s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] != '}') return false;
    ++i;
    break;
  }
  SkipWs(s, &i);
  return i == s.size() && have_log;
}

}  // namespace outrigger::receivers::filelog::operators
