// OTTL's functions: editors (lower case, change the record) and converters (upper case,
// return a value), after upstream's pkg/ottl/ottlfuncs. Each is compiled once: its
// constant arguments are checked (regexes compiled, lists read) when the statement is
// compiled, so a bad argument is a config error naming its column.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "collector/common/json.h"
#include "collector/common/strings.h"
#include "collector/ottl/ottl.h"
#include "nlohmann/json.hpp"
#include "openssl/sha.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb.h"
#include "re2/re2.h"

namespace outrigger::ottl {
namespace {

using Args = std::vector<FnArg>;

template <typename F>
class FnExpr : public Expr {
 public:
  FnExpr(int column, F f) : Expr(column), f_(std::move(f)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override { return f_(c, out); }

 private:
  F f_;
};

template <typename F>
ExprPtr Make(int column, F f) {
  return std::make_unique<FnExpr<F>>(column, std::move(f));
}

// Arguments are shared by the closures (an Expr is immutable once compiled).
using ArgRef = std::shared_ptr<FnArg>;
ArgRef Take(FnArg& a) { return std::make_shared<FnArg>(std::move(a)); }

absl::Status NeedMapTarget(const FnArg& a, std::string_view fn) {
  if (!a.target) return ErrorAt(a.column, StrCat(fn, ": target must be a path to a map, such as attributes"));
  return absl::OkStatus();
}
absl::Status NeedTarget(const FnArg& a, std::string_view fn) {
  if (!a.target) return ErrorAt(a.column, StrCat(fn, ": target must be a path, such as attributes[\"key\"]"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ConstString(const FnArg& a, std::string_view what) {
  if (!a.is_const || a.constant.type != Type::kString) {
    return ErrorAt(a.column, StrCat(what, " must be a literal string"));
  }
  return std::string(a.constant.s);
}

absl::StatusOr<int64_t> ConstInt(const FnArg& a, std::string_view what) {
  if (!a.is_const || a.constant.type != Type::kInt) return ErrorAt(a.column, StrCat(what, " must be a literal int"));
  return a.constant.i;
}

absl::StatusOr<bool> ConstBool(const FnArg& a, std::string_view what) {
  if (!a.is_const || a.constant.type != Type::kBool) return ErrorAt(a.column, StrCat(what, " must be true or false"));
  return a.constant.b;
}

absl::StatusOr<std::vector<std::string>> ConstStrings(const FnArg& a, std::string_view what) {
  if (!a.is_const || a.constant.type != Type::kSlice) {
    return ErrorAt(a.column, StrCat(what, " must be a list of literal strings, such as [\"a\", \"b\"]"));
  }
  std::vector<std::string> out;
  for (const AnyValue& v : *a.constant.slice) {
    if (!v.has_string_value()) return ErrorAt(a.column, StrCat(what, " must be a list of strings"));
    out.push_back(v.string_value());
  }
  return out;
}

absl::StatusOr<std::shared_ptr<RE2>> Regex(const FnArg& a, std::string_view what) {
  auto p = ConstString(a, what);
  if (!p.ok()) return p.status();
  RE2::Options o;
  o.set_log_errors(false);
  auto re = std::make_shared<RE2>(*p, o);
  if (!re->ok()) return ErrorAt(a.column, StrCat(what, " \"", *p, "\" is not a valid regex: ", re->error()));
  return re;
}

// filepath.Match patterns: * (no '/'), ?, [...] (with ^ or ! negation), \ escapes.
absl::StatusOr<std::shared_ptr<RE2>> Glob(const FnArg& a) {
  auto p = ConstString(a, "pattern");
  if (!p.ok()) return p.status();
  std::string re = "^";
  const std::string& g = *p;
  for (size_t i = 0; i < g.size(); ++i) {
    char ch = g[i];
    if (ch == '*') {
      re += "[^/]*";
    } else if (ch == '?') {
      re += "[^/]";
    } else if (ch == '\\' && i + 1 < g.size()) {
      re += RE2::QuoteMeta(re2::StringPiece(&g[++i], 1));
    } else if (ch == '[') {
      size_t end = g.find(']', i + 1);
      if (end == std::string::npos) return ErrorAt(a.column, StrCat("pattern \"", g, "\": unterminated ["));
      std::string cls = g.substr(i + 1, end - i - 1);
      if (!cls.empty() && (cls[0] == '!' || cls[0] == '^')) cls[0] = '^';
      re += "[" + cls + "]";
      i = end;
    } else {
      re += RE2::QuoteMeta(re2::StringPiece(&g[i], 1));
    }
  }
  re += "$";
  RE2::Options o;
  o.set_log_errors(false);
  auto r = std::make_shared<RE2>(re, o);
  if (!r->ok()) return ErrorAt(a.column, StrCat("pattern \"", g, "\" is not valid: ", r->error()));
  return r;
}

template <typename Keep>
void KeepIf(KeyValues* m, Keep keep) {
  int w = 0;
  for (int i = 0; i < m->size(); ++i) {
    if (keep(m->Get(i))) {
      if (w != i) m->SwapElements(i, w);
      ++w;
    }
  }
  if (w < m->size()) m->DeleteSubrange(w, m->size() - w);
}

absl::Status Ok() { return absl::OkStatus(); }

// Go's regexp.Expand: $1, ${1}, $name, ${name}, $$.
void Expand(std::string_view tmpl, const RE2& re, const std::vector<re2::StringPiece>& groups, std::string* out) {
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char ch = tmpl[i];
    if (ch != '$' || i + 1 >= tmpl.size()) {
      out->push_back(ch);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out->push_back('$');
      ++i;
      continue;
    }
    std::string name;
    size_t j = i + 1;
    if (tmpl[j] == '{') {
      size_t close = tmpl.find('}', j);
      if (close == std::string_view::npos) {
        out->push_back(ch);
        continue;
      }
      name = std::string(tmpl.substr(j + 1, close - j - 1));
      j = close + 1;
    } else {
      while (j < tmpl.size() && (std::isalnum(static_cast<unsigned char>(tmpl[j])) || tmpl[j] == '_')) ++j;
      name = std::string(tmpl.substr(i + 1, j - i - 1));
    }
    if (name.empty()) {
      out->push_back(ch);
      continue;
    }
    int idx = -1;
    if (std::all_of(name.begin(), name.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
      idx = std::atoi(name.c_str());
    } else {
      auto it = re.NamedCapturingGroups().find(name);
      if (it != re.NamedCapturingGroups().end()) idx = it->second;
    }
    if (idx >= 0 && idx < static_cast<int>(groups.size()) && groups[idx].data() != nullptr) {
      out->append(groups[idx].data(), groups[idx].size());
    }
    i = j - 1;
  }
}

struct Replacer {
  std::shared_ptr<RE2> re;
  ValueFn fn = nullptr;
  std::string format;  // with one %s, or empty
  absl::StatusOr<std::string> Apply(std::string_view replacement) const {
    if (fn == nullptr) return std::string(replacement);
    auto r = fn(Value::StringView(replacement));
    if (!r.ok()) return r.status();
    std::string s = ToString(*r);
    if (format.empty()) return s;
    size_t at = format.find("%s");
    return StrCat(format.substr(0, at), s, format.substr(at + 2));
  }
};

absl::StatusOr<Replacer> ReplacerOf(Args& args, size_t fn_index) {
  Replacer r;
  if (args.size() > fn_index && args[fn_index].given()) {
    auto name = ConstString(args[fn_index], "function");
    if (!name.ok()) return name.status();
    r.fn = FindValueFunction(*name);
    if (r.fn == nullptr)
      return ErrorAt(args[fn_index].column, StrCat("function ", *name, " cannot be used here; use SHA256"));
  }
  if (args.size() > fn_index + 1 && args[fn_index + 1].given()) {
    auto f = ConstString(args[fn_index + 1], "replacementFormat");
    if (!f.ok()) return f.status();
    size_t first = f->find("%s");
    if (first == std::string::npos || f->find("%s", first + 2) != std::string::npos ||
        std::count(f->begin(), f->end(), '%') != 1) {
      return ErrorAt(args[fn_index + 1].column, "replacementFormat must contain exactly one %s and no other verb");
    }
    if (r.fn == nullptr) return ErrorAt(args[fn_index + 1].column, "replacementFormat needs a function");
    r.format = *f;
  }
  return r;
}

// Replaces every match of `re` in `in`; false if nothing matched.
absl::StatusOr<bool> ReplaceAll(const Replacer& rp, std::string_view in, std::string_view tmpl, std::string* out) {
  const RE2& re = *rp.re;
  int n = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(n);
  re2::StringPiece text(in.data(), in.size());
  size_t pos = 0;
  bool any = false;
  while (pos <= in.size()) {
    if (!re.Match(text, pos, in.size(), RE2::UNANCHORED, groups.data(), n)) break;
    any = true;
    size_t ms = groups[0].data() - in.data();
    size_t me = ms + groups[0].size();
    out->append(in.substr(pos, ms - pos));
    std::string expanded;
    Expand(tmpl, re, groups, &expanded);
    auto applied = rp.Apply(expanded);
    if (!applied.ok()) return applied.status();
    out->append(*applied);
    if (me == ms) {
      if (me < in.size()) out->push_back(in[me]);
      pos = me + 1;
    } else {
      pos = me;
    }
  }
  if (!any) return false;
  if (pos < in.size()) out->append(in.substr(pos));
  return true;
}

std::string HexOf(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view h) {
  if (h.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) {
    int v = 0;
    auto r = std::from_chars(h.data() + i, h.data() + i + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != h.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(v));
  }
  return out;
}

absl::StatusOr<Value> Sha256(const Value& v) {
  if (v.type != Type::kString)
    return absl::InvalidArgumentError(StrCat("SHA256 needs a string, got ", TypeName(v.type)));
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(v.s.data()), v.s.size(), md);
  return Value::String(HexOf(std::string_view(reinterpret_cast<char*>(md), sizeof(md))));
}

// The string form used by IsMatch (bytes as base64, as upstream).
std::string StringLike(const Value& v) {
  if (v.type == Type::kBytes) return absl::Base64Escape(ToAbsl(v.s));
  return ToString(v);
}

bool ValidUtf8Boundary(std::string_view s, size_t at) {
  return at >= s.size() || (static_cast<unsigned char>(s[at]) & 0xC0) != 0x80;
}

// JSON nested deeper than this is refused (the conversion recurses; so do the values'
// users: comparison, JSON encoding, flatten).
constexpr int kMaxJsonDepth = 64;

bool JsonToAny(const nlohmann::json& j, AnyValue* out, int depth = 0) {
  if (depth > kMaxJsonDepth) return false;
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      auto* kv = out->mutable_kvlist_value()->mutable_values();
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!JsonToAny(it.value(), Upsert(kv, it.key()), depth + 1)) return false;
      }
      return true;
    }
    case nlohmann::json::value_t::array: {
      auto* arr = out->mutable_array_value()->mutable_values();
      for (const auto& e : j) {
        if (!JsonToAny(e, arr->Add(), depth + 1)) return false;
      }
      return true;
    }
    case nlohmann::json::value_t::string:
      out->set_string_value(j.get<std::string>());
      return true;
    case nlohmann::json::value_t::boolean:
      out->set_bool_value(j.get<bool>());
      return true;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      out->set_double_value(j.get<double>());  // JSON numbers are doubles, as upstream
      return true;
    default:
      out->Clear();
      return true;
  }
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char ch = s[i];
    if (!std::isalnum(ch)) {
      if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
      continue;
    }
    if (std::isupper(ch) && !cur.empty() &&
        (std::islower(static_cast<unsigned char>(cur.back())) ||
         (i + 1 < s.size() && std::islower(static_cast<unsigned char>(s[i + 1])) &&
          std::isupper(static_cast<unsigned char>(cur.back()))))) {
      words.push_back(std::move(cur)), cur.clear();
    }
    cur.push_back(static_cast<char>(ch));
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

// upstream's ctime-like directives → absl's.
absl::StatusOr<std::string> TimeFormat(std::string_view f) {
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      out.push_back(f[i]);
      continue;
    }
    char d = f[++i];
    switch (d) {
      case 'Y':
      case 'y':
      case 'm':
      case 'b':
      case 'B':
      case 'd':
      case 'a':
      case 'A':
      case 'H':
      case 'I':
      case 'p':
      case 'M':
      case 'S':
      case 'z':
      case 'Z':
        out += '%';
        out += d;
        break;
      case 'o':
      case 'q':
        out += "%m";
        break;
      case 'h':
        out += "%b";
        break;
      case 'e':
      case 'g':
        out += "%d";
        break;
      case 'l':
        out += "%I";
        break;
      case 'P':
        out += "%p";
        break;
      case 'L':
      case 'f':
      case 's':
        out += "%E*f";
        break;
      case 'i':
      case 'j':
      case 'k':
      case 'w':
        out += "%Ez";
        break;
      case 'D':
      case 'x':
        out += "%m/%d/%y";
        break;
      case 'F':
        out += "%Y-%m-%d";
        break;
      case 'T':
      case 'X':
        out += "%H:%M:%S";
        break;
      case 'r':
        out += "%I:%M:%S %p";
        break;
      case 'R':
        out += "%H:%M";
        break;
      case 'n':
        out += "\n";
        break;
      case 't':
        out += "\t";
        break;
      case '%':
        out += "%%";
        break;
      case 'c':
        out += "%a %b %d %H:%M:%S %Y";
        break;
      default:
        return absl::InvalidArgumentError(StrCat("unsupported time directive %", std::string(1, d)));
    }
  }
  return out;
}

// Go's fmt.Sprintf for the verbs people use: %s %v %d %f %g %e %x %X %t %q %%, with flags,
// width and precision.
std::string GoFormat(std::string_view f, const AnyValues* args) {
  std::string out;
  int next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    size_t b = i++;
    while (i < f.size() && std::string_view("+-# 0").find(f[i]) != std::string_view::npos) ++i;
    size_t digits = 0;  // width and precision stay small: the format may come from a record
    while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) ++i, ++digits;
    if (i < f.size() && f[i] == '.') {
      ++i;
      size_t p = 0;
      while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) ++i, ++p;
      digits = std::max(digits, p);
    }
    if (i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = f[i];
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (digits > 2 || std::string_view("dfFegxXtqsv").find(verb) == std::string_view::npos) {
      StrAppend(&out, "%!", std::string(1, verb), "(BADVERB)");
      continue;
    }
    std::string spec(f.substr(b, i - b));
    if (args == nullptr || next >= args->size()) {
      StrAppend(&out, "%!", std::string(1, verb), "(MISSING)");
      continue;
    }
    Value v = Value::FromAny(args->Get(next++));
    char buf[512];
    switch (verb) {
      case 'd':
        if (v.type == Type::kInt) {
          std::snprintf(buf, sizeof(buf), (spec + "lld").c_str(), static_cast<long long>(v.i));
          out += buf;
        } else {
          StrAppend(&out, "%!d(", TypeName(v.type), "=", ToString(v), ")");
        }
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'g':
        if (v.IsNumber()) {
          double d = v.type == Type::kInt ? static_cast<double>(v.i) : v.d;
          std::snprintf(buf, sizeof(buf), (spec + std::string(1, verb == 'F' ? 'f' : verb)).c_str(), d);
          out += buf;
        } else {
          StrAppend(&out, "%!", std::string(1, verb), "(", TypeName(v.type), "=", ToString(v), ")");
        }
        break;
      case 'x':
      case 'X': {
        std::string h;
        if (v.type == Type::kInt) {
          std::snprintf(buf, sizeof(buf), (spec + "ll" + std::string(1, verb)).c_str(), static_cast<long long>(v.i));
          h = buf;
        } else {
          h = HexOf(v.type == Type::kString || v.type == Type::kBytes ? v.s : ToString(v));
          if (verb == 'X') std::transform(h.begin(), h.end(), h.begin(), ::toupper);
        }
        out += h;
        break;
      }
      case 't':
        out += v.type == Type::kBool ? (v.b ? "true" : "false") : StrCat("%!t(", TypeName(v.type), ")");
        break;
      case 'q':
        AppendJsonString(&out, ToString(v));
        break;
      default: {  // s, v
        std::string s = ToString(v);
        std::snprintf(buf, sizeof(buf), (spec + "s").c_str(), s.c_str());
        out += s.size() < 400 ? std::string(buf) : s;
      }
    }
  }
  return out;
}

void FlattenInto(const KeyValues& src, const std::string& prefix, int64_t depth, bool resolve, KeyValues* out,
                 std::map<std::string, int>* seen);

void FlattenValue(const AnyValue& v, const std::string& key, int64_t depth, bool resolve, KeyValues* out,
                  std::map<std::string, int>* seen) {
  if (v.has_kvlist_value() && depth > 0) {
    FlattenInto(v.kvlist_value().values(), key, depth - 1, resolve, out, seen);
    return;
  }
  if (v.has_array_value() && depth > 0) {
    if (resolve) {
      for (const AnyValue& e : v.array_value().values()) FlattenValue(e, key, depth - 1, resolve, out, seen);
    } else {
      int i = 0;
      for (const AnyValue& e : v.array_value().values()) {
        FlattenValue(e, StrCat(key, ".", i++), depth - 1, resolve, out, seen);
      }
    }
    return;
  }
  std::string k = key;
  if (resolve) {
    auto it = seen->find(key);
    if (it != seen->end()) {
      k = StrCat(key, ".", it->second++);
    } else {
      (*seen)[key] = 0;
    }
  }
  *Upsert(out, k) = v;
}

void FlattenInto(const KeyValues& src, const std::string& prefix, int64_t depth, bool resolve, KeyValues* out,
                 std::map<std::string, int>* seen) {
  for (const KeyValue& kv : src) {
    std::string key = prefix.empty() ? kv.key() : StrCat(prefix, ".", kv.key());
    FlattenValue(kv.value(), key, depth, resolve, out, seen);
  }
}

// ---------------- editors ----------------

absl::StatusOr<ExprPtr> MakeSet(int col, Args& a) {
  if (absl::Status s = NeedTarget(a[0], "set"); !s.ok()) return s;
  auto t = Take(a[0]);
  auto v = Take(a[1]);
  return Make(col, [t, v](EvalContext& c, Value*) {
    Value x;
    if (absl::Status s = v->value->Eval(c, &x); !s.ok()) return s;
    if (x.IsNil()) return Ok();  // upstream: setting nil does nothing
    return t->target->Set(c, x);
  });
}

absl::StatusOr<ExprPtr> MakeDeleteKey(int col, Args& a) {
  if (absl::Status s = NeedMapTarget(a[0], "delete_key"); !s.ok()) return s;
  auto t = Take(a[0]);
  auto k = Take(a[1]);
  return Make(col, [t, k](EvalContext& c, Value*) {
    Value key;
    if (absl::Status s = k->value->Eval(c, &key); !s.ok()) return s;
    if (key.type != Type::kString) return absl::InvalidArgumentError("delete_key: key must be a string");
    if (KeyValues* m = t->target->MutableMap(c)) KeepIf(m, [&](const KeyValue& kv) { return kv.key() != key.s; });
    return Ok();
  });
}

template <bool kKeep>
absl::StatusOr<ExprPtr> MakeMatchingKeys(int col, Args& a) {
  std::string_view fn = kKeep ? "keep_matching_keys" : "delete_matching_keys";
  if (absl::Status s = NeedMapTarget(a[0], fn); !s.ok()) return s;
  auto re = Regex(a[1], "pattern");
  if (!re.ok()) return re.status();
  auto t = Take(a[0]);
  std::shared_ptr<RE2> r = *re;
  return Make(col, [t, r](EvalContext& c, Value*) {
    if (KeyValues* m = t->target->MutableMap(c)) {
      KeepIf(m, [&](const KeyValue& kv) { return RE2::PartialMatch(kv.key(), *r) == kKeep; });
    }
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeKeepKeys(int col, Args& a) {
  if (absl::Status s = NeedMapTarget(a[0], "keep_keys"); !s.ok()) return s;
  auto keys = ConstStrings(a[1], "keys");
  if (!keys.ok()) return keys.status();
  auto t = Take(a[0]);
  auto set = std::make_shared<std::set<std::string, std::less<>>>(keys->begin(), keys->end());
  return Make(col, [t, set](EvalContext& c, Value*) {
    if (KeyValues* m = t->target->MutableMap(c)) {
      KeepIf(m, [&](const KeyValue& kv) { return set->count(std::string_view(kv.key())) > 0; });
    }
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeLimit(int col, Args& a) {
  if (absl::Status s = NeedMapTarget(a[0], "limit"); !s.ok()) return s;
  auto limit = ConstInt(a[1], "limit");
  if (!limit.ok()) return limit.status();
  if (*limit < 0) return ErrorAt(a[1].column, StrCat("limit must be at least 0, not ", *limit));
  std::vector<std::string> prio;
  if (a[2].given()) {
    auto p = ConstStrings(a[2], "priority_keys");
    if (!p.ok()) return p.status();
    prio = std::move(*p);
  }
  if (static_cast<int64_t>(prio.size()) > *limit) {
    return ErrorAt(a[2].column, StrCat("there are ", prio.size(), " priority keys, more than the limit ", *limit));
  }
  auto t = Take(a[0]);
  auto set = std::make_shared<std::set<std::string, std::less<>>>(prio.begin(), prio.end());
  int64_t n = *limit;
  return Make(col, [t, set, n](EvalContext& c, Value*) {
    KeyValues* m = t->target->MutableMap(c);
    if (m == nullptr || m->size() <= n) return Ok();
    int64_t prio_present = 0;
    for (const KeyValue& kv : *m) prio_present += set->count(std::string_view(kv.key()));
    int64_t room = n - prio_present;
    KeepIf(m, [&](const KeyValue& kv) {
      if (set->count(std::string_view(kv.key()))) return true;
      return room-- > 0;
    });
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeMergeMaps(int col, Args& a) {
  if (absl::Status s = NeedMapTarget(a[0], "merge_maps"); !s.ok()) return s;
  auto strategy = ConstString(a[2], "strategy");
  if (!strategy.ok()) return strategy.status();
  if (*strategy != "insert" && *strategy != "update" && *strategy != "upsert") {
    return ErrorAt(a[2].column, StrCat("strategy must be insert, update or upsert, not \"", *strategy, "\""));
  }
  auto t = Take(a[0]);
  auto src = Take(a[1]);
  int mode = *strategy == "insert" ? 0 : *strategy == "update" ? 1 : 2;
  return Make(col, [t, src, mode](EvalContext& c, Value*) {
    Value s;
    if (absl::Status st = src->value->Eval(c, &s); !st.ok()) return st;
    if (s.type != Type::kMap) return absl::InvalidArgumentError(StrCat("merge_maps: source is a ", TypeName(s.type)));
    KeyValues* m = t->target->MutableMap(c);
    if (m == nullptr) return absl::InvalidArgumentError("merge_maps: target is not a map");
    if (s.map == m) return Ok();
    KeyValues copy = *s.map;  // the source may live in the target
    for (const KeyValue& kv : copy) {
      AnyValue* existing = FindMutable(m, kv.key());
      if (existing != nullptr && mode != 0) *existing = kv.value();
      if (existing == nullptr && mode != 1) *Upsert(m, kv.key()) = kv.value();
    }
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeReplacePattern(int col, Args& a) {
  if (absl::Status s = NeedTarget(a[0], "replace_pattern"); !s.ok()) return s;
  auto re = Regex(a[1], "regex");
  if (!re.ok()) return re.status();
  auto rp = ReplacerOf(a, 3);
  if (!rp.ok()) return rp.status();
  rp->re = *re;
  auto t = Take(a[0]);
  auto rep = Take(a[2]);
  return Make(col, [t, rep, r = *rp](EvalContext& c, Value*) {
    Value v, tmpl;
    if (absl::Status s = t->target->Get(c, &v); !s.ok()) return s;
    if (v.type != Type::kString) return Ok();
    if (absl::Status s = rep->value->Eval(c, &tmpl); !s.ok()) return s;
    if (tmpl.type != Type::kString) return absl::InvalidArgumentError("replace_pattern: replacement must be a string");
    std::string out;
    auto changed = ReplaceAll(r, v.s, tmpl.s, &out);
    if (!changed.ok()) return changed.status();
    if (!*changed) return Ok();
    return t->target->Set(c, Value::StringView(out));
  });
}

absl::StatusOr<ExprPtr> MakeReplaceAllPatterns(int col, Args& a) {
  if (absl::Status s = NeedMapTarget(a[0], "replace_all_patterns"); !s.ok()) return s;
  auto mode = ConstString(a[1], "mode");
  if (!mode.ok()) return mode.status();
  if (*mode != "key" && *mode != "value") {
    return ErrorAt(a[1].column, StrCat("mode must be \"key\" or \"value\", not \"", *mode, "\""));
  }
  auto re = Regex(a[2], "regex");
  if (!re.ok()) return re.status();
  auto rp = ReplacerOf(a, 4);
  if (!rp.ok()) return rp.status();
  rp->re = *re;
  auto t = Take(a[0]);
  auto rep = Take(a[3]);
  bool keys = *mode == "key";
  return Make(col, [t, rep, r = *rp, keys](EvalContext& c, Value*) {
    Value tmpl;
    if (absl::Status s = rep->value->Eval(c, &tmpl); !s.ok()) return s;
    if (tmpl.type != Type::kString)
      return absl::InvalidArgumentError("replace_all_patterns: replacement must be a string");
    std::string tm(tmpl.s);
    KeyValues* m = t->target->MutableMap(c);
    if (m == nullptr) return Ok();
    for (KeyValue& kv : *m) {
      std::string out;
      if (keys) {
        auto changed = ReplaceAll(r, kv.key(), tm, &out);
        if (!changed.ok()) return changed.status();
        if (*changed) kv.set_key(std::move(out));
      } else if (kv.value().has_string_value()) {
        auto changed = ReplaceAll(r, kv.value().string_value(), tm, &out);
        if (!changed.ok()) return changed.status();
        if (*changed) kv.mutable_value()->set_string_value(std::move(out));
      }
    }
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeReplaceMatch(int col, Args& a) {
  if (absl::Status s = NeedTarget(a[0], "replace_match"); !s.ok()) return s;
  auto g = Glob(a[1]);
  if (!g.ok()) return g.status();
  auto rp = ReplacerOf(a, 3);
  if (!rp.ok()) return rp.status();
  rp->re = *g;
  auto t = Take(a[0]);
  auto rep = Take(a[2]);
  return Make(col, [t, rep, r = *rp](EvalContext& c, Value*) {
    Value v, with;
    if (absl::Status s = t->target->Get(c, &v); !s.ok()) return s;
    if (v.type != Type::kString || !RE2::FullMatch(re2::StringPiece(v.s.data(), v.s.size()), *r.re)) return Ok();
    if (absl::Status s = rep->value->Eval(c, &with); !s.ok()) return s;
    if (with.type != Type::kString) return absl::InvalidArgumentError("replace_match: replacement must be a string");
    auto applied = r.Apply(with.s);
    if (!applied.ok()) return applied.status();
    return t->target->Set(c, Value::StringView(*applied));
  });
}

absl::StatusOr<ExprPtr> MakeReplaceAllMatches(int col, Args& a) {
  if (absl::Status s = NeedMapTarget(a[0], "replace_all_matches"); !s.ok()) return s;
  auto g = Glob(a[1]);
  if (!g.ok()) return g.status();
  auto rp = ReplacerOf(a, 3);
  if (!rp.ok()) return rp.status();
  rp->re = *g;
  auto t = Take(a[0]);
  auto rep = Take(a[2]);
  return Make(col, [t, rep, r = *rp](EvalContext& c, Value*) {
    Value with;
    if (absl::Status s = rep->value->Eval(c, &with); !s.ok()) return s;
    if (with.type != Type::kString)
      return absl::InvalidArgumentError("replace_all_matches: replacement must be a string");
    auto applied = r.Apply(with.s);
    if (!applied.ok()) return applied.status();
    KeyValues* m = t->target->MutableMap(c);
    if (m == nullptr) return Ok();
    for (KeyValue& kv : *m) {
      if (kv.value().has_string_value() && RE2::FullMatch(kv.value().string_value(), *r.re)) {
        kv.mutable_value()->set_string_value(*applied);
      }
    }
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeTruncateAll(int col, Args& a) {
  if (absl::Status s = NeedMapTarget(a[0], "truncate_all"); !s.ok()) return s;
  auto limit = ConstInt(a[1], "limit");
  if (!limit.ok()) return limit.status();
  if (*limit < 0) return ErrorAt(a[1].column, StrCat("limit must be at least 0, not ", *limit));
  bool utf8 = true;
  if (a[2].given()) {
    auto b = ConstBool(a[2], "utf8_safe");
    if (!b.ok()) return b.status();
    utf8 = *b;
  }
  std::string marker;
  if (a[3].given()) {
    auto m = ConstString(a[3], "truncation_marker");
    if (!m.ok()) return m.status();
    marker = *m;
    if (static_cast<int64_t>(marker.size()) > *limit) {
      return ErrorAt(a[3].column, "truncation_marker is longer than the limit");
    }
  }
  auto t = Take(a[0]);
  size_t n = static_cast<size_t>(*limit);
  return Make(col, [t, n, utf8, marker](EvalContext& c, Value*) {
    KeyValues* m = t->target->MutableMap(c);
    if (m == nullptr) return Ok();
    for (KeyValue& kv : *m) {
      if (!kv.value().has_string_value() || kv.value().string_value().size() <= n) continue;
      std::string* s = kv.mutable_value()->mutable_string_value();
      size_t cut = n - marker.size();
      while (utf8 && cut > 0 && !ValidUtf8Boundary(*s, cut)) --cut;
      s->resize(cut);
      s->append(marker);
    }
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeFlatten(int col, Args& a) {
  if (absl::Status s = NeedMapTarget(a[0], "flatten"); !s.ok()) return s;
  std::string prefix;
  int64_t depth = 100;
  bool resolve = false;
  if (a[1].given()) {
    auto p = ConstString(a[1], "prefix");
    if (!p.ok()) return p.status();
    prefix = *p;
  }
  if (a[2].given()) {
    auto d = ConstInt(a[2], "depth");
    if (!d.ok()) return d.status();
    if (*d < 0) return ErrorAt(a[2].column, "depth must be at least 0");
    depth = *d;
  }
  if (a[3].given()) {
    auto r = ConstBool(a[3], "resolveConflicts");
    if (!r.ok()) return r.status();
    resolve = *r;
  }
  auto t = Take(a[0]);
  return Make(col, [t, prefix, depth, resolve](EvalContext& c, Value*) {
    KeyValues* m = t->target->MutableMap(c);
    if (m == nullptr) return Ok();
    KeyValues out;
    std::map<std::string, int> seen;
    FlattenInto(*m, prefix, depth, resolve, &out, &seen);
    m->Swap(&out);
    return Ok();
  });
}

// ---------------- converters ----------------

// A converter of one value.
template <typename F>
absl::StatusOr<ExprPtr> Unary(int col, FnArg& arg, F f) {
  auto a = Take(arg);
  return Make(col, [a, f](EvalContext& c, Value* out) -> absl::Status {
    Value v;
    if (absl::Status s = a->value->Eval(c, &v); !s.ok()) return s;
    auto r = f(v);
    if (!r.ok()) return r.status();
    *out = std::move(*r);
    return Ok();
  });
}

absl::StatusOr<Value> IntOf(const Value& v) {
  switch (v.type) {
    case Type::kInt:
      return v;
    case Type::kDouble:
      if (!std::isfinite(v.d)) return Value::Nil();
      return Value::Int(static_cast<int64_t>(v.d));
    case Type::kBool:
      return Value::Int(v.b ? 1 : 0);
    case Type::kString: {
      int64_t i;
      std::string_view s = v.s;
      if (!s.empty() && s[0] == '+') s.remove_prefix(1);
      auto r = std::from_chars(s.data(), s.data() + s.size(), i);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return Value::Nil();
      return Value::Int(i);
    }
    default:
      return Value::Nil();
  }
}

absl::StatusOr<Value> DoubleOf(const Value& v) {
  switch (v.type) {
    case Type::kDouble:
      return v;
    case Type::kInt:
      return Value::Double(static_cast<double>(v.i));
    case Type::kBool:
      return Value::Double(v.b ? 1 : 0);
    case Type::kString: {
      std::string s(v.s);
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) return Value::Nil();
      return Value::Double(d);
    }
    default:
      return Value::Nil();
  }
}

absl::StatusOr<Value> IdOf(const Value& v, size_t len, std::string_view fn) {
  if (v.type == Type::kBytes) {
    if (v.s.size() != len) return absl::InvalidArgumentError(StrCat(fn, ": needs ", len, " bytes, got ", v.s.size()));
    return Value::Bytes(std::string(v.s));
  }
  if (v.type == Type::kString) {
    auto raw = Unhex(v.s);
    if (!raw || raw->size() != len) {
      return absl::InvalidArgumentError(StrCat(fn, ": \"", v.s, "\" is not ", len * 2, " hex digits"));
    }
    return Value::Bytes(std::move(*raw));
  }
  return absl::InvalidArgumentError(StrCat(fn, ": needs bytes or a hex string, got ", TypeName(v.type)));
}

absl::StatusOr<ExprPtr> MakeConcat(int col, Args& a) {
  auto vals = Take(a[0]);
  auto delim = Take(a[1]);
  return Make(col, [vals, delim](EvalContext& c, Value* out) -> absl::Status {
    Value l, d;
    if (absl::Status s = vals->value->Eval(c, &l); !s.ok()) return s;
    if (absl::Status s = delim->value->Eval(c, &d); !s.ok()) return s;
    if (l.type != Type::kSlice) return absl::InvalidArgumentError("Concat: values must be a list");
    if (d.type != Type::kString) return absl::InvalidArgumentError("Concat: delimiter must be a string");
    std::string r;
    bool first = true;
    for (const AnyValue& e : *l.slice) {
      Value v = Value::FromAny(e);
      if (v.type == Type::kMap || v.type == Type::kSlice) continue;
      if (!first) r.append(d.s);
      first = false;
      if (v.IsNil()) {
        r.append("<nil>");
      } else {
        AppendString(v, &r);
      }
    }
    *out = Value::String(std::move(r));
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeConvertCase(int col, Args& a) {
  auto to = ConstString(a[1], "toCase");
  if (!to.ok()) return to.status();
  int mode = *to == "lower" ? 0 : *to == "upper" ? 1 : *to == "snake" ? 2 : *to == "camel" ? 3 : -1;
  if (mode < 0) return ErrorAt(a[1].column, StrCat("toCase must be lower, upper, snake or camel, not \"", *to, "\""));
  return Unary(col, a[0], [mode](const Value& v) -> absl::StatusOr<Value> {
    if (v.type != Type::kString)
      return absl::InvalidArgumentError(StrCat("ConvertCase: needs a string, got ", TypeName(v.type)));
    std::string s(v.s);
    switch (mode) {
      case 0:
        std::transform(s.begin(), s.end(), s.begin(), ::tolower);
        return Value::String(std::move(s));
      case 1:
        std::transform(s.begin(), s.end(), s.begin(), ::toupper);
        return Value::String(std::move(s));
      case 2: {
        std::string r;
        for (auto w : Words(s)) {
          std::transform(w.begin(), w.end(), w.begin(), ::tolower);
          if (!r.empty()) r.push_back('_');
          r += w;
        }
        return Value::String(std::move(r));
      }
      default: {
        std::string r;
        for (auto w : Words(s)) {
          std::transform(w.begin(), w.end(), w.begin(), ::tolower);
          w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
          r += w;
        }
        return Value::String(std::move(r));
      }
    }
  });
}

absl::StatusOr<ExprPtr> MakeFormat(int col, Args& a) {
  auto f = Take(a[0]);
  auto l = Take(a[1]);
  return Make(col, [f, l](EvalContext& c, Value* out) -> absl::Status {
    Value fv, lv;
    if (absl::Status s = f->value->Eval(c, &fv); !s.ok()) return s;
    if (absl::Status s = l->value->Eval(c, &lv); !s.ok()) return s;
    if (fv.type != Type::kString) return absl::InvalidArgumentError("Format: formatString must be a string");
    if (lv.type != Type::kSlice) return absl::InvalidArgumentError("Format: formatArguments must be a list");
    *out = Value::String(GoFormat(fv.s, lv.slice));
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeHex(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) -> absl::StatusOr<Value> {
    std::string raw;
    switch (v.type) {
      case Type::kDouble: {
        uint64_t bits;
        std::memcpy(&bits, &v.d, 8);
        for (int i = 7; i >= 0; --i) raw.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
        break;
      }
      case Type::kInt:
        for (int i = 7; i >= 0; --i) raw.push_back(static_cast<char>((static_cast<uint64_t>(v.i) >> (8 * i)) & 0xff));
        break;
      case Type::kBool:
        raw.push_back(v.b ? 1 : 0);
        break;
      case Type::kString:
      case Type::kBytes:
        raw = std::string(v.s);
        break;
      default:
        return Value::Nil();
    }
    return Value::String(HexOf(raw));
  });
}

absl::StatusOr<ExprPtr> MakeInt(int col, Args& a) { return Unary(col, a[0], IntOf); }
absl::StatusOr<ExprPtr> MakeDouble(int col, Args& a) { return Unary(col, a[0], DoubleOf); }

absl::StatusOr<ExprPtr> MakeString(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) -> absl::StatusOr<Value> {
    if (v.IsNil()) return Value::Nil();
    if (v.type == Type::kString) return v;
    return Value::String(ToString(v));
  });
}

template <Type T>
absl::StatusOr<ExprPtr> MakeIsType(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) -> absl::StatusOr<Value> { return Value::Bool(v.type == T); });
}

absl::StatusOr<ExprPtr> MakeIsMatch(int col, Args& a) {
  auto re = Regex(a[1], "pattern");
  if (!re.ok()) return re.status();
  std::shared_ptr<RE2> r = *re;
  auto t = Take(a[0]);
  return Make(col, [t, r](EvalContext& c, Value* out) -> absl::Status {
    Value v;
    if (absl::Status s = t->value->Eval(c, &v); !s.ok()) return s;
    if (v.IsNil()) {
      *out = Value::Bool(false);
    } else if (v.type == Type::kString) {
      *out = Value::Bool(RE2::PartialMatch(re2::StringPiece(v.s.data(), v.s.size()), *r));
    } else {
      *out = Value::Bool(RE2::PartialMatch(StringLike(v), *r));
    }
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeLen(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) -> absl::StatusOr<Value> {
    switch (v.type) {
      case Type::kString:
        return Value::Int(static_cast<int64_t>(v.s.size()));
      case Type::kSlice:
        return Value::Int(v.slice->size());
      case Type::kMap:
        return Value::Int(v.map->size());
      default:
        return absl::InvalidArgumentError(StrCat("Len: needs a string, slice or map, got ", TypeName(v.type)));
    }
  });
}

absl::StatusOr<ExprPtr> MakeParseJson(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) -> absl::StatusOr<Value> {
    if (v.type != Type::kString)
      return absl::InvalidArgumentError(StrCat("ParseJSON: needs a string, got ", TypeName(v.type)));
    nlohmann::json j = nlohmann::json::parse(v.s.begin(), v.s.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !(j.is_object() || j.is_array())) {
      return absl::InvalidArgumentError("ParseJSON: not a JSON object or array");
    }
    auto any = std::make_shared<AnyValue>();
    if (!JsonToAny(j, any.get())) {
      return absl::InvalidArgumentError(StrCat("ParseJSON: nested deeper than ", kMaxJsonDepth, " levels"));
    }
    if (j.is_object()) any->mutable_kvlist_value();
    if (j.is_array()) any->mutable_array_value();
    return Value::Owned(std::move(any));
  });
}

absl::StatusOr<ExprPtr> MakeExtractPatterns(int col, Args& a) {
  auto re = Regex(a[1], "pattern");
  if (!re.ok()) return re.status();
  if ((*re)->NamedCapturingGroups().empty()) {
    return ErrorAt(a[1].column, "pattern must contain at least one named capture group, such as (?P<name>\\w+)");
  }
  std::shared_ptr<RE2> r = *re;
  return Unary(col, a[0], [r](const Value& v) -> absl::StatusOr<Value> {
    if (v.type != Type::kString) {
      return absl::InvalidArgumentError(StrCat("ExtractPatterns: needs a string, got ", TypeName(v.type)));
    }
    int n = r->NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> g(n);
    auto any = std::make_shared<AnyValue>();
    auto* kv = any->mutable_kvlist_value()->mutable_values();
    if (r->Match(re2::StringPiece(v.s.data(), v.s.size()), 0, v.s.size(), RE2::UNANCHORED, g.data(), n)) {
      for (const auto& [name, idx] : r->NamedCapturingGroups()) {
        if (g[idx].data() == nullptr) continue;
        Upsert(kv, name)->set_string_value(std::string(g[idx].data(), g[idx].size()));
      }
    }
    return Value::Owned(std::move(any));
  });
}

absl::StatusOr<ExprPtr> MakeSplit(int col, Args& a) {
  auto t = Take(a[0]);
  auto d = Take(a[1]);
  return Make(col, [t, d](EvalContext& c, Value* out) -> absl::Status {
    Value v, dv;
    if (absl::Status s = t->value->Eval(c, &v); !s.ok()) return s;
    if (absl::Status s = d->value->Eval(c, &dv); !s.ok()) return s;
    if (v.type != Type::kString)
      return absl::InvalidArgumentError(StrCat("Split: needs a string, got ", TypeName(v.type)));
    if (dv.type != Type::kString) return absl::InvalidArgumentError("Split: delimiter must be a string");
    auto any = std::make_shared<AnyValue>();
    auto* arr = any->mutable_array_value()->mutable_values();
    std::string_view s = v.s;
    if (dv.s.empty()) {
      for (char ch : s) arr->Add()->set_string_value(std::string(1, ch));
    } else {
      while (true) {
        size_t at = s.find(dv.s);
        arr->Add()->set_string_value(std::string(s.substr(0, at)));
        if (at == std::string_view::npos) break;
        s.remove_prefix(at + dv.s.size());
      }
    }
    *out = Value::Owned(std::move(any));
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeSubstring(int col, Args& a) {
  auto t = Take(a[0]);
  auto st = Take(a[1]);
  auto ln = Take(a[2]);
  bool utf8 = false;
  if (a[3].given()) {
    auto b = ConstBool(a[3], "utf8_safe");
    if (!b.ok()) return b.status();
    utf8 = *b;
  }
  return Make(col, [t, st, ln, utf8](EvalContext& c, Value* out) -> absl::Status {
    Value v, sv, lv;
    if (absl::Status s = t->value->Eval(c, &v); !s.ok()) return s;
    if (absl::Status s = st->value->Eval(c, &sv); !s.ok()) return s;
    if (absl::Status s = ln->value->Eval(c, &lv); !s.ok()) return s;
    if (v.type != Type::kString)
      return absl::InvalidArgumentError(StrCat("Substring: needs a string, got ", TypeName(v.type)));
    if (sv.type != Type::kInt || lv.type != Type::kInt)
      return absl::InvalidArgumentError("Substring: start and length must be ints");
    if (sv.i < 0) return absl::InvalidArgumentError(StrCat("Substring: invalid start ", sv.i));
    if (lv.i <= 0) return absl::InvalidArgumentError(StrCat("Substring: invalid length ", lv.i));
    if (static_cast<uint64_t>(sv.i) + static_cast<uint64_t>(lv.i) > v.s.size()) {
      return absl::InvalidArgumentError(
          StrCat("Substring: start ", sv.i, " + length ", lv.i, " is beyond the string's ", v.s.size(), " bytes"));
    }
    size_t b = static_cast<size_t>(sv.i), e = b + static_cast<size_t>(lv.i);
    if (utf8) {
      while (b < e && !ValidUtf8Boundary(v.s, b)) ++b;
      while (e > b && !ValidUtf8Boundary(v.s, e)) --e;
    }
    Value r = Value::StringView(v.s.substr(b, e - b));
    r.hold = v.hold;
    *out = std::move(r);
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeSha256(int col, Args& a) { return Unary(col, a[0], Sha256); }

absl::StatusOr<ExprPtr> MakeTime(int col, Args& a) {
  auto fmt = ConstString(a[1], "format");
  if (!fmt.ok()) return fmt.status();
  if (fmt->empty()) return ErrorAt(a[1].column, "format must not be empty");
  auto absl_fmt = TimeFormat(*fmt);
  if (!absl_fmt.ok()) return ErrorAt(a[1].column, ToStd(absl_fmt.status().message()));
  absl::TimeZone tz = absl::UTCTimeZone();
  if (a[2].given()) {
    auto loc = ConstString(a[2], "location");
    if (!loc.ok()) return loc.status();
    if (!loc->empty() && !absl::LoadTimeZone(*loc, &tz)) {
      return ErrorAt(a[2].column, StrCat("unknown location \"", *loc, "\""));
    }
  }
  if (a[3].given()) {
    auto locale = ConstString(a[3], "locale");
    if (!locale.ok()) return locale.status();
    if (!locale->empty() && *locale != "en" && locale->rfind("en-", 0) != 0) {
      return ErrorAt(a[3].column, "only the locale \"en\" is supported");
    }
  }
  std::string f = *absl_fmt;
  return Unary(col, a[0], [f, tz](const Value& v) -> absl::StatusOr<Value> {
    if (v.type != Type::kString)
      return absl::InvalidArgumentError(StrCat("Time: needs a string, got ", TypeName(v.type)));
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(f, ToAbsl(v.s), tz, &t, &err)) {
      return absl::InvalidArgumentError(StrCat("Time: \"", v.s, "\" does not match the format: ", err));
    }
    return Value::Time(absl::ToUnixNanos(t));
  });
}

template <int64_t kDivisor>
absl::StatusOr<ExprPtr> MakeUnix(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) -> absl::StatusOr<Value> {
    if (v.type != Type::kTime) return absl::InvalidArgumentError(StrCat("needs a time, got ", TypeName(v.type)));
    int64_t q = v.i / kDivisor;
    if (v.i % kDivisor < 0) --q;  // floor, as Go's Unix*
    return Value::Int(q);
  });
}

absl::StatusOr<ExprPtr> MakeNow(int col, Args&) {
  return Make(col, [](EvalContext&, Value* out) {
    *out = Value::Time(absl::ToUnixNanos(absl::Now()));
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeTraceId(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) { return IdOf(v, 16, "TraceID"); });
}
absl::StatusOr<ExprPtr> MakeSpanId(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) { return IdOf(v, 8, "SpanID"); });
}

absl::StatusOr<ExprPtr> MakeLog(int col, Args& a) {
  return Unary(col, a[0], [](const Value& v) -> absl::StatusOr<Value> {
    if (v.IsNil()) return absl::InvalidArgumentError("Log: the value is nil");
    auto d = DoubleOf(v);
    if (!d.ok()) return d.status();
    if (d->type != Type::kDouble) return absl::InvalidArgumentError(StrCat("Log: cannot use a ", TypeName(v.type)));
    if (d->d <= 0)
      return absl::InvalidArgumentError(StrCat("Log: the value must be greater than 0, not ", FormatDouble(d->d)));
    return Value::Double(std::log(d->d));
  });
}

template <bool kPrefix>
absl::StatusOr<ExprPtr> MakeHasAffix(int col, Args& a) {
  auto t = Take(a[0]);
  auto x = Take(a[1]);
  return Make(col, [t, x](EvalContext& c, Value* out) -> absl::Status {
    Value v, p;
    if (absl::Status s = t->value->Eval(c, &v); !s.ok()) return s;
    if (absl::Status s = x->value->Eval(c, &p); !s.ok()) return s;
    if (v.type != Type::kString || p.type != Type::kString) return absl::InvalidArgumentError("needs strings");
    bool r = v.s.size() >= p.s.size() &&
             (kPrefix ? v.s.substr(0, p.s.size()) == p.s : v.s.substr(v.s.size() - p.s.size()) == p.s);
    *out = Value::Bool(r);
    return Ok();
  });
}

// ---- the transform processor's metric functions (metric context only) ----

absl::StatusOr<ExprPtr> MakeConvertSumToGauge(int col, Args&) {
  return Make(col, [](EvalContext& c, Value*) {
    auto* m = c.metric;
    if (m == nullptr || !m->has_sum()) return Ok();  // a no-op on other types, as upstream
    google::protobuf::RepeatedPtrField<opentelemetry::proto::metrics::v1::NumberDataPoint> points;
    points.Swap(m->mutable_sum()->mutable_data_points());
    m->mutable_gauge()->mutable_data_points()->Swap(&points);
    return Ok();
  });
}

absl::StatusOr<ExprPtr> MakeConvertGaugeToSum(int col, Args& a) {
  namespace mpb = opentelemetry::proto::metrics::v1;
  auto temporality = ConstString(a[0], "aggregation_temporality");
  if (!temporality.ok()) return temporality.status();
  mpb::AggregationTemporality t;
  if (*temporality == "cumulative") {
    t = mpb::AGGREGATION_TEMPORALITY_CUMULATIVE;
  } else if (*temporality == "delta") {
    t = mpb::AGGREGATION_TEMPORALITY_DELTA;
  } else {
    return absl::InvalidArgumentError(
        StrCat("convert_gauge_to_sum: unknown aggregation temporality \"", *temporality, "\" (cumulative or delta)"));
  }
  auto monotonic = ConstBool(a[1], "is_monotonic");
  if (!monotonic.ok()) return monotonic.status();
  const bool is_monotonic = *monotonic;
  return Make(col, [t, is_monotonic](EvalContext& c, Value*) {
    auto* m = c.metric;
    if (m == nullptr || !m->has_gauge()) return Ok();  // a no-op on other types, as upstream
    google::protobuf::RepeatedPtrField<mpb::NumberDataPoint> points;
    points.Swap(m->mutable_gauge()->mutable_data_points());
    mpb::Sum* sum = m->mutable_sum();
    sum->mutable_data_points()->Swap(&points);
    sum->set_aggregation_temporality(t);
    sum->set_is_monotonic(is_monotonic);
    return Ok();
  });
}

// ---- the filter processor's metric functions (metric context only) ----

// Whether a data point of the metric (any type) has the attribute `key` (with the string
// value `value` when kWithValue), as upstream's HasAttrKeyOnDatapoint / HasAttrOnDatapoint.
template <bool kWithValue>
absl::StatusOr<ExprPtr> MakeHasAttrOnDatapoint(int col, Args& a) {
  auto key = ConstString(a[0], "key");
  if (!key.ok()) return key.status();
  std::string value;
  if constexpr (kWithValue) {
    auto v = ConstString(a[1], "expectedVal");
    if (!v.ok()) return v.status();
    value = *v;
  }
  return Make(col, [k = *key, value](EvalContext& c, Value* out) {
    auto has = [&](const KeyValues& attrs) {
      for (const KeyValue& kv : attrs) {
        if (kv.key() != k) continue;
        return !kWithValue || (kv.value().has_string_value() && kv.value().string_value() == value);
      }
      return false;
    };
    auto any = [&](const auto& points) {
      for (const auto& p : points) {
        if (has(p.attributes())) return true;
      }
      return false;
    };
    bool found = false;
    if (const auto* m = c.metric) {
      found = any(m->gauge().data_points()) || any(m->sum().data_points()) || any(m->histogram().data_points()) ||
              any(m->exponential_histogram().data_points()) || any(m->summary().data_points());
    }
    *out = Value::Bool(found);
    return Ok();
  });
}

}  // namespace

const std::vector<FunctionSpec>& Functions() {
  static const std::vector<FunctionSpec> kFunctions = {
      // editors
      {"set", {"target", "value"}, 2, "set(target, value): writes value to the path target; nil does nothing", MakeSet},
      {"delete_key",
       {"target", "key"},
       2,
       "delete_key(attributes, \"http.request.header.authorization\")",
       MakeDeleteKey},
      {"delete_matching_keys",
       {"target", "pattern"},
       2,
       "delete_matching_keys(attributes, \"(?i).*password.*\")",
       MakeMatchingKeys<false>},
      {"keep_keys", {"target", "keys"}, 2, "keep_keys(attributes, [\"http.method\", \"http.route\"])", MakeKeepKeys},
      {"keep_matching_keys",
       {"target", "pattern"},
       2,
       "keep_matching_keys(attributes, \"(?i).*version.*\")",
       MakeMatchingKeys<true>},
      {"limit", {"target", "limit", "priority_keys"}, 2, "limit(attributes, 50, [\"http.host\"])", MakeLimit},
      {"merge_maps",
       {"target", "source", "strategy"},
       3,
       "merge_maps(attributes, ParseJSON(body), \"upsert\"); strategy insert, update or upsert",
       MakeMergeMaps},
      {"replace_pattern",
       {"target", "regex", "replacement", "function", "replacementFormat"},
       3,
       "replace_pattern(name, \"^kube_([0-9A-Za-z]+_)\", \"k8s.$1.\")",
       MakeReplacePattern},
      {"replace_all_patterns",
       {"target", "mode", "regex", "replacement", "function", "replacementFormat"},
       4,
       "replace_all_patterns(attributes, \"value\", \"/account/\\\\d{4}\", \"/account/{accountId}\")",
       MakeReplaceAllPatterns},
      {"replace_match",
       {"target", "pattern", "replacement", "function", "replacementFormat"},
       3,
       "replace_match(attributes[\"http.target\"], \"/user/*/list/*\", \"/user/{userId}/list/{listId}\")",
       MakeReplaceMatch},
      {"replace_all_matches",
       {"target", "pattern", "replacement", "function", "replacementFormat"},
       3,
       "replace_all_matches(attributes, \"/user/*/list/*\", \"/user/{userId}/list/{listId}\")",
       MakeReplaceAllMatches},
      {"truncate_all",
       {"target", "limit", "utf8_safe", "truncation_marker"},
       2,
       "truncate_all(attributes, 100)",
       MakeTruncateAll},
      {"flatten", {"target", "prefix", "depth", "resolveConflicts"}, 1, "flatten(attributes, \"app\", 2)", MakeFlatten},
      {"convert_sum_to_gauge",
       {},
       0,
       "convert_sum_to_gauge() where metric.name == \"system.processes.count\"",
       MakeConvertSumToGauge,
       /*pure=*/true,
       ContextKind::kMetric},
      {"convert_gauge_to_sum",
       {"aggregation_temporality", "is_monotonic"},
       2,
       "convert_gauge_to_sum(\"cumulative\", false); temporality cumulative or delta",
       MakeConvertGaugeToSum,
       /*pure=*/true,
       ContextKind::kMetric},
      // converters
      {"Concat",
       {"values", "delimiter"},
       2,
       "Concat([attributes[\"http.method\"], attributes[\"http.path\"]], \": \")",
       MakeConcat},
      {"ConvertCase",
       {"target", "toCase"},
       2,
       "ConvertCase(name, \"snake\"); lower, upper, snake or camel",
       MakeConvertCase},
      {"Format", {"formatString", "formatArguments"}, 2, "Format(\"%s-%02d\", [name, attributes[\"n\"]])", MakeFormat},
      {"Hex", {"value"}, 1, "Hex(attributes[\"http.status_code\"])", MakeHex},
      {"Int", {"value"}, 1, "Int(attributes[\"http.status_code\"])", MakeInt},
      {"Double", {"value"}, 1, "Double(\"2.0\")", MakeDouble},
      {"String", {"value"}, 1, "String(span_id)", MakeString},
      {"IsMatch", {"target", "pattern"}, 2, "IsMatch(attributes[\"http.path\"], \"foo\")", MakeIsMatch},
      {"IsString", {"value"}, 1, "IsString(body)", MakeIsType<Type::kString>},
      {"IsInt", {"value"}, 1, "IsInt(attributes[\"n\"])", MakeIsType<Type::kInt>},
      {"IsDouble", {"value"}, 1, "IsDouble(attributes[\"n\"])", MakeIsType<Type::kDouble>},
      {"IsBool", {"value"}, 1, "IsBool(attributes[\"b\"])", MakeIsType<Type::kBool>},
      {"IsMap", {"value"}, 1, "IsMap(body)", MakeIsType<Type::kMap>},
      {"IsList", {"value"}, 1, "IsList(attributes[\"tags\"])", MakeIsType<Type::kSlice>},
      {"Len", {"target"}, 1, "Len(body)", MakeLen},
      {"ParseJSON", {"target"}, 1, "ParseJSON(body)", MakeParseJson},
      {"ExtractPatterns",
       {"target", "pattern"},
       2,
       "ExtractPatterns(body, \"GIT_SHA=(?P<git_sha>\\\\w+)\")",
       MakeExtractPatterns},
      {"Split", {"target", "delimiter"}, 2, "Split(attributes[\"tags\"], \",\")", MakeSplit},
      {"Substring", {"target", "start", "length", "utf8_safe"}, 3, "Substring(\"123456789\", 0, 3)", MakeSubstring},
      {"SHA256", {"value"}, 1, "SHA256(attributes[\"user.email\"])", MakeSha256},
      {"Time", {"target", "format", "location", "locale"}, 2, "Time(\"02/04/2023\", \"%m/%d/%Y\")", MakeTime},
      {"UnixNano", {"value"}, 1, "UnixNano(Time(\"02/04/2023\", \"%m/%d/%Y\"))", MakeUnix<1>},
      {"UnixMilli", {"value"}, 1, "UnixMilli(Time(\"02/04/2023\", \"%m/%d/%Y\"))", MakeUnix<1000000>},
      {"UnixSeconds", {"value"}, 1, "UnixSeconds(Now())", MakeUnix<1000000000>},
      {"Now", {}, 0, "Now()", MakeNow, /*pure=*/false},
      {"TraceID", {"bytes"}, 1, "TraceID(0x00000000000000000000000000000001)", MakeTraceId},
      {"SpanID", {"bytes"}, 1, "SpanID(0x0102030405060708)", MakeSpanId},
      {"Log", {"value"}, 1, "Log(attributes[\"duration_ms\"])", MakeLog},
      {"HasPrefix", {"value", "prefix"}, 2, "HasPrefix(name, \"GET \")", MakeHasAffix<true>},
      {"HasSuffix", {"value", "suffix"}, 2, "HasSuffix(name, \"_service\")", MakeHasAffix<false>},
      {"HasAttrKeyOnDatapoint",
       {"key"},
       1,
       "HasAttrKeyOnDatapoint(\"bad.metric\"): a data point of the metric has the attribute",
       MakeHasAttrOnDatapoint<false>,
       /*pure=*/false,
       ContextKind::kMetric},
      {"HasAttrOnDatapoint",
       {"key", "expectedVal"},
       2,
       "HasAttrOnDatapoint(\"bad.metric\", \"true\"): a data point has the attribute with this string value",
       MakeHasAttrOnDatapoint<true>,
       /*pure=*/false,
       ContextKind::kMetric},
  };
  return kFunctions;
}

const FunctionSpec* FindFunction(std::string_view name) {
  for (const FunctionSpec& f : Functions()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

ValueFn FindValueFunction(std::string_view name) {
  if (name == "SHA256") return Sha256;
  return nullptr;
}

}  // namespace outrigger::ottl
