// `kubectl certsmith renew` writes the request the controller honours once: "newer than the
// revision you have now".
#include "plugin/renew.h"

#include <gtest/gtest.h>

#include "kube/errors.h"
#include "unit/plugin/plugin_test_util.h"

namespace certsmith::plugin {
namespace {

using namespace testing;

std::string RenewAnnotation(kube::testing::FakeClient& kube, const std::string& ns,
                            const std::string& name) {
  Json cert = *kube.Peek(api::kCertificates, ns, name);
  return cert["metadata"]
      .value("annotations", Json::object())
      .value(api::kRenewRevisionAnnotation, "");
}

Json Named(const std::string& ns, const std::string& name, int64_t revision, Json labels) {
  Json c = Certificate(revision);
  c["metadata"] = {{"name", name}, {"namespace", ns}, {"labels", labels}};
  return c;
}

TEST(RenewTest, AsksForACertificateNewerThanTheCurrentRevision) {
  kube::testing::FakeClient kube;
  kube.Add(api::kCertificates, Certificate(2));
  auto revision = RequestRenewal(kube, "shop", "www");
  ASSERT_TRUE(revision.ok()) << revision.status().ToString();
  EXPECT_EQ(*revision, 2);
  EXPECT_EQ(RenewAnnotation(kube, "shop", "www"), "2");
  // A merge patch conditional on the resourceVersion read, on metadata only (no status write).
  auto actions = kube.Actions();
  ASSERT_EQ(actions.back().verb, "patch");
  EXPECT_TRUE(actions.back().subresource.empty());
  EXPECT_TRUE(actions.back().object["metadata"].contains("resourceVersion"));
  EXPECT_FALSE(actions.back().object.contains("status"));
  // Asked again before the controller is done: the same request, so still one issuance.
  ASSERT_TRUE(RequestRenewal(kube, "shop", "www").ok());
  EXPECT_EQ(RenewAnnotation(kube, "shop", "www"), "2");
}

TEST(RenewTest, NeverIssuedCertificatesAskForRevisionZero) {
  kube::testing::FakeClient kube;
  Json cert = Certificate();
  cert.erase("status");
  kube.Add(api::kCertificates, cert);
  EXPECT_EQ(*RequestRenewal(kube, "shop", "www"), 0);
  EXPECT_EQ(RenewAnnotation(kube, "shop", "www"), "0");
}

TEST(RenewTest, AConcurrentChangeIsReadAgain) {
  kube::testing::FakeClient kube;
  kube.Add(api::kCertificates, Certificate(2));
  kube.FailNext("patch", "certificates",
                Status(ErrorCode::kConflict, "the object has been modified"));
  ASSERT_TRUE(RequestRenewal(kube, "shop", "www").ok());
  EXPECT_EQ(RenewAnnotation(kube, "shop", "www"), "2");
}

TEST(RenewTest, AllOrBySelectorInOneOrEveryNamespace) {
  kube::testing::FakeClient kube;
  kube.Add(api::kCertificates, Named("shop", "a", 1, {{"app", "web"}}));
  kube.Add(api::kCertificates, Named("shop", "b", 4, {{"app", "db"}}));
  kube.Add(api::kCertificates, Named("blog", "c", 0, {{"app", "web"}}));
  RenewResult selected = RequestRenewals(kube, "shop", {}, "app=web", false);
  EXPECT_TRUE(selected.errors.empty());
  EXPECT_EQ(selected.requested, (std::vector<std::string>{"shop/a (newer than revision 1)"}));
  EXPECT_EQ(RenewAnnotation(kube, "shop", "b"), "");
  RenewResult everywhere = RequestRenewals(kube, "", {}, "app=web", true);
  EXPECT_EQ(everywhere.requested.size(), 2u);
  EXPECT_EQ(RenewAnnotation(kube, "blog", "c"), "0");
  RenewResult all = RequestRenewals(kube, "shop", {}, "", false);
  EXPECT_EQ(all.requested.size(), 2u);
  EXPECT_EQ(RenewAnnotation(kube, "shop", "b"), "4");
  RenewResult none = RequestRenewals(kube, "shop", {}, "app=nothing", false);
  ASSERT_EQ(none.errors.size(), 1u);
  EXPECT_NE(none.errors[0].find("no certificates found in namespace shop matching app=nothing"),
            std::string::npos);
}

TEST(RenewTest, NamesThatDoNotExistAreErrorsAndTheOthersGoOn) {
  kube::testing::FakeClient kube;
  kube.Add(api::kCertificates, Named("shop", "a", 1, Json::object()));
  RenewResult r = RequestRenewals(kube, "shop", {"missing", "a"}, "", false);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "certificate shop/missing not found");
  EXPECT_EQ(r.requested.size(), 1u);
}

}  // namespace
}  // namespace certsmith::plugin
