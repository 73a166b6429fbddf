#include "receivers/filelog/operators/regex_parser.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collector/common/strings.h"
#include "re2/re2.h"
#include "receivers/filelog/operators/parser.h"

namespace outrigger::receivers::filelog::operators {

namespace {

class RegexParser : public ParserOp {
 public:
  RegexParser(std::string id, OnError on_error, Stats* stats, ParserSpec spec, std::shared_ptr<const re2::RE2> re)
      : ParserOp("regex_parser", std::move(id), on_error, stats, std::move(spec)), re_(std::move(re)) {
    for (const auto& [name, index] : re_->NamedCapturingGroups()) groups_.emplace_back(index, name);
    std::sort(groups_.begin(), groups_.end());
    matches_.resize(re_->NumberOfCapturingGroups() + 1);
  }

 protected:
  absl::StatusOr<pdata::Value> Parse(const pdata::Value& v) override {
    const std::string* s = v.str();
    if (s == nullptr) return absl::InvalidArgumentError("value to parse with the regex is not a string");
    if (!re_->Match(*s, 0, s->size(), re2::RE2::UNANCHORED, matches_.data(), static_cast<int>(matches_.size()))) {
      return absl::InvalidArgumentError("regex pattern does not match");
    }
    pdata::ValueMap m;
    m.reserve(groups_.size());
    for (const auto& [index, name] : groups_) {
      const re2::StringPiece& g = matches_[index];
      m.emplace_back(name, pdata::Value(std::string(g.data(), g.size())));
    }
    return pdata::Value(std::move(m));
  }

 private:
  std::shared_ptr<const re2::RE2> re_;
  std::vector<std::pair<int, std::string>> groups_;
  std::vector<re2::StringPiece> matches_;
};

// The compiled `regex` option (null, with the error at `regex`, when absent, invalid or
// without a named group).
std::shared_ptr<const re2::RE2> ReadRegex(config::Node& item) {
  std::string regex;
  item.Read("regex", &regex);
  config::Node& cache = item.Child("cache");
  uint64_t cache_size = 0;
  cache.Read("size", &cache_size);  // accepted for compatibility; RE2 needs no cache
  if (regex.empty()) {
    item.ErrorAt("regex", "is required");
    return nullptr;
  }
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto compiled = std::make_shared<re2::RE2>(regex, opts);
  if (!compiled->ok()) {
    item.ErrorAt("regex", StrCat("does not compile: ", compiled->error()));
    return nullptr;
  }
  if (compiled->NamedCapturingGroups().empty()) {
    item.ErrorAt("regex", "has no named capture group such as (?P<name>...)");
    return nullptr;
  }
  return compiled;
}

}  // namespace

OperatorFactory DecodeRegexParser(config::Node& item, const CommonOptions& common) {
  ParserSpec spec = ReadParserSpec(item);
  std::shared_ptr<const re2::RE2> re = ReadRegex(item);
  return [id = common.id, on_error = common.on_error, spec, re](Stats* st) {
    return std::make_unique<RegexParser>(id, on_error, st, spec, re);
  };
}

}  // namespace outrigger::receivers::filelog::operators
