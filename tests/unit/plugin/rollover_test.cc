// `kubectl certsmith account rollover`: finds the issuer, writes one request, waits for the
// controller's answer about that request (the controller's side: reconcilers/
// issuer_rollover_test.cc).
#include "plugin/rollover.h"

#include <gtest/gtest.h>

#include "api/condition.h"
#include "api/resources.h"
#include "kube/testing/fake_client.h"
#include "plugin/commands.h"

namespace certsmith::plugin {
namespace {

using Json = nlohmann::json;
const Clock::TimePoint kNow{std::chrono::seconds(1'800'000'000)};

Json Issuer(const std::string& kind, const std::string& ns, const std::string& name,
            bool ready = true) {
  Json meta = {{"name", name}};
  if (!ns.empty()) meta["namespace"] = ns;
  return {{"apiVersion", "certsmith.io/v1"},
          {"kind", kind},
          {"metadata", meta},
          {"status",
           {{"conditions",
             {{{"type", "Ready"},
               {"status", ready ? "True" : "False"},
               {"message", ready ? "registered" : "EAB refused"}}}}}}};
}

TEST(ResolveIssuerTest, KindSlashNameOrAnUnambiguousName) {
  kube::testing::FakeClient kube;
  kube.Add(api::kClusterIssuers, Issuer("ClusterIssuer", "", "le"));
  kube.Add(api::kIssuers, Issuer("Issuer", "shop", "zerossl"));
  kube.Add(api::kIssuers, Issuer("Issuer", "shop", "both"));
  kube.Add(api::kClusterIssuers, Issuer("ClusterIssuer", "", "both"));
  EXPECT_EQ(ResolveIssuer(kube, "shop", "le")->res, api::kClusterIssuers);
  EXPECT_EQ(ResolveIssuer(kube, "shop", "zerossl")->res, api::kIssuers);
  EXPECT_EQ(ResolveIssuer(kube, "shop", "zerossl")->Describe(), "Issuer shop/zerossl");
  EXPECT_EQ(ResolveIssuer(kube, "shop", "clusterissuer/both")->Describe(), "ClusterIssuer both");
  EXPECT_EQ(ResolveIssuer(kube, "shop", "Issuer/both")->res, api::kIssuers);
  EXPECT_EQ(ResolveIssuer(kube, "shop", "ciss/x")->res, api::kClusterIssuers);
  Status both = ResolveIssuer(kube, "shop", "both").status();
  EXPECT_NE(both.message().find("say issuer/both or clusterissuer/both"), std::string::npos);
  EXPECT_EQ(ResolveIssuer(kube, "shop", "none").status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(ResolveIssuer(kube, "shop", "deployment/x").ok());
}

TEST(RolloverOutcomeTest, OnlyTheAnswerToThisRequestCounts) {
  Json issuer = Issuer("ClusterIssuer", "", "le");
  EXPECT_EQ(ReadRolloverOutcome(issuer, "r2").state, RolloverOutcome::kPending);
  issuer["status"]["conditions"].push_back({{"type", api::kConditionAccountKeyRollover},
                                            {"status", "True"},
                                            {"reason", "RolledOver"},
                                            {"message", "request r1: done before"}});
  EXPECT_EQ(ReadRolloverOutcome(issuer, "r2").state, RolloverOutcome::kPending);
  issuer["status"]["conditions"][1]["message"] = "request r2: waiting";
  issuer["status"]["conditions"][1]["status"] = "Unknown";
  EXPECT_EQ(ReadRolloverOutcome(issuer, "r2").state, RolloverOutcome::kInProgress);
  issuer["status"]["conditions"][1]["status"] = "False";
  issuer["status"]["conditions"][1]["message"] = "request r2: the CA refused the new key";
  RolloverOutcome failed = ReadRolloverOutcome(issuer, "r2");
  EXPECT_EQ(failed.state, RolloverOutcome::kFailed);
  EXPECT_EQ(failed.message, "the CA refused the new key");
}

class RolloverCommandTest : public ::testing::Test {
 protected:
  RolloverCommandTest() : clock(kNow) {
    kube.Add(api::kClusterIssuers, Issuer("ClusterIssuer", "", "le"));
    s.client = &kube;
    s.ns = "shop";
    s.clock = &clock;
    s.options.args = {"rollover", "le"};
    s.options.timeout = std::chrono::seconds(10);
  }
  std::string Requested() {
    return kube.Peek(api::kClusterIssuers, "", "le")
        ->value("metadata", Json::object())
        .value("annotations", Json::object())
        .value(api::kAccountKeyRolloverAnnotation, "");
  }
  // The controller answering the request after `after` polls.
  void ControllerAnswers(int after, const std::string& status, const std::string& text) {
    s.sleep = [this, after, status, text](std::chrono::milliseconds d) {
      clock.Advance(d);
      if (++polls != after) return;
      Json issuer = *kube.Peek(api::kClusterIssuers, "", "le");
      issuer["status"]["conditions"].push_back(
          {{"type", api::kConditionAccountKeyRollover},
           {"status", status},
           {"reason", status == "True" ? "RolledOver" : "Failed"},
           {"message", "request " + Requested() + ": " + text}});
      ASSERT_TRUE(kube.UpdateStatus(api::kClusterIssuers, "", issuer).ok());
    };
  }
  int RunCommand() {
    std::istringstream in;
    Io io{in, out, err};
    return RunAccountRollover(s, io);
  }

  FakeClock clock;
  kube::testing::FakeClient kube;
  Session s;
  int polls = 0;
  std::ostringstream out, err;
};

TEST_F(RolloverCommandTest, WritesOneRequestAndReportsTheControllersAnswer) {
  ControllerAnswers(2, "True", "the ACME account now uses a new key (SHA-256 ab12)");
  EXPECT_EQ(RunCommand(), 0) << err.str();
  EXPECT_FALSE(Requested().empty());
  EXPECT_NE(out.str().find("Done: the ACME account now uses a new key (SHA-256 ab12)"),
            std::string::npos)
      << out.str();
  int patches = 0;
  for (const auto& a : kube.Actions()) patches += a.verb == "patch";
  EXPECT_EQ(patches, 1);
}

TEST_F(RolloverCommandTest, ARefusalIsAFailure) {
  ControllerAnswers(1, "False", "the account key Secret is also used by ClusterIssuer b");
  EXPECT_EQ(RunCommand(), 1);
  EXPECT_NE(err.str().find("Failed: the account key Secret is also used"), std::string::npos);
}

TEST_F(RolloverCommandTest, NoAnswerWithinTheTimeoutSaysTheRequestStays) {
  s.sleep = [this](std::chrono::milliseconds d) { clock.Advance(d); };
  EXPECT_EQ(RunCommand(), 1);
  EXPECT_NE(err.str().find("the request stays"), std::string::npos);
  EXPECT_NE(err.str().find("check api"), std::string::npos);
  EXPECT_FALSE(Requested().empty());
}

TEST_F(RolloverCommandTest, AnIssuerThatIsNotReadyIsNotAsked) {
  kube.Add(api::kClusterIssuers, Issuer("ClusterIssuer", "", "broken", false));
  s.options.args = {"rollover", "clusterissuer/broken"};
  EXPECT_EQ(RunCommand(), 1);
  EXPECT_NE(err.str().find("is not Ready: EAB refused"), std::string::npos);
  for (const auto& a : kube.Actions()) EXPECT_NE(a.verb, "patch");
}

}  // namespace
}  // namespace certsmith::plugin
