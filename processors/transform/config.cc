#include "processors/transform/config.h"

namespace outrigger::processors::transform {
namespace {

using ottl::ContextKind;

// The flat form (a string: its context inferred from its paths, consecutive statements
// of one context grouped) and the mapping form (context, conditions, statements,
// error_mode; context inferred from the statements when absent).
void ReadGroups(config::Node& node, std::string_view key, const std::vector<ContextKind>& allowed,
                std::vector<Group>* out) {
  config::Node& list = node.Value(key);
  if (list.IsNull()) return;
  for (config::Node* item : list.Items()) {
    if (item->IsScalar()) {
      auto ctx = ottl::InferStatementContext(*item, allowed);
      if (!ctx) continue;
      auto st = ottl::CompileStatementAt(*item, *ctx);
      if (!st) continue;
      if (out->empty() || out->back().context != *ctx || !out->back().conditions.empty() ||
          out->back().error_mode.has_value()) {
        out->push_back(Group{*ctx, {}, {}, std::nullopt});
      }
      out->back().statements.push_back(std::move(*st));
      continue;
    }
    if (!item->IsMap()) {
      item->Error("expected a statement (a string) or a mapping with context and statements");
      continue;
    }
    Group g;
    std::string ctx_name;
    item->Read("context", &ctx_name);
    std::optional<ContextKind> ctx;
    config::Node& statements = item->Value("statements");
    config::Node& conditions = item->Value("conditions");
    std::vector<config::Node*> st_items = statements.Items();
    std::vector<config::Node*> cond_items = conditions.IsNull() ? std::vector<config::Node*>{} : conditions.Items();
    if (!ctx_name.empty()) {
      ctx = ottl::ParseContextName(ctx_name);
      bool ok = false;
      for (ContextKind a : allowed) ok = ok || (ctx && a == *ctx);
      if (!ok) {
        std::string names;
        for (ContextKind a : allowed) StrAppend(&names, names.empty() ? "" : ", ", ottl::ContextName(a));
        item->ErrorAt("context", StrCat("unknown context \"", ctx_name, "\"; here it is one of: ", names));
        continue;
      }
    } else {
      // The deepest context any statement or condition names.
      for (config::Node* s : st_items) {
        auto k = ottl::InferStatementContext(*s, allowed);
        if (!k) {
          ctx.reset();
          break;
        }
        if (!ctx || static_cast<int>(*k) > static_cast<int>(*ctx)) ctx = k;
      }
      if (!ctx) continue;
    }
    g.context = *ctx;
    if (item->Has("error_mode")) {
      ottl::ErrorMode m = ottl::ErrorMode::kPropagate;
      ottl::ReadErrorMode(*item, "error_mode", &m);
      g.error_mode = m;
    }
    if (st_items.empty()) item->ErrorAt("statements", "needs at least one statement");
    for (config::Node* s : st_items) {
      if (auto st = ottl::CompileStatementAt(*s, g.context)) g.statements.push_back(std::move(*st));
    }
    for (config::Node* c : cond_items) {
      if (auto cond = ottl::CompileConditionAt(*c, g.context)) g.conditions.push_back(std::move(*cond));
    }
    out->push_back(std::move(g));
  }
}

}  // namespace

void Config::Decode(config::Node& node) {
  ottl::ReadErrorMode(node, "error_mode", &error_mode);
  ReadGroups(node, "trace_statements",
             {ContextKind::kResource, ContextKind::kScope, ContextKind::kSpan, ContextKind::kSpanEvent},
             &trace_statements);
  ReadGroups(node, "metric_statements",
             {ContextKind::kResource, ContextKind::kScope, ContextKind::kMetric, ContextKind::kDataPoint},
             &metric_statements);
  ReadGroups(node, "log_statements", {ContextKind::kResource, ContextKind::kScope, ContextKind::kLog}, &log_statements);
  node.Unsupported("flatten_data",
                   "log records are transformed where they are; a statement that changes resource or scope "
                   "attributes changes them for every log record of that resource or scope");
  node.Unsupported("profile_statements", "profiles are not a signal of this collector");
}

}  // namespace outrigger::processors::transform
