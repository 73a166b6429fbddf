#pragma once
// OTTL (the OpenTelemetry Transformation Language) in the core: statements and
// conditions compiled once, at config time, into trees of Expr nodes over the contexts'
// Accessors (collector/ottl/context.h), then evaluated per record. Paths resolve and
// regexes compile at compile time; literals (and lists and maps of literals) are folded;
// reading an attribute and comparing it to a literal allocates nothing.
//
//   auto cond = ottl::Condition::Compile(ottl::ContextKind::kSpan,
//                                        R"(attributes["http.route"] == "/health")");
//   ottl::EvalContext c;  c.resource = ...; c.scope = ...; c.span = ...;
//   absl::StatusOr<bool> drop = cond->Eval(c);
//
// The grammar is in parser.h; the functions (editors and converters) in functions.cc,
// listed by Functions(). Errors at compile time name the column in the statement.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/ottl/context.h"
#include "collector/ottl/parser.h"
#include "collector/ottl/value.h"

namespace outrigger::ottl {

// An argument as a function sees it when it is compiled.
struct FnArg {
  const Ast* ast = nullptr;  // null: an optional argument not given
  int column = 0;
  ExprPtr value;          // evaluates the argument
  AccessorPtr target;     // set when the argument is a path (editors' targets)
  bool is_const = false;  // true when `constant` holds its value (literals, folded)
  Value constant;
  bool given() const { return ast != nullptr; }
};

// A compile error at `column`: "column N: message".
absl::Status ErrorAt(int column, std::string_view message);

struct FunctionSpec {
  std::string_view name;
  std::vector<std::string_view> params;  // in order; named arguments use these names
  size_t required;                       // the first `required` params must be given
  std::string_view summary;              // one line, with an example
  absl::StatusOr<ExprPtr> (*make)(int column, std::vector<FnArg>& args);
  bool pure = true;  // may be folded when every argument is constant
  // Set for a function of one context only (upstream's transform processor's metric
  // functions): elsewhere it is a compile error, and it makes a statement's context.
  std::optional<ContextKind> only_context = std::nullopt;
};
const std::vector<FunctionSpec>& Functions();
const FunctionSpec* FindFunction(std::string_view name);

// Applies a converter named by an argument (replace_pattern's `function`), e.g. SHA256.
using ValueFn = absl::StatusOr<Value> (*)(const Value&);
ValueFn FindValueFunction(std::string_view name);

// A boolean expression (a where clause, a filter condition).
class Condition {
 public:
  static absl::StatusOr<Condition> Compile(ContextKind ctx, std::string_view text, ParseError* error = nullptr);
  // An error means the condition could not be evaluated (error_mode decides).
  absl::StatusOr<bool> Eval(EvalContext& c) const;
  ContextKind context() const { return ctx_; }
  const std::string& text() const { return *text_; }

 private:
  ContextKind ctx_ = ContextKind::kResource;
  std::shared_ptr<const Expr> expr_;
  std::shared_ptr<const std::string> text_;
};

// `editor(args) [where condition]`.
class Statement {
 public:
  static absl::StatusOr<Statement> Compile(ContextKind ctx, std::string_view text, ParseError* error = nullptr);
  // Runs the editor if the where clause holds.
  absl::Status Execute(EvalContext& c) const;
  ContextKind context() const { return ctx_; }
  const std::string& text() const { return *text_; }

 private:
  ContextKind ctx_ = ContextKind::kResource;
  std::shared_ptr<const Expr> editor_;
  std::shared_ptr<const Expr> condition_;  // may be null
  std::shared_ptr<const std::string> text_;
};

// The lowest context named by the path prefixes of a statement or condition
// (`span.name` → span, `resource.attributes` → resource; `metric.*` with `datapoint.*`
// → datapoint), for the transform processor's flat statement lists. Null when no path
// has a context prefix.
std::optional<ContextKind> InferContext(const ParsedStatement& s);
std::optional<ContextKind> InferContext(const Ast& condition);

// Compiles one expression of a context (used by Condition, Statement and tests).
absl::StatusOr<ExprPtr> CompileExpr(ContextKind ctx, const Ast& ast);
// Evaluates an expression by walking its AST, resolving paths and building lists each
// time: the reference the compiled form is tested against.
absl::Status Interpret(ContextKind ctx, const Ast& ast, EvalContext& c, Value* out);
// +, -, * and / on two values (int with int, double with double, time - time, time ± int nanoseconds).
absl::Status Arith(char op, const Value& a, const Value& b, Value* out);

}  // namespace outrigger::ottl
