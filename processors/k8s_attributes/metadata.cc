#include "processors/k8s_attributes/metadata.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "collector/common/strings.h"
#include "collector/common/utf8.h"
#include "re2/re2.h"

namespace outrigger::processors::k8s_attributes {
namespace {
template <typename T>
bool ParseInt(std::string_view s, T* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}
}  // namespace

std::string TrimLastSegment(std::string_view pod) {
  size_t dash = pod.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return "";
  return std::string(pod.substr(0, dash));
}

std::string DeploymentFromReplicaSet(std::string_view rs, std::string_view hash) {
  if (!hash.empty()) {
    if (rs.size() > hash.size() + 1 && rs.ends_with(hash) && rs[rs.size() - hash.size() - 1] == '-') {
      return std::string(rs.substr(0, rs.size() - hash.size() - 1));
    }
    return "";
  }
  return TrimLastSegment(rs);
}

std::string CronJobFromJob(std::string_view job) {
  size_t dash = job.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == job.size()) return "";
  for (char c : job.substr(dash + 1)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return "";
  }
  return std::string(job.substr(0, dash));
}

Workload DeriveWorkload(std::string_view pod_name, const StringMap& labels) {
  Workload w;
  auto label = [&](std::string_view k) -> std::string_view {
    auto it = labels.find(k);
    return it == labels.end() ? std::string_view() : std::string_view(it->second);
  };
  std::string_view hash = label("pod-template-hash");
  if (!hash.empty()) {
    // <deployment>-<hash>-<5 random>: the ReplicaSet is the name without the last part.
    std::string rs = TrimLastSegment(pod_name);
    if (!rs.empty() && std::string_view(rs).ends_with(StrCat("-", hash))) {
      w.replicaset = rs;
      w.deployment = DeploymentFromReplicaSet(rs, hash);
    }
  }
  std::string_view sts_pod = label("statefulset.kubernetes.io/pod-name");
  if (!sts_pod.empty() && sts_pod == pod_name) {
    size_t dash = pod_name.rfind('-');
    int64_t ordinal = 0;
    if (dash != std::string_view::npos && dash > 0 && ParseInt(pod_name.substr(dash + 1), &ordinal)) {
      w.statefulset = std::string(pod_name.substr(0, dash));
    }
  } else if (!label("controller-revision-hash").empty() && !label("pod-template-generation").empty()) {
    w.daemonset = TrimLastSegment(pod_name);
  }
  std::string_view job = label("batch.kubernetes.io/job-name");
  if (job.empty()) job = label("job-name");
  if (!job.empty()) {
    w.job = std::string(job);
    w.cronjob = CronJobFromJob(job);
  }
  return w;
}

namespace {

// Go's strconv.Unquote of a double-quoted string (what the kubelet writes); false if
// it is not one.
bool GoUnquote(std::string_view s, std::string* out) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  s = s.substr(1, s.size() - 2);
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') return false;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= s.size()) return false;
    char e = s[i];
    auto hex = [&](size_t n, uint32_t* v) {
      if (i + n >= s.size()) return false;
      std::string_view h = s.substr(i + 1, n);
      if (h.size() != n) return false;
      uint32_t r = 0;
      for (char d : h) {
        int x = absl::ascii_isdigit(static_cast<unsigned char>(d)) ? d - '0'
                : (d >= 'a' && d <= 'f')                           ? d - 'a' + 10
                : (d >= 'A' && d <= 'F')                           ? d - 'A' + 10
                                                                   : -1;
        if (x < 0) return false;
        r = r * 16 + static_cast<uint32_t>(x);
      }
      *v = r;
      i += n;
      return true;
    };
    auto utf8 = [&](uint32_t cp) { AppendUtf8(cp > 0x10FFFF ? 0xFFFD : cp, out); };
    uint32_t v = 0;
    switch (e) {
      case 'n':
        out->push_back('\n');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 'a':
        out->push_back('\a');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
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
      case '\'':
        out->push_back('\'');
        break;
      case 'x':
        if (!hex(2, &v)) return false;
        out->push_back(static_cast<char>(v));
        break;
      case 'u':
        if (!hex(4, &v)) return false;
        utf8(v);
        break;
      case 'U':
        if (!hex(8, &v)) return false;
        utf8(v);
        break;
      default:
        if (e >= '0' && e <= '7' && i + 2 < s.size()) {
          int o = (e - '0') * 64 + (s[i + 1] - '0') * 8 + (s[i + 2] - '0');
          out->push_back(static_cast<char>(o));
          i += 2;
          break;
        }
        return false;
    }
  }
  return true;
}

}  // namespace

StringMap ParseDownwardApiFile(std::string_view text, size_t* bad) {
  StringMap out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    size_t eq = line.find('=');
    std::string value;
    if (eq == std::string_view::npos || eq == 0 || !GoUnquote(line.substr(eq + 1), &value)) {
      if (bad != nullptr) ++*bad;
      continue;
    }
    out[std::string(line.substr(0, eq))] = std::move(value);
  }
  return out;
}

Extractor::Extractor(const Config& cfg) : otel_annotations_(cfg.extract.otel_annotations) {
  auto compile = [](const std::vector<FieldExtract>& in, std::vector<Rule>* out) {
    for (const auto& f : in) {
      Rule r;
      r.tag_name = f.tag_name;
      r.key = f.key;
      r.from = f.from;
      if (!f.key_regex.empty()) {
        r.re = std::make_unique<re2::RE2>(StrCat("^(?:", f.key_regex, ")$"), re2::RE2::Quiet);
        if (!r.re->ok()) continue;  // Validate() refused it already
      }
      out->push_back(std::move(r));
    }
  };
  compile(cfg.extract.labels, &labels_);
  compile(cfg.extract.annotations, &annotations_);
}

Extractor::~Extractor() = default;

bool Extractor::Needs(std::string_view from) const {
  for (const auto* rules : {&labels_, &annotations_}) {
    for (const auto& r : *rules) {
      if (r.from == from) return true;
    }
  }
  return from == "pod" && otel_annotations_;
}

namespace {
// tag_name with $1, ${1}, ${name} replaced by the groups of `re` matched on `key`; "$$"
// is a "$".
std::string Expand(std::string_view tmpl, const re2::RE2& re, const std::vector<std::string_view>& groups) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '$' || i + 1 >= tmpl.size()) {
      out.push_back(tmpl[i]);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      // "$$1" (a YAML-escaped "$1"): the reference.
      ++i;
      if (i + 1 >= tmpl.size() ||
          (!absl::ascii_isdigit(static_cast<unsigned char>(tmpl[i + 1])) && tmpl[i + 1] != '{')) {
        out.push_back('$');
        continue;
      }
    }
    std::string name;
    size_t j = i + 1;
    if (tmpl[j] == '{') {
      size_t close = tmpl.find('}', j);
      if (close == std::string_view::npos) {
        out.push_back('$');
        continue;
      }
      name = std::string(tmpl.substr(j + 1, close - j - 1));
      i = close;
    } else {
      while (j < tmpl.size() && absl::ascii_isdigit(static_cast<unsigned char>(tmpl[j]))) name.push_back(tmpl[j++]);
      if (name.empty()) {
        out.push_back('$');
        continue;
      }
      i = j - 1;
    }
    int idx = -1;
    if (!ParseInt(name, &idx)) {
      auto it = re.NamedCapturingGroups().find(name);
      if (it != re.NamedCapturingGroups().end()) idx = it->second;
    }
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size()) out.append(groups[idx]);
  }
  return out;
}
}  // namespace

void Extractor::Apply(const std::vector<Rule>& rules, std::string_view kind, std::string_view from, const StringMap& kv,
                      Attrs* out) const {
  for (const auto& r : rules) {
    if (r.from != from) continue;
    if (!r.re) {
      auto it = kv.find(r.key);
      if (it == kv.end()) continue;
      out->emplace_back(r.tag_name.empty() ? StrCat("k8s.", from, ".", kind, ".", r.key) : r.tag_name, it->second);
      continue;
    }
    int n = r.re->NumberOfCapturingGroups();
    std::vector<std::string_view> groups(static_cast<size_t>(n) + 1);
    std::vector<re2::StringPiece> pieces(static_cast<size_t>(n) + 1);
    for (const auto& [k, v] : kv) {
      if (!r.re->Match(k, 0, k.size(), re2::RE2::ANCHOR_BOTH, pieces.data(), n + 1)) continue;
      for (int g = 0; g <= n; ++g)
        groups[static_cast<size_t>(g)] = std::string_view(pieces[g].data(), pieces[g].size());
      std::string tag =
          r.tag_name.empty() ? StrCat("k8s.", from, ".", kind, ".", k) : Expand(r.tag_name, *r.re, groups);
      if (tag.empty()) continue;
      out->emplace_back(std::move(tag), v);
    }
  }
}

void Extractor::Labels(std::string_view from, const StringMap& labels, Attrs* out) const {
  Apply(labels_, "labels", from, labels, out);
}

void Extractor::Annotations(std::string_view from, const StringMap& annotations, Attrs* out) const {
  Apply(annotations_, "annotations", from, annotations, out);
  if (from == "pod" && otel_annotations_) {
    constexpr std::string_view kPrefix = "resource.opentelemetry.io/";
    for (const auto& [k, v] : annotations) {
      if (std::string_view(k).starts_with(kPrefix) && k.size() > kPrefix.size())
        out->emplace_back(k.substr(kPrefix.size()), v);
    }
  }
}

}  // namespace outrigger::processors::k8s_attributes
