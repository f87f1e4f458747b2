#include "plugin/output.h"

#include <gtest/gtest.h>

#include "kube/manifests.h"

namespace certsmith::plugin {
namespace {

using Json = nlohmann::json;

TEST(YamlTest, KubectlLayout) {
  Json obj = {{"apiVersion", "certsmith.io/v1"},
              {"kind", "Certificate"},
              {"metadata", {{"name", "www"}, {"labels", Json::object()}}},
              {"spec",
               {{"dnsNames", {"a.example", "b.example"}},
                {"issuerRef", {{"name", "le"}}},
                {"solvers", {{{"http01", {{"ingress", {{"class", "nginx"}}}}}}}},
                {"usages", Json::array()}}}};
  EXPECT_EQ(ToYaml(obj),
            "apiVersion: certsmith.io/v1\n"
            "kind: Certificate\n"
            "metadata:\n"
            "  labels: {}\n"
            "  name: www\n"
            "spec:\n"
            "  dnsNames:\n"
            "  - a.example\n"
            "  - b.example\n"
            "  issuerRef:\n"
            "    name: le\n"
            "  solvers:\n"
            "  - http01:\n"
            "      ingress:\n"
            "        class: nginx\n"
            "  usages: []\n");
}

// What a YAML reader could take for another type is quoted; Go durations and names are not.
TEST(YamlTest, QuotesOnlyWhatNeedsIt) {
  for (const char* plain : {"2160h", "1h30m", "www.example.org", "ops@example.org",
                            "cert-manager.io/cluster-issuer", "RSA", "tls.key", "Z0000"}) {
    EXPECT_TRUE(IsPlainYamlString(plain)) << plain;
  }
  for (const char* quoted : {"",
                             "true",
                             "False",
                             "yes",
                             "no",
                             "on",
                             "Off",
                             "y",
                             "N",
                             "null",
                             "~",
                             "123",
                             "0x1f",
                             "0o17",
                             "1e3",
                             "1.5",
                             ".5",
                             "-1",
                             "+1",
                             "08",
                             "1_000",
                             "12:30",
                             "a: b",
                             "# no",
                             "- item",
                             "*alias",
                             "&anchor",
                             "!tag",
                             "@x",
                             "a b",
                             "https://x.example/dir",
                             "{}",
                             "[a]",
                             "'q'",
                             "\"q\"",
                             "line\nbreak",
                             "tab\t",
                             "%x",
                             "`x"}) {
    EXPECT_FALSE(IsPlainYamlString(quoted)) << quoted;
  }
}

TEST(YamlTest, EveryValueReadsBackTheSame) {
  Json values = {"true", "2160h", "0x1f",  "1e3",    "a: b", "",        "line\nbreak \"q\" \\",
                 "é ü",  "08",    "~",     "- dash", "#",    42,        3.5,
                 true,   nullptr, "12:30", "-1",     "yes",  "1.2.3.4", "{x}"};
  Json doc = {{"values", values}, {"true", "key that looks like a bool"}, {"a b", 1}};
  auto back = kube::ParseManifests(ToYaml(doc), "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], doc);
}

TEST(OutputTest, FormatsAndAges) {
  EXPECT_TRUE(CheckOutputFormat("").ok());
  EXPECT_TRUE(CheckOutputFormat("json").ok());
  EXPECT_TRUE(CheckOutputFormat("yaml").ok());
  Status bad = CheckOutputFormat("wide");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("yaml or json"), std::string::npos);
  EXPECT_EQ(ShortDuration(std::chrono::seconds(59)), "59s");
  EXPECT_EQ(ShortDuration(std::chrono::minutes(3)), "3m");
  EXPECT_EQ(ShortDuration(std::chrono::hours(5)), "5h");
  EXPECT_EQ(ShortDuration(std::chrono::hours(24 * 59)), "59d");
  const Clock::TimePoint now(std::chrono::seconds(1'000'000));
  EXPECT_EQ(Relative(now + std::chrono::hours(3), now), "in 3h");
  EXPECT_EQ(Relative(now - std::chrono::minutes(4), now), "4m ago");
}

}  // namespace
}  // namespace certsmith::plugin
