#include "collector/ottl/parser.h"

#include <gtest/gtest.h>

#include <map>

#include "collector/common/strings.h"

namespace outrigger::ottl {
namespace {

// The AST as an S-expression: precedence is visible in the nesting.
std::string S(const Ast& a) {
  auto keys = [](const std::vector<Key>& ks) {
    std::string out;
    for (const Key& k : ks) {
      if (k.expr) {
        out += "[" + S(*k.expr) + "]";
      } else if (k.is_int) {
        out += StrCat("[", k.i, "]");
      } else {
        out += "[\"" + k.s + "\"]";
      }
    }
    return out;
  };
  switch (a.kind) {
    case Ast::Kind::kNil:
      return "nil";
    case Ast::Kind::kBool:
      return a.b ? "true" : "false";
    case Ast::Kind::kInt:
      return StrCat(a.i);
    case Ast::Kind::kDouble:
      return StrCat("d", a.d);
    case Ast::Kind::kString:
      return "\"" + a.s + "\"";
    case Ast::Kind::kBytes:
      return StrCat("bytes", a.s.size());
    case Ast::Kind::kEnum:
      return a.s;
    case Ast::Kind::kPath:
      return a.PathString() + keys(a.keys);
    case Ast::Kind::kCall: {
      std::string out = a.s + "(";
      for (size_t i = 0; i < a.args.size(); ++i) {
        if (i) out += ", ";
        if (!a.args[i].name.empty()) out += a.args[i].name + "=";
        out += S(*a.args[i].value);
      }
      return out + ")" + keys(a.keys);
    }
    case Ast::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < a.children.size(); ++i) out += (i ? ", " : "") + S(*a.children[i]);
      return out + "]";
    }
    case Ast::Kind::kMap: {
      std::string out = "{";
      for (size_t i = 0; i < a.children.size(); ++i) out += (i ? ", " : "") + a.map_keys[i] + ":" + S(*a.children[i]);
      return out + "}";
    }
    case Ast::Kind::kMath:
      return StrCat("(", std::string(1, a.op), " ", S(*a.children[0]), " ", S(*a.children[1]), ")");
    case Ast::Kind::kCompare: {
      static const std::map<char, std::string> kOps = {{'=', "=="}, {'!', "!="}, {'<', "<"},
                                                       {'l', "<="}, {'>', ">"},  {'g', ">="}};
      return StrCat("(", kOps.at(a.op), " ", S(*a.children[0]), " ", S(*a.children[1]), ")");
    }
    case Ast::Kind::kAnd:
      return StrCat("(and ", S(*a.children[0]), " ", S(*a.children[1]), ")");
    case Ast::Kind::kOr:
      return StrCat("(or ", S(*a.children[0]), " ", S(*a.children[1]), ")");
    case Ast::Kind::kNot:
      return StrCat("(not ", S(*a.children[0]), ")");
  }
  return "?";
}

std::string Cond(std::string_view text) {
  ParseError err;
  auto r = ParseCondition(text, &err);
  if (!r.ok()) return "ERROR " + err.ToString();
  return S(**r);
}

std::string Val(std::string_view text) {
  ParseError err;
  auto r = ParseValue(text, &err);
  if (!r.ok()) return "ERROR " + err.ToString();
  return S(**r);
}

TEST(OttlParser, Literals) {
  EXPECT_EQ(Val(R"("a \"q\" \\ \n")"), "\"a \"q\" \\ \n\"");
  EXPECT_EQ(Val("1"), "1");
  EXPECT_EQ(Val("-1"), "-1");
  EXPECT_EQ(Val("+7"), "7");
  EXPECT_EQ(Val("1.5"), "d1.5");
  EXPECT_EQ(Val("-.5"), "d-0.5");
  EXPECT_EQ(Val("true"), "true");
  EXPECT_EQ(Val("nil"), "nil");
  EXPECT_EQ(Val("0x0001ff"), "bytes3");
  EXPECT_EQ(Val("SPAN_KIND_SERVER"), "SPAN_KIND_SERVER");
  EXPECT_EQ(Val("[]"), "[]");
  EXPECT_EQ(Val(R"(["a", attributes["key"], Concat(["a", "b"], "-")])"),
            R"(["a", attributes["key"], Concat(["a", "b"], "-")])");
  EXPECT_EQ(Val(R"({"foo": {"a": 2}, "b": attributes["k"]})"), R"({foo:{a:2}, b:attributes["k"]})");
}

TEST(OttlParser, PathsAndConverters) {
  EXPECT_EQ(Val(R"(resource.attributes["key"])"), R"(resource.attributes["key"])");
  EXPECT_EQ(Val(R"(log.attributes["nested"]["values"])"), R"(log.attributes["nested"]["values"])");
  EXPECT_EQ(Val(R"(datapoint.cache["slice"][1])"), R"(datapoint.cache["slice"][1])");
  EXPECT_EQ(Val(R"(attributes[attributes["k"]])"), R"(attributes[attributes["k"]])");
  EXPECT_EQ(Val(R"(Split(name, ",")[1])"), R"(Split(name, ",")[1])");
  EXPECT_EQ(Val(R"(flatten(body, depth=2))"), "flatten(body, depth=2)");
}

TEST(OttlParser, MathPrecedence) {
  EXPECT_EQ(Val("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(Val("1 * 2 + 3"), "(+ (* 1 2) 3)");
  EXPECT_EQ(Val("1 - 2 - 3"), "(- (- 1 2) 3)");  // left to right at one level
  EXPECT_EQ(Val("8 / 4 / 2"), "(/ (/ 8 4) 2)");
  EXPECT_EQ(Val("(1 + 2) * 3"), "(* (+ 1 2) 3)");
  EXPECT_EQ(Val("a - -1"), "(- a -1)");
  EXPECT_EQ(Val("end_time_unix_nano - start_time_unix_nano"), "(- end_time_unix_nano start_time_unix_nano)");
}

TEST(OttlParser, BooleanPrecedence) {
  // not > comparison? no: `not` applies to a whole comparison, `and` binds tighter than `or`.
  EXPECT_EQ(Cond("a == 1 or b == 2 and c == 3"), "(or (== a 1) (and (== b 2) (== c 3)))");
  EXPECT_EQ(Cond("a == 1 and b == 2 or c == 3"), "(or (and (== a 1) (== b 2)) (== c 3))");
  EXPECT_EQ(Cond("not a == 1 and b == 2"), "(and (not (== a 1)) (== b 2))");
  EXPECT_EQ(Cond("not (a == 1 and b == 2)"), "(not (and (== a 1) (== b 2)))");
  EXPECT_EQ(Cond("(a == 1 or b == 2) and c == 3"), "(and (or (== a 1) (== b 2)) (== c 3))");
  EXPECT_EQ(Cond("not not true"), "(not (not true))");
  EXPECT_EQ(Cond("a + 1 > b * 2"), "(> (+ a 1) (* b 2))");
  EXPECT_EQ(Cond("IsMatch(name, \"x\") or false"), "(or IsMatch(name, \"x\") false)");
  EXPECT_EQ(Cond("a or b == 1"),
            "ERROR column 1: expected a boolean expression (a comparison, true/false, a converter, "
            "and/or/not)");
}

TEST(OttlParser, EveryComparisonOperator) {
  EXPECT_EQ(Cond("a == 1"), "(== a 1)");
  EXPECT_EQ(Cond("a != 1"), "(!= a 1)");
  EXPECT_EQ(Cond("a < 1"), "(< a 1)");
  EXPECT_EQ(Cond("a <= 1"), "(<= a 1)");
  EXPECT_EQ(Cond("a > 1"), "(> a 1)");
  EXPECT_EQ(Cond("a >= 1"), "(>= a 1)");
  EXPECT_EQ(Cond("a + 1 == 2 * 3 and x != nil"), "(and (== (+ a 1) (* 2 3)) (!= x nil))");
}

TEST(OttlParser, Statements) {
  ParseError err;
  auto s = ParseStatement(R"(set(attributes["x"], "y") where name == "a" and kind == SPAN_KIND_SERVER)", &err);
  ASSERT_TRUE(s.ok()) << err.ToString();
  EXPECT_EQ(S(*s->editor), R"(set(attributes["x"], "y"))");
  EXPECT_EQ(S(*s->condition), "(and (== name \"a\") (== kind SPAN_KIND_SERVER))");
  auto plain = ParseStatement("delete_key(attributes, \"k\")", &err);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->condition, nullptr);
}

std::string StmtError(std::string_view text) {
  ParseError err;
  auto s = ParseStatement(text, &err);
  if (s.ok()) return "OK";
  EXPECT_EQ(ToStd(s.status().message()), err.ToString());
  return err.ToString();
}

TEST(OttlParser, ErrorsNameTheColumn) {
  EXPECT_EQ(StmtError(R"(set(name, "x)"), "column 11: unterminated string");
  EXPECT_EQ(StmtError(R"(set(name "x"))"), "column 10: expected ')', found string \"x\"");
  EXPECT_EQ(StmtError(R"(Set(name, "x"))"),
            "column 1: 'Set' starts with an upper-case letter, which makes it a converter; a statement must start "
            "with an editor (lower case), such as set(...)");
  EXPECT_EQ(StmtError("name == 1"), "column 1: expected an editor call such as set(...), found 'name'");
  EXPECT_EQ(StmtError(R"(set(name, "x") where)"), "column 21: unexpected end of statement, expected a value");
  EXPECT_EQ(StmtError(R"(set(name, "x") where name)"),
            "column 22: expected a boolean expression (a comparison, true/false, a converter, and/or/not)");
  EXPECT_EQ(StmtError(R"(set(name, "x") where a == 1 == 2)"),
            "column 29: comparisons do not chain: '==' after a comparison");
  EXPECT_EQ(StmtError(R"(set(name, "x") extra)"), "column 16: unexpected 'extra' after the end of the expression");
  EXPECT_EQ(StmtError("set(name, 1 + (a == 1))"), "column 18: a boolean expression cannot be used in arithmetic");
  EXPECT_EQ(StmtError("set(name, 0x123)"), "column 11: a bytes literal needs an even number of hex digits after 0x");
  EXPECT_EQ(StmtError("set(name, 12abc)"), "column 13: unexpected 'a' after a number");
  EXPECT_EQ(StmtError("set(name, a = 1, 2)"), "column 18: an unnamed argument cannot follow a named one");
  EXPECT_EQ(StmtError("set(name, #)"), "column 11: unexpected character '#'");
  EXPECT_EQ(StmtError("set(name, 99999999999999999999)"), "column 11: integer 99999999999999999999 is out of range");
  EXPECT_EQ(StmtError(R"(set(attributes[], 1))"), "column 16: unexpected ']', expected a value");
}

// Compiling and evaluating recurse over the tree: nesting and size are bounded.
TEST(OttlParser, BoundedNestingAndSize) {
  std::string deep = "set(name, " + std::string(5000, '(') + "1" + std::string(5000, ')') + ")";
  EXPECT_NE(StmtError(deep).find("nested more than 100 levels"), std::string::npos);
  std::string nots = "set(name, 1) where " + std::string(0, ' ');
  for (int i = 0; i < 5000; ++i) nots += "not ";
  nots += "true";
  EXPECT_NE(StmtError(nots).find("nested more than 100 levels"), std::string::npos);
  std::string chain = "set(name, 1) where true";
  for (int i = 0; i < 5000; ++i) chain += " and true";
  EXPECT_NE(StmtError(chain).find("too large (more than 2000 parts)"), std::string::npos);
  std::string ok = "set(name, 1) where true";
  for (int i = 0; i < 100; ++i) ok += " and true";
  EXPECT_EQ(StmtError(ok), "OK");
}

}  // namespace
}  // namespace outrigger::ottl
