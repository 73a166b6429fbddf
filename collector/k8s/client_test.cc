// The Kubernetes client and Informer against the fake API server: list (paged), watch
// with bookmarks, resume after a dropped connection, 410 Gone -> relist, 401 (and a
// rotated token file), 403, timeouts, malformed watch lines, in-cluster configuration.

#include "collector/k8s/client.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "collector/k8s/fake_api_server.h"
#include "tests/testutil/testutil.h"

namespace outrigger::k8s {
namespace {

using nlohmann::json;

json Pod(const std::string& name, const std::string& ip, const std::string& node = "node-1") {
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
          {"spec", {{"nodeName", node}}},
          {"status", {{"podIP", ip}}}};
}

// Keeps name -> podIP.
class MapHandler : public Handler {
 public:
  void Replace(std::vector<json>&& items) override {
    std::lock_guard<std::mutex> lock(mu);
    pods.clear();
    for (auto& i : items)
      pods[std::string(StringAt(i, {"metadata", "name"}))] = std::string(StringAt(i, {"status", "podIP"}));
    replaces++;
  }
  void Apply(EventType t, json&& o) override {
    std::lock_guard<std::mutex> lock(mu);
    std::string name(StringAt(o, {"metadata", "name"}));
    if (t == EventType::kDeleted) {
      pods.erase(name);
    } else {
      pods[name] = std::string(StringAt(o, {"status", "podIP"}));
    }
  }
  std::map<std::string, std::string> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return pods;
  }
  std::mutex mu;
  std::map<std::string, std::string> pods;
  int replaces = 0;
};

InformerOptions Fast(const std::string& path) {
  InformerOptions o;
  o.path = path;
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(100);
  return o;
}

std::shared_ptr<Client> ClientFor(const testing::FakeApiServer& s, const std::string& token = "") {
  ClusterConfig c;
  c.server = s.url();
  c.token = token;
  return std::make_shared<Client>(c);
}

TEST(K8sClient, ListThenWatchAddModifyDelete) {
  testing::FakeApiServer server;
  server.Add("/api/v1/pods", Pod("a", "10.0.0.1"));
  server.Add("/api/v1/pods", Pod("b", "10.0.0.2"));
  MapHandler h;
  Informer inf(ClientFor(server), Fast("/api/v1/pods"), &h, nullptr);
  inf.Start();
  ASSERT_TRUE(inf.WaitSynced(absl::Seconds(10)));
  EXPECT_EQ(h.Get(), (std::map<std::string, std::string>{{"a", "10.0.0.1"}, {"b", "10.0.0.2"}}));
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  server.Add("/api/v1/pods", Pod("c", "10.0.0.3"));
  json b = Pod("b", "10.0.0.9");
  server.Modify("/api/v1/pods", b);
  server.Delete("/api/v1/pods", "a");
  ASSERT_TRUE(
      testutil::WaitFor([&] { return h.Get().size() == 2 && h.Get().count("c") && h.Get()["b"] == "10.0.0.9"; }));
  EXPECT_EQ(inf.stats().events.load(), 3u);
  EXPECT_GE(server.CountRequests("allowWatchBookmarks=true"), 1u);
  inf.Stop();
}

TEST(K8sClient, PagedList) {
  testing::FakeApiServer server;
  for (int i = 0; i < 5; ++i) server.Add("/api/v1/pods", Pod("p" + std::to_string(i), "10.0.1." + std::to_string(i)));
  MapHandler h;
  InformerOptions o = Fast("/api/v1/pods");
  o.page_size = 2;
  Informer inf(ClientFor(server), o, &h, nullptr);
  inf.Start();
  ASSERT_TRUE(inf.WaitSynced(absl::Seconds(10)));
  EXPECT_EQ(h.Get().size(), 5u);
  EXPECT_EQ(server.CountRequests("continue="), 2u);  // pages 2 and 3
}

TEST(K8sClient, BookmarkAdvancesResumeVersionAfterDroppedConnection) {
  testing::FakeApiServer server;
  server.Add("/api/v1/pods", Pod("a", "10.0.0.1"));
  MapHandler h;
  Informer inf(ClientFor(server), Fast("/api/v1/pods"), &h, nullptr);
  inf.Start();
  ASSERT_TRUE(inf.WaitSynced(absl::Seconds(10)));
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  // Changes elsewhere (another collection) move the version; the bookmark tells us.
  server.Add("/api/v1/namespaces", json{{"metadata", {{"name", "x"}}}});
  server.Add("/api/v1/namespaces", json{{"metadata", {{"name", "y"}}}});
  int64_t rv = server.resource_version();
  server.Bookmark("/api/v1/pods");
  ASSERT_TRUE(testutil::WaitFor([&] { return inf.stats().bookmarks.load() == 1; }));
  server.DropWatches();
  ASSERT_TRUE(testutil::WaitFor([&] { return server.CountRequests("resourceVersion=" + std::to_string(rv)) == 1; }));
  // Still following after the reconnection, without a new list.
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  server.Add("/api/v1/pods", Pod("b", "10.0.0.2"));
  ASSERT_TRUE(testutil::WaitFor([&] { return h.Get().count("b") == 1; }));
  EXPECT_EQ(inf.stats().lists.load(), 1u);
  EXPECT_GE(inf.stats().watches.load(), 2u);
}

TEST(K8sClient, GoneRelists) {
  testing::FakeApiServer server;
  server.Add("/api/v1/pods", Pod("a", "10.0.0.1"));
  MapHandler h;
  Informer inf(ClientFor(server), Fast("/api/v1/pods"), &h, nullptr);
  inf.Start();
  ASSERT_TRUE(inf.WaitSynced(absl::Seconds(10)));
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  server.CompactHistory();
  server.DropWatches();
  // The rewatch from the old version gets ERROR 410: the informer lists again.
  ASSERT_TRUE(testutil::WaitFor([&] { return inf.stats().gone.load() == 1 && inf.stats().lists.load() == 2; }));
  EXPECT_EQ(h.replaces, 2);
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  server.Delete("/api/v1/pods", "a");
  ASSERT_TRUE(testutil::WaitFor([&] { return h.Get().empty(); }));
}

TEST(K8sClient, UnauthorizedUntilTheTokenFileRotates) {
  testing::FakeApiServer server;
  server.SetToken("good");
  server.Add("/api/v1/pods", Pod("a", "10.0.0.1"));
  auto dir = std::filesystem::temp_directory_path() / ("k8s-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto token_file = (dir / "token").string();
  std::ofstream(token_file) << "stale\n";
  ClusterConfig c;
  c.server = server.url();
  c.token_file = token_file;
  auto client = std::make_shared<Client>(c);
  auto got = client->Get("/api/v1/pods", absl::Seconds(5));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(got.status().message().find("Unauthorized"), std::string_view::npos);
  MapHandler h;
  Informer inf(client, Fast("/api/v1/pods"), &h, nullptr);
  inf.Start();
  ASSERT_TRUE(testutil::WaitFor([&] { return inf.stats().errors.load() >= 2; }));
  EXPECT_FALSE(inf.Synced());
  EXPECT_NE(inf.last_error().find("401"), std::string::npos);
  std::ofstream(token_file) << "good\n";  // the kubelet rotated the projected token
  ASSERT_TRUE(inf.WaitSynced(absl::Seconds(10)));
  EXPECT_EQ(h.Get().size(), 1u);
  inf.Stop();
  std::filesystem::remove_all(dir);
}

TEST(K8sClient, ForbiddenIsReportedAndRetried) {
  testing::FakeApiServer server;
  server.Forbid("/api/v1/pods");
  auto got = ClientFor(server)->Get("/api/v1/pods", absl::Seconds(5));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(got.status().message().find("cannot list resource"), std::string_view::npos);
  MapHandler h;
  Informer inf(ClientFor(server), Fast("/api/v1/pods"), &h, nullptr);
  inf.Start();
  ASSERT_TRUE(testutil::WaitFor([&] { return inf.stats().errors.load() >= 3; }));
  EXPECT_FALSE(inf.Synced());
}

TEST(K8sClient, HungServerTimesOut) {
  testing::FakeApiServer server;
  server.SetHang(true);
  auto got = ClientFor(server)->Get("/api/v1/pods", absl::Milliseconds(300));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  server.SetHang(false);
  EXPECT_TRUE(ClientFor(server)->Get("/api/v1/pods", absl::Seconds(5)).ok());
}

TEST(K8sClient, MalformedWatchLineRewatches) {
  testing::FakeApiServer server;
  MapHandler h;
  Informer inf(ClientFor(server), Fast("/api/v1/pods"), &h, nullptr);
  inf.Start();
  ASSERT_TRUE(inf.WaitSynced(absl::Seconds(10)));
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  server.SendRaw("/api/v1/pods", "{not json");
  ASSERT_TRUE(testutil::WaitFor([&] { return inf.stats().errors.load() == 1; }));
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1 && inf.stats().watches.load() >= 2; }));
  server.Add("/api/v1/pods", Pod("z", "10.0.0.26"));
  ASSERT_TRUE(testutil::WaitFor([&] { return h.Get().count("z") == 1; }));
}

TEST(K8sClient, NodeFieldSelectorAndStopWhileWatching) {
  testing::FakeApiServer server;
  server.Add("/api/v1/pods", Pod("mine", "10.0.0.1", "node-1"));
  server.Add("/api/v1/pods", Pod("other", "10.0.0.2", "node-2"));
  MapHandler h;
  InformerOptions o = Fast("/api/v1/pods");
  o.field_selector = "spec.nodeName=node-1";
  Informer inf(ClientFor(server), o, &h, nullptr);
  inf.Start();
  ASSERT_TRUE(inf.WaitSynced(absl::Seconds(10)));
  EXPECT_EQ(h.Get().size(), 1u);
  EXPECT_EQ(h.Get().count("mine"), 1u);
  EXPECT_GE(server.CountRequests("fieldSelector=spec.nodeName%3Dnode-1"), 1u);
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  inf.Stop();  // returns although the watch is open
  EXPECT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 0; }));
}

TEST(K8sClient, InClusterConfig) {
  auto dir = std::filesystem::temp_directory_path() / ("k8s-sa-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "t0k3n\n";
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(InClusterConfig().status().code(), absl::StatusCode::kFailedPrecondition);
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  ::setenv(kServiceAccountDirEnv, dir.c_str(), 1);
  auto c = InClusterConfig();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, (dir / "token").string());
  EXPECT_EQ(c->ca_file, (dir / "ca.crt").string());
  ::setenv(kTestPlainHttpEnv, "1", 1);
  c = InClusterConfig();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server, "http://10.96.0.1:443");
  ::unsetenv(kTestPlainHttpEnv);
  ::unsetenv(kServiceAccountDirEnv);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace outrigger::k8s
