#include "receivers/filelog/operators/json.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "collector/common/protowire.h"
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

// The encoder of EncodeJsonObject: protobuf bytes written through a local pointer into a
// buffer whose room is checked before each write (Need). A length-delimited field gets
// one byte for its length up front; a longer content is moved right to make room for its
// varint: the same bytes as WireLogsBuilder's encoder (minimal varints).
class WireEncoder {
 public:
  WireEncoder(std::string* out, bool parse_ints) : out_(out), base_(out->size()), parse_ints_(parse_ints) {}

  // Room for about `n` more bytes (a guess: Need checks every write).
  void Start(size_t n) {
    out_->resize(base_ + n);
    p_ = out_->data() + base_;
    end_ = out_->data() + out_->size();
  }
  void Finish() { out_->resize(static_cast<size_t>(p_ - out_->data())); }
  void Abandon() { out_->resize(base_); }

  // The AnyValue of the object `obj` (kvlist_value), nested `depth` deep, with
  // `len_bytes` bytes left for its length (the size of the varint it probably needs).
  bool Object(simdjson::dom::object obj, int depth, size_t len_bytes = 1) {
    if (depth >= kMaxJsonDepth) return false;
    Need(1 + len_bytes);
    *p_ = 0x32;  // AnyValue.kvlist_value
    p_ += 1 + len_bytes;
    const size_t kvl = Offset();
    // Repeated keys (ParseJsonObject keeps the last value of each: the caller's way):
    // the keys so far, with a 64-bit filter on length and first and last byte, so a key
    // is compared with the others only when the filter says it may repeat one.
    std::string_view keys[kKeysChecked];
    size_t n = 0;
    uint64_t filter = 0;
    for (simdjson::dom::key_value_pair kv : obj) {
      const std::string_view key = kv.key;
      const uint64_t bit = uint64_t{1} << ((key.size() * 7 + (key.empty() ? 0 : key[0] * 3 + key.back())) & 63);
      if (filter & bit) {
        if (n == kKeysChecked) return !HasRepeatedKey(obj) && Rest(obj, depth, kvl, len_bytes);
        for (size_t i = 0; i < n; ++i) {
          if (keys[i] == key) return false;
        }
      }
      filter |= bit;
      if (n == kKeysChecked) return !HasRepeatedKey(obj) && Rest(obj, depth, kvl, len_bytes);
      keys[n++] = key;
      if (!Pair(key, kv.value, depth)) return false;
    }
    End(kvl, len_bytes);
    return true;
  }

  static size_t VarintSize(uint64_t v) { return protowire::VarintSize(v); }

 private:
  static constexpr size_t kKeysChecked = 32;

  // The pairs of `obj` after the first kKeysChecked (keys checked otherwise).
  bool Rest(simdjson::dom::object obj, int depth, size_t kvl, size_t len_bytes) {
    size_t i = 0;
    for (simdjson::dom::key_value_pair kv : obj) {
      if (i++ < kKeysChecked) continue;
      if (!Pair(kv.key, kv.value, depth)) return false;
    }
    End(kvl, len_bytes);
    return true;
  }

  static bool HasRepeatedKey(simdjson::dom::object obj) {
    std::unordered_set<std::string_view> seen;
    for (simdjson::dom::key_value_pair kv : obj) {
      if (!seen.insert(kv.key).second) return true;
    }
    return false;
  }

  // KeyValueList.values: a KeyValue {key, value}.
  bool Pair(std::string_view key, simdjson::dom::element value, int depth) {
    Need(key.size() + 32);
    char* p = p_;
    *p = 0x0a;  // KeyValueList.values
    p += 2;
    const size_t pair = static_cast<size_t>(p - out_->data());
    if (!key.empty()) {
      *p++ = 0x0a;  // KeyValue.key
      p = Varint(p, key.size());
      Copy(p, key);
      p += key.size();
    }
    *p = 0x12;  // KeyValue.value
    p += 2;
    p_ = p;
    const size_t val = Offset();
    if (!Value(value, depth + 1)) return false;
    End(val);
    End(pair);
    return true;
  }

  // An AnyValue's fields.
  bool Value(simdjson::dom::element el, int depth) {
    using simdjson::dom::element_type;
    switch (el.type()) {
      case element_type::STRING: {
        const std::string_view s = el.get_string().value_unsafe();
        Need(s.size() + 32);
        char* p = p_;
        *p++ = 0x0a;  // AnyValue.string_value
        p = Varint(p, s.size());
        Copy(p, s);
        p_ = p + s.size();
        return true;
      }
      case element_type::INT64: {
        const int64_t i = el.get_int64().value_unsafe();
        if (parse_ints_) {
          Int(i);
        } else {
          Double(static_cast<double>(i));
        }
        return true;
      }
      case element_type::UINT64: {
        const uint64_t u = el.get_uint64().value_unsafe();
        if (parse_ints_ && u <= static_cast<uint64_t>(INT64_MAX)) {
          Int(static_cast<int64_t>(u));
        } else {
          Double(static_cast<double>(u));
        }
        return true;
      }
      case element_type::DOUBLE:
        Double(el.get_double().value_unsafe());
        return true;
      case element_type::BOOL: {
        Need(2);
        char* p = p_;
        p[0] = 0x10;  // AnyValue.bool_value
        p[1] = el.get_bool().value_unsafe() ? 1 : 0;
        p_ = p + 2;
        return true;
      }
      case element_type::NULL_VALUE:
        return true;  // an empty AnyValue
      case element_type::OBJECT:
        return Object(el.get_object().value_unsafe(), depth);
      case element_type::ARRAY: {
        if (depth >= kMaxJsonDepth) return false;
        Need(2);
        *p_ = 0x2a;  // AnyValue.array_value
        p_ += 2;
        const size_t arr = Offset();
        simdjson::dom::array a = el.get_array().value_unsafe();
        for (simdjson::dom::element e : a) {
          Need(2);
          *p_ = 0x0a;  // ArrayValue.values
          p_ += 2;
          const size_t v = Offset();
          if (!Value(e, depth + 1)) return false;
          End(v);
        }
        End(arr);
        return true;
      }
    }
    return true;
  }

  size_t Offset() const { return static_cast<size_t>(p_ - out_->data()); }
  // Copies a key or string of the parsed document to `p` (room for 16 bytes more than
  // `s`): short ones as two 8-byte words, no call. They lie in the parser's string
  // buffer, which has at least SIMDJSON_PADDING bytes after the last one, so reading 16
  // bytes from any of them stays inside it.
  [[gnu::always_inline]] static void Copy(char* p, std::string_view s) {
    if (s.size() <= 16) {
      uint64_t a, b;
      std::memcpy(&a, s.data(), 8);
      std::memcpy(&b, s.data() + 8, 8);
      std::memcpy(p, &a, 8);
      std::memcpy(p + 8, &b, 8);
    } else {
      std::memcpy(p, s.data(), s.size());
    }
  }
  [[gnu::always_inline]] void Need(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) Grow(n);
  }
  [[gnu::noinline]] void Grow(size_t n) {
    const size_t used = Offset();
    out_->resize(std::max(out_->size() * 2, used + n + 256));
    p_ = out_->data() + used;
    end_ = out_->data() + out_->size();
  }
  static char* Varint(char* p, uint64_t v) { return protowire::WriteVarint(p, v); }
  void Int(int64_t i) {
    Need(11);
    char* p = p_;
    *p++ = 0x18;  // AnyValue.int_value
    p_ = Varint(p, static_cast<uint64_t>(i));
  }
  void Double(double d) {
    Need(9);
    char* p = p_;
    *p = 0x21;                  // AnyValue.double_value
    std::memcpy(p + 1, &d, 8);  // little-endian hosts (x86-64, aarch64)
    p_ = p + 9;
  }
  // Sets the length of the field whose content starts at offset `start`, `w` bytes
  // having been left for it; the content moves when its varint needs another size.
  [[gnu::always_inline]] void End(size_t start, size_t w = 1) {
    char* s = out_->data() + start;
    const size_t len = static_cast<size_t>(p_ - s);
    if (w == 1 && len < 0x80) {
      s[-1] = static_cast<char>(len);
      return;
    }
    EndLong(start, w, len);
  }
  [[gnu::noinline]] void EndLong(size_t start, size_t w, size_t len) {
    char* s;
    char v[10];
    const size_t n = static_cast<size_t>(Varint(v, len) - v);
    if (n != w) {
      if (n > w) Need(n - w);
      const ptrdiff_t d = static_cast<ptrdiff_t>(n) - static_cast<ptrdiff_t>(w);
      s = out_->data() + start;
      std::memmove(s + d, s, len);
      p_ += d;
    }
    std::memcpy(out_->data() + start - w, v, n);
  }

  std::string* out_;
  size_t base_;
  bool parse_ints_;
  char* p_ = nullptr;
  char* end_ = nullptr;
};

}  // namespace

bool EncodeJsonObject(std::string_view text, size_t readable, bool parse_ints, std::string* out,
                      const std::vector<std::string>* const* paths, JsonField* fields, size_t n_paths) {
  ThreadParser& p = Parser();
  simdjson::dom::element root;
  std::string_view padded = readable >= text.size() + simdjson::SIMDJSON_PADDING ? text : p.Pad(text);
  if (p.parser.parse(padded.data(), padded.size(), /*realloc_if_needed=*/false).get(root) != simdjson::SUCCESS ||
      root.type() != simdjson::dom::element_type::OBJECT) {
    return false;
  }
  WireEncoder enc(out, parse_ints);
  enc.Start(text.size() + text.size() / 2 + 64);
  // The top object's length is about the line's: its varint is given that room.
  if (!enc.Object(root.get_object().value_unsafe(), 0, WireEncoder::VarintSize(text.size()))) {
    enc.Abandon();
    return false;
  }
  enc.Finish();
  for (size_t i = 0; i < n_paths; ++i) {
    JsonField& f = fields[i];
    f.found = false;
    simdjson::dom::element el = root;
    bool found = true;
    for (const std::string& key : *paths[i]) {
      simdjson::dom::object obj;
      if (el.get(obj) != simdjson::SUCCESS || obj.at_key(key).get(el) != simdjson::SUCCESS) {
        found = false;
        break;
      }
    }
    if (!found) continue;
    f.found = true;
    f.is_string = el.type() == simdjson::dom::element_type::STRING;
    if (f.is_string) {
      f.str = el.get_string().value_unsafe();
    } else {
      std::string error;
      if (!Build(el, parse_ints, 0, &f.value, &error)) return false;
    }
  }
  return true;
}

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
