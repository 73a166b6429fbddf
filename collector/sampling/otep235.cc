#include "collector/sampling/otep235.h"

#include <algorithm>
#include <cmath>

#include "collector/common/strings.h"

namespace outrigger::sampling {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr int kHexBits = 4;
constexpr size_t kMaxW3CLength = 1024;
constexpr size_t kMaxOTelLength = 256;
constexpr int kMaxW3CMembers = 32;

// Go's strconv.ParseUint(s, 16, 64) for at most 16 digits: hex digits only, no prefix.
bool ParseHex(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// 14 hex digits of a 56-bit value, leading zeros kept.
std::string Hex14(uint64_t v) {
  std::string s(kNumHexDigits, '0');
  for (int i = kNumHexDigits - 1; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kHex[v & 0xf];
    v >>= 4;
  }
  return s;
}

bool LcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool Digit(char c) { return c >= '0' && c <= '9'; }
bool KeyChar(char c) { return LcAlpha(c) || Digit(c) || c == '_' || c == '-' || c == '*' || c == '/'; }

// W3C key: simple-key = lcalpha 0*255(keychar); multi-tenant-key = tenant@system.
bool ValidW3CKey(std::string_view k) {
  size_t at = k.find('@');
  if (at == std::string_view::npos) {
    if (k.empty() || k.size() > 256 || !LcAlpha(k[0])) return false;
    return std::all_of(k.begin() + 1, k.end(), KeyChar);
  }
  std::string_view tenant = k.substr(0, at), system = k.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241 || !(LcAlpha(tenant[0]) || Digit(tenant[0]))) return false;
  if (system.empty() || system.size() > 14 || !LcAlpha(system[0])) return false;
  return std::all_of(tenant.begin() + 1, tenant.end(), KeyChar) &&
         std::all_of(system.begin() + 1, system.end(), KeyChar);
}

// W3C value: 0*255(chr) nblk-chr, chr = %x20-2B / %x2D-3C / %x3E-7E.
bool ValidW3CValue(std::string_view v) {
  if (v.empty() || v.size() > 256 || v.back() == ' ') return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c <= 0x7e && c != ',' && c != '='; });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool OTelValueChar(char c) {
  return LcAlpha(c) || (c >= 'A' && c <= 'Z') || Digit(c) || c == '.' || c == '_' || c == '-';
}

// The `ot` value: key:value members separated by ';', no empty member.
absl::Status ParseOTel(std::string_view input, OTelTraceState* out) {
  if (input.size() > kMaxOTelLength) return absl::InvalidArgumentError("invalid tracestate size");
  if (input.empty() || input.back() == ';') return absl::InvalidArgumentError("invalid syntax");
  absl::Status first;
  while (!input.empty()) {
    size_t sep = input.find(';');
    std::string_view member = input.substr(0, sep);
    input = sep == std::string_view::npos ? std::string_view() : input.substr(sep + 1);
    size_t colon = member.find(':');
    if (colon == std::string_view::npos || colon == 0) return absl::InvalidArgumentError("invalid syntax");
    std::string_view key = member.substr(0, colon), value = member.substr(colon + 1);
    if (!LcAlpha(key[0]) || !std::all_of(key.begin() + 1, key.end(), [](char c) { return LcAlpha(c) || Digit(c); }) ||
        !std::all_of(value.begin(), value.end(), OTelValueChar)) {
      return absl::InvalidArgumentError("invalid syntax");
    }
    if (key == "rv") {
      absl::Status st = RValueToRandomness(value, &out->randomness);
      if (st.ok()) {
        out->rvalue = std::string(value);
      } else {
        out->rvalue.clear();
        out->randomness = Randomness{};
        if (first.ok()) first = st;
      }
    } else if (key == "th") {
      absl::Status st = TValueToThreshold(value, &out->threshold);
      if (st.ok()) {
        out->tvalue = std::string(value);
      } else {
        out->tvalue.clear();
        out->threshold = kAlwaysSampleThreshold;
        if (first.ok()) first = st;
      }
    } else {
      out->extra.emplace_back(std::string(key), std::string(value));
    }
  }
  return first;
}

}  // namespace

std::string Randomness::RValue() const {
  if (unsigned_value >= kMaxAdjustedCount) return "";
  return Hex14(unsigned_value);
}

std::string Threshold::TValue() const {
  if (unsigned_value == 0) return "0";
  if (unsigned_value >= kMaxAdjustedCount) return "";
  std::string s = Hex14(unsigned_value);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

double Threshold::AdjustedCount() const {
  if (unsigned_value >= kMaxAdjustedCount) return 0;
  return 1.0 / Probability();
}

absl::Status TValueToThreshold(std::string_view s, Threshold* out) {
  if (s.size() > kNumHexDigits) return absl::InvalidArgumentError("t-value exceeds 14 hex digits");
  if (s.empty()) return absl::InvalidArgumentError("t-value is empty");
  uint64_t v = 0;
  if (!ParseHex(s, &v)) return absl::InvalidArgumentError(StrCat("t-value ", s, ": invalid syntax"));
  out->unsigned_value = v << (kHexBits * (kNumHexDigits - static_cast<int>(s.size())));
  return absl::OkStatus();
}

absl::Status RValueToRandomness(std::string_view s, Randomness* out) {
  if (s.size() != kNumHexDigits) return absl::InvalidArgumentError("r-value must have 14 hex digits");
  uint64_t v = 0;
  if (!ParseHex(s, &v)) return absl::InvalidArgumentError(StrCat("r-value ", s, ": invalid syntax"));
  out->unsigned_value = v;
  return absl::OkStatus();
}

Randomness TraceIdToRandomness(std::string_view id) {
  uint64_t v = 0;
  for (size_t i = 9; i < 16 && i < id.size(); ++i) v = (v << 8) | static_cast<unsigned char>(id[i]);
  return Randomness{v};
}

bool TraceIdEmpty(std::string_view id) {
  if (id.size() != 16) return true;
  return std::all_of(id.begin(), id.end(), [](char c) { return c == 0; });
}

std::optional<Threshold> ProbabilityToThreshold(double fraction, int precision) {
  if (precision == 0) precision = kNumHexDigits;
  if (!(fraction >= kMinSamplingProbability && fraction <= 1)) return std::nullopt;
  if (fraction == 1) return kAlwaysSampleThreshold;
  // More digits near 0 and 1 (each leading hex `0` or `f` adds one), as upstream does.
  int exp_f = 0, exp_r = 0;
  (void)std::frexp(fraction, &exp_f);
  (void)std::frexp(1 - fraction, &exp_r);
  precision = std::min(kNumHexDigits, std::max(precision + exp_f / -kHexBits, precision + exp_r / -kHexBits));
  uint64_t scaled = static_cast<uint64_t>(std::round(fraction * static_cast<double>(kMaxAdjustedCount)));
  uint64_t threshold = kMaxAdjustedCount - scaled;
  if (int shift = kHexBits * (kNumHexDigits - precision); shift != 0) {
    uint64_t half = uint64_t{1} << (shift - 1);
    threshold += half;
    threshold >>= shift;
    threshold <<= shift;
  }
  return Threshold{threshold};
}

bool OTelTraceState::UpdateThreshold(Threshold t) {
  if (!tvalue.empty() && threshold > t) return false;
  threshold = t;
  tvalue = t.TValue();
  return true;
}

absl::Status W3CTraceState::Parse(std::string_view input, W3CTraceState* out) {
  *out = W3CTraceState{};
  if (input.size() > kMaxW3CLength) return absl::InvalidArgumentError("invalid tracestate size");
  absl::Status first;
  int items = 0;
  while (!input.empty()) {
    size_t sep = input.find(',');
    std::string_view member = TrimOws(input.substr(0, sep));
    input = sep == std::string_view::npos ? std::string_view() : input.substr(sep + 1);
    if (++items > kMaxW3CMembers) return absl::InvalidArgumentError("invalid tracestate item count");
    if (member.empty()) continue;  // W3C allows empty members
    size_t eq = member.find('=');
    if (eq == std::string_view::npos) return absl::InvalidArgumentError("invalid syntax");
    std::string_view key = member.substr(0, eq), value = member.substr(eq + 1);
    if (!ValidW3CKey(key) || !ValidW3CValue(value)) return absl::InvalidArgumentError("invalid syntax");
    if (key == "ot") {
      absl::Status st = ParseOTel(value, &out->ot);
      if (!st.ok() && first.ok()) first = st;
    } else {
      out->members.emplace_back(std::string(key), std::string(value));
    }
  }
  return first;
}

std::string W3CTraceState::Serialize() const {
  std::string out;
  if (ot.HasAny()) {
    out = "ot=";
    bool any = false;
    auto add = [&](std::string_view k, std::string_view v) {
      if (any) out += ';';
      any = true;
      out.append(k).append(":").append(v);
    };
    if (!ot.rvalue.empty()) add("rv", ot.rvalue);
    if (!ot.tvalue.empty()) add("th", ot.tvalue);
    for (const auto& [k, v] : ot.extra) add(k, v);
  }
  for (const auto& [k, v] : members) {
    if (!out.empty()) out += ',';
    out.append(k).append("=").append(v);
  }
  return out;
}

}  // namespace outrigger::sampling
