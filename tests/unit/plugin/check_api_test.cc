#include "plugin/check_api.h"

#include <gtest/gtest.h>

#include "api/resources.h"
#include "kube/testing/fake_client.h"
#include "kube/time_format.h"
#include "plugin/commands.h"

namespace certsmith::plugin {
namespace {

using Json = nlohmann::json;
const Clock::TimePoint kNow{std::chrono::seconds(1'800'000'000)};

Json Lease(const std::string& holder, Clock::TimePoint renewed, int duration = 15) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", "certsmith-controller"}, {"namespace", "certsmith"}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", duration},
            {"renewTime", kube::FormatMicroTime(renewed)}}}};
}

TEST(LeaseFreshnessTest, AFreshLeaseMeansAnsweringAndSaysWho) {
  Json fresh = Lease("pod-a_123", kNow - std::chrono::seconds(2));
  auto item = LeaseFreshness(&fresh, "certsmith/certsmith-controller", kNow);
  EXPECT_TRUE(item.ok);
  EXPECT_NE(item.message.find("pod-a_123 holds the leader Lease"), std::string::npos);
  // Within the lease duration plus the clock skew allowance: still answering.
  Json late = Lease("pod-a_123", kNow - std::chrono::seconds(19));
  EXPECT_TRUE(LeaseFreshness(&late, "x", kNow).ok);
  Json expired = Lease("pod-a_123", kNow - std::chrono::minutes(5));
  auto stale = LeaseFreshness(&expired, "x", kNow);
  EXPECT_FALSE(stale.ok);
  EXPECT_NE(stale.message.find("5m ago and has expired"), std::string::npos) << stale.message;
  Json released = Lease("", kNow);
  EXPECT_FALSE(LeaseFreshness(&released, "x", kNow).ok);
  auto none = LeaseFreshness(nullptr, "certsmith/certsmith-controller", kNow);
  EXPECT_FALSE(none.ok);
  EXPECT_NE(none.message.find("--leader-elect=false"), std::string::npos);
}

TEST(CheckApiTest, EveryKindServedAndTheController) {
  kube::testing::FakeClient kube;
  kube.Add(kube::kLeases, Lease("pod-a", kNow - std::chrono::seconds(1)));
  ApiCheck check = CheckApi(kube, "shop", "certsmith", kNow);
  EXPECT_TRUE(check.ok());
  ASSERT_EQ(check.items.size(), 6u);
  EXPECT_EQ(check.items[0].what, "certificates.certsmith.io");
  EXPECT_EQ(check.items[3].what, "orders.acme.certsmith.io");
  // Namespaced kinds are listed where the user works (RBAC may allow only that).
  bool listed_in_shop = false;
  for (const auto& a : kube.Actions()) {
    if (a.verb == "list" && a.resource.resource == "certificates") listed_in_shop = a.ns == "shop";
  }
  EXPECT_TRUE(listed_in_shop);
  EXPECT_EQ(check.ToJson()["ok"], true);
}

TEST(CheckApiTest, AMissingCrdOrAForbiddenListSaysWhich) {
  kube::testing::FakeClient kube;
  kube.Add(kube::kLeases, Lease("pod-a", kNow));
  kube.FailNext("list", "orders", Status(ErrorCode::kNotFound, "the server could not find"));
  kube.FailNext("list", "challenges", Status(ErrorCode::kPermissionDenied, "forbidden"));
  ApiCheck check = CheckApi(kube, "shop", "certsmith", kNow);
  EXPECT_FALSE(check.ok());
  EXPECT_NE(check.items[3].message.find("not installed"), std::string::npos);
  EXPECT_NE(check.items[4].message.find("cannot tell"), std::string::npos);
  EXPECT_TRUE(check.items[0].ok);
}

TEST(CheckApiTest, WaitKeepsCheckingUntilTheControllerAnswers) {
  kube::testing::FakeClient kube;
  FakeClock clock(kNow);
  Session s;
  s.client = &kube;
  s.ns = "shop";
  s.clock = &clock;
  s.options.wait = std::chrono::seconds(30);
  int slept = 0;
  s.sleep = [&](std::chrono::milliseconds d) {
    clock.Advance(d);
    if (++slept == 3) kube.Add(kube::kLeases, Lease("pod-a", clock.Now()));
  };
  std::istringstream in;
  std::ostringstream out, err;
  Io io{in, out, err};
  EXPECT_EQ(RunCheckApi(s, io), 0);
  EXPECT_EQ(slept, 3);
  EXPECT_NE(out.str().find("ok    controller"), std::string::npos) << out.str();
  // Without --wait, one look: no Lease is a failure.
  kube::testing::FakeClient empty;
  s.client = &empty;
  s.options.wait = std::chrono::seconds(0);
  std::ostringstream out2;
  Io io2{in, out2, err};
  EXPECT_EQ(RunCheckApi(s, io2), 1);
  EXPECT_NE(out2.str().find("FAIL  controller"), std::string::npos);
}

}  // namespace
}  // namespace certsmith::plugin
