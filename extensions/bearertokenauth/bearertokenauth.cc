#include "extensions/bearertokenauth/bearertokenauth.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::extensions::bearertokenauth {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of `b` is looked at whatever `a` holds; a length difference counts as
  // a difference, not as an early exit.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff = diff | (x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

namespace {
constexpr absl::Duration kRereadEvery = absl::Seconds(1);

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}
}  // namespace

BearerTokenAuth::BearerTokenAuth(const CreateSettings& settings, const Config& cfg)
    : settings_(settings), cfg_(cfg), header_lower_(absl::AsciiStrToLower(cfg.header)) {
  if (settings_.telemetry != nullptr) {
    auto counter = [&](const char* result) {
      return &settings_.telemetry->AddCounter("outrigger_extension_bearertokenauth_requests_total",
                                              "Requests the bearertokenauth server authenticator checked, by result "
                                              "(accepted or refused)",
                                              {{"extension", settings_.id.String()}, {"result", result}});
    };
    accepted_ = counter("accepted");
    refused_ = counter("refused");
  }
  std::vector<std::string> initial = cfg_.tokens;
  if (!cfg_.token.empty()) initial = {cfg_.token};
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = Values(initial);
}

absl::StatusOr<std::vector<std::string>> BearerTokenAuth::ReadFile(struct stat* st) const {
  std::ifstream in(cfg_.filename);
  if (!in || ::stat(cfg_.filename.c_str(), st) != 0) {
    return absl::FailedPreconditionError(
        StrCat("bearertokenauth: filename \"", cfg_.filename, "\" cannot be read: ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return absl::FailedPreconditionError(
        StrCat("bearertokenauth: filename \"", cfg_.filename, "\" cannot be read: ", std::strerror(errno)));
  }
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(ss.str(), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) out.emplace_back(line);
  }
  if (out.empty()) {
    return absl::FailedPreconditionError(
        StrCat("bearertokenauth: filename \"", cfg_.filename, "\" holds no token (one token per line)"));
  }
  for (const auto& t : out) {
    for (unsigned char c : t) {
      if (c < 0x20 || c == 0x7f) {
        return absl::FailedPreconditionError(
            StrCat("bearertokenauth: filename \"", cfg_.filename, "\" holds a token with a control character"));
      }
    }
  }
  return out;
}

absl::Status BearerTokenAuth::Start(Host&) {
  if (cfg_.filename.empty()) return absl::OkStatus();
  struct stat st {};
  auto tokens = ReadFile(&st);
  if (!tokens.ok()) return tokens.status();
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = Values(*tokens);
  key_ = {st.st_dev, st.st_ino, st.st_size, MtimeNs(st)};
  last_read_ = absl::Now();
  return absl::OkStatus();
}

BearerTokenAuth::Tokens BearerTokenAuth::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cfg_.filename.empty()) return tokens_;
  const absl::Time now = absl::Now();
  struct stat st {};
  const bool stat_ok = ::stat(cfg_.filename.c_str(), &st) == 0;
  FileKey key;
  if (stat_ok) key = {st.st_dev, st.st_ino, st.st_size, MtimeNs(st)};
  // Re-read when the file looks different, and at least every second anyway (two
  // writes within one tick of the file system's clock leave the same mtime).
  if (stat_ok && key == key_ && now - last_read_ < kRereadEvery) return tokens_;
  last_read_ = now;
  auto tokens = ReadFile(&st);
  if (!tokens.ok()) {
    std::string msg(tokens.status().message());
    if (msg != last_error_) {
      settings_.logger->error("{}; the last tokens read stay in use", msg);
      last_error_ = msg;
    }
    return tokens_;
  }
  if (!last_error_.empty()) {
    settings_.logger->info("bearertokenauth: filename \"{}\" is readable again", cfg_.filename);
    last_error_.clear();
  }
  key_ = {st.st_dev, st.st_ino, st.st_size, MtimeNs(st)};
  Tokens values = Values(*tokens);
  if (*values != *tokens_) {
    settings_.logger->info("bearertokenauth: read {} token(s) from \"{}\"", tokens->size(), cfg_.filename);
    tokens_ = std::move(values);
  }
  return tokens_;
}

BearerTokenAuth::Tokens BearerTokenAuth::Values(const std::vector<std::string>& tokens) const {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (const auto& t : tokens) out.push_back(cfg_.scheme.empty() ? t : StrCat(cfg_.scheme, " ", t));
  return std::make_shared<const std::vector<std::string>>(std::move(out));
}

absl::Status BearerTokenAuth::Authenticate(const std::map<std::string, std::string>& headers) {
  auto it = headers.find(header_lower_);
  if (it == headers.end()) {
    if (refused_) refused_->Increment();
    return absl::UnauthenticatedError(StrCat("missing the ", cfg_.header, " header"));
  }
  Tokens tokens = Current();
  bool match = false;
  for (const auto& value : *tokens) {
    // Every token is compared, whatever matched before.
    match = ConstantTimeEquals(it->second, value) | match;
  }
  if (!match) {
    if (refused_) refused_->Increment();
    return absl::UnauthenticatedError(
        cfg_.scheme.empty() ? StrCat("the ", cfg_.header, " header does not hold a valid token")
                            : StrCat("the ", cfg_.header, " header does not hold a valid ", cfg_.scheme, " token"));
  }
  if (accepted_) accepted_->Increment();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> BearerTokenAuth::Headers() {
  Tokens tokens = Current();
  if (tokens->empty()) return absl::UnavailableError("bearertokenauth: no token");
  return std::vector<std::pair<std::string, std::string>>{{cfg_.header, tokens->front()}};
}

double BearerTokenAuth::accepted() const { return accepted_ ? accepted_->Value() : 0; }
double BearerTokenAuth::refused() const { return refused_ ? refused_->Value() : 0; }

}  // namespace outrigger::extensions::bearertokenauth
