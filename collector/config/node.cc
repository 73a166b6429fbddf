#include "collector/config/node.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

int Node::line() const { return node_ && node_.Mark().line >= 0 ? node_.Mark().line + 1 : 0; }

bool Node::Has(std::string_view key) const {
  return IsMap() && node_[std::string(key)].IsDefined();
}

std::vector<std::string> Node::Keys() const {
  std::vector<std::string> keys;
  if (!IsMap()) return keys;
  for (const auto& kv : node_) keys.push_back(kv.first.as<std::string>());
  return keys;
}

std::string Node::KeyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : StrCat(path_, ".", key);
}

void Node::Error(Text message) const { errors_->Add(path_, line(), message); }

void Node::ErrorAt(std::string_view key, Text message) const {
  int l = line();
  if (IsMap()) {
    for (const auto& kv : node_) {
      if (kv.first.Scalar() != key) continue;
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
  YAML::Node v = node_[std::string(key)];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  return v;
}

namespace {
bool Scalar(const YAML::Node& v, std::string* out) {
  if (!v.IsScalar()) return false;
  *out = v.Scalar();
  return true;
}
}  // namespace

void Node::Read(std::string_view key, std::string* out) {
  auto v = Get(key);
  if (!v) return;
  if (!Scalar(*v, out)) ErrorAt(key, "expected a string");
}

void Node::Read(std::string_view key, bool* out) {
  auto v = Get(key);
  if (!v) return;
  std::string s;
  if (Scalar(*v, &s)) {
    std::string l = absl::AsciiStrToLower(s);
    if (l == "true") { *out = true; return; }
    if (l == "false") { *out = false; return; }
  }
  ErrorAt(key, StrCat("expected true or false, got \"", s, "\""));
}

void Node::Read(std::string_view key, int64_t* out) {
  auto v = Get(key);
  if (!v) return;
  std::string s;
  if (!Scalar(*v, &s) || !absl::SimpleAtoi(s, out)) {
    ErrorAt(key, StrCat("expected an integer, got \"", s, "\""));
  }
}

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

void Node::Read(std::string_view key, uint64_t* out) {
  auto v = Get(key);
  if (!v) return;
  std::string s;
  if (!Scalar(*v, &s) || !absl::SimpleAtoi(s, out)) {
    ErrorAt(key, StrCat("expected a non-negative integer, got \"", s, "\""));
  }
}

void Node::Read(std::string_view key, double* out) {
  auto v = Get(key);
  if (!v) return;
  std::string s;
  if (!Scalar(*v, &s) || !absl::SimpleAtod(s, out)) {
    ErrorAt(key, StrCat("expected a number, got \"", s, "\""));
  }
}

void Node::Read(std::string_view key, absl::Duration* out) {
  auto v = Get(key);
  if (!v) return;
  std::string s;
  if (!Scalar(*v, &s)) {
    ErrorAt(key, "expected a duration such as \"200ms\", \"5s\" or \"1m30s\"");
    return;
  }
  if (s == "0") {
    *out = absl::ZeroDuration();
    return;
  }
  absl::Duration d;
  if (!absl::ParseDuration(s, &d) || d < absl::ZeroDuration()) {
    ErrorAt(key, StrCat("expected a duration such as \"200ms\", \"5s\" or \"1m30s\", got \"", s,
                              "\" (a unit is required)"));
    return;
  }
  *out = d;
}

void Node::Read(std::string_view key, std::vector<std::string>* out) {
  auto v = Get(key);
  if (!v) return;
  if (!v->IsSequence()) {
    ErrorAt(key, "expected a list of strings");
    return;
  }
  out->clear();
  for (const auto& e : *v) {
    std::string s;
    if (!Scalar(e, &s)) {
      ErrorAt(key, "expected a list of strings");
      return;
    }
    out->push_back(s);
  }
}

void Node::Read(std::string_view key, std::map<std::string, std::string>* out) {
  auto v = Get(key);
  if (!v) return;
  if (!v->IsMap()) {
    ErrorAt(key, "expected a mapping of strings");
    return;
  }
  out->clear();
  for (const auto& kv : *v) {
    std::string s;
    if (!Scalar(kv.second, &s)) {
      ErrorAt(key, "expected a mapping of strings");
      return;
    }
    (*out)[kv.first.as<std::string>()] = s;
  }
}

std::optional<uint64_t> ParseBytes(std::string_view in) {
  absl::string_view s = absl::StripAsciiWhitespace(ToAbsl(in));
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  double num;
  if (i == 0 || !absl::SimpleAtod(s.substr(0, i), &num)) return std::nullopt;
  std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.substr(i)));
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},       {"b", 1},          {"kb", 1e3},        {"mb", 1e6},
      {"gb", 1e9},   {"kib", 1024.0},   {"mib", 1048576.0}, {"gib", 1073741824.0},
      {"k", 1024.0}, {"m", 1048576.0},  {"g", 1073741824.0}};
  for (const auto& [u, mult] : kUnits) {
    if (unit == u) return static_cast<uint64_t>(num * mult);
  }
  return std::nullopt;
}

void Node::ReadBytes(std::string_view key, uint64_t* out) {
  auto v = Get(key);
  if (!v) return;
  std::string s;
  std::optional<uint64_t> b;
  if (Scalar(*v, &s)) b = ParseBytes(s);
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
  children_.push_back(std::make_unique<Node>(child, KeyPath(key), errors_));
  return *children_.back();
}

void Node::Finish() {
  if (IsMap()) {
    std::vector<std::string> valid(known_.begin(), known_.end());
    for (const auto& kv : node_) {
      std::string k = kv.first.as<std::string>();
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
