#include "collector/ottl/parser.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "collector/common/strings.h"

namespace outrigger::ottl {

std::string ParseError::ToString() const { return StrCat("column ", column, ": ", message); }

bool Ast::IsBoolean() const {
  return kind == Kind::kCompare || kind == Kind::kAnd || kind == Kind::kOr || kind == Kind::kNot || kind == Kind::kBool;
}

std::string Ast::PathString() const {
  std::string out;
  for (const auto& p : path) {
    if (!out.empty()) out.push_back('.');
    out += p;
  }
  return out;
}

namespace {

enum class Tok { kEnd, kIdent, kString, kInt, kFloat, kBytes, kPunct };

struct Token {
  Tok kind = Tok::kEnd;
  int column = 0;
  std::string text;  // identifier, punctuation, decoded string, hex digits
  int64_t i = 0;
  double d = 0;
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "end of statement";
    case Tok::kString:
      return StrCat("string \"", t.text, "\"");
    case Tok::kBytes:
      return StrCat("0x", t.text);
    default:
      return StrCat("'", t.text, "'");
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  bool Run(std::vector<Token>* out, ParseError* err) {
    while (true) {
      while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      Token t;
      t.column = static_cast<int>(pos_) + 1;
      if (pos_ >= s_.size()) {
        t.kind = Tok::kEnd;
        out->push_back(std::move(t));
        return true;
      }
      char c = s_[pos_];
      bool after_value =
          !out->empty() && (out->back().kind == Tok::kIdent || out->back().text == "]" || out->back().text == ")");
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t b = pos_;
        while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
        t.kind = Tok::kIdent;
        t.text = std::string(s_.substr(b, pos_ - b));
      } else if (c == '"') {
        ++pos_;
        t.kind = Tok::kString;
        bool closed = false;
        while (pos_ < s_.size()) {
          char ch = s_[pos_++];
          if (ch == '"') {
            closed = true;
            break;
          }
          if (ch == '\\' && pos_ < s_.size()) {
            char e = s_[pos_++];
            switch (e) {
              case 'n':
                t.text.push_back('\n');
                break;
              case 't':
                t.text.push_back('\t');
                break;
              case 'r':
                t.text.push_back('\r');
                break;
              case '"':
              case '\\':
                t.text.push_back(e);
                break;
              default:
                // Other escapes are kept as written (regexes use them: "\\d", "\d").
                t.text.push_back('\\');
                t.text.push_back(e);
            }
            continue;
          }
          t.text.push_back(ch);
        }
        if (!closed) {
          *err = {t.column, "unterminated string"};
          return false;
        }
      } else if (c == '0' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == 'x' || s_[pos_ + 1] == 'X')) {
        pos_ += 2;
        size_t b = pos_;
        while (pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        t.kind = Tok::kBytes;
        t.text = std::string(s_.substr(b, pos_ - b));
        if (t.text.empty() || t.text.size() % 2 != 0) {
          *err = {t.column, "a bytes literal needs an even number of hex digits after 0x"};
          return false;
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && !after_value && pos_ + 1 < s_.size() &&
                  std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
        size_t b = pos_;
        bool is_float = false;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        if (pos_ < s_.size() && s_[pos_] == '.') {
          is_float = true;
          ++pos_;
          while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
          size_t save = pos_;
          ++pos_;
          if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
          if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
            is_float = true;
            while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
          } else {
            pos_ = save;
          }
        }
        t.text = std::string(s_.substr(b, pos_ - b));
        if (is_float) {
          t.kind = Tok::kFloat;
          t.d = std::strtod(t.text.c_str(), nullptr);
        } else {
          t.kind = Tok::kInt;
          auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.i);
          if (r.ec != std::errc()) {
            *err = {t.column, StrCat("integer ", t.text, " is out of range")};
            return false;
          }
        }
        if (pos_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
          *err = {static_cast<int>(pos_) + 1, StrCat("unexpected '", std::string(1, s_[pos_]), "' after a number")};
          return false;
        }
      } else {
        static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">="};
        t.kind = Tok::kPunct;
        for (auto two : kTwo) {
          if (s_.substr(pos_, 2) == two) t.text = std::string(two);
        }
        if (t.text.empty()) {
          if (std::string_view("()[]{},.:=<>+-*/").find(c) == std::string_view::npos) {
            *err = {t.column, StrCat("unexpected character '", std::string(1, c), "'")};
            return false;
          }
          t.text = std::string(1, c);
        }
        pos_ += t.text.size();
      }
      out->push_back(std::move(t));
    }
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool IsKeyword(std::string_view s) {
  return s == "where" || s == "and" || s == "or" || s == "not" || s == "true" || s == "false" || s == "nil";
}

class Parser {
 public:
  Parser(std::vector<Token> toks, ParseError* err) : t_(std::move(toks)), err_(err) {}

  bool failed() const { return failed_; }

  AstPtr Statement(AstPtr* condition) {
    const Token& first = Peek();
    if (first.kind != Tok::kIdent || IsKeyword(first.text) || Peek(1).text != "(") {
      return Fail(first, StrCat("expected an editor call such as set(...), found ", Describe(first)));
    }
    if (!std::islower(static_cast<unsigned char>(first.text[0]))) {
      return Fail(first, StrCat("'", first.text,
                                "' starts with an upper-case letter, which makes it a converter; a statement must "
                                "start with an editor (lower case), such as set(...)"));
    }
    AstPtr call = Primary();
    if (!call) return nullptr;
    if (IsWord("where")) {
      Next();
      *condition = BoolExpr();
      if (!*condition) return nullptr;
      if (!CheckBoolean(**condition)) return nullptr;
    }
    if (!ExpectEnd()) return nullptr;
    return call;
  }

  AstPtr Condition() {
    AstPtr c = BoolExpr();
    if (!c) return nullptr;
    if (!CheckBoolean(*c)) return nullptr;
    if (!ExpectEnd()) return nullptr;
    return c;
  }

  AstPtr Value() {
    AstPtr v = BoolExpr();
    if (!v) return nullptr;
    if (!ExpectEnd()) return nullptr;
    return v;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, t_.size() - 1);
    return t_[i];
  }
  const Token& Next() {
    const Token& t = t_[pos_];
    if (pos_ + 1 < t_.size()) ++pos_;
    return t;
  }
  bool IsPunct(std::string_view p) const { return Peek().kind == Tok::kPunct && Peek().text == p; }
  bool IsWord(std::string_view w) const { return Peek().kind == Tok::kIdent && Peek().text == w; }

  std::nullptr_t Fail(const Token& at, std::string message) { return Fail(at.column, std::move(message)); }
  std::nullptr_t Fail(int column, std::string message) {
    if (!failed_) *err_ = {column, std::move(message)};
    failed_ = true;
    return nullptr;
  }
  bool Expect(std::string_view p) {
    if (IsPunct(p)) {
      Next();
      return true;
    }
    Fail(Peek(), StrCat("expected '", p, "', found ", Describe(Peek())));
    return false;
  }
  bool ExpectEnd() {
    if (Peek().kind == Tok::kEnd) return true;
    Fail(Peek(), StrCat("unexpected ", Describe(Peek()), " after the end of the expression"));
    return false;
  }

  // A condition must be boolean: a comparison, and/or/not, true/false or a converter.
  bool CheckBoolean(const Ast& a) {
    if (a.IsBoolean() || a.kind == Ast::Kind::kCall) return true;
    Fail(a.column, "expected a boolean expression (a comparison, true/false, a converter, and/or/not)");
    return false;
  }

  // Bounds on the tree (compiling and evaluating it recurse): nesting and size.
  static constexpr int kMaxDepth = 100;
  static constexpr int kMaxNodes = 2000;

  AstPtr Make(Ast::Kind k, int column) {
    if (++nodes_ > kMaxNodes) {
      Fail(column, StrCat("the expression is too large (more than ", kMaxNodes, " parts)"));
    }
    auto a = std::make_unique<Ast>();
    a->kind = k;
    a->column = column;
    return a;
  }

  struct Nest {
    explicit Nest(Parser* p) : p_(p) { ++p_->depth_; }
    ~Nest() { --p_->depth_; }
    Parser* p_;
  };

  AstPtr BoolExpr() {
    Nest nest(this);
    if (depth_ > kMaxDepth)
      return Fail(Peek(), StrCat("the expression is nested more than ", kMaxDepth, " levels deep"));
    if (failed_) return nullptr;
    AstPtr left = AndExpr();
    while (left && !failed_ && IsWord("or")) {
      Token op = Next();
      AstPtr right = AndExpr();
      if (!right) return nullptr;
      if (!CheckBoolean(*left) || !CheckBoolean(*right)) return nullptr;
      AstPtr n = Make(Ast::Kind::kOr, op.column);
      n->children.push_back(std::move(left));
      n->children.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  AstPtr AndExpr() {
    AstPtr left = NotExpr();
    while (left && !failed_ && IsWord("and")) {
      Token op = Next();
      AstPtr right = NotExpr();
      if (!right) return nullptr;
      if (!CheckBoolean(*left) || !CheckBoolean(*right)) return nullptr;
      AstPtr n = Make(Ast::Kind::kAnd, op.column);
      n->children.push_back(std::move(left));
      n->children.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  AstPtr NotExpr() {
    if (IsWord("not")) {
      Nest nest(this);
      if (depth_ > kMaxDepth) {
        return Fail(Peek(), StrCat("the expression is nested more than ", kMaxDepth, " levels deep"));
      }
      Token op = Next();
      AstPtr inner = NotExpr();
      if (!inner) return nullptr;
      if (!CheckBoolean(*inner)) return nullptr;
      AstPtr n = Make(Ast::Kind::kNot, op.column);
      n->children.push_back(std::move(inner));
      return n;
    }
    return Comparison();
  }

  static char CompareCode(const Token& t) {
    if (t.kind != Tok::kPunct) return 0;
    if (t.text == "==") return '=';
    if (t.text == "!=") return '!';
    if (t.text == "<") return '<';
    if (t.text == "<=") return 'l';
    if (t.text == ">") return '>';
    if (t.text == ">=") return 'g';
    return 0;
  }

  AstPtr Comparison() {
    AstPtr left = Math();
    if (!left) return nullptr;
    char code = CompareCode(Peek());
    if (code == 0) return left;
    Token op = Next();
    AstPtr right = Math();
    if (!right) return nullptr;
    if (left->IsBoolean() && left->kind != Ast::Kind::kBool) {
      return Fail(left->column, "a comparison cannot be compared; use and/or, or parentheses around a value");
    }
    if (CompareCode(Peek()) != 0) {
      return Fail(Peek(), StrCat("comparisons do not chain: ", Describe(Peek()), " after a comparison"));
    }
    AstPtr n = Make(Ast::Kind::kCompare, op.column);
    n->op = code;
    n->children.push_back(std::move(left));
    n->children.push_back(std::move(right));
    return n;
  }

  bool CheckMathOperand(const Ast& a) {
    if (a.IsBoolean()) {
      Fail(a.column, "a boolean expression cannot be used in arithmetic");
      return false;
    }
    return true;
  }

  AstPtr Math() {
    AstPtr left = Term();
    while (left && !failed_ && (IsPunct("+") || IsPunct("-"))) {
      Token op = Next();
      AstPtr right = Term();
      if (!right) return nullptr;
      if (!CheckMathOperand(*left) || !CheckMathOperand(*right)) return nullptr;
      AstPtr n = Make(Ast::Kind::kMath, op.column);
      n->op = op.text[0];
      n->children.push_back(std::move(left));
      n->children.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  AstPtr Term() {
    AstPtr left = Unary();
    while (left && !failed_ && (IsPunct("*") || IsPunct("/"))) {
      Token op = Next();
      AstPtr right = Unary();
      if (!right) return nullptr;
      if (!CheckMathOperand(*left) || !CheckMathOperand(*right)) return nullptr;
      AstPtr n = Make(Ast::Kind::kMath, op.column);
      n->op = op.text[0];
      n->children.push_back(std::move(left));
      n->children.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  AstPtr Unary() {
    if (IsPunct("-") || IsPunct("+")) {
      Token sign = Next();
      const Token& t = Peek();
      if (t.kind == Tok::kInt || t.kind == Tok::kFloat) {
        Token num = Next();
        AstPtr n = Make(num.kind == Tok::kInt ? Ast::Kind::kInt : Ast::Kind::kDouble, sign.column);
        n->i = sign.text == "-" ? -num.i : num.i;
        n->d = sign.text == "-" ? -num.d : num.d;
        return n;
      }
      AstPtr inner = Primary();
      if (!inner) return nullptr;
      if (!CheckMathOperand(*inner)) return nullptr;
      if (sign.text == "+") return inner;
      // -x is 0 - x (an int; mixing with a double is refused at run time as for any math).
      AstPtr zero = Make(Ast::Kind::kInt, sign.column);
      AstPtr n = Make(Ast::Kind::kMath, sign.column);
      n->op = '-';
      n->children.push_back(std::move(zero));
      n->children.push_back(std::move(inner));
      return n;
    }
    return Primary();
  }

  bool Keys(std::vector<Key>* keys) {
    while (IsPunct("[")) {
      Next();
      Key k;
      k.column = Peek().column;
      if (Peek().kind == Tok::kString && Peek(1).text == "]") {
        k.s = Next().text;
      } else if (Peek().kind == Tok::kInt && Peek(1).text == "]") {
        k.is_int = true;
        k.i = Next().i;
      } else {
        k.expr = Math();
        if (!k.expr) return false;
        if (k.expr->kind != Ast::Kind::kPath && k.expr->kind != Ast::Kind::kCall) {
          Fail(k.column, "a key must be a string, an integer, a path or a converter");
          return false;
        }
      }
      if (!Expect("]")) return false;
      keys->push_back(std::move(k));
    }
    return true;
  }

  bool Args(std::vector<CallArg>* args) {
    if (!Expect("(")) return false;
    bool named_seen = false;
    if (IsPunct(")")) {
      Next();
      return true;
    }
    while (true) {
      CallArg a;
      if (Peek().kind == Tok::kIdent && Peek(1).kind == Tok::kPunct && Peek(1).text == "=") {
        a.name = Next().text;
        Next();
        named_seen = true;
      } else if (named_seen) {
        Fail(Peek(), "an unnamed argument cannot follow a named one");
        return false;
      }
      a.value = BoolExpr();
      if (!a.value) return false;
      args->push_back(std::move(a));
      if (IsPunct(",")) {
        Next();
        continue;
      }
      return Expect(")");
    }
  }

  AstPtr Primary() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kEnd:
        return Fail(t, "unexpected end of statement, expected a value");
      case Tok::kString: {
        AstPtr n = Make(Ast::Kind::kString, t.column);
        n->s = Next().text;
        return n;
      }
      case Tok::kInt: {
        AstPtr n = Make(Ast::Kind::kInt, t.column);
        n->i = Next().i;
        return n;
      }
      case Tok::kFloat: {
        AstPtr n = Make(Ast::Kind::kDouble, t.column);
        n->d = Next().d;
        return n;
      }
      case Tok::kBytes: {
        AstPtr n = Make(Ast::Kind::kBytes, t.column);
        std::string hex = Next().text;
        for (size_t i = 0; i + 1 < hex.size(); i += 2) {
          n->s.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
        }
        return n;
      }
      case Tok::kPunct:
        if (t.text == "(") {
          Next();
          AstPtr inner = BoolExpr();
          if (!inner || !Expect(")")) return nullptr;
          return inner;
        }
        if (t.text == "[") {
          AstPtr n = Make(Ast::Kind::kList, Next().column);
          if (IsPunct("]")) {
            Next();
            return n;
          }
          while (true) {
            AstPtr v = BoolExpr();
            if (!v) return nullptr;
            n->children.push_back(std::move(v));
            if (IsPunct(",")) {
              Next();
              continue;
            }
            if (!Expect("]")) return nullptr;
            return n;
          }
        }
        if (t.text == "{") {
          AstPtr n = Make(Ast::Kind::kMap, Next().column);
          if (IsPunct("}")) {
            Next();
            return n;
          }
          while (true) {
            if (Peek().kind != Tok::kString)
              return Fail(Peek(), StrCat("expected a string key, found ", Describe(Peek())));
            n->map_keys.push_back(Next().text);
            if (!Expect(":")) return nullptr;
            AstPtr v = BoolExpr();
            if (!v) return nullptr;
            n->children.push_back(std::move(v));
            if (IsPunct(",")) {
              Next();
              continue;
            }
            if (!Expect("}")) return nullptr;
            return n;
          }
        }
        return Fail(t, StrCat("unexpected ", Describe(t), ", expected a value"));
      case Tok::kIdent:
        break;
    }
    // Identifiers.
    if (t.text == "true" || t.text == "false") {
      AstPtr n = Make(Ast::Kind::kBool, t.column);
      n->b = Next().text == "true";
      return n;
    }
    if (t.text == "nil") {
      Next();
      return Make(Ast::Kind::kNil, t.column);
    }
    if (IsKeyword(t.text)) return Fail(t, StrCat("unexpected '", t.text, "', expected a value"));
    if (Peek(1).kind == Tok::kPunct && Peek(1).text == "(") {
      AstPtr n = Make(Ast::Kind::kCall, t.column);
      n->s = Next().text;
      if (!Args(&n->args)) return nullptr;
      if (!Keys(&n->keys)) return nullptr;
      return n;
    }
    if (std::isupper(static_cast<unsigned char>(t.text[0]))) {
      AstPtr n = Make(Ast::Kind::kEnum, t.column);
      n->s = Next().text;
      return n;
    }
    AstPtr n = Make(Ast::Kind::kPath, t.column);
    n->path.push_back(Next().text);
    while (IsPunct(".")) {
      Next();
      if (Peek().kind != Tok::kIdent)
        return Fail(Peek(), StrCat("expected a name after '.', found ", Describe(Peek())));
      n->path.push_back(Next().text);
    }
    if (!Keys(&n->keys)) return nullptr;
    return n;
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  ParseError* err_;
  bool failed_ = false;
  int depth_ = 0;
  int nodes_ = 0;
};

template <typename F>
auto Run(std::string_view text, ParseError* error, F f) -> decltype(f(std::declval<Parser&>())) {
  std::vector<Token> toks;
  ParseError local;
  ParseError* err = error != nullptr ? error : &local;
  Lexer lex(text);
  if (!lex.Run(&toks, err)) return absl::InvalidArgumentError(err->ToString());
  Parser p(std::move(toks), err);
  auto r = f(p);
  if (p.failed()) return absl::InvalidArgumentError(err->ToString());
  return r;
}

}  // namespace

absl::StatusOr<ParsedStatement> ParseStatement(std::string_view text, ParseError* error) {
  return Run(text, error, [](Parser& p) -> absl::StatusOr<ParsedStatement> {
    ParsedStatement s;
    s.editor = p.Statement(&s.condition);
    return s;
  });
}

absl::StatusOr<AstPtr> ParseCondition(std::string_view text, ParseError* error) {
  return Run(text, error, [](Parser& p) -> absl::StatusOr<AstPtr> { return p.Condition(); });
}

absl::StatusOr<AstPtr> ParseValue(std::string_view text, ParseError* error) {
  return Run(text, error, [](Parser& p) -> absl::StatusOr<AstPtr> { return p.Value(); });
}

}  // namespace outrigger::ottl
