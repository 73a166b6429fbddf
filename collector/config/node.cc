#include "collector/config/node.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace outrigger::config {

void Errors::Add(std::string_view path, int line, Text text) {
  std::string_view message = text.v;
  std::string where(path);
  if (line > 0) StrAppend(&where, " (line ", line, ")");
  list_.push_back(where.empty() ? std::string(message) : StrCat(where, ": ", message));
}

std::string Errors::Joined() const { return absl::StrJoin(list_, "\n"); }

namespace {
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::optional<std::string> Suggest(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = Distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Node::Node(YAML::Node node, std::string path, Errors* errors)
    : node_(std::move(node)), path_(std::move(path)), errors_(errors) {}

int Node::column() const { return node_ && node_.Mark().column >= 0 ? node_.Mark().column + 1 : 0; }

int Node::line() const { return node_ && node_.Mark().line >= 0 ? node_.Mark().line + 1 : 0; }

bool Node::Has(std::string_view key) const {
  if (!IsMap()) return false;
  for (const auto& kv : node_) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return true;
  }
  return false;
}

std::vector<std::string> Node::Keys() const {
  std::vector<std::string> keys;
  if (!IsMap()) return keys;
  // LoadAndMerge refuses non-scalar keys; Scalar() of anything else is "".
  for (const auto& kv : node_) keys.push_back(kv.first.Scalar());
  return keys;
}

std::string Node::KeyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : StrCat(path_, ".", key);
}

void Node::Error(Text message) const { errors_->Add(path_, line(), message); }

void Node::Unsupported(std::string_view key, std::string_view instead) {
  if (!Has(key)) return;
  ErrorAt(key, StrCat(key, " is not supported: ", instead));
  Accept(key);
}

void Node::ErrorAt(std::string_view key, Text message) const {
  int l = line();
  if (IsMap()) {
    for (const auto& kv : node_) {
      if (!kv.first.IsScalar() || kv.first.Scalar() != key) continue;
      if (kv.second.Mark().line >= 0 && !kv.second.IsNull()) {
        l = kv.second.Mark().line + 1;
      } else if (kv.first.Mark().line >= 0) {
        l = kv.first.Mark().line + 1;
      }
    }
  }
  errors_->Add(KeyPath(key), l, message);
}

std::optional<YAML::Node> Node::Get(std::string_view key) {
  known_.insert(std::string(key));
  if (!IsMap()) return std::nullopt;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar() || kv.first.Scalar() != key) continue;
    if (!kv.second.IsDefined() || kv.second.IsNull()) return std::nullopt;
    return kv.second;
  }
  return std::nullopt;
}

Node& Node::AddChild(YAML::Node node, std::string path) {
  children_.push_back(std::make_unique<Node>(std::move(node), std::move(path), errors_));
  return *children_.back();
}

template <typename T>
void Node::ReadValue(std::string_view key, T* out) {
  auto v = Get(key);
  if (!v) return;
  Node value(*v, KeyPath(key), errors_);
  value.As(out);
}

// ---- this node's own value ----

bool Node::As(std::string* out) {
  if (!IsScalar()) {
    Error(IsNull() ? "expected a string, got nothing" : "expected a string");
    return false;
  }
  *out = node_.Scalar();
  return true;
}

bool Node::As(bool* out) {
  std::string s;
  if (IsScalar()) {
    s = absl::AsciiStrToLower(node_.Scalar());
    if (s == "true") {
      *out = true;
      return true;
    }
    if (s == "false") {
      *out = false;
      return true;
    }
  }
  Error(StrCat("expected true or false", IsScalar() ? StrCat(", got \"", node_.Scalar(), "\"") : ""));
  return false;
}

bool Node::As(int64_t* out) {
  if (!IsScalar() || !absl::SimpleAtoi(node_.Scalar(), out)) {
    Error(StrCat("expected an integer", IsScalar() ? StrCat(", got \"", node_.Scalar(), "\"") : ""));
    return false;
  }
  return true;
}

bool Node::As(uint64_t* out) {
  if (!IsScalar() || !absl::SimpleAtoi(node_.Scalar(), out)) {
    Error(StrCat("expected a non-negative integer", IsScalar() ? StrCat(", got \"", node_.Scalar(), "\"") : ""));
    return false;
  }
  return true;
}

bool Node::As(double* out) {
  double d;
  if (!IsScalar() || !absl::SimpleAtod(node_.Scalar(), &d) || !std::isfinite(d)) {
    Error(StrCat("expected a number", IsScalar() ? StrCat(", got \"", node_.Scalar(), "\"") : ""));
    return false;
  }
  *out = d;
  return true;
}

bool Node::As(std::vector<std::string>* out) {
  if (!IsList()) {
    Error("expected a list of strings");
    return false;
  }
  for (Node* item : Items()) {
    std::string s;
    if (!item->As(&s)) return false;
    out->push_back(std::move(s));
  }
  return true;
}

std::vector<Node*> Node::Items() {
  std::vector<Node*> items;
  if (!IsList()) {
    Error("expected a list");
    return items;
  }
  for (size_t i = 0; i < node_.size(); ++i) items.push_back(&AddChild(node_[i], StrCat(path_, "[", i, "]")));
  return items;
}

std::vector<std::pair<std::string, Node*>> Node::Entries() {
  std::vector<std::pair<std::string, Node*>> entries;
  if (!IsMap()) {
    Error("expected a mapping");
    return entries;
  }
  for (const auto& kv : node_) {
    std::string k = kv.first.Scalar();
    known_.insert(k);
    entries.emplace_back(k, &AddChild(kv.second, KeyPath(k)));
  }
  return entries;
}

// ---- options of this mapping ----

void Node::Read(std::string_view key, std::string* out) { ReadValue(key, out); }
void Node::Read(std::string_view key, bool* out) { ReadValue(key, out); }
void Node::Read(std::string_view key, int64_t* out) { ReadValue(key, out); }
void Node::Read(std::string_view key, uint64_t* out) { ReadValue(key, out); }
void Node::Read(std::string_view key, double* out) { ReadValue(key, out); }

void Node::Read(std::string_view key, int* out) {
  int64_t v = *out;
  size_t before = errors_->list().size();
  Read(key, &v);
  if (errors_->list().size() != before) return;
  if (v < INT32_MIN || v > INT32_MAX) {
    ErrorAt(key, "integer out of range");
    return;
  }
  *out = static_cast<int>(v);
}

void Node::Read(std::string_view key, absl::Duration* out) {
  auto v = Get(key);
  if (!v) return;
  constexpr char kExpected[] = "expected a duration such as \"200ms\", \"5s\" or \"1m30s\"";
  if (!v->IsScalar()) {
    ErrorAt(key, kExpected);
    return;
  }
  const std::string& s = v->Scalar();
  std::string why;
  const std::optional<absl::Duration> parsed = ParseDuration(s, &why);
  if (!parsed) {
    ErrorAt(key, StrCat(kExpected, ", got \"", s, "\" (", why, ")"));
    return;
  }
  const absl::Duration d = *parsed;
  if (d < absl::ZeroDuration()) {
    ErrorAt(key, StrCat(kExpected, ", got \"", s, "\" (a duration cannot be negative)"));
    return;
  }
  // Longer ones overflow clocks when added to the current time.
  if (d > absl::Hours(24 * 365 * 100)) {
    ErrorAt(key, StrCat("duration \"", s, "\" is too long (at most 100 years)"));
    return;
  }
  *out = d;
}

void Node::Read(std::string_view key, std::vector<std::string>* out) {
  auto v = Get(key);
  if (!v) return;
  Node list(*v, KeyPath(key), errors_);
  std::vector<std::string> values;
  if (list.As(&values)) *out = std::move(values);
}

void Node::Read(std::string_view key, std::map<std::string, std::string>* out) {
  auto v = Get(key);
  if (!v) return;
  Node map(*v, KeyPath(key), errors_);
  if (!map.IsMap()) {
    map.Error("expected a mapping of strings");
    return;
  }
  std::map<std::string, std::string> values;
  for (auto& [k, value] : map.Entries()) {
    if (!value->As(&values[k])) return;
  }
  *out = std::move(values);
}

void Node::Read(std::string_view key, std::map<std::string, std::vector<std::string>>* out) {
  auto v = Get(key);
  if (!v) return;
  Node map(*v, KeyPath(key), errors_);
  if (!map.IsMap()) {
    map.Error("expected a mapping of names to lists of strings");
    return;
  }
  std::map<std::string, std::vector<std::string>> values;
  for (auto& [k, value] : map.Entries()) {
    std::vector<std::string>& list = values[k];
    if (value->IsScalar()) {
      list.push_back(value->node_.Scalar());
      continue;
    }
    if (!value->As(&list)) return;
  }
  *out = std::move(values);
}

std::optional<absl::Duration> ParseDuration(std::string_view s, std::string* why) {
  if (s == "0") return absl::ZeroDuration();
  // Go writes microseconds "µs" (U+00B5) or "μs" (U+03BC); absl reads "us".
  const std::string text = absl::StrReplaceAll(ToAbsl(s), {{"µs", "us"}, {"μs", "us"}});
  absl::Duration d;
  if (absl::ParseDuration(text, &d)) return d;
  // A bare number is the usual mistake (seconds in mind); say which units there are.
  const bool bare_number = !s.empty() && s.find_first_not_of("+-0123456789.") == std::string_view::npos;
  *why = StrCat(bare_number ? "a unit is required" : "not a number followed by a unit", ": ns, us, ms, s, m or h");
  return std::nullopt;
}

std::optional<uint64_t> ParseBytes(std::string_view in) {
  absl::string_view s = absl::StripAsciiWhitespace(ToAbsl(in));
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  double num;
  if (i == 0 || !absl::SimpleAtod(s.substr(0, i), &num)) return std::nullopt;
  std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.substr(i)));
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},       {"b", 1},         {"kb", 1e3},        {"mb", 1e6},
      {"gb", 1e9},   {"kib", 1024.0},  {"mib", 1048576.0}, {"gib", 1073741824.0},
      {"k", 1024.0}, {"m", 1048576.0}, {"g", 1073741824.0}};
  for (const auto& [u, mult] : kUnits) {
    if (unit != u) continue;
    double bytes = num * mult;
    if (!(bytes < 18446744073709551616.0)) return std::nullopt;  // 2^64: does not fit
    return static_cast<uint64_t>(bytes);
  }
  return std::nullopt;
}

void Node::ReadBytes(std::string_view key, uint64_t* out) {
  auto v = Get(key);
  if (!v) return;
  std::string s = v->IsScalar() ? v->Scalar() : "";
  std::optional<uint64_t> b;
  if (v->IsScalar()) b = ParseBytes(s);
  if (!b) {
    ErrorAt(key, StrCat("expected a size such as 4194304, \"64KiB\" or \"10MiB\", got \"", s, "\""));
    return;
  }
  *out = *b;
}

void Node::ReadEnum(std::string_view key, std::string* out, const std::vector<std::string>& allowed) {
  std::string s = *out;
  size_t before = errors_->list().size();
  Read(key, &s);
  if (errors_->list().size() != before) return;
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    ErrorAt(key, StrCat("\"", s, "\" is not one of: ", absl::StrJoin(allowed, ", ")));
    return;
  }
  *out = s;
}

Node& Node::Child(std::string_view key) {
  auto v = Get(key);
  YAML::Node child = v ? *v : YAML::Node();
  if (v && !v->IsMap()) {
    ErrorAt(key, "expected a mapping");
    child = YAML::Node();
  }
  return AddChild(child, KeyPath(key));
}

Node& Node::Value(std::string_view key) {
  auto v = Get(key);
  return AddChild(v ? *v : YAML::Node(), KeyPath(key));
}

std::vector<Node*> Node::ReadMappings(std::string_view key) {
  std::vector<Node*> out;
  Node& list = Value(key);
  if (list.IsNull()) return out;
  if (!list.IsList()) {
    list.Error("expected a list of mappings");
    return out;
  }
  for (Node* item : list.Items()) {
    if (item->IsMap()) {
      out.push_back(item);
    } else {
      item->Error("expected a mapping");
    }
  }
  return out;
}

void Node::AcceptAll() {
  for (const std::string& k : Keys()) known_.insert(k);
}

void Node::Finish() {
  if (finished_) return;
  finished_ = true;
  if (IsMap()) {
    std::vector<std::string> valid(known_.begin(), known_.end());
    for (const auto& kv : node_) {
      std::string k = kv.first.Scalar();
      if (known_.count(k)) continue;
      std::string msg = "unknown key";
      if (auto s = Suggest(k, valid)) {
        StrAppend(&msg, "; did you mean '", *s, "'?");
      } else if (!valid.empty()) {
        StrAppend(&msg, "; valid keys: ", absl::StrJoin(valid, ", "));
      }
      int l = kv.first.Mark().line >= 0 ? kv.first.Mark().line + 1 : line();
      errors_->Add(KeyPath(k), l, msg);
    }
  } else if (node_ && node_.IsDefined() && !node_.IsNull() && !known_.empty()) {
    Error("expected a mapping");
  }
  for (auto& c : children_) c->Finish();
  children_.clear();
}

// ---- loading ----

std::string ExpandEnv(std::string_view in, std::string* error) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '{') {
      size_t end = in.find('}', i + 2);
      if (end == std::string_view::npos) {
        *error = StrCat("unterminated \"${\" in \"", in, "\"");
        return std::string(in);
      }
      std::string_view ref = in.substr(i + 2, end - i - 2);
      if (ref.substr(0, 4) == "env:") ref.remove_prefix(4);
      std::string_view def;
      bool has_def = false;
      if (auto p = ref.find(":-"); p != std::string_view::npos) {
        def = ref.substr(p + 2);
        ref = ref.substr(0, p);
        has_def = true;
      }
      if (ref.empty() || ref.find(':') != std::string_view::npos) {
        *error = StrCat("unsupported reference \"${", in.substr(i + 2, end - i - 2),
                        "}\": use ${env:VAR}, ${VAR} or ${env:VAR:-default}");
        return std::string(in);
      }
      // As the OpenTelemetry Collector: a name must match [a-zA-Z_][a-zA-Z0-9_]*, so that
      // "${1}" (a regex group in a Prometheus replacement) is an error, not "".
      bool valid = std::isalpha(static_cast<unsigned char>(ref[0])) || ref[0] == '_';
      for (char c : ref) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!valid) {
        *error = StrCat("invalid environment variable name \"", ref, "\" in \"${", in.substr(i + 2, end - i - 2),
                        "}\" (a name is [a-zA-Z_][a-zA-Z0-9_]*); for a literal \"$\" write \"$$\", e.g. \"$${",
                        in.substr(i + 2, end - i - 2), "}\"");
        return std::string(in);
      }
      const char* val = std::getenv(std::string(ref).c_str());
      if (val != nullptr && (*val != '\0' || !has_def)) {
        out.append(val);
      } else if (has_def) {
        out.append(def);
      }
      i = end;
      continue;
    }
    out.push_back('$');
  }
  return out;
}

namespace {

void ExpandAll(YAML::Node node, const std::string& path, Errors* errors) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s.find('$') == std::string::npos) return;
    std::string err;
    std::string expanded = ExpandEnv(s, &err);
    if (!err.empty()) {
      errors->Add(path, node.Mark().line + 1, err);
      return;
    }
    node = expanded;
  } else if (node.IsMap()) {
    for (auto kv : node) {
      if (!kv.first.IsScalar()) {
        errors->Add(path, kv.first.Mark().line + 1, "a key must be a string, not a list or a mapping");
        continue;
      }
      ExpandAll(kv.second, path.empty() ? kv.first.Scalar() : path + "." + kv.first.Scalar(), errors);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      ExpandAll(node[i], StrCat(path, "[", i, "]"), errors);
    }
  }
}

YAML::Node Merge(YAML::Node base, const YAML::Node& over) {
  if (!base.IsMap() || !over.IsMap()) return over;
  for (const auto& kv : over) {
    std::string k = kv.first.Scalar();
    if (base[k].IsDefined() && base[k].IsMap() && kv.second.IsMap()) {
      base[k] = Merge(base[k], kv.second);
    } else {
      base[k] = kv.second;
    }
  }
  return base;
}

}  // namespace

YAML::Node LoadAndMerge(const std::vector<Source>& sources, Errors* errors) {
  YAML::Node merged;
  for (const auto& src : sources) {
    YAML::Node doc;
    try {
      doc = YAML::Load(src.text);
    } catch (const YAML::Exception& e) {
      errors->Add(src.name, e.mark.line + 1, StrCat("invalid YAML: ", e.msg));
      continue;
    }
    if (doc.IsNull()) continue;
    if (!doc.IsMap()) {
      errors->Add(src.name, 1, "the configuration must be a YAML mapping");
      continue;
    }
    ExpandAll(doc, "", errors);
    merged = merged.IsDefined() && !merged.IsNull() ? Merge(merged, doc) : doc;
  }
  return merged;
}

}  // namespace outrigger::config
