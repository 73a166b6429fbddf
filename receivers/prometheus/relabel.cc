#include "receivers/prometheus/relabel.h"

#include <array>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"

namespace outrigger::receivers::prometheus {

namespace {

struct ActionName {
  RelabelAction action;
  const char* name;
};
constexpr ActionName kActions[] = {
    {RelabelAction::kReplace, "replace"},     {RelabelAction::kKeep, "keep"},
    {RelabelAction::kDrop, "drop"},           {RelabelAction::kKeepEqual, "keepequal"},
    {RelabelAction::kDropEqual, "dropequal"}, {RelabelAction::kHashMod, "hashmod"},
    {RelabelAction::kLabelMap, "labelmap"},   {RelabelAction::kLabelDrop, "labeldrop"},
    {RelabelAction::kLabelKeep, "labelkeep"}, {RelabelAction::kLowercase, "lowercase"},
    {RelabelAction::kUppercase, "uppercase"},
};

// What a target_label with `$` references, or a labelmap replacement, must look like
// (Prometheus's relabelTarget).
const re2::RE2& RelabelTarget() {
  static const re2::RE2 re(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return re;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Go's regexp.Expand: `$name` / `${name}` take the longest run of word characters as
// the name (`$1x` is `${1x}`); a number is a group index, anything else a group name;
// an unknown or unmatched group expands to nothing; `$$` is `$`; a `$` that starts no
// valid reference stays as it is.
std::string Expand(std::string_view tmpl, const re2::RE2& re, const std::vector<re2::StringPiece>& groups) {
  std::string out;
  while (!tmpl.empty()) {
    size_t d = tmpl.find('$');
    if (d == std::string_view::npos) break;
    out.append(tmpl.substr(0, d));
    tmpl.remove_prefix(d + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    bool brace = !tmpl.empty() && tmpl[0] == '{';
    std::string_view rest = brace ? tmpl.substr(1) : tmpl;
    size_t i = 0;
    while (i < rest.size() && IsWordChar(rest[i])) ++i;
    if (i == 0 || (brace && (i >= rest.size() || rest[i] != '}'))) {
      out.push_back('$');  // malformed: a literal `$`
      continue;
    }
    std::string_view name = rest.substr(0, i);
    tmpl = rest.substr(i + (brace ? 1 : 0));
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;  // no leading zeros
    if (num < 0) {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      num = it == named.end() ? -1 : it->second;
    }
    if (num >= 0 && static_cast<size_t>(num) < groups.size() && groups[num].data() != nullptr) {
      out.append(groups[num].data(), groups[num].size());
    }
  }
  out.append(tmpl);
  return out;
}

// Full match of the anchored `re` against `s`, with every group.
bool Match(const re2::RE2& re, std::string_view s, std::vector<re2::StringPiece>* groups) {
  groups->assign(re.NumberOfCapturingGroups() + 1, re2::StringPiece());
  return re.Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), re2::RE2::UNANCHORED, groups->data(),
                  static_cast<int>(groups->size()));
}

bool Matches(const re2::RE2& re, std::string_view s) {
  return re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), re);
}

void Set(LabelSet* labels, const std::string& name, std::string value) {
  if (value.empty()) {
    labels->erase(name);
  } else {
    (*labels)[name] = std::move(value);
  }
}

std::string Get(const LabelSet& labels, const std::string& name) {
  auto it = labels.find(name);
  return it == labels.end() ? std::string() : it->second;
}

std::array<uint8_t, 16> Md5(std::string_view data) {
  static const std::array<uint32_t, 64> kK = [] {
    std::array<uint32_t, 64> k{};
    for (int i = 0; i < 64; ++i) {
      k[i] = static_cast<uint32_t>(std::floor(std::fabs(std::sin(i + 1.0)) * 4294967296.0));
    }
    return k;
  }();
  static constexpr int kS[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
  std::string msg(data);
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) msg.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t m[16];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + off + 4 * i);
      m[i] = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; ++i) {
      uint32_t f;
      int g;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      f += a + kK[i] + m[g];
      a = d;
      d = c;
      c = b;
      const int s = kS[i / 16][i % 4];
      b += (f << s) | (f >> (32 - s));
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
  }
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>((h[i / 4] >> (8 * (i % 4))) & 0xff);
  return out;
}

bool NeedsTarget(RelabelAction a) {
  switch (a) {
    case RelabelAction::kReplace:
    case RelabelAction::kHashMod:
    case RelabelAction::kLowercase:
    case RelabelAction::kUppercase:
    case RelabelAction::kKeepEqual:
    case RelabelAction::kDropEqual:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view RelabelActionName(RelabelAction a) {
  for (const auto& [act, name] : kActions) {
    if (act == a) return name;
  }
  return "?";
}

bool ValidLabelName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!IsWordChar(c)) return false;
  }
  return true;
}

std::string Md5Hex(std::string_view data) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : Md5(data)) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

absl::Status RelabelConfig::Compile(std::string* field) {
  std::string unused;
  std::string& f = field != nullptr ? *field : unused;
  auto fail = [&](std::string_view key, Text message) {
    f = std::string(key);
    re_.reset();
    return absl::InvalidArgumentError(ToAbsl(message.v));
  };
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  // As Prometheus (model/relabel.NewRegexp): anchored, and `.` matches a newline too.
  auto re = std::make_shared<re2::RE2>(StrCat("^(?s:", regex, ")$"), opts);
  if (!re->ok()) {
    const re2::RE2 plain(regex, opts);  // its error shows the pattern as written
    return fail("regex",
                StrCat("invalid regular expression \"", regex, "\": ", plain.ok() ? re->error() : plain.error()));
  }
  const std::string_view act = RelabelActionName(action);
  for (const auto& s : source_labels) {
    if (!ValidLabelName(s)) return fail("source_labels", StrCat("\"", s, "\" is not a valid label name"));
  }
  if (action == RelabelAction::kHashMod && modulus == 0) {
    return fail("modulus", "the hashmod action requires a non-zero modulus");
  }
  if (NeedsTarget(action) && target_label.empty()) {
    return fail("target_label", StrCat("the ", act, " action requires target_label"));
  }
  if (action == RelabelAction::kReplace) {
    const bool ok = target_label.find('$') == std::string::npos ? ValidLabelName(target_label)
                                                                : Matches(RelabelTarget(), target_label);
    if (!ok) return fail("target_label", StrCat("\"", target_label, "\" is not a valid target_label for replace"));
  } else if (NeedsTarget(action) && !ValidLabelName(target_label)) {
    return fail("target_label", StrCat("\"", target_label, "\" is not a valid target_label for ", act));
  }
  const bool default_replacement = replacement == kDefaultRelabelReplacement;
  if ((action == RelabelAction::kLowercase || action == RelabelAction::kUppercase) && !default_replacement) {
    return fail("replacement", StrCat("replacement cannot be set for the ", act, " action"));
  }
  if (action == RelabelAction::kLabelMap && !Matches(RelabelTarget(), replacement)) {
    return fail("replacement", StrCat("\"", replacement, "\" is not a valid replacement for labelmap"));
  }
  if ((action == RelabelAction::kKeepEqual || action == RelabelAction::kDropEqual) &&
      (regex != kDefaultRelabelRegex || modulus != 0 || separator != kDefaultRelabelSeparator ||
       !default_replacement)) {
    return fail("action", StrCat("the ", act, " action takes only source_labels and target_label"));
  }
  if ((action == RelabelAction::kLabelDrop || action == RelabelAction::kLabelKeep) &&
      (!source_labels.empty() || !target_label.empty() || modulus != 0 || separator != kDefaultRelabelSeparator ||
       !default_replacement)) {
    return fail("action", StrCat("the ", act, " action takes only regex"));
  }
  re_ = std::move(re);
  return absl::OkStatus();
}

void RelabelConfig::Decode(config::Node& n) {
  n.Read("source_labels", &source_labels);
  n.Read("separator", &separator);
  n.Read("regex", &regex);
  n.Read("modulus", &modulus);
  n.Read("target_label", &target_label);
  n.Read("replacement", &replacement);
  std::string act(RelabelActionName(action));
  n.Read("action", &act);
  bool known = false;
  for (const auto& [a, name] : kActions) {
    if (absl::AsciiStrToLower(act) == name) {
      action = a;
      known = true;
    }
  }
  if (!known) {
    std::vector<std::string> names;
    for (const auto& an : kActions) names.emplace_back(an.name);
    n.ErrorAt("action", StrCat("unknown relabel action \"", act, "\"; valid: ", absl::StrJoin(names, ", ")));
    return;
  }
  std::string field;
  if (auto st = Compile(&field); !st.ok()) n.ErrorAt(field, st.message());
}

bool Relabel(const std::vector<RelabelConfig>& rules, LabelSet* labels) {
  std::vector<re2::StringPiece> groups;
  for (const RelabelConfig& r : rules) {
    const re2::RE2& re = *r.re_;
    std::string val;
    for (size_t i = 0; i < r.source_labels.size(); ++i) {
      if (i > 0) val += r.separator;
      val += Get(*labels, r.source_labels[i]);
    }
    switch (r.action) {
      case RelabelAction::kDrop:
        if (Matches(re, val)) return false;
        break;
      case RelabelAction::kKeep:
        if (!Matches(re, val)) return false;
        break;
      case RelabelAction::kDropEqual:
        if (Get(*labels, r.target_label) == val) return false;
        break;
      case RelabelAction::kKeepEqual:
        if (Get(*labels, r.target_label) != val) return false;
        break;
      case RelabelAction::kReplace: {
        if (!Match(re, val, &groups)) break;  // no match: no replacement
        std::string target = Expand(r.target_label, re, groups);
        if (!ValidLabelName(target)) break;
        Set(labels, target, Expand(r.replacement, re, groups));
        break;
      }
      case RelabelAction::kLowercase:
        Set(labels, r.target_label, absl::AsciiStrToLower(val));
        break;
      case RelabelAction::kUppercase:
        Set(labels, r.target_label, absl::AsciiStrToUpper(val));
        break;
      case RelabelAction::kHashMod: {
        // The last 8 bytes of the MD5, big-endian, as Prometheus.
        const auto sum = Md5(val);
        uint64_t v = 0;
        for (int i = 8; i < 16; ++i) v = (v << 8) | sum[i];
        Set(labels, r.target_label, std::to_string(v % r.modulus));
        break;
      }
      case RelabelAction::kLabelMap: {
        const LabelSet snapshot = *labels;
        for (const auto& [name, value] : snapshot) {
          if (Match(re, name, &groups)) Set(labels, Expand(r.replacement, re, groups), value);
        }
        break;
      }
      case RelabelAction::kLabelDrop:
      case RelabelAction::kLabelKeep: {
        const bool drop_matching = r.action == RelabelAction::kLabelDrop;
        for (auto it = labels->begin(); it != labels->end();) {
          if (Matches(re, it->first) == drop_matching) {
            it = labels->erase(it);
          } else {
            ++it;
          }
        }
        break;
      }
    }
  }
  return true;
}

}  // namespace outrigger::receivers::prometheus
