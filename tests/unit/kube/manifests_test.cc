// Manifests as `kubectl apply -f` reads them (the kubectl plugin's convert, the API samples test).
#include "kube/manifests.h"

#include <gtest/gtest.h>

namespace certsmith::kube {
namespace {

using Json = nlohmann::json;

TEST(ManifestsTest, YamlJsonAndListsAsKubectlReadsThem) {
  auto docs = ParseManifests(
      "apiVersion: v1\nkind: List\nitems:\n- {kind: A, n: 1, s: '1', b: true, f: 1.5, z: ~}\n"
      "- {kind: B}\n---\n---\nkind: C\n",
      "x.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[0],
            (Json{{"kind", "A"}, {"n", 1}, {"s", "1"}, {"b", true}, {"f", 1.5}, {"z", nullptr}}));
  EXPECT_EQ((*docs)[2]["kind"], "C");
  auto json = ParseManifests(R"({"kind": "List", "items": [{"kind": "D"}]})", "x.json");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)[0]["kind"], "D");
  auto bad = ParseManifests("a: [1, 2\n", "broken.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("broken.yaml: not valid YAML at line"), std::string::npos);
  EXPECT_FALSE(ParseManifests("- just\n- a list\n", "list.yaml").ok());
}

}  // namespace
}  // namespace certsmith::kube
