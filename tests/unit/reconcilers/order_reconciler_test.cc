#include "orders/order_reconciler.h"

#include "acme/problem.h"
#include "challenges/challenge_reconciler.h"
#include "orders/solver_selection.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

constexpr char kAuthz[] = "https://ca.test/acme/authz/1";

class OrderReconcilerTest : public ReconcilerTest {
 protected:
  OrderReconcilerTest() : reconciler(ctx) { AddReadyIssuer(); }
  SyncResult Sync() { return reconciler.Sync("default/web-1-abc"); }
  Json Status() { return kube.Peek(api::kOrders, "default", "web-1-abc")->value("status", Json()); }

  void AddOrder(Json status = nullptr) {
    Json o = {{"apiVersion", "acme.certsmith.io/v1"},
              {"kind", "Order"},
              {"metadata",
               {{"name", "web-1-abc"},
                {"namespace", "default"},
                {"labels", {{api::kCertificateNameLabel, "web"}}}}},
              {"spec",
               {{"request", Base64Encode("csr-der")},
                {"dnsNames", {"a.example"}},
                {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}}};
    if (!status.is_null()) o["status"] = status;
    kube.Add(api::kOrders, o);
  }
  void PendingAuthorization(acme::AuthorizationStatus st) {
    acme->order.status = acme::OrderStatus::kPending;
    acme->order.authorizations = {kAuthz};
    acme::Authorization a;
    a.url = kAuthz;
    a.identifier = acme::DnsIdentifier("a.example");
    a.status = st;
    acme::Challenge c;
    c.url = "https://ca.test/chall/1";
    c.type = "http-01";
    c.status = acme::ChallengeStatus::kPending;
    c.token = "tok_1";
    a.challenges = {c};
    acme->authorizations[kAuthz] = a;
  }

  OrderReconciler reconciler;
};

TEST_F(OrderReconcilerTest, NewOrderStoresTheUrlInOneStatusWrite) {
  AddOrder();
  acme->order.status = acme::OrderStatus::kPending;
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(acme->calls, (std::vector<std::string>{"NewOrder"}));
  EXPECT_EQ(Status()["url"], FakeAcmeClient::kOrderUrl);
  size_t status_writes = 0;
  for (const auto& w : Writes()) status_writes += w.rfind("update orders/status", 0) == 0;
  EXPECT_EQ(status_writes, 1u);
}

// An order at the CA cannot be taken back: the API server itself, not the cache, must still
// have the Order and its Certificate before newOrder is sent.
TEST_F(OrderReconcilerTest, NoNewOrderAtTheCaForAnOrderOrCertificateGoneFromTheServer) {
  AddOrder();
  Json order = *kube.Peek(api::kOrders, "default", "web-1-abc");
  Json cert = Certificate();
  cert["metadata"]["uid"] = "cert-uid";
  order["metadata"]["ownerReferences"] = {{{"apiVersion", "certsmith.io/v1"},
                                           {"kind", "Certificate"},
                                           {"name", "web"},
                                           {"uid", "cert-uid"},
                                           {"controller", true}}};
  ASSERT_TRUE(kube.Update(api::kOrders, "default", order).ok());
  order = *kube.Peek(api::kOrders, "default", "web-1-abc");
  acme->order.status = acme::OrderStatus::kPending;

  kube::testing::FakeClient server;
  ctx.live = &server;
  ASSERT_TRUE(Sync().status.ok());  // neither is on the server
  server.Add(api::kOrders, order);
  ASSERT_TRUE(Sync().status.ok());  // the Order is, its Certificate is not
  EXPECT_TRUE(acme->calls.empty());
  EXPECT_FALSE(Status().contains("url"));

  server.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls, (std::vector<std::string>{"NewOrder"}));
}

TEST_F(OrderReconcilerTest, ProcessingRequeuesAtNextPollWithoutANewOrder) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "processing"}});
  acme->order.url = FakeAcmeClient::kOrderUrl;
  acme->order.status = acme::OrderStatus::kProcessing;
  acme->order.next_poll = clock.Now() + std::chrono::seconds(7);
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, std::chrono::seconds(7));
  EXPECT_EQ(acme->calls,
            (std::vector<std::string>{std::string("GetOrder ") + FakeAcmeClient::kOrderUrl}));
  EXPECT_EQ(Status()["pollAttempts"], 1);
}

TEST_F(OrderReconcilerTest, LongRetryAfterIsCappedByMaxPollInterval) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "processing"}});
  acme->order.status = acme::OrderStatus::kProcessing;
  acme->order.next_poll = clock.Now() + std::chrono::hours(2);
  SyncResult r = Sync();
  EXPECT_EQ(*r.requeue_after, std::chrono::minutes(5));
}

TEST_F(OrderReconcilerTest, RejectedIdentifierPutsTheCasDetailInStatus) {
  AddOrder();
  acme->new_order_error =
      CaProblem("urn:ietf:params:acme:error:rejectedIdentifier",
                "Error creating new order :: Cannot issue for \"forbidden.example\"", 400);
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.requeue_after.has_value());
  EXPECT_EQ(Status()["state"], "invalid");
  EXPECT_NE(Status()["reason"].get<std::string>().find("rejectedIdentifier"), std::string::npos);
  EXPECT_NE(Status()["reason"].get<std::string>().find("forbidden.example"), std::string::npos);
  EXPECT_EQ(EventsWithReason("Failed").size(), 1u);
  // Terminal: a later sync does not order again.
  acme->calls.clear();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(acme->calls.empty());
}

TEST_F(OrderReconcilerTest, RateLimitIsRetriedNotTerminal) {
  AddOrder();
  acme->new_order_error = CaProblem("urn:ietf:params:acme:error:rateLimited", "too many", 429,
                                    std::chrono::seconds(30));
  SyncResult r = Sync();
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, std::chrono::seconds(30));
  EXPECT_FALSE(Status().contains("state"));
}

TEST_F(OrderReconcilerTest, PreValidatedAuthorizationNeedsNoChallenge) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kValid);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(kube.All(api::kChallenges).empty());
  EXPECT_EQ(Status()["authorizations"][0]["initialState"], "valid");
}

TEST_F(OrderReconcilerTest, PendingAuthorizationGetsOneOwnedChallenge) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());  // idempotent
  auto challenges = kube.All(api::kChallenges);
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0]["spec"]["type"], "http-01");
  EXPECT_EQ(challenges[0]["spec"]["token"], "tok_1");
  EXPECT_EQ(challenges[0]["spec"]["key"], "tok_1.thumbprint");
  EXPECT_EQ(challenges[0]["spec"]["dnsName"], "a.example");
  EXPECT_EQ(challenges[0]["metadata"]["ownerReferences"][0]["kind"], "Order");
}

// The Challenge reconciler's finalizer comes with the create: no update of the Challenge is
// needed to add it (one API request less per challenge).
TEST_F(OrderReconcilerTest, AChallengeIsCreatedWithItsFinalizer) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  auto challenges = kube.All(api::kChallenges);
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0]["metadata"]["finalizers"], Json::array({kChallengeFinalizer}));

  ChallengeReconciler challenge_reconciler(ctx);
  kube.ClearActions();
  const std::string key = "default/" + challenges[0]["metadata"]["name"].get<std::string>();
  ASSERT_TRUE(challenge_reconciler.Sync(key).status.ok());
  for (const std::string& w : Writes()) {
    EXPECT_NE(w.rfind("update challenges default/", 0), 0u) << w;
  }
  EXPECT_TRUE(HasWrite("create pods"));  // it went on to present the solver
}

TEST_F(OrderReconcilerTest, TheChallengeSaysWhichSolverWasChosenAndWhy) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  auto challenges = kube.All(api::kChallenges);
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0]["spec"]["solverSelection"],
            "solvers[0] (http01): no selector, so it matches every name");
}

// A Challenge that needs a person (Ready=False with a problem reason) is repeated in the
// pending Order's reason, and the reason goes when the problem does.
TEST_F(OrderReconcilerTest, APendingOrderRepeatsAChallengesProblem) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(Status().contains("reason"));
  Json ch = kube.All(api::kChallenges).at(0);
  const std::string name = ch["metadata"]["name"];
  ch["status"] = {{"state", "pending"},
                  {"conditions",
                   {{{"type", "Ready"},
                     {"status", "False"},
                     {"reason", "PresentError"},
                     {"message",
                      "the server answered NOTAUTH with TSIG error "
                      "BADSIG"}}}}};
  ASSERT_TRUE(kube.UpdateStatus(api::kChallenges, "default", ch).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["state"], "pending");
  EXPECT_EQ(Status()["reason"], "challenge " + name +
                                    " for a.example: the server answered NOTAUTH with TSIG "
                                    "error BADSIG");
  ch = *kube.Peek(api::kChallenges, "default", name);
  ch["status"]["conditions"][0]["reason"] = "Propagating";  // waiting is not a problem
  ASSERT_TRUE(kube.UpdateStatus(api::kChallenges, "default", ch).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(Status().contains("reason"));
}

// A pending Order says what holds it when a Challenge's solver Pod cannot run, and stops saying
// it once the solver runs.
TEST_F(OrderReconcilerTest, APendingOrderShowsASolverThatCannotRun) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  Json ch = kube.All(api::kChallenges)[0];
  const std::string why = "solver Pod cm-acme-http-solver-x failed (Error): exited with code 3";
  ch["status"] = {
      {"state", "pending"},
      {"conditions",
       {{{"type", "SolverReady"}, {"status", "False"}, {"reason", "Error"}, {"message", why}}}}};
  ASSERT_TRUE(kube.UpdateStatus(api::kChallenges, "default", ch).ok());
  ASSERT_TRUE(Sync().status.ok());
  const std::string name = ch["metadata"]["name"];
  EXPECT_EQ(Status()["reason"], "challenge " + name + " for a.example: " + why);
  EXPECT_EQ(Status()["state"], "pending");
  ch = kube.All(api::kChallenges)[0];
  ch["status"]["conditions"][0]["status"] = "True";
  ASSERT_TRUE(kube.UpdateStatus(api::kChallenges, "default", ch).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(Status().contains("reason")) << Status();
}

// An Order removed before it ended (its Certificate deleted, or replaced) has its pending
// authorizations deactivated at the CA (RFC 8555 §7.5.2), once, after it is gone; valid ones
// (reusable) and Orders that ended are left alone.
TEST_F(OrderReconcilerTest, ARemovedOrdersPendingAuthorizationsAreDeactivatedOnce) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kPending);
  const std::string valid_url = "https://ca.test/acme/authz/2";
  acme::Authorization valid = acme->authorizations[kAuthz];
  valid.url = valid_url;
  valid.status = acme::AuthorizationStatus::kValid;
  acme->authorizations[valid_url] = valid;
  acme->order.authorizations = {kAuthz, valid_url};
  ASSERT_TRUE(Sync().status.ok());
  const Json last = *kube.Peek(api::kOrders, "default", "web-1-abc");
  ASSERT_EQ(last["status"]["authorizations"].size(), 2u);
  ASSERT_TRUE(kube.Delete(api::kOrders, "default", "web-1-abc").ok());
  reconciler.Deleted(last);
  acme->calls.clear();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls,
            (std::vector<std::string>{"GetAuthorization " + std::string(kAuthz),
                                      "DeactivateAuthorization " + std::string(kAuthz)}));
  EXPECT_EQ(acme->authorizations[kAuthz].status, acme::AuthorizationStatus::kDeactivated);
  EXPECT_EQ(acme->authorizations[valid_url].status, acme::AuthorizationStatus::kValid);
  // Once: another sync of the key asks nothing.
  acme->calls.clear();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(acme->calls.empty());
  EXPECT_EQ(reconciler.AbandonedForTest(), 0u);
}

TEST_F(OrderReconcilerTest, ARemovedOrderThatEndedOrNeverReachedTheCaAsksNothing) {
  Json ended = {
      {"apiVersion", "acme.certsmith.io/v1"},
      {"kind", "Order"},
      {"metadata", {{"name", "web-1-abc"}, {"namespace", "default"}}},
      {"spec",
       {{"request", "AA=="},
        {"dnsNames", {"a.example"}},
        {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}},
      {"status",
       {{"url", FakeAcmeClient::kOrderUrl},
        {"state", "valid"},
        {"authorizations",
         {{{"url", kAuthz}, {"identifier", "a.example"}, {"initialState", "pending"}}}}}}};
  reconciler.Deleted(ended);
  Json unsent = ended;
  unsent["status"] = Json::object();
  reconciler.Deleted(unsent);
  EXPECT_EQ(reconciler.AbandonedForTest(), 0u);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(acme->calls.empty());
}

TEST_F(OrderReconcilerTest, ChallengesListedInAnotherOrderWriteNoNewStatus) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kPending);
  acme::Challenge dns;
  dns.url = "https://ca.test/chall/0";
  dns.type = "dns-01";
  dns.status = acme::ChallengeStatus::kPending;
  dns.token = "tok_0";
  acme->authorizations[kAuthz].challenges.push_back(dns);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["authorizations"][0]["challenges"][0]["type"], "dns-01");
  kube.ClearActions();
  // The CA lists the same challenges the other way round (Pebble shuffles them).
  auto& listed = acme->authorizations[kAuthz].challenges;
  std::reverse(listed.begin(), listed.end());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Writes(), std::vector<std::string>{});
}

TEST_F(OrderReconcilerTest, ReadyOrderIsFinalizedWithTheCsr) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "ready"}});
  acme->order.status = acme::OrderStatus::kReady;
  acme::Order processing = acme->order;
  processing.status = acme::OrderStatus::kProcessing;
  processing.next_poll = clock.Now() + std::chrono::seconds(30);  // a slow CA
  acme->after_finalize = processing;
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(acme->finalized_csr, "csr-der");
  EXPECT_EQ(Status()["state"], "processing");
  EXPECT_EQ(*r.requeue_after, std::chrono::seconds(30));
}

// A CA that issues a second after finalize (Let's Encrypt, Pebble): "processing" is not written;
// the next look writes valid with the certificate. One Order status write instead of two.
TEST_F(OrderReconcilerTest, BriefProcessingAfterFinalizeWritesOnlyTheOutcome) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  acme->order.status = acme::OrderStatus::kReady;
  acme::Order processing = acme->order;
  processing.status = acme::OrderStatus::kProcessing;
  processing.next_poll = clock.Now() + std::chrono::seconds(1);
  acme->after_finalize = processing;
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(acme->finalized_csr, "csr-der");
  EXPECT_EQ(*r.requeue_after, std::chrono::seconds(1));
  EXPECT_FALSE(HasWrite("update orders/status")) << ::testing::PrintToString(Writes());
  EXPECT_EQ(Status()["state"], "pending");

  clock.Advance(std::chrono::seconds(1));
  acme->order.status = acme::OrderStatus::kValid;
  acme->order.certificate = "https://ca.test/cert/1";
  acme->chain_pem = "-----BEGIN CERTIFICATE-----\n...\n";
  acme->calls.clear();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls.front(), std::string("GetOrder ") + FakeAcmeClient::kOrderUrl);
  EXPECT_EQ(Status()["state"], "valid");
  EXPECT_EQ(Base64DecodeLenient(Status()["certificate"].get<std::string>()).value(),
            acme->chain_pem);
  size_t status_writes = 0;
  for (const auto& w : Writes()) status_writes += w.rfind("update orders/status", 0) == 0;
  EXPECT_EQ(status_writes, 1u);
}

TEST_F(OrderReconcilerTest, FinalizeAnsweredValidDownloadsInTheSameSync) {
  // A CA that issues during the finalize request: "valid" must not be stored without the chain
  // (a valid Order is final and would never be looked at again).
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "ready"}});
  acme->order.status = acme::OrderStatus::kReady;
  acme::Order valid = acme->order;
  valid.status = acme::OrderStatus::kValid;
  valid.certificate = "https://ca.test/cert/1";
  acme->after_finalize = valid;
  acme->chain_pem = "-----BEGIN CERTIFICATE-----\n...\n";
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["state"], "valid");
  EXPECT_EQ(Base64DecodeLenient(Status()["certificate"].get<std::string>()).value(),
            acme->chain_pem);
}

TEST_F(OrderReconcilerTest, ValidOrderDownloadsTheChain) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "processing"}});
  acme->order.status = acme::OrderStatus::kValid;
  acme->order.certificate = "https://ca.test/cert/1";
  acme->chain_pem = "-----BEGIN CERTIFICATE-----\n...\n";
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["state"], "valid");
  EXPECT_EQ(Base64DecodeLenient(Status()["certificate"].get<std::string>()).value(),
            acme->chain_pem);
}

api::AcmeSolver Solver(std::vector<std::string> names, std::vector<std::string> zones,
                       api::StringMap labels, bool selector = true) {
  api::AcmeSolver s;
  if (selector) s.selector = api::SolverSelector{names, zones, labels};
  s.http01 = api::Http01Solver{};
  return s;
}

api::AcmeSolver Dns01Solver(std::vector<std::string> zones) {
  api::AcmeSolver s;
  if (!zones.empty()) s.selector = api::SolverSelector{{}, zones, {}};
  s.dns01 = api::Dns01Solver{};
  s.dns01->rfc2136 = api::Rfc2136Solver{"10.0.0.53", "", "", {}, ""};
  return s;
}

TEST(SolverSelectionTest, FollowsCertManagersPrecedence) {
  std::vector<api::AcmeSolver> solvers = {
      Solver({}, {}, {}, false),                         // 0: no selector
      Solver({}, {}, {{"team", "web"}}),                 // 1: labels
      Solver({}, {"example"}, {}),                       // 2: short zone
      Solver({}, {"a.example"}, {}),                     // 3: longer zone
      Solver({"www.a.example"}, {}, {}),                 // 4: exact name
      Solver({"www.a.example"}, {}, {{"team", "web"}}),  // 5: exact name and a label
  };
  struct Case {
    std::string name;
    api::StringMap labels;
    size_t want;
    std::string reason;  // the start of the stated reason
  } cases[] = {
      {"www.a.example", {}, 4, "solvers[4] (http01): selector.dnsNames lists www.a.example"},
      {"www.a.example",
       {{"team", "web"}},
       5,
       "solvers[5] (http01): selector.dnsNames lists www.a.example and its 1 matchLabels match"},
      {"b.a.example",
       {},
       3,
       "solvers[3] (http01): selector.dnsZones \"a.example\" contains b.a.example"},
      {"x.example", {}, 2, "solvers[2] (http01): selector.dnsZones \"example\" contains x.example"},
      {"other.test",
       {{"team", "web"}},
       1,
       "solvers[1] (http01): selector.matchLabels (1) match the Certificate's labels"},
      {"other.test", {}, 0, "solvers[0] (http01): no selector, so it matches every name"},
  };
  for (const Case& c : cases) {
    SolverChoice got = SelectSolver(solvers, c.name, c.labels);
    ASSERT_NE(got.solver, nullptr) << c.name;
    EXPECT_EQ(got.index, c.want) << c.name;
    EXPECT_EQ(got.solver, &solvers[c.want]);
    EXPECT_EQ(got.reason.rfind(c.reason, 0), 0u) << got.reason;
  }
  // Why the others lost is said too.
  SolverChoice zone = SelectSolver(solvers, "b.a.example", {});
  EXPECT_NE(zone.reason.find("passed over solvers[1] (http01): selector.matchLabels team=web is "
                             "not on the Certificate"),
            std::string::npos)
      << zone.reason;
  std::vector<api::AcmeSolver> only_zone = {Solver({}, {"example"}, {})};
  SolverChoice none = SelectSolver(only_zone, "a.test", {});
  EXPECT_EQ(none.solver, nullptr);
  EXPECT_EQ(none.reason,
            "solvers[0] (http01): its selector's dnsNames and dnsZones do not cover "
            "a.test");
}

TEST(SolverSelectionTest, TheFirstListedWinsATie) {
  std::vector<api::AcmeSolver> solvers = {Solver({}, {"example"}, {}), Dns01Solver({"example"})};
  SolverChoice got = SelectSolver(solvers, "a.example", {});
  EXPECT_EQ(got.index, 0u);
  EXPECT_NE(got.reason.find("listed first of 2 equally specific solvers"), std::string::npos)
      << got.reason;
}

// A wildcard is offered dns-01 only (RFC 8555 §7.1.3): a more specific http-01 solver is passed
// over, with the reason, instead of failing the Order.
TEST(SolverSelectionTest, ASolverOfATypeTheCaDoesNotOfferIsPassedOver) {
  std::vector<api::AcmeSolver> solvers = {Solver({"*.example"}, {}, {}), Dns01Solver({})};
  SolverChoice got = SelectSolver(solvers, "*.example", {}, {"dns-01"});
  ASSERT_NE(got.solver, nullptr);
  EXPECT_EQ(got.index, 1u);
  EXPECT_EQ(got.reason,
            "solvers[1] (dns01.rfc2136): no selector, so it matches every name; passed over "
            "solvers[0] (http01): the CA offers no http-01 challenge for *.example");
  SolverChoice apex = SelectSolver(solvers, "example", {}, {"http-01", "dns-01"});
  EXPECT_EQ(apex.index, 1u);  // solvers[0] lists only *.example
  EXPECT_EQ(SelectSolver({Solver({}, {}, {}, false)}, "*.example", {}, {"dns-01"}).solver, nullptr);
}

TEST_F(OrderReconcilerTest, AnOrderBeingDeletedIsLeftAlone) {
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "pending"}});
  PendingAuthorization(acme::AuthorizationStatus::kPending);
  // A foreground deletion of its Certificate: the Order waits for its Challenges to go.
  Json o = *kube.Peek(api::kOrders, "default", "web-1-abc");
  o["metadata"]["finalizers"] = {"foregroundDeletion"};
  ASSERT_TRUE(kube.Update(api::kOrders, "default", o).ok());
  ASSERT_TRUE(kube.Delete(api::kOrders, "default", "web-1-abc").ok());
  kube.ClearActions();
  SyncResult r = Sync();
  EXPECT_TRUE(r.status.ok());
  EXPECT_FALSE(r.requeue_after.has_value());
  EXPECT_TRUE(acme->calls.empty());
  EXPECT_TRUE(Writes().empty());
  EXPECT_TRUE(kube.All(api::kChallenges).empty());
}

TEST_F(OrderReconcilerTest, StatusWriteAfterTheOrderWasDeletedIsNotAnError) {
  AddOrder();
  acme->order.status = acme::OrderStatus::kPending;
  // The Order's Certificate is deleted while this sync talks to the CA.
  kube.PrependReactor(
      "update", "orders",
      [](const kube::testing::Action& a) -> std::optional<kube::testing::ReactorResult> {
        if (a.subresource != "status") return std::nullopt;
        return kube::testing::ReactorResult{MakeError(ErrorCode::kNotFound, "orders not found"),
                                            std::nullopt};
      });
  SyncResult r = Sync();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();  // not retried, not logged as a failure
  EXPECT_FALSE(r.requeue_after.has_value());
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
