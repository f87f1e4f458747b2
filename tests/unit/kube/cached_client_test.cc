#include "kube/cached_client.h"

#include <gtest/gtest.h>

#include "kube/errors.h"
#include "kube/testing/fake_client.h"

namespace certsmith::kube {
namespace {

const ResourceRef kWidgets{"test.certsmith.io", "v1", "widgets", "Widget", true};
const ResourceRef kGadgets{"test.certsmith.io", "v1", "gadgets", "Gadget", false};

Json Widget(const std::string& name, const std::string& color = "red") {
  return {{"apiVersion", "test.certsmith.io/v1"},
          {"kind", "Widget"},
          {"metadata", {{"name", name}, {"namespace", "ns"}}},
          {"spec", {{"color", color}}}};
}

// The API server (FakeClient), an informer store filled by hand, and the client under test:
// the store plays an informer that lags behind until the test "delivers" an object.
class CachedClientTest : public ::testing::Test {
 protected:
  CachedClientTest() : cached(api, {.clock = &clock, .overlay_ttl = std::chrono::seconds(30)}) {
    api.SetStatusSubresource(kWidgets, true);
    cached.Serve(kWidgets, store, "", /*complete=*/true, [this] { return synced; });
  }

  // Creates name on the API server and delivers it to the cache; returns the stored object.
  Json Seed(const std::string& name) {
    Json created = api.Create(kWidgets, "ns", Widget(name)).value();
    Deliver(created);
    api.ClearActions();
    return created;
  }
  // The informer delivers obj.
  void Deliver(const Json& obj) {
    store.Upsert(std::make_shared<const Json>(obj));
    cached.Observed(kWidgets, obj, false);
  }
  std::vector<std::string> ApiReads() const {
    std::vector<std::string> out;
    for (const testing::Action& a : api.Actions())
      if (a.verb == "get") out.push_back(a.ToString());
    return out;
  }

  FakeClock clock;
  testing::FakeClient api{&clock};
  Store store{true};
  bool synced = true;
  CachedClient cached;
};

TEST_F(CachedClientTest, ReadsServedKindsFromTheStoreAndNeverAsksTheServer) {
  Seed("a");
  auto got = cached.Get(kWidgets, "ns", "a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["spec"]["color"], "red");
  // A complete cache knows what does not exist.
  EXPECT_TRUE(IsNotFound(cached.Get(kWidgets, "ns", "missing").status()));
  EXPECT_TRUE(ApiReads().empty());
  EXPECT_EQ(cached.stats().cache_reads, 2);
  EXPECT_EQ(cached.stats().api_reads, 0);
}

TEST_F(CachedClientTest, ReadsTheServerBeforeSyncForOtherKindsAndOutsideTheNamespace) {
  Seed("a");
  synced = false;
  EXPECT_TRUE(cached.Get(kWidgets, "ns", "a").ok());
  synced = true;
  EXPECT_TRUE(IsNotFound(cached.Get(kSecrets, "ns", "s").status()));
  CachedClient scoped(api);
  scoped.Serve(kWidgets, store, "other", true, nullptr);
  EXPECT_TRUE(scoped.Get(kWidgets, "ns", "a").ok());
  EXPECT_EQ(ApiReads(),
            (std::vector<std::string>{"get widgets ns/a", "get secrets ns/s", "get widgets ns/a"}));
}

TEST_F(CachedClientTest, OneStorePerNamespaceServesItsNamespaceOnly) {
  // --secret-namespaces: an informer per namespace, each store answering for its own.
  CachedClient per_ns(api);
  Store other{true};
  per_ns.Serve(kWidgets, store, "ns", /*complete=*/true, nullptr);
  per_ns.Serve(kWidgets, other, "elsewhere", /*complete=*/true, nullptr);
  Seed("a");
  Json far = api.Create(kWidgets, "elsewhere", Widget("far")).value();
  other.Upsert(std::make_shared<const Json>(far));
  api.Create(kWidgets, "third", Widget("t")).value();
  api.ClearActions();
  EXPECT_TRUE(per_ns.Get(kWidgets, "ns", "a").ok());
  EXPECT_TRUE(IsNotFound(per_ns.Get(kWidgets, "ns", "far").status()));  // not ns's store's
  EXPECT_TRUE(per_ns.Get(kWidgets, "elsewhere", "far").ok());
  EXPECT_TRUE(per_ns.Get(kWidgets, "third", "t").ok());  // no store: the server
  EXPECT_EQ(ApiReads(), (std::vector<std::string>{"get widgets third/t"}));
}

TEST_F(CachedClientTest, PartialCacheReadsAMissFromTheServer) {
  // A label-selected informer (e.g. only managed Secrets) cannot say an object is absent.
  CachedClient partial(api);
  partial.Serve(kWidgets, store, "", /*complete=*/false, nullptr);
  Seed("cached");
  api.Create(kWidgets, "ns", Widget("unlabelled")).value();
  api.ClearActions();
  EXPECT_TRUE(partial.Get(kWidgets, "ns", "cached").ok());
  EXPECT_TRUE(partial.Get(kWidgets, "ns", "unlabelled").ok());
  EXPECT_TRUE(IsNotFound(partial.Get(kWidgets, "ns", "missing").status()));
  EXPECT_EQ(ApiReads(),
            (std::vector<std::string>{"get widgets ns/unlabelled", "get widgets ns/missing"}));
}

// GetCached: for a caller that learns of an unlabelled object another way (AlreadyExists), a
// label-selected cache's miss is NotFound without a request; a hit and a write are still read.
TEST_F(CachedClientTest, GetCachedAnswersAPartialCacheMissWithoutTheServer) {
  CachedClient partial(api, {.clock = &clock});
  partial.Serve(kWidgets, store, "", /*complete=*/false, [this] { return synced; });
  Seed("cached");
  api.Create(kWidgets, "ns", Widget("unlabelled")).value();
  api.ClearActions();
  EXPECT_TRUE(partial.GetCached(kWidgets, "ns", "cached").ok());
  EXPECT_TRUE(IsNotFound(partial.GetCached(kWidgets, "ns", "unlabelled").status()));
  ASSERT_TRUE(partial.Create(kWidgets, "ns", Widget("mine")).ok());
  EXPECT_TRUE(partial.GetCached(kWidgets, "ns", "mine").ok());
  EXPECT_TRUE(ApiReads().empty());
  EXPECT_EQ(partial.stats().api_reads, 0);
  // Before the informer synced, or for a kind not served, the server is asked as by Get.
  synced = false;
  EXPECT_TRUE(partial.GetCached(kWidgets, "ns", "unlabelled").ok());
  EXPECT_TRUE(IsNotFound(partial.GetCached(kSecrets, "ns", "s").status()));
  EXPECT_EQ(ApiReads(), (std::vector<std::string>{"get widgets ns/unlabelled", "get secrets ns/s"}));
}

// ListCached: a complete store answers a labelled list with this client's own writes (a create
// not delivered yet is there, a delete is not), and never asks the server.
TEST_F(CachedClientTest, ListCachedReadsACompleteStoreWithItsOwnWrites) {
  Json a = Widget("a");
  a["metadata"]["labels"] = {{"owner", "web"}};
  Deliver(api.Create(kWidgets, "ns", a).value());
  Json gone = a;
  gone["metadata"]["name"] = "gone";
  Deliver(api.Create(kWidgets, "ns", gone).value());
  Json other = Widget("other");
  other["metadata"]["labels"] = {{"owner", "shop"}};
  Deliver(api.Create(kWidgets, "ns", other).value());
  Json far = a;
  far["metadata"]["name"] = "far";
  far["metadata"]["namespace"] = "elsewhere";
  Deliver(api.Create(kWidgets, "elsewhere", far).value());
  Json b = a;
  b["metadata"]["name"] = "b";
  ASSERT_TRUE(cached.Create(kWidgets, "ns", b).ok());  // not delivered
  ASSERT_TRUE(cached.Delete(kWidgets, "ns", "gone", {}).ok());  // still in the store
  api.ClearActions();
  ListOptions by_owner;
  by_owner.label_selector = "owner=web";
  auto listed = cached.ListCached(kWidgets, "ns", by_owner);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> names;
  for (const Json& o : (*listed)["items"]) names.push_back(GetName(o));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(api.Actions().empty());

  // A label-selected store cannot say what is missing: the server answers.
  CachedClient partial(api, {.clock = &clock});
  partial.Serve(kWidgets, store, "", /*complete=*/false, nullptr);
  ASSERT_TRUE(partial.ListCached(kWidgets, "ns", by_owner).ok());
  ASSERT_EQ(api.Actions().size(), 1u);
  EXPECT_EQ(api.Actions()[0].verb, "list");
}

TEST_F(CachedClientTest, ReadsItsOwnWritesBeforeTheInformerDeliversThem) {
  Json a = Seed("a");
  Json updated = a;
  updated["status"] = {{"url", "https://ca/order/1"}};
  auto written = cached.UpdateStatus(kWidgets, "ns", updated);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  // The store still holds the version before the write: the read must not go back in time.
  auto got = cached.Get(kWidgets, "ns", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["status"]["url"], "https://ca/order/1");
  EXPECT_EQ(GetResourceVersion(*got), GetResourceVersion(*written));
  EXPECT_EQ(cached.stats().remembered, 1u);
  // A create is remembered too, so a second sync does not try to create it again.
  ASSERT_TRUE(cached.Create(kWidgets, "ns", Widget("b")).ok());
  EXPECT_TRUE(cached.Get(kWidgets, "ns", "b").ok());
  // Once the informer delivers the written versions, the cache answers alone again.
  Deliver(*written);
  Deliver(api.Get(kWidgets, "ns", "b").value());
  EXPECT_EQ(cached.stats().remembered, 0u);
  EXPECT_EQ((*cached.Get(kWidgets, "ns", "a"))["status"]["url"], "https://ca/order/1");
}

TEST_F(CachedClientTest, AnInformerVersionNewerThanTheWriteWins) {
  Json a = Seed("a");
  Json mine = a;
  mine["spec"]["color"] = "blue";
  ASSERT_TRUE(cached.Update(kWidgets, "ns", mine).ok());
  // Someone else changes it after our write; the store gets their version.
  Json theirs = api.Get(kWidgets, "ns", "a").value();
  theirs["spec"]["color"] = "green";
  theirs = api.Update(kWidgets, "ns", theirs).value();
  store.Upsert(std::make_shared<const Json>(theirs));  // Observed not called yet
  EXPECT_EQ((*cached.Get(kWidgets, "ns", "a"))["spec"]["color"], "green");
  EXPECT_EQ(cached.stats().remembered, 0u);
}

TEST_F(CachedClientTest, AStaleCachedObjectMakesAnUpdateConflictInsteadOfOverwriting) {
  Json a = Seed("a");
  Json elsewhere = a;
  elsewhere["spec"]["color"] = "green";
  ASSERT_TRUE(api.Update(kWidgets, "ns", elsewhere).ok());  // not delivered yet
  Json stale = cached.Get(kWidgets, "ns", "a").value();
  stale["spec"]["color"] = "blue";
  auto r = cached.Update(kWidgets, "ns", stale);
  EXPECT_TRUE(IsConflict(r.status())) << r.status().ToString();
  EXPECT_EQ(api.Peek(kWidgets, "ns", "a").value()["spec"]["color"], "green");
}

TEST_F(CachedClientTest, AConflictForgetsARememberedWriteTheInformerNeverShows) {
  // An object outside a partial cache's selector (a user's Ingress the solver edits): only the
  // overlay knows our write, and someone else changes it afterwards.
  CachedClient partial(api, {.clock = &clock});
  partial.Serve(kWidgets, store, "", /*complete=*/false, nullptr);
  Json mine = api.Create(kWidgets, "ns", Widget("theirs")).value();
  mine["spec"]["color"] = "blue";
  mine = partial.Update(kWidgets, "ns", mine).value();
  Json other = mine;
  other["spec"]["color"] = "green";
  ASSERT_TRUE(api.Update(kWidgets, "ns", other).ok());
  mine["spec"]["color"] = "violet";
  EXPECT_TRUE(IsConflict(partial.Update(kWidgets, "ns", mine).status()));
  // The retry reads the server's version instead of the remembered one.
  EXPECT_EQ((*partial.Get(kWidgets, "ns", "theirs"))["spec"]["color"], "green");
}

TEST_F(CachedClientTest, ADeleteReadsAsNotFoundUntilTheInformerDropsIt) {
  Seed("a");
  ASSERT_TRUE(cached.Delete(kWidgets, "ns", "a", {}).ok());
  EXPECT_TRUE(IsNotFound(cached.Get(kWidgets, "ns", "a").status()));
  ObjectPtr last = store.Remove("ns/a");
  cached.Observed(kWidgets, *last, true);
  EXPECT_EQ(cached.stats().remembered, 0u);
  // Created again (a newer resourceVersion): visible as soon as the informer has it.
  Seed("a");
  EXPECT_TRUE(cached.Get(kWidgets, "ns", "a").ok());
}

TEST_F(CachedClientTest, ARecreateIsNotHiddenByTheOldIncarnationsDeletion) {
  Json old = Seed("a");
  ASSERT_TRUE(cached.Delete(kWidgets, "ns", "a", {}).ok());
  ASSERT_TRUE(cached.Create(kWidgets, "ns", Widget("a", "blue")).ok());
  // The informer now reports the old object's deletion.
  store.Remove("ns/a");
  cached.Observed(kWidgets, old, true);
  auto got = cached.Get(kWidgets, "ns", "a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["spec"]["color"], "blue");
}

TEST_F(CachedClientTest, ADeleteHeldByFinalizersLeavesNoTombstone) {
  Json w = Widget("a");
  w["metadata"]["finalizers"] = {"test.certsmith.io/cleanup"};
  Deliver(api.Create(kWidgets, "ns", w).value());
  ASSERT_TRUE(cached.Delete(kWidgets, "ns", "a", {}).ok());
  // The object still exists (deletionTimestamp set): its reconciler must still see it.
  EXPECT_TRUE(cached.Get(kWidgets, "ns", "a").ok());
}

TEST_F(CachedClientTest, RememberedWritesExpireWhenTheInformerNeverCatchesUp) {
  Json a = Seed("a");
  a["spec"]["color"] = "blue";
  ASSERT_TRUE(cached.Update(kWidgets, "ns", a).ok());
  EXPECT_EQ((*cached.Get(kWidgets, "ns", "a"))["spec"]["color"], "blue");
  clock.Advance(std::chrono::seconds(31));
  EXPECT_EQ((*cached.Get(kWidgets, "ns", "a"))["spec"]["color"], "red");
  EXPECT_EQ(cached.stats().remembered, 0u);
}

TEST_F(CachedClientTest, ClusterScopedObjectsAreKeyedByName) {
  api.SetStatusSubresource(kGadgets, true);
  Store gadgets;
  CachedClient c(api);
  c.Serve(kGadgets, gadgets, "", true, nullptr);
  Json g = {
      {"apiVersion", "test.certsmith.io/v1"}, {"kind", "Gadget"}, {"metadata", {{"name", "g"}}}};
  ASSERT_TRUE(c.Create(kGadgets, "", g).ok());
  EXPECT_TRUE(c.Get(kGadgets, "", "g").ok());
  gadgets.Upsert(std::make_shared<const Json>(api.Get(kGadgets, "", "g").value()));
  c.Observed(kGadgets, *gadgets.Get("g"), false);
  EXPECT_EQ(c.stats().remembered, 0u);
}

TEST(CompareResourceVersions, IntegersOnly) {
  EXPECT_EQ(CompareResourceVersions("9", "10"), -1);
  EXPECT_EQ(CompareResourceVersions("10", "10"), 0);
  EXPECT_EQ(CompareResourceVersions("11", "10"), 1);
  EXPECT_EQ(CompareResourceVersions("abc", "10"), std::nullopt);
  EXPECT_EQ(CompareResourceVersions("", "10"), std::nullopt);
  EXPECT_EQ(CompareResourceVersions("10x", "10"), std::nullopt);
}

TEST_F(CachedClientTest, OpaqueResourceVersionsTrustTheWriteUntilTheInformerReports) {
  CachedClient c(api);
  Store opaque;
  c.Serve(kWidgets, opaque, "", true, nullptr);
  Json a = Widget("a");
  a["metadata"]["resourceVersion"] = "v-old";
  opaque.Upsert(std::make_shared<const Json>(a));
  testing::FakeClient* fake = &api;
  fake->PrependReactor("update", "widgets",
                       [](const testing::Action& act) -> std::optional<testing::ReactorResult> {
                         Json r = act.object;
                         r["metadata"]["resourceVersion"] = "v-new";
                         return testing::ReactorResult{std::nullopt, r};
                       });
  Json mine = a;
  mine["spec"]["color"] = "blue";
  ASSERT_TRUE(c.Update(kWidgets, "ns", mine).ok());
  EXPECT_EQ((*c.Get(kWidgets, "ns", "a"))["spec"]["color"], "blue");
  c.Observed(kWidgets, a, false);
  EXPECT_EQ((*c.Get(kWidgets, "ns", "a"))["spec"]["color"], "red");
}

}  // namespace
}  // namespace certsmith::kube
