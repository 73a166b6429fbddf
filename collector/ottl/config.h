#pragma once
// What the components that take OTTL in their configuration share: error_mode, and
// compiling a statement or condition written as a YAML scalar with errors that name its
// YAML line and column.

#include <optional>
#include <string_view>
#include <vector>

#include "collector/config/node.h"
#include "collector/ottl/ottl.h"

namespace outrigger::ottl {

// upstream's error_mode: propagate (the batch is refused), ignore (logged, the statement
// or condition is skipped), silent (skipped, not logged).
enum class ErrorMode { kPropagate, kIgnore, kSilent };
std::string_view ErrorModeName(ErrorMode m);
// Reads `key` of `node` into *out (left unchanged when absent).
void ReadErrorMode(config::Node& node, std::string_view key, ErrorMode* out);

// The text of a scalar list item, and the YAML column where its first character is.
struct SourceText {
  std::string text;
  int column = 0;  // 1-based, 0 if unknown
};
std::optional<SourceText> ReadSource(config::Node& item);

// Compile `item` (a scalar) for `ctx`; on error, report it on `item` with the column in
// the YAML ("column 31: unknown path ...") and return nullopt.
std::optional<Statement> CompileStatementAt(config::Node& item, ContextKind ctx);
std::optional<Condition> CompileConditionAt(config::Node& item, ContextKind ctx);

// The context to run a statement or condition in when the configuration names none:
// inferred from its path prefixes (nullopt, with the error reported on `item`, when no
// path names a context or when it is not one of `allowed`).
std::optional<ContextKind> InferStatementContext(config::Node& item, const std::vector<ContextKind>& allowed);
std::optional<ContextKind> InferConditionContext(config::Node& item, const std::vector<ContextKind>& allowed);

}  // namespace outrigger::ottl
