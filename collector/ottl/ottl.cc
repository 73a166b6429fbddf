#include "collector/ottl/ottl.h"

#include <cctype>
#include <cstdlib>

#include "absl/strings/match.h"

#include "collector/common/strings.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace outrigger::ottl {

absl::Status ErrorAt(int column, std::string_view message) {
  return absl::InvalidArgumentError(StrCat("column ", column, ": ", message));
}

namespace {

// Adds "column N: " unless the message has a column already.
absl::Status WithColumn(const absl::Status& s, int column) {
  if (s.ok() || absl::StartsWith(s.message(), "column ")) return s;
  return ErrorAt(column, ToStd(s.message()));
}

void FillError(const absl::Status& s, ParseError* err) {
  if (err == nullptr || s.ok()) return;
  std::string_view m = ToStd(s.message());
  err->column = 0;
  err->message = std::string(m);
  if (m.substr(0, 7) == "column ") {
    size_t colon = m.find(": ");
    if (colon != std::string_view::npos) {
      err->column = std::atoi(std::string(m.substr(7, colon - 7)).c_str());
      err->message = std::string(m.substr(colon + 2));
    }
  }
}

CompareOp OpOf(char c) {
  switch (c) {
    case '=':
      return CompareOp::kEq;
    case '!':
      return CompareOp::kNe;
    case '<':
      return CompareOp::kLt;
    case 'l':
      return CompareOp::kLe;
    case '>':
      return CompareOp::kGt;
    default:
      return CompareOp::kGe;
  }
}

// ---- compiled nodes ----

class ConstExpr : public Expr {
 public:
  ConstExpr(int column, Value v) : Expr(column), v_(std::move(v)) {}
  ConstExpr(int column, std::string s, bool bytes) : Expr(column), s_(std::move(s)) {
    v_ = bytes ? Value::BytesView(s_) : Value::StringView(s_);
  }
  absl::Status Eval(EvalContext&, Value* out) const override {
    *out = v_;
    return absl::OkStatus();
  }
  const Value& value() const { return v_; }

 private:
  std::string s_;
  Value v_;
};

class PathExpr : public Expr {
 public:
  PathExpr(int column, AccessorPtr a) : Expr(column), a_(std::move(a)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override { return a_->Get(c, out); }

 private:
  AccessorPtr a_;
};

// Keys after a converter call: Split(x, ",")[1].
class IndexExpr : public Expr {
 public:
  IndexExpr(int column, ExprPtr inner, std::vector<KeyStep> keys)
      : Expr(column), inner_(std::move(inner)), keys_(std::move(keys)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override {
    Value v;
    if (absl::Status s = inner_->Eval(c, &v); !s.ok()) return s;
    for (const KeyStep& k : keys_) {
      Value key;
      if (k.expr) {
        if (absl::Status s = k.expr->Eval(c, &key); !s.ok()) return s;
      } else {
        key = k.is_int ? Value::Int(k.i) : Value::StringView(k.s);
      }
      if (v.type == Type::kMap && key.type == Type::kString) {
        const AnyValue* e = Find(*v.map, key.s);
        Value next = e ? Value::FromAny(*e) : Value::Nil();
        next.hold = v.hold;
        v = std::move(next);
      } else if (v.type == Type::kSlice && key.type == Type::kInt) {
        if (key.i < 0 || key.i >= v.slice->size()) {
          return absl::InvalidArgumentError(StrCat("index ", key.i, " is out of range (length ", v.slice->size(), ")"));
        }
        Value next = Value::FromAny(v.slice->Get(static_cast<int>(key.i)));
        next.hold = v.hold;
        v = std::move(next);
      } else {
        return absl::InvalidArgumentError(
            StrCat("cannot index a ", TypeName(v.type), " with a ", TypeName(key.type), " key"));
      }
    }
    *out = std::move(v);
    return absl::OkStatus();
  }

 private:
  ExprPtr inner_;
  std::vector<KeyStep> keys_;
};

class ListExpr : public Expr {
 public:
  ListExpr(int column, std::vector<ExprPtr> items) : Expr(column), items_(std::move(items)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override {
    auto any = std::make_shared<AnyValue>();
    auto* values = any->mutable_array_value()->mutable_values();
    for (const auto& e : items_) {
      Value v;
      if (absl::Status s = e->Eval(c, &v); !s.ok()) return s;
      ToAny(v, values->Add());
    }
    *out = Value::Owned(std::move(any));
    return absl::OkStatus();
  }

 private:
  std::vector<ExprPtr> items_;
};

class MapExpr : public Expr {
 public:
  MapExpr(int column, std::vector<std::string> keys, std::vector<ExprPtr> items)
      : Expr(column), keys_(std::move(keys)), items_(std::move(items)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override {
    auto any = std::make_shared<AnyValue>();
    auto* values = any->mutable_kvlist_value()->mutable_values();
    for (size_t i = 0; i < items_.size(); ++i) {
      Value v;
      if (absl::Status s = items_[i]->Eval(c, &v); !s.ok()) return s;
      ToAny(v, Upsert(values, keys_[i]));
    }
    *out = Value::Owned(std::move(any));
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> keys_;
  std::vector<ExprPtr> items_;
};

class MathExpr : public Expr {
 public:
  MathExpr(int column, char op, ExprPtr a, ExprPtr b) : Expr(column), op_(op), a_(std::move(a)), b_(std::move(b)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override {
    Value x, y;
    if (absl::Status s = a_->Eval(c, &x); !s.ok()) return s;
    if (absl::Status s = b_->Eval(c, &y); !s.ok()) return s;
    return Arith(op_, x, y, out);
  }

 private:
  char op_;
  ExprPtr a_, b_;
};

class CompareExpr : public Expr {
 public:
  CompareExpr(int column, CompareOp op, ExprPtr a, ExprPtr b)
      : Expr(column), op_(op), a_(std::move(a)), b_(std::move(b)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override {
    Value x, y;
    if (absl::Status s = a_->Eval(c, &x); !s.ok()) return s;
    if (absl::Status s = b_->Eval(c, &y); !s.ok()) return s;
    *out = Value::Bool(Compare(x, y, op_));
    return absl::OkStatus();
  }

 private:
  CompareOp op_;
  ExprPtr a_, b_;
};

// One side a constant: the common `attributes["k"] == "v"`, evaluated without copying it.
class CompareConstExpr : public Expr {
 public:
  CompareConstExpr(int column, CompareOp op, ExprPtr var, ExprPtr constant, bool const_left)
      : Expr(column), op_(op), var_(std::move(var)), const_(std::move(constant)), const_left_(const_left) {
    EvalContext none;
    (void)const_->Eval(none, &k_);
  }
  absl::Status Eval(EvalContext& c, Value* out) const override {
    Value x;
    if (absl::Status s = var_->Eval(c, &x); !s.ok()) return s;
    if (k_.type == Type::kString && x.type == Type::kString && (op_ == CompareOp::kEq || op_ == CompareOp::kNe)) {
      *out = Value::Bool((x.s == k_.s) == (op_ == CompareOp::kEq));
      return absl::OkStatus();
    }
    *out = Value::Bool(const_left_ ? Compare(k_, x, op_) : Compare(x, k_, op_));
    return absl::OkStatus();
  }

 private:
  CompareOp op_;
  ExprPtr var_, const_;
  Value k_;
  bool const_left_;
};

absl::Status AsBool(const Value& v, int column, bool* out) {
  if (v.type != Type::kBool) {
    return ErrorAt(column, StrCat("expected a bool, the expression gave a ", TypeName(v.type)));
  }
  *out = v.b;
  return absl::OkStatus();
}

class AndOrExpr : public Expr {
 public:
  AndOrExpr(int column, bool is_and, ExprPtr a, ExprPtr b)
      : Expr(column), is_and_(is_and), a_(std::move(a)), b_(std::move(b)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override {
    Value x;
    bool bx;
    if (absl::Status s = a_->Eval(c, &x); !s.ok()) return s;
    if (absl::Status s = AsBool(x, a_->column(), &bx); !s.ok()) return s;
    if (bx != is_and_) {  // false and …, true or …
      *out = Value::Bool(bx);
      return absl::OkStatus();
    }
    if (absl::Status s = b_->Eval(c, &x); !s.ok()) return s;
    if (absl::Status s = AsBool(x, b_->column(), &bx); !s.ok()) return s;
    *out = Value::Bool(bx);
    return absl::OkStatus();
  }

 private:
  bool is_and_;
  ExprPtr a_, b_;
};

class NotExpr : public Expr {
 public:
  NotExpr(int column, ExprPtr a) : Expr(column), a_(std::move(a)) {}
  absl::Status Eval(EvalContext& c, Value* out) const override {
    Value x;
    bool b;
    if (absl::Status s = a_->Eval(c, &x); !s.ok()) return s;
    if (absl::Status s = AsBool(x, a_->column(), &b); !s.ok()) return s;
    *out = Value::Bool(!b);
    return absl::OkStatus();
  }

 private:
  ExprPtr a_;
};

// The editors (or converters) usable in the context `ctx`.
std::string FunctionList(bool editors, ContextKind ctx) {
  std::string out;
  for (const FunctionSpec& f : Functions()) {
    bool is_editor = std::islower(static_cast<unsigned char>(f.name[0]));
    if (is_editor != editors || (f.only_context && *f.only_context != ctx)) continue;
    StrAppend(&out, out.empty() ? "" : ", ", f.name);
  }
  return out;
}

// Functions upstream's transform processor documents that are not here, with the
// context upstream allows them in (for context inference, so that the error names the
// function rather than the context).
struct Unsupported {
  std::string_view name;
  std::optional<ContextKind> context;
};
constexpr Unsupported kUpstreamUnsupported[] = {
    {"extract_count_metric", ContextKind::kMetric},
    {"extract_percentile_metric", ContextKind::kMetric},
    {"extract_sum_metric", ContextKind::kMetric},
    {"convert_summary_count_val_to_sum", ContextKind::kMetric},
    {"convert_summary_quantile_val_to_gauge", ContextKind::kMetric},
    {"convert_summary_sum_val_to_sum", ContextKind::kMetric},
    {"copy_metric", ContextKind::kMetric},
    {"scale_metric", ContextKind::kMetric},
    {"aggregate_on_attributes", ContextKind::kMetric},
    {"aggregate_on_attribute_value", ContextKind::kMetric},
    {"convert_exponential_histogram_to_histogram", ContextKind::kMetric},
    {"merge_histogram_buckets", ContextKind::kMetric},
    {"set_semconv_span_name", ContextKind::kSpan},
    {"ParseCEF", std::nullopt},
    {"ParseCLF", std::nullopt},
    {"ParseELF", std::nullopt},
    {"ParseLEEF", std::nullopt},
};
const Unsupported* FindUnsupported(std::string_view name) {
  for (const Unsupported& u : kUpstreamUnsupported) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

class Compiler {
 public:
  explicit Compiler(ContextKind ctx) : ctx_(ctx) {}

  absl::StatusOr<ExprPtr> Compile(const Ast& a, bool allow_editor = false) {
    auto r = CompileInner(a, allow_editor);
    if (!r.ok()) return WithColumn(r.status(), a.column);
    return r;
  }

  absl::StatusOr<std::vector<KeyStep>> Keys(const std::vector<Key>& keys) {
    std::vector<KeyStep> out;
    for (const Key& k : keys) {
      KeyStep step;
      step.is_int = k.is_int;
      step.s = k.s;
      step.i = k.i;
      if (k.expr) {
        auto e = Compile(*k.expr);
        if (!e.ok()) return e.status();
        step.expr = std::move(*e);
      }
      out.push_back(std::move(step));
    }
    return out;
  }

 private:
  static bool IsConst(const Expr& e) { return dynamic_cast<const ConstExpr*>(&e) != nullptr; }

  // Evaluates a constant expression now. The result may be a view into `e` (a literal
  // argument passed through), which goes away: it is copied unless it owns its storage.
  static ExprPtr Fold(ExprPtr e) {
    EvalContext none;
    Value v;
    if (!e->Eval(none, &v).ok()) return e;
    if (!v.hold) {
      if (v.type == Type::kString) v = Value::String(std::string(v.s));
      if (v.type == Type::kBytes) v = Value::Bytes(std::string(v.s));
      if (v.type == Type::kMap || v.type == Type::kSlice) {
        auto any = std::make_shared<AnyValue>();
        ToAny(v, any.get());
        v = Value::Owned(std::move(any));
      }
    }
    return std::make_unique<ConstExpr>(e->column(), std::move(v));
  }

  absl::StatusOr<ExprPtr> CompileInner(const Ast& a, bool allow_editor) {
    switch (a.kind) {
      case Ast::Kind::kNil:
        return std::make_unique<ConstExpr>(a.column, Value::Nil());
      case Ast::Kind::kBool:
        return std::make_unique<ConstExpr>(a.column, Value::Bool(a.b));
      case Ast::Kind::kInt:
        return std::make_unique<ConstExpr>(a.column, Value::Int(a.i));
      case Ast::Kind::kDouble:
        return std::make_unique<ConstExpr>(a.column, Value::Double(a.d));
      case Ast::Kind::kString:
        return std::make_unique<ConstExpr>(a.column, a.s, false);
      case Ast::Kind::kBytes:
        return std::make_unique<ConstExpr>(a.column, a.s, true);
      case Ast::Kind::kEnum: {
        auto v = LookupEnum(a.s);
        if (!v) return ErrorAt(a.column, StrCat("unknown enum ", a.s));
        return std::make_unique<ConstExpr>(a.column, Value::Int(*v));
      }
      case Ast::Kind::kPath: {
        auto keys = Keys(a.keys);
        if (!keys.ok()) return keys.status();
        auto acc = ResolvePath(ctx_, a.path, std::move(*keys));
        if (!acc.ok()) return ErrorAt(a.column, ToStd(acc.status().message()));
        return std::make_unique<PathExpr>(a.column, std::move(*acc));
      }
      case Ast::Kind::kList: {
        std::vector<ExprPtr> items;
        bool all_const = true;
        for (const auto& c : a.children) {
          auto e = Compile(*c);
          if (!e.ok()) return e.status();
          all_const = all_const && IsConst(**e);
          items.push_back(std::move(*e));
        }
        ExprPtr l = std::make_unique<ListExpr>(a.column, std::move(items));
        return all_const ? Fold(std::move(l)) : std::move(l);
      }
      case Ast::Kind::kMap: {
        std::vector<ExprPtr> items;
        bool all_const = true;
        for (const auto& c : a.children) {
          auto e = Compile(*c);
          if (!e.ok()) return e.status();
          all_const = all_const && IsConst(**e);
          items.push_back(std::move(*e));
        }
        ExprPtr m = std::make_unique<MapExpr>(a.column, a.map_keys, std::move(items));
        return all_const ? Fold(std::move(m)) : std::move(m);
      }
      case Ast::Kind::kMath: {
        auto x = Compile(*a.children[0]);
        if (!x.ok()) return x.status();
        auto y = Compile(*a.children[1]);
        if (!y.ok()) return y.status();
        bool fold = IsConst(**x) && IsConst(**y);
        ExprPtr m = std::make_unique<MathExpr>(a.column, a.op, std::move(*x), std::move(*y));
        return fold ? Fold(std::move(m)) : std::move(m);
      }
      case Ast::Kind::kCompare: {
        auto x = Compile(*a.children[0]);
        if (!x.ok()) return x.status();
        auto y = Compile(*a.children[1]);
        if (!y.ok()) return y.status();
        CompareOp op = OpOf(a.op);
        bool cx = IsConst(**x), cy = IsConst(**y);
        if (cx && cy) return Fold(std::make_unique<CompareExpr>(a.column, op, std::move(*x), std::move(*y)));
        if (cy) return std::make_unique<CompareConstExpr>(a.column, op, std::move(*x), std::move(*y), false);
        if (cx) return std::make_unique<CompareConstExpr>(a.column, op, std::move(*y), std::move(*x), true);
        return std::make_unique<CompareExpr>(a.column, op, std::move(*x), std::move(*y));
      }
      case Ast::Kind::kAnd:
      case Ast::Kind::kOr: {
        auto x = Compile(*a.children[0]);
        if (!x.ok()) return x.status();
        auto y = Compile(*a.children[1]);
        if (!y.ok()) return y.status();
        return std::make_unique<AndOrExpr>(a.column, a.kind == Ast::Kind::kAnd, std::move(*x), std::move(*y));
      }
      case Ast::Kind::kNot: {
        auto x = Compile(*a.children[0]);
        if (!x.ok()) return x.status();
        return std::make_unique<NotExpr>(a.column, std::move(*x));
      }
      case Ast::Kind::kCall:
        return CompileCall(a, allow_editor);
    }
    return ErrorAt(a.column, "unsupported expression");
  }

  absl::StatusOr<ExprPtr> CompileCall(const Ast& a, bool allow_editor) {
    const FunctionSpec* spec = FindFunction(a.s);
    bool is_editor = std::islower(static_cast<unsigned char>(a.s[0]));
    if (spec == nullptr && FindUnsupported(a.s) != nullptr) {
      return ErrorAt(a.column, StrCat(a.s, " (upstream's transform processor's) is not supported; the ",
                                      is_editor ? "editors are: " : "converters are: ", FunctionList(is_editor, ctx_),
                                      " (see collector/ottl/README.md)"));
    }
    if (spec == nullptr) {
      return ErrorAt(a.column, StrCat("unknown ", is_editor ? "editor" : "converter", " '", a.s, "'; the ",
                                      is_editor ? "editors are: " : "converters are: ", FunctionList(is_editor, ctx_)));
    }
    if (is_editor && !allow_editor) {
      return ErrorAt(a.column, StrCat("editor ", a.s, " cannot be used as a value; only converters (upper case) can"));
    }
    if (spec->only_context && *spec->only_context != ctx_) {
      return ErrorAt(a.column,
                     StrCat(a.s, " can only be used in the ", ContextName(*spec->only_context), " context, not in ",
                            ContextName(ctx_), " (put it in a statement group of its own)"));
    }
    std::vector<FnArg> args(spec->params.size());
    size_t positional = 0;
    for (const CallArg& ca : a.args) {
      size_t slot;
      if (ca.name.empty()) {
        slot = positional++;
        if (slot >= spec->params.size()) {
          return ErrorAt(ca.value->column, StrCat(a.s, " takes at most ", spec->params.size(), " arguments"));
        }
      } else {
        slot = spec->params.size();
        for (size_t i = 0; i < spec->params.size(); ++i) {
          if (spec->params[i] == ca.name) slot = i;
        }
        if (slot == spec->params.size()) {
          std::string names;
          for (auto p : spec->params) StrAppend(&names, names.empty() ? "" : ", ", p);
          return ErrorAt(ca.value->column,
                         StrCat(a.s, " has no argument named ", ca.name, "; its arguments are: ", names));
        }
        if (args[slot].given()) return ErrorAt(ca.value->column, StrCat("argument ", ca.name, " is given twice"));
      }
      FnArg& fa = args[slot];
      fa.ast = ca.value.get();
      fa.column = ca.value->column;
      if (ca.value->kind == Ast::Kind::kEnum && FindValueFunction(ca.value->s) != nullptr) {
        // A function passed by name (replace_pattern's `function`): a constant string.
        fa.is_const = true;
        auto k = std::make_unique<ConstExpr>(fa.column, ca.value->s, false);
        fa.constant = k->value();
        fa.value = std::move(k);
        continue;
      }
      auto e = Compile(*ca.value);
      if (!e.ok()) return e.status();
      if (ca.value->kind == Ast::Kind::kPath) {
        auto keys = Keys(ca.value->keys);
        if (!keys.ok()) return keys.status();
        auto acc = ResolvePath(ctx_, ca.value->path, std::move(*keys));
        if (!acc.ok()) return ErrorAt(fa.column, ToStd(acc.status().message()));
        fa.target = std::move(*acc);
      }
      if (const auto* k = dynamic_cast<const ConstExpr*>(e->get())) {
        fa.is_const = true;
        fa.constant = k->value();
      }
      fa.value = std::move(*e);
    }
    for (size_t i = 0; i < spec->required; ++i) {
      if (!args[i].given()) {
        return ErrorAt(a.column, StrCat(a.s, " needs the argument ", spec->params[i], " (", spec->required,
                                        " required: ", spec->summary, ")"));
      }
    }
    bool all_const = true;
    for (const FnArg& fa : args) all_const = all_const && (!fa.given() || fa.is_const);
    auto made = spec->make(a.column, args);
    if (!made.ok()) return WithColumn(made.status(), a.column);
    ExprPtr e = std::move(*made);
    if (!a.keys.empty()) {
      auto keys = Keys(a.keys);
      if (!keys.ok()) return keys.status();
      e = std::make_unique<IndexExpr>(a.column, std::move(e), std::move(*keys));
    }
    if (all_const && spec->pure && !is_editor) return Fold(std::move(e));
    return e;
  }

  ContextKind ctx_;
};

}  // namespace

absl::Status Arith(char op, const Value& a, const Value& b, Value* out) {
  if (a.type == Type::kInt && b.type == Type::kInt) {
    switch (op) {
      case '+':
        *out = Value::Int(static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(b.i)));
        return absl::OkStatus();
      case '-':
        *out = Value::Int(static_cast<int64_t>(static_cast<uint64_t>(a.i) - static_cast<uint64_t>(b.i)));
        return absl::OkStatus();
      case '*':
        *out = Value::Int(static_cast<int64_t>(static_cast<uint64_t>(a.i) * static_cast<uint64_t>(b.i)));
        return absl::OkStatus();
      case '/':
        if (b.i == 0) return absl::InvalidArgumentError("division by zero");
        if (a.i == INT64_MIN && b.i == -1) {
          *out = Value::Int(INT64_MIN);
          return absl::OkStatus();
        }
        *out = Value::Int(a.i / b.i);
        return absl::OkStatus();
    }
  }
  if (a.type == Type::kDouble && b.type == Type::kDouble) {
    switch (op) {
      case '+':
        *out = Value::Double(a.d + b.d);
        return absl::OkStatus();
      case '-':
        *out = Value::Double(a.d - b.d);
        return absl::OkStatus();
      case '*':
        *out = Value::Double(a.d * b.d);
        return absl::OkStatus();
      case '/':
        if (b.d == 0) return absl::InvalidArgumentError("division by zero");
        *out = Value::Double(a.d / b.d);
        return absl::OkStatus();
    }
  }
  if (a.type == Type::kTime && b.type == Type::kTime && op == '-') {
    *out = Value::Int(a.i - b.i);
    return absl::OkStatus();
  }
  if (a.type == Type::kTime && b.type == Type::kInt && (op == '+' || op == '-')) {
    *out = Value::Time(op == '+' ? a.i + b.i : a.i - b.i);
    return absl::OkStatus();
  }
  if (a.type == Type::kInt && b.type == Type::kTime && op == '+') {
    *out = Value::Time(a.i + b.i);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      StrCat("cannot compute ", TypeName(a.type), " ", std::string(1, op), " ", TypeName(b.type)));
}

absl::StatusOr<ExprPtr> CompileExpr(ContextKind ctx, const Ast& ast) {
  Compiler c(ctx);
  return c.Compile(ast);
}

absl::StatusOr<Condition> Condition::Compile(ContextKind ctx, std::string_view text, ParseError* error) {
  auto ast = ParseCondition(text, error);
  if (!ast.ok()) return ast.status();
  auto e = CompileExpr(ctx, **ast);
  if (!e.ok()) {
    FillError(e.status(), error);
    return e.status();
  }
  Condition c;
  c.ctx_ = ctx;
  c.expr_ = std::move(*e);
  c.text_ = std::make_shared<std::string>(text);
  return c;
}

absl::StatusOr<bool> Condition::Eval(EvalContext& c) const {
  Value v;
  if (absl::Status s = expr_->Eval(c, &v); !s.ok()) return s;
  bool b;
  if (absl::Status s = AsBool(v, expr_->column(), &b); !s.ok()) return s;
  return b;
}

absl::StatusOr<Statement> Statement::Compile(ContextKind ctx, std::string_view text, ParseError* error) {
  auto parsed = ParseStatement(text, error);
  if (!parsed.ok()) return parsed.status();
  Compiler comp(ctx);
  auto editor = comp.Compile(*parsed->editor, /*allow_editor=*/true);
  if (!editor.ok()) {
    FillError(editor.status(), error);
    return editor.status();
  }
  Statement s;
  s.ctx_ = ctx;
  s.editor_ = std::move(*editor);
  if (parsed->condition) {
    auto cond = comp.Compile(*parsed->condition);
    if (!cond.ok()) {
      FillError(cond.status(), error);
      return cond.status();
    }
    s.condition_ = std::move(*cond);
  }
  s.text_ = std::make_shared<std::string>(text);
  return s;
}

absl::Status Statement::Execute(EvalContext& c) const {
  if (condition_) {
    Value v;
    if (absl::Status s = condition_->Eval(c, &v); !s.ok()) return s;
    bool b;
    if (absl::Status s = AsBool(v, condition_->column(), &b); !s.ok()) return s;
    if (!b) return absl::OkStatus();
  }
  Value ignored;
  return editor_->Eval(c, &ignored);
}

namespace {

int Depth(ContextKind k) {
  switch (k) {
    case ContextKind::kResource:
      return 0;
    case ContextKind::kScope:
      return 1;
    case ContextKind::kSpan:
    case ContextKind::kMetric:
    case ContextKind::kLog:
      return 2;
    case ContextKind::kSpanEvent:
    case ContextKind::kDataPoint:
      return 3;
  }
  return 0;
}

void Infer(const Ast& a, std::optional<ContextKind>* best) {
  if (a.kind == Ast::Kind::kPath && a.path.size() > 1) {
    if (auto k = ParseContextName(a.path[0])) {
      if (!*best || Depth(*k) > Depth(**best)) *best = *k;
    }
  }
  if (a.kind == Ast::Kind::kCall) {  // a function of one context names it (convert_sum_to_gauge: metric)
    std::optional<ContextKind> only;
    if (const FunctionSpec* f = FindFunction(a.s); f != nullptr) {
      only = f->only_context;
    } else if (const Unsupported* u = FindUnsupported(a.s); u != nullptr) {
      only = u->context;
    }
    if (only && (!*best || Depth(*only) > Depth(**best))) *best = *only;
  }
  for (const auto& k : a.keys) {
    if (k.expr) Infer(*k.expr, best);
  }
  for (const auto& arg : a.args) Infer(*arg.value, best);
  for (const auto& c : a.children) Infer(*c, best);
}

}  // namespace

std::optional<ContextKind> InferContext(const ParsedStatement& s) {
  std::optional<ContextKind> best;
  Infer(*s.editor, &best);
  if (s.condition) Infer(*s.condition, &best);
  return best;
}

std::optional<ContextKind> InferContext(const Ast& condition) {
  std::optional<ContextKind> best;
  Infer(condition, &best);
  return best;
}

// ---- the reference interpreter ----

absl::Status Interpret(ContextKind ctx, const Ast& a, EvalContext& c, Value* out) {
  switch (a.kind) {
    case Ast::Kind::kNil:
      *out = Value::Nil();
      return absl::OkStatus();
    case Ast::Kind::kBool:
      *out = Value::Bool(a.b);
      return absl::OkStatus();
    case Ast::Kind::kInt:
      *out = Value::Int(a.i);
      return absl::OkStatus();
    case Ast::Kind::kDouble:
      *out = Value::Double(a.d);
      return absl::OkStatus();
    case Ast::Kind::kString:
      *out = Value::StringView(a.s);
      return absl::OkStatus();
    case Ast::Kind::kBytes:
      *out = Value::BytesView(a.s);
      return absl::OkStatus();
    case Ast::Kind::kEnum: {
      auto v = LookupEnum(a.s);
      if (!v) return ErrorAt(a.column, StrCat("unknown enum ", a.s));
      *out = Value::Int(*v);
      return absl::OkStatus();
    }
    case Ast::Kind::kPath: {
      Compiler comp(ctx);
      auto keys = comp.Keys(a.keys);
      if (!keys.ok()) return keys.status();
      auto acc = ResolvePath(ctx, a.path, std::move(*keys));
      if (!acc.ok()) return acc.status();
      Value v;
      if (absl::Status s = (*acc)->Get(c, &v); !s.ok()) return s;
      if (v.type == Type::kString || v.type == Type::kBytes) {
        // The accessor dies here: keep what the view points into alive.
        v.hold = *acc;
      }
      *out = std::move(v);
      return absl::OkStatus();
    }
    case Ast::Kind::kList:
    case Ast::Kind::kMap: {
      auto any = std::make_shared<AnyValue>();
      for (size_t i = 0; i < a.children.size(); ++i) {
        Value v;
        if (absl::Status s = Interpret(ctx, *a.children[i], c, &v); !s.ok()) return s;
        if (a.kind == Ast::Kind::kList) {
          ToAny(v, any->mutable_array_value()->add_values());
        } else {
          ToAny(v, Upsert(any->mutable_kvlist_value()->mutable_values(), a.map_keys[i]));
        }
      }
      if (a.children.empty()) {
        if (a.kind == Ast::Kind::kList) {
          any->mutable_array_value();
        } else {
          any->mutable_kvlist_value();
        }
      }
      *out = Value::Owned(std::move(any));
      return absl::OkStatus();
    }
    case Ast::Kind::kMath: {
      Value x, y;
      if (absl::Status s = Interpret(ctx, *a.children[0], c, &x); !s.ok()) return s;
      if (absl::Status s = Interpret(ctx, *a.children[1], c, &y); !s.ok()) return s;
      return Arith(a.op, x, y, out);
    }
    case Ast::Kind::kCompare: {
      Value x, y;
      if (absl::Status s = Interpret(ctx, *a.children[0], c, &x); !s.ok()) return s;
      if (absl::Status s = Interpret(ctx, *a.children[1], c, &y); !s.ok()) return s;
      *out = Value::Bool(Compare(x, y, OpOf(a.op)));
      return absl::OkStatus();
    }
    case Ast::Kind::kAnd:
    case Ast::Kind::kOr: {
      Value x;
      if (absl::Status s = Interpret(ctx, *a.children[0], c, &x); !s.ok()) return s;
      if (x.type != Type::kBool) return absl::InvalidArgumentError("expected a bool");
      bool is_and = a.kind == Ast::Kind::kAnd;
      if (x.b != is_and) {
        *out = x;
        return absl::OkStatus();
      }
      if (absl::Status s = Interpret(ctx, *a.children[1], c, &x); !s.ok()) return s;
      if (x.type != Type::kBool) return absl::InvalidArgumentError("expected a bool");
      *out = x;
      return absl::OkStatus();
    }
    case Ast::Kind::kNot: {
      Value x;
      if (absl::Status s = Interpret(ctx, *a.children[0], c, &x); !s.ok()) return s;
      if (x.type != Type::kBool) return absl::InvalidArgumentError("expected a bool");
      *out = Value::Bool(!x.b);
      return absl::OkStatus();
    }
    case Ast::Kind::kCall: {
      // Functions are shared with the compiled form; only their arguments are walked.
      auto e = CompileExpr(ctx, a);
      if (!e.ok()) return e.status();
      std::shared_ptr<Expr> keep(std::move(*e));
      Value v;
      if (absl::Status s = keep->Eval(c, &v); !s.ok()) return s;
      if (!v.hold) v.hold = keep;
      *out = std::move(v);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("unsupported expression");
}

}  // namespace outrigger::ottl
