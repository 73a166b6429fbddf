#include "receivers/filelog/operators/time_layout.h"

#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "collector/common/strings.h"

namespace outrigger::receivers::filelog::operators {

namespace {

enum Kind {
  kLit = 0,
  kYear4,
  kYear2,
  kMonth2,      // 01..12
  kMonthSpace,  // " 1".."12"
  kMonthNum,    // 1..12
  kMonthAbbr,
  kMonthFull,
  kDay2,
  kDaySpace,
  kDayNum,
  kWeekdayAbbr,
  kWeekdayFull,
  kHour24,
  kHour12Pad,  // 01..12
  kHour12,     // 1..12
  kAmPm,
  kMinute2,
  kMinute,
  kSecond2,
  kSecond,
  kFracSep,     // Go ".000" / ".999": a '.' or ',' then digits
  kFracDigits,  // strptime %L %f %s: digits (the separator is a literal before it)
  kTzName,
  kTzOffset,  // Z, ±hh, ±hhmm, ±hh:mm, ±hh:mm:ss
};

constexpr const char* kMonths[] = {"january", "february", "march",     "april",   "may",      "june",
                                   "july",    "august",   "september", "october", "november", "december"};
constexpr const char* kWeekdays[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads between min and max digits.
bool Num(std::string_view& s, int min_digits, int max_digits, int* out) {
  int n = 0, v = 0;
  while (n < max_digits && n < static_cast<int>(s.size()) && IsDigit(s[n])) {
    v = v * 10 + (s[n] - '0');
    ++n;
  }
  if (n < min_digits) return false;
  s.remove_prefix(n);
  *out = v;
  return true;
}

bool StartsWithCI(std::string_view s, std::string_view word) {
  if (s.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(s[i])) != word[i]) return false;
  }
  return true;
}

// Month or weekday name: full (`full`) or the 3-letter abbreviation. Returns the index.
bool Name(std::string_view& s, const char* const* names, int n, bool full, int* out) {
  for (int i = 0; i < n; ++i) {
    std::string_view w = names[i];
    if (!full) w = w.substr(0, 3);
    if (StartsWithCI(s, w)) {
      s.remove_prefix(w.size());
      *out = i;
      return true;
    }
  }
  return false;
}

bool Fraction(std::string_view& s, int* nanos) {
  int n = 0;
  int64_t v = 0;
  while (n < static_cast<int>(s.size()) && IsDigit(s[n])) {
    if (n < 9) v = v * 10 + (s[n] - '0');
    ++n;
  }
  if (n == 0) return false;
  for (int i = std::min(n, 9); i < 9; ++i) v *= 10;
  s.remove_prefix(n);
  *nanos = static_cast<int>(v);
  return true;
}

bool Offset(std::string_view& s, int* seconds) {
  if (!s.empty() && (s[0] == 'Z' || s[0] == 'z')) {
    s.remove_prefix(1);
    *seconds = 0;
    return true;
  }
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  int sign = s[0] == '-' ? -1 : 1;
  s.remove_prefix(1);
  int h = 0, m = 0, sec = 0;
  if (!Num(s, 2, 2, &h)) return false;
  // ±hh, ±hhmm[ss] or ±hh:mm[:ss]
  auto part = [&](int* out) {
    std::string_view t = s;
    if (!t.empty() && t[0] == ':') t.remove_prefix(1);
    if (!Num(t, 2, 2, out)) return false;
    s = t;
    return true;
  };
  if (part(&m)) part(&sec);
  if (h > 23 || m > 59 || sec > 59) return false;
  *seconds = sign * (h * 3600 + m * 60 + sec);
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2) return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28;
  return kDays[m - 1];
}

using Token = TimeLayout::Token;

void AddLit(std::vector<Token>* t, std::string_view s) {
  if (!t->empty() && t->back().kind == kLit) {
    t->back().lit.append(s);
  } else {
    t->push_back({kLit, std::string(s)});
  }
}

absl::Status CompileStrptime(std::string_view layout, std::vector<Token>* out) {
  for (size_t i = 0; i < layout.size(); ++i) {
    char c = layout[i];
    if (c != '%') {
      AddLit(out, layout.substr(i, 1));
      continue;
    }
    if (++i >= layout.size()) return absl::InvalidArgumentError("layout ends with a lone '%'");
    char d = layout[i];
    auto add = [&](int k) { out->push_back({k, {}}); };
    switch (d) {
      case 'Y':
        add(kYear4);
        break;
      case 'y':
        add(kYear2);
        break;
      case 'm':
        add(kMonth2);
        break;
      case 'o':
        add(kMonthSpace);
        break;
      case 'q':
        add(kMonthNum);
        break;
      case 'b':
      case 'h':
        add(kMonthAbbr);
        break;
      case 'B':
        add(kMonthFull);
        break;
      case 'd':
        add(kDay2);
        break;
      case 'e':
        add(kDaySpace);
        break;
      case 'g':
        add(kDayNum);
        break;
      case 'a':
        add(kWeekdayAbbr);
        break;
      case 'A':
        add(kWeekdayFull);
        break;
      case 'H':
        add(kHour24);
        break;
      case 'I':
        add(kHour12Pad);
        break;
      case 'l':
        add(kHour12);
        break;
      case 'p':
      case 'P':
        add(kAmPm);
        break;
      case 'M':
        add(kMinute2);
        break;
      case 'S':
        add(kSecond2);
        break;
      case 'L':
      case 'f':
      case 's':
        add(kFracDigits);
        break;
      case 'Z':
        add(kTzName);
        break;
      case 'z':
      case 'i':
      case 'j':
      case 'k':
        add(kTzOffset);
        break;
      case 'D':
        CompileStrptime("%m/%d/%y", out).IgnoreError();
        break;
      case 'F':
        CompileStrptime("%Y-%m-%d", out).IgnoreError();
        break;
      case 'T':
        CompileStrptime("%H:%M:%S", out).IgnoreError();
        break;
      case 'r':
        CompileStrptime("%l:%M:%S %p", out).IgnoreError();
        break;
      case 'c':
        CompileStrptime("%a %b %d %H:%M:%S %Y", out).IgnoreError();
        break;
      case 'R':
        CompileStrptime("%H:%M", out).IgnoreError();
        break;
      case 'n':
        AddLit(out, "\n");
        break;
      case 't':
        AddLit(out, "\t");
        break;
      case '%':
        AddLit(out, "%");
        break;
      default:
        return absl::InvalidArgumentError(StrCat("unsupported strptime directive %", std::string(1, d)));
    }
  }
  return absl::OkStatus();
}

absl::Status CompileGo(std::string_view l, std::vector<Token>* out) {
  auto has = [&](size_t i, std::string_view w) { return l.substr(i, w.size()) == w; };
  for (size_t i = 0; i < l.size();) {
    auto add = [&](int k, size_t n) {
      out->push_back({k, {}});
      i += n;
    };
    char c = l[i];
    if (c == 'J' && has(i, "January")) {
      add(kMonthFull, 7);
      continue;
    }
    if (c == 'J' && has(i, "Jan")) {
      add(kMonthAbbr, 3);
      continue;
    }
    if (c == 'M' && has(i, "Monday")) {
      add(kWeekdayFull, 6);
      continue;
    }
    if (c == 'M' && has(i, "Mon")) {
      add(kWeekdayAbbr, 3);
      continue;
    }
    if (c == 'M' && has(i, "MST")) {
      add(kTzName, 3);
      continue;
    }
    if (c == '0' && i + 1 < l.size() && l[i + 1] >= '1' && l[i + 1] <= '6') {
      static constexpr int kZero[] = {kMonth2, kDay2, kHour12Pad, kMinute2, kSecond2, kYear2};
      add(kZero[l[i + 1] - '1'], 2);
      continue;
    }
    if (c == '0' && has(i, "002")) return absl::InvalidArgumentError("day of year (002) is not supported");
    if (c == '1' && has(i, "15")) {
      add(kHour24, 2);
      continue;
    }
    if (c == '1') {
      add(kMonthNum, 1);
      continue;
    }
    if (c == '2' && has(i, "2006")) {
      add(kYear4, 4);
      continue;
    }
    if (c == '2') {
      add(kDayNum, 1);
      continue;
    }
    if (c == '_' && has(i, "_2006")) {
      AddLit(out, "_");
      add(kYear4, 5);
      continue;
    }
    if (c == '_' && has(i, "__2")) return absl::InvalidArgumentError("day of year (__2) is not supported");
    if (c == '_' && has(i, "_2")) {
      add(kDaySpace, 2);
      continue;
    }
    if (c == '3') {
      add(kHour12, 1);
      continue;
    }
    if (c == '4') {
      add(kMinute, 1);
      continue;
    }
    if (c == '5') {
      add(kSecond, 1);
      continue;
    }
    if ((c == 'P' && has(i, "PM")) || (c == 'p' && has(i, "pm"))) {
      add(kAmPm, 2);
      continue;
    }
    if (c == '-' || c == 'Z') {
      bool found = false;
      for (std::string_view w : {"070000", "07:00:00", "0700", "07:00", "07"}) {
        if (has(i + 1, w)) {
          add(kTzOffset, 1 + w.size());
          found = true;
          break;
        }
      }
      if (found) continue;
    }
    if ((c == '.' || c == ',') && i + 1 < l.size() && (l[i + 1] == '0' || l[i + 1] == '9')) {
      size_t j = i + 1;
      while (j < l.size() && l[j] == l[i + 1]) ++j;
      if (j >= l.size() || !IsDigit(l[j])) {
        add(kFracSep, j - i);
        continue;
      }
    }
    AddLit(out, l.substr(i, 1));
    ++i;
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::TimeZone> LoadZone(std::string_view name) {
  if (name.empty() || name == "Local" || name == "local") return absl::LocalTimeZone();
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(name), &tz)) {
    return absl::InvalidArgumentError(StrCat("unknown time zone \"", name, "\" (an IANA name such as Europe/Paris)"));
  }
  return tz;
}

}  // namespace

absl::StatusOr<TimeLayout> TimeLayout::Compile(std::string_view layout_type, std::string_view layout,
                                               std::string_view location,
                                               const std::map<std::string, std::string>& zone_locations) {
  TimeLayout t;
  t.type_ = std::string(layout_type);
  t.epoch_ = t.type_ == "epoch";
  t.layout_ = std::string(layout);
  if (layout.empty()) return absl::InvalidArgumentError("layout is required");
  if (layout_type == "epoch") {
    static const std::pair<const char*, int> kEpoch[] = {{"s", 0},    {"ms", 3},   {"us", 6},  {"ns", 9},
                                                         {"s.ms", 0}, {"s.us", 0}, {"s.ns", 0}};
    for (const auto& [name, digits] : kEpoch) {
      if (layout == name) {
        t.epoch_unit_digits_ = digits;
        return t;
      }
    }
    return absl::InvalidArgumentError(
        StrCat("invalid epoch layout \"", layout, "\" (one of s, ms, us, ns, s.ms, s.us, s.ns)"));
  }
  absl::Status st;
  if (layout_type == "strptime") {
    st = CompileStrptime(layout, &t.tokens_);
  } else if (layout_type == "gotime") {
    st = CompileGo(layout, &t.tokens_);
  } else {
    return absl::InvalidArgumentError(
        StrCat("invalid layout_type \"", layout_type, "\" (one of strptime, gotime, epoch)"));
  }
  if (!st.ok()) return st;
  bool any = false;
  for (const auto& tok : t.tokens_) {
    any |= tok.kind != kLit;
    t.has_year_ |= tok.kind == kYear4 || tok.kind == kYear2;
  }
  if (!any) {
    return absl::InvalidArgumentError(
        StrCat("layout \"", layout, "\" has no date or time element for layout_type ", layout_type));
  }
  auto loc = LoadZone(location);
  if (!loc.ok()) return loc.status();
  t.location_ = *loc;
  t.utc_ = t.location_.name() == "UTC";
  for (const auto& [abbr, name] : zone_locations) {
    auto z = LoadZone(name);
    if (!z.ok()) return z.status();
    t.zones_.emplace(abbr, *z);
  }
  return t;
}

const TimeLayout& TimeLayout::Rfc3339Nano() {
  static const TimeLayout* layout = [] {
    auto l = Compile("gotime", "2006-01-02T15:04:05.999999999Z07:00", "UTC");
    return new TimeLayout(std::move(*l));
  }();
  return *layout;
}

absl::StatusOr<uint64_t> TimeLayout::Parse(const pdata::Value& v, uint64_t now_ns) const {
  if (epoch_) return ParseEpoch(v);
  if (const std::string* s = v.str()) return ParseString(*s, now_ns);
  return absl::InvalidArgumentError("time value is not a string");
}

absl::StatusOr<uint64_t> TimeLayout::ParseEpoch(const pdata::Value& v) const {
  static constexpr int64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
  const int64_t unit_ns = kPow10[9 - epoch_unit_digits_];  // ns per unit
  if (const auto* i = std::get_if<int64_t>(&v.v)) {
    if (*i < 0 || *i > INT64_MAX / unit_ns) return absl::InvalidArgumentError("epoch value out of range");
    return static_cast<uint64_t>(*i * unit_ns);
  }
  if (const auto* d = std::get_if<double>(&v.v)) {
    if (!(*d >= 0) || *d * static_cast<double>(unit_ns) > 9.2e18) {
      return absl::InvalidArgumentError("epoch value out of range");
    }
    // Whole units exactly, the fraction rounded (a double has ~16 significant digits).
    double whole = std::floor(*d);
    return static_cast<uint64_t>(static_cast<int64_t>(whole) * unit_ns +
                                 std::llround((*d - whole) * static_cast<double>(unit_ns)));
  }
  const std::string* s = v.str();
  if (s == nullptr) return absl::InvalidArgumentError("epoch value is not a number or a string");
  std::string_view in = *s;
  int64_t whole = 0;
  size_t n = 0;
  while (n < in.size() && IsDigit(in[n])) {
    if (whole > (INT64_MAX - 9) / 10) return absl::InvalidArgumentError("epoch value out of range");
    whole = whole * 10 + (in[n] - '0');
    ++n;
  }
  if (n == 0) return absl::InvalidArgumentError(StrCat("\"", in, "\" is not an epoch timestamp"));
  in.remove_prefix(n);
  int frac_ns = 0;  // fraction of one unit, in units of 1e-9
  if (!in.empty() && in[0] == '.') {
    in.remove_prefix(1);
    if (!Fraction(in, &frac_ns)) return absl::InvalidArgumentError("epoch value has an empty fraction");
  }
  if (!in.empty()) return absl::InvalidArgumentError(StrCat("\"", *s, "\" is not an epoch timestamp"));
  if (whole > INT64_MAX / unit_ns - 1) return absl::InvalidArgumentError("epoch value out of range");
  return static_cast<uint64_t>(whole * unit_ns + static_cast<int64_t>(frac_ns) * unit_ns / 1000000000);
}

absl::StatusOr<uint64_t> TimeLayout::ParseString(std::string_view s, uint64_t now_ns) const {
  if (epoch_) return ParseEpoch(pdata::Value(std::string(s)));
  const std::string_view orig = s;
  int year = -1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0;
  int pm = -1;  // -1 no AM/PM, 0 AM, 1 PM
  bool has_offset = false;
  int offset = 0;
  const absl::TimeZone* zone = nullptr;
  auto fail = [&](std::string_view what) {
    return absl::InvalidArgumentError(StrCat("\"", orig, "\" does not match layout \"", layout_, "\" (", what, ")"));
  };
  for (size_t ti = 0; ti < tokens_.size(); ++ti) {
    const Token& t = tokens_[ti];
    bool ok = true;
    switch (t.kind) {
      case kLit:
        ok = s.substr(0, t.lit.size()) == t.lit;
        if (ok) s.remove_prefix(t.lit.size());
        break;
      case kYear4:
        ok = Num(s, 4, 4, &year);
        break;
      case kYear2:
        ok = Num(s, 2, 2, &year);
        year += year >= 69 ? 1900 : 2000;
        break;
      case kMonth2:
        ok = Num(s, 2, 2, &month);
        break;
      case kMonthSpace:
        if (!s.empty() && s[0] == ' ') s.remove_prefix(1);
        ok = Num(s, 1, 2, &month);
        break;
      case kMonthNum:
        ok = Num(s, 1, 2, &month);
        break;
      case kMonthAbbr:
      case kMonthFull: {
        int m = 0;
        ok = Name(s, kMonths, 12, t.kind == kMonthFull, &m);
        month = m + 1;
        break;
      }
      case kDay2:
        ok = Num(s, 2, 2, &day);
        break;
      case kDaySpace:
        if (!s.empty() && s[0] == ' ') s.remove_prefix(1);
        ok = Num(s, 1, 2, &day);
        break;
      case kDayNum:
        ok = Num(s, 1, 2, &day);
        break;
      case kWeekdayAbbr:
      case kWeekdayFull: {
        int w = 0;
        ok = Name(s, kWeekdays, 7, t.kind == kWeekdayFull, &w);
        break;
      }
      case kHour24:
        ok = Num(s, 2, 2, &hour);
        break;
      case kHour12Pad:
        ok = Num(s, 2, 2, &hour);
        break;
      case kHour12:
        ok = Num(s, 1, 2, &hour);
        break;
      case kAmPm:
        if (StartsWithCI(s, "am")) {
          pm = 0;
        } else if (StartsWithCI(s, "pm")) {
          pm = 1;
        } else {
          ok = false;
        }
        if (ok) s.remove_prefix(2);
        break;
      case kMinute2:
        ok = Num(s, 2, 2, &minute);
        break;
      case kMinute:
        ok = Num(s, 1, 2, &minute);
        break;
      case kSecond2:
      case kSecond: {
        ok = Num(s, t.kind == kSecond2 ? 2 : 1, 2, &second);
        // Like Go: a fraction after the seconds is accepted even if the layout has none.
        const Token* next = ti + 1 < tokens_.size() ? &tokens_[ti + 1] : nullptr;
        bool layout_has_frac =
            next != nullptr && (next->kind == kFracSep || next->kind == kFracDigits ||
                                (next->kind == kLit && (next->lit[0] == '.' || next->lit[0] == ',')));
        if (ok && !layout_has_frac && s.size() >= 2 && (s[0] == '.' || s[0] == ',') && IsDigit(s[1])) {
          s.remove_prefix(1);
          Fraction(s, &nanos);
        }
        break;
      }
      case kFracSep:
        // Go's ".999" also matches no fraction at all.
        if (s.size() >= 2 && (s[0] == '.' || s[0] == ',') && IsDigit(s[1])) {
          s.remove_prefix(1);
          ok = Fraction(s, &nanos);
        }
        break;
      case kFracDigits:
        ok = Fraction(s, &nanos);
        break;
      case kTzName: {
        size_t n = 0;
        while (n < s.size() && absl::ascii_isalpha(static_cast<unsigned char>(s[n]))) ++n;
        if (n == 0) {
          ok = false;
          break;
        }
        std::string_view name = s.substr(0, n);
        s.remove_prefix(n);
        if (auto it = zones_.find(name); it != zones_.end()) {
          zone = &it->second;
        } else if (name == "UTC" || name == "GMT" || name == "Z" || name == "UT") {
          has_offset = true;
          offset = 0;
        }
        // Other abbreviations: the configured location.
        break;
      }
      case kTzOffset:
        ok = Offset(s, &offset);
        has_offset = ok;
        break;
    }
    if (!ok) return fail(StrCat("at \"", s.substr(0, 16), "\""));
  }
  if (!s.empty()) return fail(StrCat("extra text \"", s.substr(0, 16), "\""));
  if (pm >= 0) {
    if (hour < 1 || hour > 12) return fail("hour out of range for AM/PM");
    if (pm == 1 && hour < 12) hour += 12;
    if (pm == 0 && hour == 12) hour = 0;
  }
  const absl::TimeZone& tz = zone != nullptr ? *zone : location_;
  const bool guess_year = year < 0;
  if (guess_year) {
    // No year in the layout: this year (in the zone); last year if that is in the future
    // (a December line read in January).
    year = static_cast<int>(absl::ToCivilYear(absl::FromUnixNanos(static_cast<int64_t>(now_ns)), tz).year());
  }
  if (month < 1 || month > 12) return fail("month out of range");
  if (hour > 23 || minute > 59 || second > 60) return fail("time of day out of range");
  if (second == 60) second = 59;
  auto to_unix = [&](int y) -> int64_t {
    if (has_offset || (utc_ && zone == nullptr)) {
      return DaysFromCivil(y, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
    }
    return absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(y, month, day, hour, minute, second), tz));
  };
  if (guess_year && day >= 1 && day <= DaysInMonth(year, month) &&
      to_unix(year) > static_cast<int64_t>(now_ns / 1000000000ULL) + 86400) {
    --year;
  }
  if (day < 1 || day > DaysInMonth(year, month)) return fail("day out of range");
  int64_t secs = to_unix(year);
  if (secs < 0) return fail("before 1970");
  return static_cast<uint64_t>(secs) * 1000000000ULL + static_cast<uint64_t>(nanos);
}

}  // namespace outrigger::receivers::filelog::operators
