#include "receivers/filelog/operators/json.h"

#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "collector/common/strings.h"
#include "collector/common/utf8.h"
#include "nlohmann/json.hpp"

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

class Sax : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit Sax(bool parse_ints) : parse_ints_(parse_ints) {}

  bool null() override { return Add(Value()); }
  bool boolean(bool b) override { return Add(Value(b)); }
  bool number_integer(number_integer_t i) override {
    return Add(parse_ints_ ? Value(static_cast<int64_t>(i)) : Value(static_cast<double>(i)));
  }
  bool number_unsigned(number_unsigned_t u) override {
    if (parse_ints_ && u <= static_cast<uint64_t>(INT64_MAX)) return Add(Value(static_cast<int64_t>(u)));
    return Add(Value(static_cast<double>(u)));
  }
  bool number_float(number_float_t d, const string_t&) override { return Add(Value(static_cast<double>(d))); }
  bool string(string_t& s) override { return Add(Value(std::move(s))); }
  bool binary(binary_t&) override { return Add(Value()); }
  bool start_object(std::size_t) override { return Open(Value(ValueMap{})); }
  bool key(string_t& k) override {
    keys_.back() = std::move(k);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(Value(ValueList{})); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    if (error_.empty()) error_ = StrCat("invalid JSON at byte ", position > 0 ? position - 1 : 0, ": ", ex.what());
    return false;
  }

  std::string error_;
  Value root_;
  bool have_root_ = false;

 private:
  bool Open(Value v) {
    if (stack_.empty() && have_root_) return false;
    if (stack_.empty() && v.map() == nullptr) {
      error_ = "not a JSON object";
      return false;
    }
    if (stack_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
      error_ = StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels");
      return false;
    }
    stack_.push_back(std::move(v));
    keys_.emplace_back();
    return true;
  }
  bool Close() {
    Value v = std::move(stack_.back());
    stack_.pop_back();
    keys_.pop_back();
    if (ValueMap* m = v.map()) Dedup(*m);
    if (stack_.empty()) {
      root_ = std::move(v);
      have_root_ = true;
      return true;
    }
    return Add(std::move(v));
  }
  bool Add(Value v) {
    if (stack_.empty()) {
      error_ = "not a JSON object";
      return false;
    }
    Value& top = stack_.back();
    if (ValueMap* m = top.map()) {
      m->emplace_back(std::move(keys_.back()), std::move(v));
    } else {
      std::get<ValueList>(top.v).push_back(std::move(v));
    }
    return true;
  }

  bool parse_ints_;
  std::vector<Value> stack_;
  std::vector<std::string> keys_;
};

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

absl::StatusOr<ValueMap> ParseJsonObject(std::string_view text, bool parse_ints) {
  Sax sax(parse_ints);
  bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json,
                                      /*strict=*/true);
  if (!ok || !sax.have_root_) {
    return absl::InvalidArgumentError(sax.error_.empty() ? std::string("invalid JSON") : sax.error_);
  }
  return std::move(*sax.root_.map());
}

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
