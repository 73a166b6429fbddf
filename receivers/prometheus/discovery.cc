#include "receivers/prometheus/discovery.h"

#include <glob.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "collector/common/utf8.h"
#include "yaml-cpp/yaml.h"

namespace outrigger::receivers::prometheus {

namespace {

constexpr size_t kMaxAnnotationsFile = 1 << 20;  // the API server allows 256 KiB of annotations

std::string Get(const LabelSet& l, const std::string& k) {
  auto it = l.find(k);
  return it == l.end() ? std::string() : it->second;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's strconv.Unquote of a double-quoted string.
bool UnquoteGo(std::string_view q, std::string* out, std::string* why) {
  if (q.size() < 2 || q.front() != '"' || q.back() != '"') {
    *why = "the value is not a double-quoted string";
    return false;
  }
  q = q.substr(1, q.size() - 2);
  for (size_t i = 0; i < q.size(); ++i) {
    const char c = q[i];
    if (c == '"') {
      *why = "an unescaped '\"' inside the value";
      return false;
    }
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= q.size()) {
      *why = "a '\\' at the end of the value";
      return false;
    }
    const char e = q[i];
    auto hex = [&](size_t n, uint32_t* v) {
      *v = 0;
      for (size_t k = 1; k <= n; ++k) {
        if (i + k >= q.size()) return false;
        int h = HexValue(q[i + k]);
        if (h < 0) return false;
        *v = *v * 16 + static_cast<uint32_t>(h);
      }
      i += n;
      return true;
    };
    uint32_t v = 0;
    switch (e) {
      case 'a':
        out->push_back('\a');
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
      case 'v':
        out->push_back('\v');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '"':
        out->push_back('"');
        break;
      case 'x':
        if (!hex(2, &v)) {
          *why = "an invalid \\x escape";
          return false;
        }
        out->push_back(static_cast<char>(v));
        break;
      case 'u':
      case 'U':
        if (!hex(e == 'u' ? 4 : 8, &v) || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) {
          *why = StrCat("an invalid \\", std::string(1, e), " escape");
          return false;
        }
        AppendUtf8(v, out);
        break;
      default:
        if (e >= '0' && e <= '7') {
          for (size_t k = 0; k < 3; ++k) {
            if (i + k >= q.size() || q[i + k] < '0' || q[i + k] > '7') {
              *why = "an invalid octal escape";
              return false;
            }
            v = v * 8 + static_cast<uint32_t>(q[i + k] - '0');
          }
          if (v > 255) {
            *why = "an invalid octal escape";
            return false;
          }
          i += 2;
          out->push_back(static_cast<char>(v));
          break;
        }
        *why = StrCat("an unknown escape \\", std::string(1, e));
        return false;
    }
  }
  return true;
}

}  // namespace

std::string SanitizeLabelName(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
  }
  return out;
}

std::optional<absl::Duration> ParsePromDuration(std::string_view s) {
  if (s == "0") return absl::ZeroDuration();
  if (s.empty()) return std::nullopt;
  static const std::pair<std::string_view, absl::Duration> kUnits[] = {
      {"y", absl::Hours(24 * 365)}, {"w", absl::Hours(24 * 7)}, {"d", absl::Hours(24)},       {"h", absl::Hours(1)},
      {"m", absl::Minutes(1)},      {"s", absl::Seconds(1)},    {"ms", absl::Milliseconds(1)}};
  absl::Duration total;
  size_t next_unit = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    int64_t n = 0;
    if (i == 0 || i > 12 || !absl::SimpleAtoi(ToAbsl(s.substr(0, i)), &n)) return std::nullopt;
    s.remove_prefix(i);
    std::string_view unit = StartsWith(s, "ms") ? s.substr(0, 2) : s.substr(0, 1);
    size_t k = next_unit;
    while (k < std::size(kUnits) && kUnits[k].first != unit) ++k;
    if (unit.empty() || k == std::size(kUnits)) return std::nullopt;  // unknown, or out of order
    total += n * kUnits[k].second;
    next_unit = k + 1;
    s.remove_prefix(unit.size());
  }
  return total;
}

std::string FormatPromDuration(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms <= 0) return "0s";
  static const std::pair<const char*, int64_t> kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                                                           {"w", 7LL * 24 * 3600 * 1000},
                                                           {"d", 24LL * 3600 * 1000},
                                                           {"h", 3600LL * 1000},
                                                           {"m", 60LL * 1000},
                                                           {"s", 1000},
                                                           {"ms", 1}};
  std::string out;
  for (const auto& [name, u] : kUnits) {
    if (ms >= u) {
      StrAppend(&out, ms / u, name);
      ms %= u;
    }
  }
  return out;
}

absl::StatusOr<std::optional<ScrapeTarget>> PopulateTarget(const ScrapeConfig& sc, absl::Duration interval,
                                                           absl::Duration timeout, const LabelSet& group) {
  LabelSet l;
  for (const auto& [k, v] : group) {
    if (!v.empty()) l[k] = v;
  }
  auto set_default = [&](const std::string& k, const std::string& v) {
    if (Get(l, k).empty() && !v.empty()) l[k] = v;
  };
  set_default("job", sc.job_name);
  set_default("__scrape_interval__", FormatPromDuration(interval));
  set_default("__scrape_timeout__", FormatPromDuration(timeout));
  set_default("__metrics_path__", sc.metrics_path);
  set_default("__scheme__", sc.scheme);
  for (const auto& [k, vs] : sc.params) {
    if (!vs.empty()) set_default("__param_" + k, vs[0]);
  }
  if (!Relabel(sc.relabel_configs, &l)) return std::optional<ScrapeTarget>();

  ScrapeTarget t;
  t.address = Get(l, "__address__");
  if (t.address.empty()) return absl::InvalidArgumentError("no __address__ (after relabeling)");
  if (t.address.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(StrCat("__address__ \"", t.address, "\" is not host:port"));
  }
  t.scheme = Get(l, "__scheme__");
  if (t.scheme != "http" && t.scheme != "https") {
    return absl::InvalidArgumentError(StrCat("__scheme__ \"", t.scheme, "\" is not http or https"));
  }
  const std::string path = Get(l, "__metrics_path__");
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(StrCat("__metrics_path__ \"", path, "\" does not start with '/'"));
  }
  const std::string iv = Get(l, "__scrape_interval__"), to = Get(l, "__scrape_timeout__");
  auto pi = ParsePromDuration(iv), pt = ParsePromDuration(to);
  if (!pi || *pi <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(StrCat("__scrape_interval__ \"", iv, "\" is not a positive duration"));
  }
  if (!pt || *pt <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(StrCat("__scrape_timeout__ \"", to, "\" is not a positive duration"));
  }
  if (*pt > *pi) {
    return absl::InvalidArgumentError(
        StrCat("__scrape_timeout__ \"", to, "\" is greater than __scrape_interval__ \"", iv, "\""));
  }
  t.interval = *pi;
  t.timeout = *pt;
  std::map<std::string, std::vector<std::string>> params = sc.params;
  for (const auto& [k, v] : l) {
    if (!StartsWith(k, "__param_")) continue;
    auto& vs = params[k.substr(8)];
    if (vs.empty()) {
      vs.push_back(v);
    } else {
      vs[0] = v;
    }
  }
  std::string query;
  for (const auto& [k, vs] : params) {
    for (const auto& v : vs) StrAppend(&query, query.empty() ? "?" : "&", UrlEncode(k), "=", UrlEncode(v));
  }
  t.url = StrCat(t.scheme, "://", t.address, path, query);
  for (const auto& [k, v] : l) {
    if (!StartsWith(k, "__")) t.labels[k] = v;
  }
  if (Get(t.labels, "instance").empty()) t.labels["instance"] = t.address;
  return std::optional<ScrapeTarget>(std::move(t));
}

absl::StatusOr<LabelSet> ParseAnnotationsFile(std::string_view text) {
  LabelSet out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      std::string shown(line.substr(0, 80));
      return absl::InvalidArgumentError(
          StrCat("line ", line_no, ": expected key=\"value\", got \"", shown, line.size() > 80 ? "..." : "", "\""));
    }
    const std::string key(line.substr(0, eq));
    std::string value, why;
    if (!UnquoteGo(line.substr(eq + 1), &value, &why)) {
      return absl::InvalidArgumentError(StrCat("line ", line_no, ": annotation \"", key, "\": ", why));
    }
    if (!out.emplace(key, std::move(value)).second) {
      return absl::InvalidArgumentError(StrCat("line ", line_no, ": annotation \"", key, "\" appears twice"));
    }
  }
  return out;
}

absl::StatusOr<std::vector<LabelSet>> GroupsFromAnnotations(const LabelSet& annotations) {
  std::vector<LabelSet> groups;
  if (Get(annotations, "prometheus.io/scrape") != "true") return groups;
  auto it = annotations.find("prometheus.io/port");
  if (it == annotations.end()) {
    return absl::InvalidArgumentError(
        "prometheus.io/scrape is \"true\" but prometheus.io/port is not set (the Pod's container ports are not "
        "visible without the API server)");
  }
  int port = 0;
  const std::string& p = it->second;
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(p, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(StrCat("prometheus.io/port \"", p, "\" is not a port number (1-65535)"));
  }
  LabelSet g;
  g["__address__"] = StrCat("127.0.0.1:", port);
  if (auto path = annotations.find("prometheus.io/path"); path != annotations.end()) {
    if (path->second.empty() || path->second[0] != '/') {
      return absl::InvalidArgumentError(StrCat("prometheus.io/path \"", path->second, "\" does not start with '/'"));
    }
    g["__metrics_path__"] = path->second;
  }
  if (auto scheme = annotations.find("prometheus.io/scheme"); scheme != annotations.end()) {
    if (scheme->second != "http" && scheme->second != "https") {
      return absl::InvalidArgumentError(StrCat("prometheus.io/scheme \"", scheme->second, "\" is not http or https"));
    }
    g["__scheme__"] = scheme->second;
  }
  for (const auto& [k, v] : annotations) {
    const std::string name = SanitizeLabelName(k);
    if (!v.empty()) g["__meta_kubernetes_pod_annotation_" + name] = v;
    g["__meta_kubernetes_pod_annotationpresent_" + name] = "true";
  }
  groups.push_back(std::move(g));
  return groups;
}

PodAnnotationsDiscovery::Result PodAnnotationsDiscovery::Poll() {
  Result r;
  auto report = [&](std::string message) {
    if (message == last_error_) return;
    last_error_ = message;
    r.error = absl::InvalidArgumentError(message);
  };
  struct stat st;
  if (::stat(file_.c_str(), &st) != 0) {
    stamp_.reset();
    report(StrCat("cannot read ", file_, ": ", std::strerror(errno)));
    return r;
  }
  const Stamp now{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  if (stamp_ && *stamp_ == now) return r;
  std::string text;
  FILE* f = std::fopen(file_.c_str(), "rb");
  if (f == nullptr) {
    stamp_.reset();
    report(StrCat("cannot read ", file_, ": ", std::strerror(errno)));
    return r;
  }
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0 && text.size() <= kMaxAnnotationsFile) text.append(buf, n);
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) {
    stamp_.reset();
    report(StrCat("cannot read ", file_));
    return r;
  }
  stamp_ = now;
  last_error_.clear();  // a new version: its problems are new
  if (text.size() > kMaxAnnotationsFile) {
    report(StrCat(file_, ": larger than ", kMaxAnnotationsFile, " bytes"));
    return r;
  }
  auto annotations = ParseAnnotationsFile(text);
  if (!annotations.ok()) {
    report(StrCat(file_, ": ", annotations.status().message()));
    return r;
  }
  auto groups = GroupsFromAnnotations(*annotations);
  if (!groups.ok()) {
    report(StrCat(file_, ": ", groups.status().message()));
    return r;
  }
  if (*groups != groups_) {
    groups_ = std::move(*groups);
    r.changed = true;
  }
  return r;
}

namespace {

constexpr size_t kMaxFileSdFile = 16 << 20;  // a target file larger than this is an error

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError(StrCat("cannot read ", path, ": ", std::strerror(errno)));
  std::string text;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0 && text.size() <= max) text.append(buf, n);
  const bool error = std::ferror(f) != 0;
  std::fclose(f);
  if (error) return absl::InternalError(StrCat("cannot read ", path));
  if (text.size() > max) return absl::InvalidArgumentError(StrCat(path, ": larger than ", max, " bytes"));
  return text;
}

}  // namespace

absl::StatusOr<std::vector<LabelSet>> ParseFileSd(std::string_view text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat("not JSON or YAML: ", e.what()));
  }
  std::vector<LabelSet> out;
  if (root.IsNull()) return out;  // an empty file: no targets
  if (!root.IsSequence()) return absl::InvalidArgumentError("expected a list of {targets, labels}");
  for (size_t i = 0; i < root.size(); ++i) {
    const YAML::Node& g = root[i];
    if (!g.IsMap()) return absl::InvalidArgumentError(StrCat("[", i, "]: expected {targets, labels}"));
    LabelSet labels;
    for (const auto& kv : g) {
      const std::string key = kv.first.Scalar();
      if (key != "targets" && key != "labels") {
        return absl::InvalidArgumentError(StrCat("[", i, "]: unknown key \"", key, "\" (targets, labels)"));
      }
    }
    if (const YAML::Node& l = g["labels"]; l && !l.IsNull()) {
      if (!l.IsMap()) return absl::InvalidArgumentError(StrCat("[", i, "].labels: expected a map"));
      for (const auto& kv : l) {
        if (!kv.second.IsScalar()) {
          return absl::InvalidArgumentError(StrCat("[", i, "].labels.", kv.first.Scalar(), ": expected a string"));
        }
        const std::string name = kv.first.Scalar();
        if (!ValidLabelName(name)) {
          return absl::InvalidArgumentError(StrCat("[", i, "].labels: invalid label name \"", name, "\""));
        }
        labels[name] = kv.second.Scalar();
      }
    }
    const YAML::Node& t = g["targets"];
    if (t && !t.IsNull() && !t.IsSequence()) {
      return absl::InvalidArgumentError(StrCat("[", i, "].targets: expected a list"));
    }
    for (size_t j = 0; t && t.IsSequence() && j < t.size(); ++j) {
      if (!t[j].IsScalar() || t[j].Scalar().empty()) {
        return absl::InvalidArgumentError(StrCat("[", i, "].targets[", j, "]: expected host:port"));
      }
      LabelSet group = labels;
      group["__address__"] = t[j].Scalar();
      group["__meta_filepath"] = path;
      out.push_back(std::move(group));
    }
  }
  return out;
}

FileSdDiscovery::Result FileSdDiscovery::Poll() {
  Result r;
  std::vector<LabelSet> groups;
  std::string error;
  for (const std::string& pattern : patterns_) {
    std::vector<std::string> paths;
    if (pattern.find_first_of("*?[") == std::string::npos) {
      paths.push_back(pattern);
    } else {
      glob_t g{};
      if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
      }
      ::globfree(&g);  // no match: no files (Prometheus: no targets), not an error
    }
    for (const std::string& path : paths) {
      auto text = ReadSmallFile(path, kMaxFileSdFile);
      if (!text.ok()) {
        error = std::string(text.status().message());
        break;
      }
      auto found = ParseFileSd(*text, path);
      if (!found.ok()) {
        error = StrCat(path, ": ", found.status().message());
        break;
      }
      for (LabelSet& l : *found) groups.push_back(std::move(l));
    }
    if (!error.empty()) break;
  }
  if (!error.empty()) {
    if (error != last_error_) r.error = absl::InvalidArgumentError(error);
    last_error_ = error;
    return r;
  }
  last_error_.clear();
  if (groups != groups_) {
    groups_ = std::move(groups);
    r.changed = true;
  }
  return r;
}

}  // namespace outrigger::receivers::prometheus
