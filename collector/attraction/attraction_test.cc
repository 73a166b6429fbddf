#include "collector/attraction/attraction.h"

#include <gtest/gtest.h>

#include "collector/filterset/filterset.h"
#include "yaml-cpp/yaml.h"

namespace outrigger::attraction {
namespace {

using filterset::AsString;
using filterset::FindAttribute;

std::vector<ActionConfig> Decode(const std::string& yaml, config::Errors* errors) {
  config::Node node(YAML::Load(yaml), "processors.attributes", errors);
  auto actions = DecodeActions(node, "actions");
  node.Finish();
  return actions;
}

AttrProc MustCreate(const std::string& yaml) {
  config::Errors errors;
  auto actions = Decode(yaml, &errors);
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  auto p = AttrProc::Create(actions);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return *AttrProc::Create({});
  return std::move(*p);
}

std::string CreateError(const std::string& yaml) {
  config::Errors errors;
  auto actions = Decode(yaml, &errors);
  if (!errors.empty()) return errors.Joined();
  auto p = AttrProc::Create(actions);
  return p.ok() ? "" : std::string(p.status().message());
}

void Put(Attributes* a, const std::string& k, const std::string& v) {
  auto* kv = a->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}
void PutInt(Attributes* a, const std::string& k, int64_t v) {
  auto* kv = a->Add();
  kv->set_key(k);
  kv->mutable_value()->set_int_value(v);
}

// "k=v" for each attribute, in order (strings as they are, others as AsString).
std::vector<std::string> Dump(const Attributes& a) {
  std::vector<std::string> out;
  for (const auto& kv : a) out.push_back(kv.key() + "=" + AsString(kv.value()));
  return out;
}

TEST(Attraction, UpstreamReadmeExample) {
  // processors.attributes/example in upstream's README.
  AttrProc p = MustCreate(R"(
actions:
  - key: db.table
    action: delete
  - key: redacted_span
    value: true
    action: upsert
  - key: copy_key
    from_attribute: key_original
    action: update
  - key: account_id
    value: 2245
    action: insert
  - key: account_password
    action: delete
  - key: account_email
    action: hash
  - key: http.status_code
    action: convert
    converted_type: int
  # Use default_value when source attribute doesn't exist
  - key: region
    from_attribute: cloud.region
    default_value: "us-east-1"
    action: insert
  # Use default_value when context value is not available
  - key: tenant_id
    from_context: "metadata.tenant"
    default_value: "default-tenant"
    action: upsert
)");
  Attributes a;
  Put(&a, "db.table", "users");
  Put(&a, "copy_key", "old");
  Put(&a, "key_original", "original");
  Put(&a, "account_password", "secret");
  Put(&a, "account_email", "john@example.com");
  Put(&a, "http.status_code", "404");
  p.Process(nullptr, &a);
  // python3: hashlib.sha256(b'john@example.com').hexdigest()
  EXPECT_EQ(Dump(a),
            (std::vector<std::string>{"copy_key=original", "key_original=original",
                                      "account_email=855f96e983f1f8e8be944692b6f719fd54329826cb62e98015efee8e2e071dd4",
                                      "http.status_code=404", "redacted_span=true", "account_id=2245",
                                      "region=us-east-1", "tenant_id=default-tenant"}));
  EXPECT_TRUE(FindAttribute(a, "redacted_span")->has_bool_value());
  EXPECT_EQ(FindAttribute(a, "account_id")->int_value(), 2245);
  EXPECT_EQ(FindAttribute(a, "http.status_code")->int_value(), 404);
  // With the sources present, the defaults are not used.
  Attributes b;
  Put(&b, "cloud.region", "eu-west-3");
  pdata::ClientInfo client;
  client.metadata["tenant"] = {"acme"};
  p.Process(&client, &b);
  EXPECT_EQ(FindAttribute(b, "region")->string_value(), "eu-west-3");
  EXPECT_EQ(FindAttribute(b, "tenant_id")->string_value(), "acme");
}

TEST(Attraction, InsertUpdateUpsertSemantics) {
  AttrProc p = MustCreate(R"(
actions:
  - {key: present, value: new, action: insert}
  - {key: absent_insert, value: 1.5, action: insert}
  - {key: absent_update, value: x, action: update}
  - {key: updated, value: [a, 2], action: update}
  - {key: upserted, value: {k: v}, action: upsert}
  - {key: from_missing, from_attribute: nope, action: upsert}
)");
  Attributes a;
  Put(&a, "present", "old");
  Put(&a, "updated", "old");
  p.Process(nullptr, &a);
  EXPECT_EQ(Dump(a), (std::vector<std::string>{"present=old", "updated=[\"a\",2]", "absent_insert=1.5",
                                               "upserted={\"k\":\"v\"}"}));
}

TEST(Attraction, DeleteAndHashByPattern) {
  AttrProc p = MustCreate(R"(
actions:
  - {pattern: ^password, action: delete}
  - {key: email, pattern: "token$", action: hash}
)");
  Attributes a;
  Put(&a, "password", "p");
  Put(&a, "password_hint", "h");
  Put(&a, "user", "u");
  Put(&a, "email", "abc");
  PutInt(&a, "id_token", 2245);
  auto* b = a.Add();
  b->set_key("flag_token");
  b->mutable_value()->set_bool_value(true);
  auto* d = a.Add();
  d->set_key("ratio_token");
  d->mutable_value()->set_double_value(2.5);
  auto* m = a.Add();
  m->set_key("map_token");
  m->mutable_value()->mutable_kvlist_value();
  p.Process(nullptr, &a);
  // SHA-256 test vector "abc"; the others: python3 hashlib.sha256(struct.pack('<q', 2245)),
  // (b'\x01'), (struct.pack('<d', 2.5)).
  EXPECT_EQ(Dump(a),
            (std::vector<std::string>{
                "user=u", "email=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "id_token=91df0e58e24451873e480a434ac913ec45d00603e21470511a89c1e850e58c87",
                "flag_token=4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a",
                "ratio_token=5caaabe50da77f59f448b3edf650d68fbca7b858390664c251c52b3f458a881c", "map_token="}));
}

TEST(Attraction, ExtractWithNamedGroups) {
  // Upstream's documented pattern has an unnamed group ((\?|\&)), which upstream refuses.
  EXPECT_EQ(CreateError(R"(
actions:
  - key: http.url
    pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>.*)\/(?P<http_path>.*)(\?|\&)(?P<http_query_params>.*)
    action: extract
)"),
            "error creating AttrProc. Field \"pattern\" contains at least one unnamed matcher group at the 0-th "
            "actions");
  AttrProc named = MustCreate(R"(
actions:
  - key: http.url
    pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>.*)\/(?P<http_path>.*)\?(?P<http_query_params>.*)
    action: extract
)");
  Attributes a;
  Put(&a, "http.url", "http://example.com/path?queryParam1=value1,queryParam2=value2");
  Put(&a, "http_domain", "stale");
  named.Process(nullptr, &a);
  EXPECT_EQ(Dump(a), (std::vector<std::string>{"http.url=http://example.com/path?queryParam1=value1,queryParam2=value2",
                                               "http_domain=example.com", "http_protocol=http", "http_path=path",
                                               "http_query_params=queryParam1=value1,queryParam2=value2"}));
  Attributes nomatch;
  Put(&nomatch, "http.url", "not a url");
  named.Process(nullptr, &nomatch);
  EXPECT_EQ(nomatch.size(), 1);
}

TEST(Attraction, ExtractIntoItsOwnKey) {
  AttrProc p = MustCreate("actions:\n  - {key: path, pattern: '^/(?P<path>[a-z]+)', action: extract}\n");
  Attributes a;
  Put(&a, "path", "/users/42");
  p.Process(nullptr, &a);
  EXPECT_EQ(Dump(a), std::vector<std::string>{"path=users"});
}

TEST(Attraction, ConvertAsUpstream) {
  AttrProc p = MustCreate(R"(
actions:
  - {key: s2i, action: convert, converted_type: int}
  - {key: bad2i, action: convert, converted_type: int}
  - {key: d2i, action: convert, converted_type: int}
  - {key: b2i, action: convert, converted_type: int}
  - {key: s2d, action: convert, converted_type: double}
  - {key: i2d, action: convert, converted_type: double}
  - {key: i2s, action: convert, converted_type: string}
  - {key: d2s, action: convert, converted_type: string}
)");
  Attributes a;
  Put(&a, "s2i", "-123");
  Put(&a, "bad2i", "12abc");
  auto* d = a.Add();
  d->set_key("d2i");
  d->mutable_value()->set_double_value(-3.9);
  auto* b = a.Add();
  b->set_key("b2i");
  b->mutable_value()->set_bool_value(true);
  Put(&a, "s2d", "2.5");
  PutInt(&a, "i2d", 7);
  PutInt(&a, "i2s", 42);
  auto* ds = a.Add();
  ds->set_key("d2s");
  ds->mutable_value()->set_double_value(0.25);
  p.Process(nullptr, &a);
  EXPECT_EQ(FindAttribute(a, "s2i")->int_value(), -123);
  EXPECT_EQ(FindAttribute(a, "bad2i")->string_value(), "12abc");  // left as it was
  EXPECT_EQ(FindAttribute(a, "d2i")->int_value(), -3);            // truncated
  EXPECT_EQ(FindAttribute(a, "b2i")->int_value(), 1);
  EXPECT_EQ(FindAttribute(a, "s2d")->double_value(), 2.5);
  EXPECT_EQ(FindAttribute(a, "i2d")->double_value(), 7.0);
  EXPECT_EQ(FindAttribute(a, "i2s")->string_value(), "42");
  EXPECT_EQ(FindAttribute(a, "d2s")->string_value(), "0.25");
}

TEST(Attraction, FromContextReadsTheClient) {
  AttrProc p = MustCreate(R"(
actions:
  - {key: addr, from_context: client.address, action: insert}
  - {key: tenant, from_context: metadata.X-Tenant, action: upsert}
  - {key: multi, from_context: metadata.x-multi, action: upsert}
  - {key: fallback, from_context: x-tenant, action: upsert}
  - {key: user, from_context: auth.subject, action: upsert}
  - {key: none, from_context: metadata.absent, action: upsert}
)");
  pdata::ClientInfo c;
  c.address = "10.1.2.3";
  c.port = 5555;
  c.metadata["x-tenant"] = {"acme"};
  c.metadata["x-multi"] = {"a", "b"};
  c.auth["subject"] = "alice";
  Attributes a;
  p.Process(&c, &a);
  EXPECT_EQ(Dump(a),
            (std::vector<std::string>{"addr=10.1.2.3", "tenant=acme", "multi=a;b", "fallback=acme", "user=alice"}));
  Attributes none;
  p.Process(nullptr, &none);  // no client: nothing to copy
  EXPECT_EQ(none.size(), 0);
}

TEST(Attraction, ValidationMessagesAreUpstreams) {
  EXPECT_EQ(CreateError("actions:\n  - {action: insert, value: 1}\n"),
            "error creating AttrProc due to missing required field \"key\" at the 0-th actions");
  EXPECT_EQ(CreateError("actions:\n  - {key: a, action: delete}\n  - {action: hash}\n"),
            "error creating AttrProc due to missing required field (at least one of \"key\" and \"pattern\" have to "
            "be used) at the 1-th actions");
  EXPECT_EQ(CreateError("actions:\n  - {key: a, action: insert}\n"),
            "error creating AttrProc. Either field \"value\", \"from_attribute\", \"from_context\" or "
            "\"default_value\" setting must be specified for 0-th action");
  EXPECT_NE(CreateError("actions:\n  - {key: a, action: delete, default_value: 1}\n")
                .find("does not use the "
                      "\"default_value\" field"),
            std::string::npos);
  EXPECT_EQ(CreateError("actions:\n  - {key: a, action: upsert, value: 1, from_attribute: b}\n"),
            "error creating AttrProc due to multiple value sources being set at the 0-th actions");
  EXPECT_EQ(CreateError("actions:\n  - {key: a, action: update, value: 1, pattern: x}\n"),
            "error creating AttrProc. Action \"update\" does not use the \"pattern\" field. This must not be "
            "specified for 0-th action");
  EXPECT_EQ(CreateError("actions:\n  - {key: a, action: extract}\n"),
            "error creating AttrProc due to missing required field \"pattern\" for action \"extract\" at the 0-th "
            "action");
  EXPECT_EQ(CreateError("actions:\n  - {key: a, action: extract, pattern: 'ab+'}\n"),
            "error creating AttrProc. Field \"pattern\" contains no named matcher groups at the 0-th actions");
  EXPECT_NE(CreateError("actions:\n  - {key: a, action: delete, pattern: '('}\n")
                .find("Field \"pattern\" has invalid pattern: \"(\""),
            std::string::npos);
  EXPECT_EQ(CreateError("actions:\n  - {key: a, action: convert}\n"),
            "error creating AttrProc due to missing required field \"converted_type\" for action \"convert\" at the "
            "0-th action");
  EXPECT_NE(CreateError("actions:\n  - {key: a, action: convert, converted_type: bool}\n")
                .find("invalid value \"bool\" in field \"converted_type\""),
            std::string::npos);
  EXPECT_NE(CreateError("actions:\n  - {key: a, action: rename}\n").find("unsupported action \"rename\""),
            std::string::npos);
  EXPECT_EQ(CreateError("actions:\n  - {key: a, action: UPSERT, value: 1}\n"), "");  // case-insensitive
  EXPECT_NE(CreateError("actions:\n  - {key: a, action: upsert, valeu: 1}\n").find("did you mean 'value'"),
            std::string::npos);
}

}  // namespace
}  // namespace outrigger::attraction
