#include "collector/attraction/attraction.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "collector/filterset/filterset.h"

namespace outrigger::attraction {
namespace {

constexpr std::string_view kMetadataPrefix = "metadata.";
constexpr std::string_view kAuthPrefix = "auth.";
constexpr std::string_view kClientAddress = "client.address";

std::string Nth(size_t i) { return StrCat(i, "-th"); }

absl::Status Err(Text msg) { return absl::InvalidArgumentError(ToAbsl(msg.v)); }

// SHA-256 of `data` as 64 lower-case hex digits into `out`. A context per thread: no
// allocation per value.
void Sha256Hex(std::string_view data, char out[64]) {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), md, &len) != 1 ||
      len != 32) {
    std::memset(out, '0', 64);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < 32; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
}

// The bytes upstream's hasher feeds SHA-256; false for values it hashes to "".
bool HashInput(const AnyValue& v, char scratch[8], std::string_view* out) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      *out = v.string_value();
      return !out->empty();
    case AnyValue::kBoolValue:
      scratch[0] = v.bool_value() ? 1 : 0;
      *out = std::string_view(scratch, 1);
      return true;
    case AnyValue::kIntValue:
    case AnyValue::kDoubleValue: {
      uint64_t bits = v.value_case() == AnyValue::kIntValue ? static_cast<uint64_t>(v.int_value())
                                                            : std::bit_cast<uint64_t>(v.double_value());
      for (int i = 0; i < 8; ++i) scratch[i] = static_cast<char>((bits >> (8 * i)) & 0xff);  // little endian
      *out = std::string_view(scratch, 8);
      return true;
    }
    default:
      return false;
  }
}

// Writes a string value, reusing the buffer of a string already there (protobuf's
// set_string_value(const char*, size_t) builds a temporary std::string).
void SetString(AnyValue* v, std::string_view s) { v->mutable_string_value()->assign(s.data(), s.size()); }

void HashInPlace(AnyValue* v) {
  char scratch[8];
  std::string_view in;
  if (!HashInput(*v, scratch, &in)) {
    SetString(v, "");
    return;
  }
  char hex[64];
  Sha256Hex(in, hex);
  SetString(v, std::string_view(hex, 64));
}

// Copies `from` into `to`; strings and scalars are written in place (CopyFrom clears the
// target first, so a string would get a new buffer every time).
void CopyValue(const AnyValue& from, AnyValue* to) {
  switch (from.value_case()) {
    case AnyValue::kStringValue:
      SetString(to, from.string_value());
      break;
    case AnyValue::kBoolValue:
      to->set_bool_value(from.bool_value());
      break;
    case AnyValue::kIntValue:
      to->set_int_value(from.int_value());
      break;
    case AnyValue::kDoubleValue:
      to->set_double_value(from.double_value());
      break;
    default:
      to->CopyFrom(from);
  }
}

AnyValue* PutEmpty(Attributes* attrs, std::string_view key) {
  auto* kv = attrs->Add();
  kv->set_key(key.data(), key.size());
  return kv->mutable_value();
}

// Removes the attributes `drop` says so, keeping the others in order.
template <typename F>
void RemoveIf(Attributes* attrs, F drop) {
  int keep = 0;
  const int n = attrs->size();
  for (int i = 0; i < n; ++i) {
    if (drop(attrs->Get(i).key())) continue;
    if (keep != i) attrs->SwapElements(keep, i);
    ++keep;
  }
  if (keep < n) attrs->DeleteSubrange(keep, n - keep);
}

}  // namespace

std::vector<ActionConfig> DecodeActions(config::Node& node, std::string_view key) {
  std::vector<ActionConfig> out;
  for (config::Node* item : node.ReadMappings(key)) {
    ActionConfig a;
    item->Read("key", &a.key);
    config::Node& v = item->Value("value");
    if (!v.IsNull()) {
      AnyValue value;
      if (filterset::DecodeValue(v, &value)) a.value = std::move(value);
    }
    config::Node& dv = item->Value("default_value");
    if (!dv.IsNull()) {
      AnyValue value;
      if (filterset::DecodeValue(dv, &value)) a.default_value = std::move(value);
    }
    item->Read("pattern", &a.pattern);
    item->Read("from_attribute", &a.from_attribute);
    item->Read("from_context", &a.from_context);
    item->Read("converted_type", &a.converted_type);
    item->Read("action", &a.action);
    out.push_back(std::move(a));
  }
  return out;
}

AttrProc::AttrProc(AttrProc&&) noexcept = default;
AttrProc& AttrProc::operator=(AttrProc&&) noexcept = default;
AttrProc::~AttrProc() = default;

absl::StatusOr<AttrProc> AttrProc::Create(const std::vector<ActionConfig>& actions) {
  AttrProc p;
  RE2::Options opts;
  opts.set_log_errors(false);
  for (size_t i = 0; i < actions.size(); ++i) {
    const ActionConfig& a = actions[i];
    const std::string name = absl::AsciiStrToLower(a.action);
    Action out;
    out.key = a.key;
    if (name == "delete" || name == "hash") {
      if (a.key.empty() && a.pattern.empty()) {
        return Err(
            StrCat("error creating AttrProc due to missing required field (at least one of \"key\" and "
                   "\"pattern\" have to be used) at the ",
                   Nth(i), " actions"));
      }
    } else if (a.key.empty()) {
      return Err(StrCat("error creating AttrProc due to missing required field \"key\" at the ", Nth(i), " actions"));
    }
    const int sources = (a.value ? 1 : 0) + (a.from_attribute.empty() ? 0 : 1) + (a.from_context.empty() ? 0 : 1);
    auto no_converted_type = [&]() -> absl::Status {
      if (a.converted_type.empty()) return absl::OkStatus();
      return Err(StrCat("error creating AttrProc. Action \"", name,
                        "\" does not use the \"converted_type\" field. This must not be specified for ", Nth(i),
                        " action"));
    };
    auto compile = [&]() -> absl::Status {
      out.regex = std::make_unique<re2::RE2>(a.pattern, opts);
      if (!out.regex->ok()) {
        return Err(StrCat("error creating AttrProc. Field \"pattern\" has invalid pattern: \"", a.pattern,
                          "\" to be set at the ", Nth(i), " actions (", out.regex->error(), ")"));
      }
      return absl::OkStatus();
    };
    const bool sets = name == "insert" || name == "update" || name == "upsert";
    if (a.default_value && !sets) {
      return Err(StrCat("error creating AttrProc. Action \"", name,
                        "\" does not use the \"default_value\" field. This must not be specified for ", Nth(i),
                        " action"));
    }
    if (sets) {
      out.kind = name == "insert" ? Kind::kInsert : name == "update" ? Kind::kUpdate : Kind::kUpsert;
      if (sources == 0 && !a.default_value) {
        return Err(
            StrCat("error creating AttrProc. Either field \"value\", \"from_attribute\", \"from_context\" "
                   "or \"default_value\" setting must be specified for ",
                   Nth(i), " action"));
      }
      if (sources > 1) {
        return Err(
            StrCat("error creating AttrProc due to multiple value sources being set at the ", Nth(i), " actions"));
      }
      if (!a.pattern.empty()) {
        return Err(StrCat("error creating AttrProc. Action \"", name,
                          "\" does not use the \"pattern\" field. This must not be specified for ", Nth(i), " action"));
      }
      if (auto st = no_converted_type(); !st.ok()) return st;
      out.value = a.value;
      out.default_value = a.default_value;
      out.from_attribute = a.from_attribute;
      if (!a.from_context.empty()) {
        std::string_view c = a.from_context;
        if (c == kClientAddress) {
          out.context = Context::kAddress;
        } else if (c.rfind(kAuthPrefix, 0) == 0) {
          out.context = Context::kAuth;
          out.context_key = std::string(c.substr(kAuthPrefix.size()));
        } else {
          // metadata.<key>, or (upstream's fallback) any other name as a metadata key.
          if (c.rfind(kMetadataPrefix, 0) == 0) c.remove_prefix(kMetadataPrefix.size());
          out.context = Context::kMetadata;
          out.context_key = absl::AsciiStrToLower(ToAbsl(c));
        }
      }
    } else if (name == "delete" || name == "hash") {
      out.kind = name == "delete" ? Kind::kDelete : Kind::kHash;
      if (a.value || !a.from_attribute.empty()) {
        return Err(StrCat("error creating AttrProc. Action \"", name,
                          "\" does not use \"value\" or \"from_attribute\" field. These must not be specified for ",
                          Nth(i), " action"));
      }
      if (!a.pattern.empty()) {
        if (auto st = compile(); !st.ok()) return st;
      }
      if (auto st = no_converted_type(); !st.ok()) return st;
    } else if (name == "extract") {
      out.kind = Kind::kExtract;
      if (sources > 0) {
        return Err(StrCat("error creating AttrProc. Action \"", name,
                          "\" does not use a value source field. These must not be specified for ", Nth(i), " action"));
      }
      if (a.pattern.empty()) {
        return Err(StrCat("error creating AttrProc due to missing required field \"pattern\" for action \"", name,
                          "\" at the ", Nth(i), " action"));
      }
      if (auto st = no_converted_type(); !st.ok()) return st;
      if (auto st = compile(); !st.ok()) return st;
      const int groups = out.regex->NumberOfCapturingGroups();
      if (groups < 1) {
        return Err(StrCat("error creating AttrProc. Field \"pattern\" contains no named matcher groups at the ", Nth(i),
                          " actions"));
      }
      out.group_names.assign(static_cast<size_t>(groups), "");
      for (const auto& [group_name, index] : out.regex->NamedCapturingGroups()) {
        out.group_names[static_cast<size_t>(index - 1)] = group_name;
      }
      for (const auto& g : out.group_names) {
        if (g.empty()) {
          return Err(
              StrCat("error creating AttrProc. Field \"pattern\" contains at least one unnamed matcher group "
                     "at the ",
                     Nth(i), " actions"));
        }
        out.extract_overwrites_source |= g == a.key;
      }
    } else if (name == "convert") {
      out.kind = Kind::kConvert;
      if (sources > 0 || !a.pattern.empty()) {
        return Err(StrCat("error creating AttrProc. Action \"", name,
                          "\" does not use value sources or \"pattern\" field. These must not be specified for ",
                          Nth(i), " action"));
      }
      if (a.converted_type.empty()) {
        return Err(StrCat("error creating AttrProc due to missing required field \"converted_type\" for action \"",
                          name, "\" at the ", Nth(i), " action"));
      }
      if (a.converted_type != "int" && a.converted_type != "double" && a.converted_type != "string") {
        return Err(StrCat("error creating AttrProc due to invalid value \"", a.converted_type,
                          "\" in field \"converted_type\" for action \"", name, "\" at the ", Nth(i),
                          " action (use int, double or string)"));
      }
      out.converted_type = a.converted_type;
    } else {
      return Err(StrCat("error creating AttrProc due to unsupported action \"", a.action, "\" at the ", Nth(i),
                        " actions (use insert, update, upsert, delete, hash, extract or convert)"));
    }
    p.actions_.push_back(std::move(out));
  }
  return p;
}

void AttrProc::Process(const pdata::ClientInfo* client, Attributes* attrs) const {
  for (const Action& a : actions_) {
    switch (a.kind) {
      case Kind::kInsert:
      case Kind::kUpdate:
      case Kind::kUpsert:
        Set(a, client, attrs);
        break;
      case Kind::kDelete:
        Delete(a, attrs);
        break;
      case Kind::kHash:
        Hash(a, attrs);
        break;
      case Kind::kExtract:
        Extract(a, attrs);
        break;
      case Kind::kConvert:
        Convert(a, attrs);
        break;
    }
  }
}

void AttrProc::Set(const Action& a, const pdata::ClientInfo* client, Attributes* attrs) const {
  // The source: a configured value, another attribute, or a string from the client.
  const AnyValue* from = nullptr;
  std::string_view text;
  std::string joined;
  auto find = [&]() -> bool {
    if (a.value) {
      from = &*a.value;
      return true;
    }
    if (!a.from_attribute.empty()) {
      from = filterset::FindAttribute(*attrs, a.from_attribute);
      return from != nullptr;
    }
    if (client == nullptr) return false;
    switch (a.context) {
      case Context::kAddress:
        text = client->address;
        return !text.empty();
      case Context::kAuth: {
        auto it = client->auth.find(a.context_key);
        if (it == client->auth.end()) return false;
        text = it->second;
        return true;
      }
      case Context::kMetadata: {
        const std::vector<std::string>* vals = client->Metadata(a.context_key);
        if (vals == nullptr || vals->empty()) return false;
        if (vals->size() == 1) {
          text = (*vals)[0];
        } else {
          for (size_t i = 0; i < vals->size(); ++i) StrAppend(&joined, i > 0 ? ";" : "", (*vals)[i]);
          text = joined;
        }
        return true;
      }
      case Context::kNone:
        return false;
    }
    return false;
  };
  if (!find()) {
    if (!a.default_value) return;
    from = &*a.default_value;
  }
  AnyValue* target = filterset::FindMutableAttribute(attrs, a.key);
  if (target != nullptr ? a.kind == Kind::kInsert : a.kind == Kind::kUpdate) return;
  if (target == nullptr) target = PutEmpty(attrs, a.key);
  if (from != nullptr) {
    if (from != target) CopyValue(*from, target);
  } else {
    SetString(target, text);
  }
}

void AttrProc::Delete(const Action& a, Attributes* attrs) const {
  RemoveIf(attrs, [&](const std::string& k) {
    return (!a.key.empty() && k == a.key) || (a.regex && RE2::PartialMatch(k, *a.regex));
  });
}

void AttrProc::Hash(const Action& a, Attributes* attrs) const {
  for (auto& kv : *attrs) {
    if ((!a.key.empty() && kv.key() == a.key) || (a.regex && RE2::PartialMatch(kv.key(), *a.regex))) {
      HashInPlace(kv.mutable_value());
    }
  }
}

void AttrProc::Extract(const Action& a, Attributes* attrs) const {
  const AnyValue* v = filterset::FindAttribute(*attrs, a.key);
  if (v == nullptr || v->value_case() != AnyValue::kStringValue) return;
  std::string copy;
  std::string_view text = v->string_value();
  if (a.extract_overwrites_source) {
    copy = v->string_value();  // the source changes as groups are written
    text = copy;
  }
  constexpr size_t kStackGroups = 16;
  re2::StringPiece stack[kStackGroups + 1];
  std::vector<re2::StringPiece> heap;
  const size_t n = a.group_names.size() + 1;
  re2::StringPiece* groups = stack;
  if (n > std::size(stack)) {
    heap.resize(n);
    groups = heap.data();
  }
  if (!a.regex->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED, groups,
                      static_cast<int>(n))) {
    return;
  }
  for (size_t i = 1; i < n; ++i) {
    const std::string& name = a.group_names[i - 1];
    AnyValue* target = filterset::FindMutableAttribute(attrs, name);
    if (target == nullptr) target = PutEmpty(attrs, name);
    SetString(target, std::string_view(groups[i].data() == nullptr ? "" : groups[i].data(), groups[i].size()));
  }
}

void AttrProc::Convert(const Action& a, Attributes* attrs) const {
  AnyValue* v = filterset::FindMutableAttribute(attrs, a.key);
  if (v == nullptr) return;
  const auto type = v->value_case();
  if (a.converted_type == "string") {
    if (type != AnyValue::kStringValue) SetString(v, filterset::AsString(*v));
  } else if (a.converted_type == "int") {
    switch (type) {
      case AnyValue::kDoubleValue: {
        const double d = v->double_value();
        // Go's int64(d) truncates; out of range (and NaN) is the minimum on amd64.
        constexpr double kLimit = 9223372036854775808.0;
        v->set_int_value(std::isnan(d) || d >= kLimit || d < -kLimit ? std::numeric_limits<int64_t>::min()
                                                                     : static_cast<int64_t>(d));
        break;
      }
      case AnyValue::kBoolValue:
        v->set_int_value(v->bool_value() ? 1 : 0);
        break;
      case AnyValue::kStringValue: {
        std::string_view s = v->string_value();
        if (!s.empty() && s[0] == '+') s.remove_prefix(1);
        int64_t n = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), n);
        if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return;  // not an integer: left alone
        v->set_int_value(n);
        break;
      }
      default:
        break;
    }
  } else if (a.converted_type == "double") {
    switch (type) {
      case AnyValue::kIntValue:
        v->set_double_value(static_cast<double>(v->int_value()));
        break;
      case AnyValue::kBoolValue:
        v->set_double_value(v->bool_value() ? 1 : 0);
        break;
      case AnyValue::kStringValue: {
        std::string_view s = v->string_value();
        if (!s.empty() && s[0] == '+') s.remove_prefix(1);
        double d = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), d);
        if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return;
        v->set_double_value(d);
        break;
      }
      default:
        break;
    }
  }
}

std::string HashValue(const AnyValue& v) {
  AnyValue copy = v;
  HashInPlace(&copy);
  return copy.string_value();
}

}  // namespace outrigger::attraction
