#include "kube/store.h"

#include <gtest/gtest.h>

namespace certsmith::kube {
namespace {

ObjectPtr Obj(const std::string& ns, const std::string& name, Json labels = Json::object(),
              const std::string& owner = "") {
  Json o = {{"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}}};
  if (!owner.empty()) o["metadata"]["ownerReferences"] = Json::array({{{"uid", owner}}});
  return std::make_shared<const Json>(o);
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objs) {
  std::vector<std::string> out;
  for (auto& o : objs) out.push_back(ObjectKey(*o));
  std::sort(out.begin(), out.end());
  return out;
}

class StoreTest : public ::testing::TestWithParam<bool> {};

TEST_P(StoreTest, IndexesFollowUpdatesAndRemovals) {
  Store store(GetParam());
  store.Upsert(Obj("a", "x", {{"app", "web"}}, "owner-1"));
  store.Upsert(Obj("a", "y", {{"app", "db"}}, "owner-1"));
  store.Upsert(Obj("b", "x", {{"app", "web"}}));
  EXPECT_EQ(Names(store.ByIndex(kNamespaceIndex, "a")), (std::vector<std::string>{"a/x", "a/y"}));
  EXPECT_EQ(Names(store.ByIndex(kOwnerUidIndex, "owner-1")),
            (std::vector<std::string>{"a/x", "a/y"}));
  EXPECT_EQ(Names(store.ByIndex(kLabelIndex, "app=web")),
            (std::vector<std::string>{"a/x", "b/x"}));
  // Relabel: the old index entry must go.
  ObjectPtr old = store.Upsert(Obj("a", "x", {{"app", "db"}}));
  ASSERT_TRUE(old);
  EXPECT_EQ(Names(store.ByIndex(kLabelIndex, "app=web")), (std::vector<std::string>{"b/x"}));
  EXPECT_EQ(Names(store.ByIndex(kOwnerUidIndex, "owner-1")), (std::vector<std::string>{"a/y"}));
  store.Remove("a/y");
  EXPECT_TRUE(store.ByIndex(kOwnerUidIndex, "owner-1").empty());
  EXPECT_EQ(store.Size(), 2u);
  EXPECT_TRUE(store.Get("a", "x"));
  EXPECT_FALSE(store.Get("a", "y"));
}

TEST_P(StoreTest, CustomIndexAndReplace) {
  Store store(GetParam());
  store.Upsert(Obj("a", "x"));
  store.AddIndex("name", [](const Json& o) { return std::vector<std::string>{GetName(o)}; });
  store.Upsert(Obj("b", "x"));
  EXPECT_EQ(store.ByIndex("name", "x").size(), 2u);
  auto removed = store.Replace({Obj("c", "z")});
  EXPECT_EQ(Names(removed), (std::vector<std::string>{"a/x", "b/x"}));
  EXPECT_TRUE(store.ByIndex("name", "x").empty());
  EXPECT_EQ(store.ByIndex("name", "z").size(), 1u);
  EXPECT_EQ(store.Keys(), (std::vector<std::string>{"c/z"}));
}

TEST_P(StoreTest, ObjectsRoundTripUnchanged) {
  Store store(GetParam());
  Json obj = {{"metadata", {{"namespace", "n"}, {"name", "o"}, {"labels", {{"a", "b"}}}}},
              {"data", {{"bin", "\u00e9\u0000x"}, {"n", 1.5}, {"list", {1, "two", nullptr}}}}};
  store.Upsert(std::make_shared<const Json>(obj));
  EXPECT_EQ(*store.Get("n/o"), obj);
  EXPECT_EQ(*store.List()[0], obj);
  EXPECT_EQ(*store.ByIndex(kLabelIndex, "a=b")[0], obj);
  EXPECT_EQ(*store.Remove("n/o"), obj);
  EXPECT_EQ(store.compact(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(ParsedAndCompact, StoreTest, ::testing::Bool());

}  // namespace
}  // namespace certsmith::kube
