#include "collector/ottl/config.h"

#include "collector/common/strings.h"

namespace outrigger::ottl {

std::string_view ErrorModeName(ErrorMode m) {
  switch (m) {
    case ErrorMode::kPropagate:
      return "propagate";
    case ErrorMode::kIgnore:
      return "ignore";
    case ErrorMode::kSilent:
      return "silent";
  }
  return "?";
}

void ReadErrorMode(config::Node& node, std::string_view key, ErrorMode* out) {
  std::string s(ErrorModeName(*out));
  node.ReadEnum(key, &s, {"propagate", "ignore", "silent"});
  *out = s == "ignore" ? ErrorMode::kIgnore : s == "silent" ? ErrorMode::kSilent : ErrorMode::kPropagate;
}

std::optional<SourceText> ReadSource(config::Node& item) {
  SourceText t;
  if (!item.IsScalar()) {
    item.Error("expected an OTTL statement or condition (a string)");
    return std::nullopt;
  }
  if (!item.As(&t.text)) return std::nullopt;
  int col = item.column();
  // A quoted scalar starts one character after its quote.
  t.column = col == 0 ? 0 : col + (item.IsPlainScalar() ? 0 : 1);
  return t;
}

namespace {

void Report(config::Node& item, const SourceText& src, const ParseError& err, const absl::Status& st) {
  if (err.column > 0 && src.column > 0) {
    item.Error(StrCat("column ", src.column + err.column - 1, ": ", err.message, " (in `", src.text, "`)"));
  } else if (err.column > 0) {
    item.Error(StrCat("column ", err.column, " of the statement: ", err.message, " (in `", src.text, "`)"));
  } else {
    item.Error(StrCat(ToStd(st.message()), " (in `", src.text, "`)"));
  }
}

}  // namespace

std::optional<Statement> CompileStatementAt(config::Node& item, ContextKind ctx) {
  auto src = ReadSource(item);
  if (!src) return std::nullopt;
  ParseError err;
  auto s = Statement::Compile(ctx, src->text, &err);
  if (!s.ok()) {
    Report(item, *src, err, s.status());
    return std::nullopt;
  }
  return std::move(*s);
}

std::optional<Condition> CompileConditionAt(config::Node& item, ContextKind ctx) {
  auto src = ReadSource(item);
  if (!src) return std::nullopt;
  ParseError err;
  auto c = Condition::Compile(ctx, src->text, &err);
  if (!c.ok()) {
    Report(item, *src, err, c.status());
    return std::nullopt;
  }
  return std::move(*c);
}

namespace {

std::optional<ContextKind> Check(config::Node& item, const SourceText& src, std::optional<ContextKind> k,
                                 const std::vector<ContextKind>& allowed) {
  std::string names;
  for (ContextKind a : allowed) StrAppend(&names, names.empty() ? "" : ", ", ContextName(a));
  if (!k) {
    item.Error(StrCat("cannot infer the context of `", src.text, "`: prefix its paths with one of ", names,
                      " (span.name, resource.attributes[\"k\"]) or give a context"));
    return std::nullopt;
  }
  for (ContextKind a : allowed) {
    if (a == *k) return k;
  }
  item.Error(StrCat("the ", ContextName(*k), " context is not available here (in `", src.text, "`); use ", names));
  return std::nullopt;
}

}  // namespace

std::optional<ContextKind> InferStatementContext(config::Node& item, const std::vector<ContextKind>& allowed) {
  auto src = ReadSource(item);
  if (!src) return std::nullopt;
  ParseError err;
  auto parsed = ParseStatement(src->text, &err);
  if (!parsed.ok()) {
    Report(item, *src, err, parsed.status());
    return std::nullopt;
  }
  return Check(item, *src, InferContext(*parsed), allowed);
}

std::optional<ContextKind> InferConditionContext(config::Node& item, const std::vector<ContextKind>& allowed) {
  auto src = ReadSource(item);
  if (!src) return std::nullopt;
  ParseError err;
  auto parsed = ParseCondition(src->text, &err);
  if (!parsed.ok()) {
    Report(item, *src, err, parsed.status());
    return std::nullopt;
  }
  return Check(item, *src, InferContext(**parsed), allowed);
}

}  // namespace outrigger::ottl
