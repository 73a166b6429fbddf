#pragma once
// OTTL's grammar: a lexer and a recursive-descent parser to an AST in which every node
// knows its column (1-based, in the statement's text), so errors can point at it.
//
//   statement  := editor "(" args ")" [ "where" bool ]
//   bool       := and ( "or" and )*                  lowest precedence
//   and        := not ( "and" not )*
//   not        := "not" not | comparison
//   comparison := math [ ("==" | "!=" | "<" | "<=" | ">" | ">=") math ]
//   math       := term ( ("+" | "-") term )*
//   term       := unary ( ("*" | "/") unary )*
//   unary      := ["-" | "+"] primary
//   primary    := literal | ENUM | path | Converter "(" args ")" keys | "[" list "]"
//               | "{" map "}" | "(" bool ")"
//   path       := ident ( "." ident )* keys         keys := ( "[" (string | int | value) "]" )*
//   args       := [ arg ( "," arg )* ]               arg := [ ident "=" ] value
// Literals: "strings" (\" \\ \n \t \r escapes), ints, floats (1.5, .5), true, false, nil,
// bytes 0x0a1b. Identifiers starting in upper case followed by "(" are converters, other
// upper-case identifiers are enums; editors and path segments are lower case.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace outrigger::ottl {

struct Ast;
using AstPtr = std::unique_ptr<Ast>;

struct Key {
  int column = 0;
  bool is_int = false;
  std::string s;
  int64_t i = 0;
  AstPtr expr;  // a key computed by a path or converter
};

struct CallArg {
  std::string name;  // named argument, or empty
  AstPtr value;
};

struct Ast {
  enum class Kind {
    kNil,
    kBool,
    kInt,
    kDouble,
    kString,
    kBytes,
    kEnum,
    kPath,
    kCall,
    kList,
    kMap,
    kMath,     // op: + - * /
    kCompare,  // op: see compare
    kAnd,
    kOr,
    kNot,
  };
  Kind kind = Kind::kNil;
  int column = 0;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;                  // string/bytes literal, enum name, function name
  std::vector<std::string> path;  // kPath: the dotted names
  std::vector<Key> keys;          // kPath, kCall: indexes after the path or call
  std::vector<CallArg> args;      // kCall
  std::vector<std::string> map_keys;
  std::vector<AstPtr> children;  // kList, kMap (values), kMath/kCompare/kAnd/kOr (2), kNot (1)
  char op = 0;                   // kMath: + - * / ; kCompare: '=', '!', '<', 'l' (<=), '>', 'g' (>=)

  bool IsBoolean() const;  // comparison, and/or/not, true/false
  std::string PathString() const;
};

struct ParseError {
  int column = 0;
  std::string message;
  std::string ToString() const;  // "column 12: ..."
};

struct ParsedStatement {
  AstPtr editor;     // kCall with a lower-case name
  AstPtr condition;  // may be null
};

// A statement: an editor invocation with an optional where clause.
absl::StatusOr<ParsedStatement> ParseStatement(std::string_view text, ParseError* error);
// A condition (a boolean expression, as in `where` clauses and the filter processor).
absl::StatusOr<AstPtr> ParseCondition(std::string_view text, ParseError* error);
// A value (used by tests and by keys).
absl::StatusOr<AstPtr> ParseValue(std::string_view text, ParseError* error);

}  // namespace outrigger::ottl
