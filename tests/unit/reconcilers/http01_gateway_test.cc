// http-01 through a Gateway API HTTPRoute (http01.gatewayHTTPRoute): the route's shape, the wait
// for every parent Gateway to accept it, a refusal shown in the Gateway's words, cleanup, and
// the Challenge's word when --enable-gateway-api is off or the API is not installed.
#include "challenges/challenge_reconciler.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

constexpr char kAuthz[] = "https://ca.test/acme/authz/1";
constexpr char kChallengeUrl[] = "https://ca.test/chall/1";

class Http01GatewayTest : public ReconcilerTest {
 protected:
  Http01GatewayTest() : reconciler(ctx) {
    ctx.options.enable_gateway_api = true;
    AddReadyIssuer();
  }
  SyncResult Sync() { return reconciler.Sync("default/ch-1"); }
  api::Challenge Challenge() {
    return api::Challenge::FromJson(*kube.Peek(api::kChallenges, "default", "ch-1")).value();
  }
  void AddChallenge(Json parent_refs) {
    kube.Add(api::kChallenges,
             {{"apiVersion", "acme.certsmith.io/v1"},
              {"kind", "Challenge"},
              {"metadata", {{"name", "ch-1"}, {"namespace", "default"}}},
              {"spec",
               {{"url", kChallengeUrl},
                {"authorizationURL", kAuthz},
                {"dnsName", "a.example"},
                {"type", "http-01"},
                {"token", "tok_1"},
                {"key", "tok_1.thumbprint"},
                {"solver",
                 {{"http01",
                   {{"gatewayHTTPRoute",
                     {{"parentRefs", parent_refs},
                      {"serviceType", "NodePort"},
                      {"labels", {{"expose", "acme"}}},
                      {"podTemplate", {{"spec", {{"nodeSelector", {{"pool", "edge"}}}}}}}}}}}}},
                {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}}});
  }
  void MarkSolverPodsReady() {
    for (Json pod : kube.All(kube::kPods)) {
      pod["status"] = {{"phase", "Running"},
                       {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}};
      ASSERT_TRUE(kube.UpdateStatus(kube::kPods, "default", pod).ok());
    }
  }
  // What a Gateway implementation writes: one RouteParentStatus per parent.
  void SetRouteParents(const Json& parents) {
    for (Json route : kube.All(kube::kHTTPRoutes)) {
      route["status"] = {{"parents", parents}};
      ASSERT_TRUE(kube.UpdateStatus(kube::kHTTPRoutes, "default", route).ok());
    }
  }
  static Json Parent(const std::string& name, const std::string& ns, const std::string& section,
                     const std::string& status, const std::string& reason,
                     const std::string& message = "") {
    Json ref = {{"group", "gateway.networking.k8s.io"}, {"kind", "Gateway"}, {"name", name}};
    if (!ns.empty()) ref["namespace"] = ns;
    if (!section.empty()) ref["sectionName"] = section;
    return Json{{"parentRef", ref},
                {"controllerName", "example.net/gateway"},
                {"conditions", Json::array({Json{{"type", "Accepted"},
                                                 {"status", status},
                                                 {"reason", reason},
                                                 {"message", message}}})}};
  }
  size_t SolverObjects() {
    return kube.All(kube::kPods).size() + kube.All(kube::kServices).size() +
           kube.All(kube::kHTTPRoutes).size() + kube.All(kube::kIngresses).size();
  }
  void Authorization(acme::AuthorizationStatus st, acme::ChallengeStatus cs) {
    acme::Authorization a;
    a.url = kAuthz;
    a.identifier = acme::DnsIdentifier("a.example");
    a.status = st;
    acme::Challenge c;
    c.url = kChallengeUrl;
    c.type = "http-01";
    c.status = cs;
    c.token = "tok_1";
    a.challenges = {c};
    a.next_poll = clock.Now() + std::chrono::seconds(2);
    acme->authorizations[kAuthz] = a;
  }

  ChallengeReconciler reconciler;
};

const Json kTwoParents = Json::array({Json{{"name", "public"}, {"namespace", "infra"}},
                                      Json{{"name", "internal"}, {"sectionName", "http"}}});

TEST_F(Http01GatewayTest, TheSolverIsAPodAServiceAndAnHTTPRoute) {
  AddChallenge(kTwoParents);
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(kube.All(kube::kPods).size(), 1u);
  ASSERT_EQ(kube.All(kube::kServices).size(), 1u);
  EXPECT_TRUE(kube.All(kube::kIngresses).empty());
  ASSERT_EQ(kube.All(kube::kHTTPRoutes).size(), 1u);
  const Json route = kube.All(kube::kHTTPRoutes)[0];
  const std::string name = route["metadata"]["name"];
  EXPECT_EQ(route["apiVersion"], "gateway.networking.k8s.io/v1");
  EXPECT_EQ(route["kind"], "HTTPRoute");
  EXPECT_EQ(route["metadata"]["labels"]["expose"], "acme");
  EXPECT_EQ(route["metadata"]["labels"]["acme.certsmith.io/http01-solver"], "true");
  EXPECT_EQ(route["metadata"]["ownerReferences"][0]["kind"], "Challenge");
  EXPECT_EQ(route["metadata"]["ownerReferences"][0]["blockOwnerDeletion"], true);
  EXPECT_EQ(route["spec"]["parentRefs"], kTwoParents);
  EXPECT_EQ(route["spec"]["hostnames"], Json::array({"a.example"}));
  ASSERT_EQ(route["spec"]["rules"].size(), 1u);
  const Json rule = route["spec"]["rules"][0];
  EXPECT_EQ(rule["matches"], Json::parse(R"([{"path":{"type":"Exact",
            "value":"/.well-known/acme-challenge/tok_1"}}])"));
  EXPECT_EQ(rule["backendRefs"][0]["name"], name);
  EXPECT_EQ(rule["backendRefs"][0]["port"], 8089);
  EXPECT_EQ(kube.All(kube::kServices)[0]["metadata"]["name"], name);
  EXPECT_EQ(kube.All(kube::kServices)[0]["spec"]["type"], "NodePort");
  EXPECT_EQ(kube.All(kube::kPods)[0]["spec"]["nodeSelector"]["pool"], "edge");
}

// The CA is asked only once every parent Gateway has accepted the route (and the Pod is Ready);
// the route goes with the other solver objects when the Challenge is valid.
TEST_F(Http01GatewayTest, WaitsForEveryParentToAcceptThenCleansUp) {
  AddChallenge(kTwoParents);
  ASSERT_TRUE(Sync().status.ok());
  MarkSolverPodsReady();
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(acme->calls.empty()) << "no parent has accepted the route yet";
  EXPECT_NE(Challenge().status.reason.find("infra/public, default/internal/http"),
            std::string::npos)
      << Challenge().status.reason;
  // One parent accepts; the other's listener status is for another sectionName: still waiting.
  SetRouteParents(Json::array({Parent("public", "infra", "", "True", "Accepted"),
                               Parent("internal", "", "https", "True", "Accepted")}));
  r = Sync();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_TRUE(acme->calls.empty());
  SetRouteParents(Json::array({Parent("public", "infra", "", "True", "Accepted"),
                               Parent("internal", "default", "http", "True", "Accepted")}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls,
            (std::vector<std::string>{std::string("RespondToChallenge ") + kChallengeUrl}));
  EXPECT_TRUE(api::IsConditionTrue(Challenge().status.conditions, "SolverReady"));
  Authorization(acme::AuthorizationStatus::kValid, acme::ChallengeStatus::kValid);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Challenge().status.state, api::OrderState::kValid);
  EXPECT_EQ(SolverObjects(), 0u);
}

// Someone edits the solver's HTTPRoute: the next sync puts back what the Challenge needs. A
// route in which the API server only filled in defaults is left alone.
TEST_F(Http01GatewayTest, AnEditedRouteIsPutBackAndServerDefaultsAreLeftAlone) {
  AddChallenge(kTwoParents);
  ASSERT_TRUE(Sync().status.ok());
  auto route_updates = [&] {
    size_t n = 0;
    for (const std::string& w : Writes()) n += w.rfind("update httproutes", 0) == 0;
    return n;
  };
  Json route = kube.All(kube::kHTTPRoutes)[0];
  for (Json& ref : route["spec"]["parentRefs"]) {
    ref["group"] = "gateway.networking.k8s.io";
    ref["kind"] = "Gateway";
  }
  route["metadata"]["labels"]["team"] = "edge";
  ASSERT_TRUE(kube.Update(kube::kHTTPRoutes, "default", route).ok());
  const size_t before = route_updates();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(route_updates(), before) << "defaults and extra labels are not drift";

  route = kube.All(kube::kHTTPRoutes)[0];
  route["spec"]["parentRefs"] = Json::array({Json{{"name", "elsewhere"}}});
  route["spec"]["hostnames"] = Json::array({"b.example"});
  route["metadata"]["labels"].erase("expose");
  ASSERT_TRUE(kube.Update(kube::kHTTPRoutes, "default", route).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(route_updates(), before + 2);  // the test's edit and the repair
  const Json repaired = kube.All(kube::kHTTPRoutes)[0];
  EXPECT_EQ(repaired["spec"]["parentRefs"], kTwoParents);
  EXPECT_EQ(repaired["spec"]["hostnames"], Json::array({"a.example"}));
  EXPECT_EQ(repaired["metadata"]["labels"]["expose"], "acme");
  EXPECT_EQ(repaired["metadata"]["labels"]["team"], "edge");
  EXPECT_TRUE(acme->calls.empty());
}

// Two parentRefs to one Gateway that differ only in their port: each needs its own acceptance.
TEST_F(Http01GatewayTest, ParentRefsThatDifferOnlyInPortAreAcceptedOneByOne) {
  AddChallenge(Json::array({Json{{"name", "public"}, {"port", 80}},
                            Json{{"name", "public"}, {"port", 8080}}}));
  ASSERT_TRUE(Sync().status.ok());
  MarkSolverPodsReady();
  auto on_port = [](int port) {
    Json p = Parent("public", "default", "", "True", "Accepted");
    p["parentRef"]["port"] = port;
    return p;
  };
  SetRouteParents(Json::array({on_port(80)}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(acme->calls.empty()) << "the ref on port 8080 is not accepted yet";
  SetRouteParents(Json::array({on_port(80), on_port(8080)}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls,
            (std::vector<std::string>{std::string("RespondToChallenge ") + kChallengeUrl}));
}

// A Gateway that refuses the route: the Challenge shows the Gateway's reason and message
// (condition and one Warning event), nothing is asked of the CA, and it looks again later
// without a hot loop; once accepted, it goes on.
TEST_F(Http01GatewayTest, ARefusedRouteIsShownInTheGatewaysWords) {
  AddChallenge(Json::array({Json{{"name", "public"}, {"namespace", "infra"}}}));
  ASSERT_TRUE(Sync().status.ok());
  MarkSolverPodsReady();
  SetRouteParents(Json::array({Parent("public", "infra", "", "False", "NotAllowedByListeners",
                                      "no listener allows routes from namespace default")}));
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_GE(*r.requeue_after, std::chrono::seconds(30));
  EXPECT_TRUE(acme->calls.empty());
  const api::Challenge ch = Challenge();
  const api::Condition* c = api::FindCondition(ch.status.conditions, "SolverReady");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, api::ConditionStatus::kFalse);
  EXPECT_EQ(c->reason, "NotAllowedByListeners");
  EXPECT_NE(c->message.find("Gateway infra/public (NotAllowedByListeners): no listener allows"),
            std::string::npos)
      << c->message;
  EXPECT_EQ(ch.status.reason, c->message);
  ASSERT_TRUE(Sync().status.ok());
  auto events = EventsWithReason("HTTPRouteNotAccepted");
  ASSERT_EQ(events.size(), 1u) << "reported once, not at every look";
  EXPECT_EQ(events[0]["type"], "Warning");
  EXPECT_EQ(events[0].value("count", 1), 1);

  SetRouteParents(Json::array({Parent("public", "infra", "", "True", "Accepted")}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls.size(), 1u);
}

TEST_F(Http01GatewayTest, DeletionRemovesTheRoute) {
  AddChallenge(kTwoParents);
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(kube.All(kube::kHTTPRoutes).size(), 1u);
  ASSERT_TRUE(kube.Delete(api::kChallenges, "default", "ch-1").ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(SolverObjects(), 0u);
  EXPECT_FALSE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
}

TEST_F(Http01GatewayTest, WithoutTheFlagTheChallengeSaysHowToEnableIt) {
  ctx.options.enable_gateway_api = false;
  ChallengeReconciler off(ctx);
  AddChallenge(kTwoParents);
  SyncResult r = off.Sync("default/ch-1");
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(SolverObjects(), 0u) << "nothing is presented";
  const api::Challenge ch = Challenge();
  const api::Condition* c = api::FindCondition(ch.status.conditions, "SolverReady");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, "GatewayAPIDisabled");
  EXPECT_NE(c->message.find("--enable-gateway-api"), std::string::npos);
  ASSERT_TRUE(off.Sync("default/ch-1").status.ok());
  EXPECT_EQ(EventsWithReason("GatewayAPIDisabled").size(), 1u);
  EXPECT_TRUE(acme->calls.empty());
  EXPECT_EQ(off.Presented(), 0u) << "holds no --max-concurrent-challenges slot";
  // Deleting it does not wait on HTTPRoutes the controller may have no RBAC for.
  kube.FailNext("delete", "httproutes", MakeError(ErrorCode::kPermissionDenied, "forbidden"), 5);
  ASSERT_TRUE(kube.Delete(api::kChallenges, "default", "ch-1").ok());
  ASSERT_TRUE(off.Sync("default/ch-1").status.ok());
  EXPECT_FALSE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
}

TEST_F(Http01GatewayTest, WithoutTheGatewayApiTheChallengeSaysSo) {
  kube.PrependReactor("create", "httproutes", [](const kube::testing::Action&) {
    return std::optional<kube::testing::ReactorResult>(
        kube::testing::ReactorResult{MakeError(ErrorCode::kNotFound,
                                               "the server could not find "
                                               "the requested resource"),
                                     std::nullopt});
  });
  AddChallenge(kTwoParents);
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const api::Challenge ch = Challenge();
  const api::Condition* c = api::FindCondition(ch.status.conditions, "SolverReady");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, "GatewayAPINotInstalled");
  EXPECT_EQ(EventsWithReason("GatewayAPINotInstalled").size(), 1u);
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
