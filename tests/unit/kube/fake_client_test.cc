#include "kube/testing/fake_client.h"

#include <gtest/gtest.h>

#include "kube/labels.h"

namespace certsmith::kube {
namespace {

using testing::FakeClient;

const ResourceRef kCertificates{"certsmith.io", "v1", "certificates", "Certificate", true};

Json Named(const std::string& ns, const std::string& name, Json labels = Json::object()) {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}},
          {"spec", {{"x", 1}}}};
}

TEST(FakeClientTest, CreateGetAndAlreadyExists) {
  FakeClient c;
  auto created = c.Create(kSecrets, "ns", Named("ns", "s"));
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE(GetUid(*created).empty());
  EXPECT_EQ(GetResourceVersion(*created), "1");
  EXPECT_EQ((*created)["kind"], "Secret");
  auto again = c.Create(kSecrets, "ns", Named("ns", "s"));
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(c.Get(kSecrets, "ns", "nope").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(c.ActionStrings(), (std::vector<std::string>{"create secrets ns/s",
                                                         "create secrets ns/s",
                                                         "get secrets ns/nope"}));
  EXPECT_EQ(c.ActionStrings({"get"}).size(), 2u);
}

TEST(FakeClientTest, StaleResourceVersionConflicts) {
  FakeClient c;
  Json obj = *c.Create(kSecrets, "ns", Named("ns", "s"));
  Json first = obj;
  obj["data"] = {{"a", "b"}};
  ASSERT_TRUE(c.Update(kSecrets, "ns", obj).ok());
  first["data"] = {{"c", "d"}};
  auto stale = c.Update(kSecrets, "ns", first);
  EXPECT_EQ(stale.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(stale.status().http_status(), 409);
  // RetryOnConflict with a re-read succeeds.
  Status st = RetryOnConflict([&]() -> Status {
    ASSIGN_OR_RETURN(Json cur, c.Get(kSecrets, "ns", "s"));
    cur["data"]["c"] = "d";
    return c.Update(kSecrets, "ns", cur).status();
  });
  EXPECT_TRUE(st.ok());
}

TEST(FakeClientTest, StatusSubresourceSemantics) {
  FakeClient c;
  Json obj = *c.Create(kCertificates, "ns", Named("ns", "c"));
  obj["status"] = {{"ready", true}};
  obj["spec"]["x"] = 2;
  Json updated = *c.Update(kCertificates, "ns", obj);
  EXPECT_FALSE(updated.contains("status"));  // Update ignores status
  EXPECT_EQ(updated["metadata"]["generation"], 2);
  updated["status"] = {{"ready", true}};
  updated["spec"]["x"] = 3;
  Json st = *c.UpdateStatus(kCertificates, "ns", updated);
  EXPECT_EQ(st["status"]["ready"], true);
  EXPECT_EQ(st["spec"]["x"], 2);  // UpdateStatus ignores spec
  EXPECT_EQ(st["metadata"]["generation"], 2);
  Json patched = *c.Patch(kCertificates, "ns", "c", PatchType::kMerge,
                          {{"status", {{"ready", false}}}}, true);
  EXPECT_EQ(patched["status"]["ready"], false);
  EXPECT_EQ(c.UpdateStatus(kSecrets, "ns", Named("ns", "s")).status().code(),
            ErrorCode::kNotFound);  // Secrets have no status subresource
}

TEST(FakeClientTest, PatchesAndSelectorsAndPagination) {
  FakeClient c;
  c.Add(kSecrets, Named("a", "s1", {{"app", "web"}}));
  c.Add(kSecrets, Named("a", "s2", {{"app", "db"}}));
  c.Add(kSecrets, Named("b", "s3", {{"app", "web"}}));
  ListOptions o;
  o.label_selector = "app=web";
  EXPECT_EQ((*c.List(kSecrets, "", o))["items"].size(), 2u);
  EXPECT_EQ((*c.List(kSecrets, "a", o))["items"].size(), 1u);
  o.label_selector = "app in (web,db),app!=db";
  EXPECT_EQ((*c.List(kSecrets, "", o))["items"].size(), 2u);
  o.label_selector = "";
  o.field_selector = "metadata.name=s2";
  EXPECT_EQ((*c.List(kSecrets, "", o))["items"].size(), 1u);
  ListOptions page;
  page.limit = 2;
  auto all = ListAll(c, kSecrets, "", page);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["items"].size(), 3u);
  EXPECT_FALSE((*all)["metadata"].contains("continue"));
  auto p = c.Patch(kSecrets, "a", "s1", PatchType::kJson,
                   Json::parse(R"([{"op":"add","path":"/data","value":{"k":"v"}}])"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)["data"]["k"], "v");
  auto bad = c.Patch(kSecrets, "a", "s1", PatchType::kJson,
                     Json::parse(R"([{"op":"remove","path":"/nope"}])"));
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(FakeClientTest, DeletePreconditionsFinalizersAndGarbageCollection) {
  FakeClient c;
  Json owner = *c.Create(kCertificates, "ns", Named("ns", "c"));
  Json child = Named("ns", "tls");
  child["metadata"]["ownerReferences"] = Json::array({{{"uid", GetUid(owner)}}});
  ASSERT_TRUE(c.Create(kSecrets, "ns", child).ok());
  DeleteOptions wrong;
  wrong.precondition_uid = "other";
  EXPECT_EQ(c.Delete(kCertificates, "ns", "c", wrong).code(), ErrorCode::kConflict);
  ASSERT_TRUE(c.Delete(kCertificates, "ns", "c").ok());
  EXPECT_FALSE(c.Peek(kSecrets, "ns", "tls"));  // collected with its owner

  Json fin = Named("ns", "f");
  fin["metadata"]["finalizers"] = Json::array({"certsmith.io/cleanup"});
  ASSERT_TRUE(c.Create(kCertificates, "ns", fin).ok());
  ASSERT_TRUE(c.Delete(kCertificates, "ns", "f").ok());
  auto pending = c.Peek(kCertificates, "ns", "f");
  ASSERT_TRUE(pending);
  EXPECT_TRUE((*pending)["metadata"].contains("deletionTimestamp"));
  (*pending)["metadata"]["finalizers"] = Json::array();
  ASSERT_TRUE(c.Update(kCertificates, "ns", *pending).ok());
  EXPECT_FALSE(c.Peek(kCertificates, "ns", "f"));
}

TEST(FakeClientTest, WatchSeesLaterChangesFilteredBySelector) {
  FakeClient c;
  ListOptions o;
  o.label_selector = "app=web";
  auto w = c.StartWatch(kSecrets, "ns", o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(c.Create(kSecrets, "ns", Named("ns", "other", {{"app", "db"}})).ok());
  ASSERT_TRUE(c.Create(kSecrets, "ns", Named("ns", "web", {{"app", "web"}})).ok());
  ASSERT_TRUE(c.Delete(kSecrets, "ns", "web").ok());
  auto e1 = (*w)->Next();
  ASSERT_TRUE(e1.ok() && *e1);
  EXPECT_EQ((*e1)->type, "ADDED");
  EXPECT_EQ(GetName((*e1)->object), "web");
  auto e2 = (*w)->Next();
  ASSERT_TRUE(e2.ok() && *e2);
  EXPECT_EQ((*e2)->type, "DELETED");
  c.CloseWatches();
  auto end = (*w)->Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
}

TEST(FakeClientTest, ReactorsInjectErrorsAndResults) {
  FakeClient c;
  c.FailNext("get", "secrets", MakeError(ErrorCode::kUnavailable, "boom"), 2);
  EXPECT_EQ(c.Get(kSecrets, "ns", "s").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(c.Get(kSecrets, "ns", "s").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(c.Get(kSecrets, "ns", "s").status().code(), ErrorCode::kNotFound);
  c.SetPostHandler([](std::string_view path, const Json&) -> Result<Json> {
    return Json{{"path", std::string(path)}};
  });
  EXPECT_EQ((*c.PostPath("/apis/x/v1/y", Json::object()))["path"], "/apis/x/v1/y");
  EXPECT_EQ(c.Actions().back().ToString(), "post /apis/x/v1/y");
}

TEST(LabelSelectorTest, ParsesAllOperatorsAndRejectsBadInput) {
  auto sel = LabelSelector::Parse("app=web, tier!=db, env in (a, b), !legacy, team");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_TRUE(sel->Matches({{"app", "web"}, {"env", "a"}, {"team", "x"}}));
  EXPECT_FALSE(sel->Matches({{"app", "web"}, {"env", "c"}, {"team", "x"}}));
  EXPECT_FALSE(sel->Matches({{"app", "web"}, {"env", "a"}, {"team", "x"}, {"legacy", "1"}}));
  EXPECT_FALSE(sel->Matches({{"app", "web"}, {"env", "a"}}));
  EXPECT_FALSE(sel->Matches({{"app", "web"}, {"env", "a"}, {"team", "x"}, {"tier", "db"}}));
  auto notin = LabelSelector::Parse("env notin (prod)");
  ASSERT_TRUE(notin.ok());
  EXPECT_TRUE(notin->Matches({}));
  EXPECT_FALSE(notin->Matches({{"env", "prod"}}));
  EXPECT_FALSE(LabelSelector::Parse("a in b").ok());
  EXPECT_FALSE(LabelSelector::Parse("a=b,,c").ok());
  EXPECT_TRUE(LabelSelector::Parse("").ok());
}

}  // namespace
}  // namespace certsmith::kube
