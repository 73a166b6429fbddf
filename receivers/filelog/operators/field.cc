#include "receivers/filelog/operators/field.h"

#include <utility>

#include "collector/common/strings.h"

namespace outrigger::receivers::filelog::operators {

using pdata::Value;
using pdata::ValueMap;

absl::StatusOr<Field> ParseField(std::string_view text) {
  Field f;
  f.text = std::string(text);
  std::string_view s = text;
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("invalid field \"", text, "\": ", why,
                                             " (expected body, body.key, attributes.key, "
                                             "attributes[\"dotted.key\"] or resource.key)"));
  };
  auto starts = [&](std::string_view root) {
    return s.substr(0, root.size()) == root &&
           (s.size() == root.size() || s[root.size()] == '.' || s[root.size()] == '[');
  };
  if (starts("body")) {
    f.root = Field::Root::kBody;
    s.remove_prefix(4);
  } else if (starts("attributes")) {
    f.root = Field::Root::kAttributes;
    s.remove_prefix(10);
  } else if (starts("resource")) {
    f.root = Field::Root::kResource;
    s.remove_prefix(8);
  } else {
    return bad("it must start with body, attributes or resource");
  }
  while (!s.empty()) {
    if (s[0] == '.') {
      s.remove_prefix(1);
      size_t end = s.find_first_of(".[");
      std::string_view key = s.substr(0, end);
      if (key.empty()) return bad("empty key");
      f.path.emplace_back(key);
      s.remove_prefix(key.size());
    } else if (s[0] == '[') {
      if (s.size() < 4 || (s[1] != '"' && s[1] != '\'')) return bad("expected [\"key\"]");
      char q = s[1];
      size_t close = s.find(q, 2);
      if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ']') {
        return bad("unterminated [\"key\"]");
      }
      std::string_view key = s.substr(2, close - 2);
      if (key.empty()) return bad("empty key");
      f.path.emplace_back(key);
      s.remove_prefix(close + 2);
    } else {
      return bad("unexpected character");
    }
  }
  return f;
}

namespace {

const ValueMap* RootMap(const Entry& e, Field::Root r) {
  return r == Field::Root::kAttributes ? &e.record.attributes : &e.resource;
}
ValueMap* RootMap(Entry& e, Field::Root r) {
  return r == Field::Root::kAttributes ? &e.record.attributes : &e.resource;
}

// Merges `m` into `dst` (keys of `m` win).
void Merge(ValueMap& dst, ValueMap&& m) {
  if (dst.empty()) {
    dst = std::move(m);
    return;
  }
  for (auto& [k, v] : m) pdata::Set(dst, std::move(k), std::move(v));
}

}  // namespace

const Value* Get(const Entry& e, const Field& f) {
  const Value* v = nullptr;
  size_t i = 0;
  if (f.IsBody()) {
    v = &e.record.body;
  } else {
    if (f.path.empty()) return nullptr;
    v = pdata::Find(*RootMap(e, f.root), f.path[0]);
    i = 1;
  }
  for (; v != nullptr && i < f.path.size(); ++i) {
    const ValueMap* m = v->map();
    if (m == nullptr) return nullptr;
    v = pdata::Find(*m, f.path[i]);
  }
  if (v != nullptr && v->empty() && f.IsBody() && f.IsRoot()) return nullptr;
  return v;
}

Value* GetMutable(Entry& e, const Field& f) { return const_cast<Value*>(Get(e, f)); }

absl::Status Set(Entry& e, const Field& f, Value v) {
  ValueMap* parent = nullptr;
  size_t i = 0;
  if (f.IsBody()) {
    if (f.path.empty()) {
      e.record.body = std::move(v);
      return absl::OkStatus();
    }
    if (e.record.body.map() == nullptr) e.record.body = Value(ValueMap{});
    parent = e.record.body.map();
  } else {
    parent = RootMap(e, f.root);
    if (f.path.empty()) {
      ValueMap* m = v.map();
      if (m == nullptr) {
        return absl::InvalidArgumentError(StrCat("cannot set ", f.text, " to a value that is not a map"));
      }
      Merge(*parent, std::move(*m));
      return absl::OkStatus();
    }
  }
  for (; i + 1 < f.path.size(); ++i) {
    Value* next = pdata::Find(*parent, f.path[i]);
    if (next == nullptr) {
      parent->emplace_back(f.path[i], Value(ValueMap{}));
      next = &parent->back().second;
    } else if (next->map() == nullptr) {
      *next = Value(ValueMap{});
    }
    parent = next->map();
  }
  const std::string& last = f.path.back();
  Value* slot = pdata::Find(*parent, last);
  if (slot == nullptr) {
    parent->emplace_back(last, std::move(v));
    return absl::OkStatus();
  }
  if (!f.IsBody() && slot->map() != nullptr && v.map() != nullptr) {
    Merge(*slot->map(), std::move(*v.map()));
  } else {
    *slot = std::move(v);
  }
  return absl::OkStatus();
}

std::optional<Value> Take(Entry& e, const Field& f) {
  if (f.IsRoot()) {
    if (f.IsBody()) {
      if (e.record.body.empty()) return std::nullopt;
      Value out = std::move(e.record.body);
      e.record.body = Value();
      return out;
    }
    ValueMap* m = RootMap(e, f.root);
    if (m->empty()) return std::nullopt;
    Value out(std::move(*m));
    m->clear();
    return out;
  }
  ValueMap* parent = nullptr;
  if (f.IsBody()) {
    parent = e.record.body.map();
  } else {
    parent = RootMap(e, f.root);
  }
  for (size_t i = 0; parent != nullptr && i + 1 < f.path.size(); ++i) {
    Value* next = pdata::Find(*parent, f.path[i]);
    parent = next == nullptr ? nullptr : next->map();
  }
  if (parent == nullptr) return std::nullopt;
  if (pdata::Find(*parent, f.path.back()) == nullptr) return std::nullopt;
  return pdata::Remove(*parent, f.path.back());
}

std::optional<Value> Copy(const Entry& e, const Field& f) {
  if (!f.IsBody() && f.IsRoot()) {
    const ValueMap* m = RootMap(e, f.root);
    if (m->empty()) return std::nullopt;
    return Value(*m);
  }
  const Value* v = Get(e, f);
  if (v == nullptr) return std::nullopt;
  return *v;
}

absl::Status FieldNotFound(const Field& f) { return absl::NotFoundError(StrCat("field ", f.text, " not found")); }

bool ReadField(config::Node& n, std::string_view key, Field* out, bool required) {
  if (!n.Has(key)) {
    n.Accept(key);
    if (required) n.ErrorAt(key, "is required");
    return false;
  }
  std::string s;
  size_t before = n.errors()->list().size();
  n.Read(key, &s);
  if (n.errors()->list().size() != before) return false;
  auto f = ParseField(s);
  if (!f.ok()) {
    n.ErrorAt(key, f.status().message());
    return false;
  }
  *out = std::move(*f);
  return true;
}

}  // namespace outrigger::receivers::filelog::operators
