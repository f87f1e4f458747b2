// The dns-01 half of the Challenge reconciler, table by table: FakeClient, FakeAcmeClient,
// FakeDns and a fake clock; no sleeps. Every wait is a returned requeue delay.
#include <gtest/gtest.h>

#include "challenges/challenge_reconciler.h"
#include "unit/reconcilers/reconciler_test_base.h"
#include "unit/solvers/dns01/fake_dns.h"

namespace certsmith::reconcilers::testing {
namespace {

using solvers::dns01::MakeTsigKey;
using solvers::dns01::Record;
using solvers::dns01::RrType;
using solvers::dns01::TsigAlgorithm;
using solvers::dns01::testing::FakeDns;

constexpr char kAuthz[] = "https://ca.test/acme/authz/1";
constexpr char kChallengeUrl[] = "https://ca.test/chall/1";
constexpr char kTsigSecret[] = "the-tsig-secret-bytes!";
constexpr char kName[] = "_acme-challenge.a.example.";

class Dns01ChallengeTest : public ReconcilerTest {
 protected:
  Dns01ChallengeTest() : reconciler(ctx) {
    AddReadyIssuer();
    ctx.dns = &dns;
    ctx.dns01_system_nameservers = {"10.0.0.1:53"};
    dns.AddResolver("10.0.0.1:53");
    dns.AddZone("example", {"192.0.2.1:53", "192.0.2.2:53"}, {"ns1.example", "ns2.example"},
                {"192.0.2.1", "192.0.2.2"});
    dns.SetUpdateKey("example", Key(kTsigSecret));
    SetTsigSecret(kTsigSecret);
    kube.Add(api::kOrders,
             {{"apiVersion", "acme.certsmith.io/v1"},
              {"kind", "Order"},
              {"metadata", {{"name", "web-1"}, {"namespace", "default"}, {"uid", "order-uid"}}},
              {"spec", {{"request", "eA=="}, {"issuerRef", {{"name", "ca"}}}}},
              {"status", {{"state", "pending"}}}});
  }
  static solvers::dns01::TsigKey Key(const std::string& secret) {
    return MakeTsigKey("tsig-key.", TsigAlgorithm::kHmacSha256, Base64Encode(secret)).value();
  }
  void SetTsigSecret(const std::string& secret) {
    Json s = Secret("certsmith", "tsig", {{"secret", Base64Encode(secret)}});
    if (kube.Peek(kube::kSecrets, "certsmith", "tsig")) {
      ASSERT_TRUE(kube.Update(kube::kSecrets, "certsmith", s).ok());
    } else {
      kube.Add(kube::kSecrets, s);
    }
  }
  static Json Rfc2136(Json extra = Json::object()) {
    Json dns01 = {{"rfc2136",
                   {{"nameserver", "192.0.2.1:53"},
                    {"tsigKeyName", "tsig-key"},
                    {"tsigSecretSecretRef", {{"name", "tsig"}}}}}};
    dns01.update(extra);
    return {{"dns01", dns01}};
  }
  void AddChallenge(const std::string& name = "ch-1", Json solver = Rfc2136(),
                    const std::string& key = "txt-value-1", bool wildcard = false,
                    const std::string& dns_name = "a.example") {
    kube.Add(api::kChallenges, {{"apiVersion", "acme.certsmith.io/v1"},
                                {"kind", "Challenge"},
                                {"metadata",
                                 {{"name", name},
                                  {"namespace", "default"},
                                  {"uid", name + "-uid"},
                                  {"ownerReferences",
                                   {{{"apiVersion", "acme.certsmith.io/v1"},
                                     {"kind", "Order"},
                                     {"name", "web-1"},
                                     {"uid", "order-uid"},
                                     {"controller", true}}}}}},
                                {"spec",
                                 {{"url", kChallengeUrl},
                                  {"authorizationURL", kAuthz},
                                  {"dnsName", dns_name},
                                  {"wildcard", wildcard},
                                  {"type", "dns-01"},
                                  {"token", "tok_1"},
                                  {"key", key},
                                  {"solver", solver},
                                  {"solverSelection", "solvers[0] (dns01.rfc2136): no selector"},
                                  {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}}});
  }
  SyncResult Sync(const std::string& name = "ch-1") { return reconciler.Sync("default/" + name); }
  Json Status(const std::string& name = "ch-1") {
    return kube.Peek(api::kChallenges, "default", name)->value("status", Json());
  }
  Json Ready(const std::string& name = "ch-1") {
    const Json status = Status(name);
    for (const Json& c : status.value("conditions", Json::array())) {
      if (c["type"] == "Ready") return c;
    }
    return Json();
  }
  void Authorization(acme::AuthorizationStatus st, acme::ChallengeStatus cs) {
    acme::Authorization a;
    a.url = kAuthz;
    a.identifier = acme::DnsIdentifier("a.example");
    a.status = st;
    acme::Challenge c;
    c.url = kChallengeUrl;
    c.type = "dns-01";
    c.status = cs;
    c.token = "tok_1";
    a.challenges = {c};
    a.next_poll = clock.Now() + std::chrono::seconds(2);
    acme->authorizations[kAuthz] = a;
  }
  bool Responded() {
    return std::count(acme->calls.begin(), acme->calls.end(),
                      std::string("RespondToChallenge ") + kChallengeUrl) > 0;
  }
  std::string Everything() {
    std::string all;
    for (const Json& e : kube.All(kube::kEvents)) all += e.dump() + "\n";
    for (const Json& c : kube.All(api::kChallenges)) all += c.dump() + "\n";
    return all;
  }

  FakeDns dns;
  ChallengeReconciler reconciler;
};

TEST_F(Dns01ChallengeTest, RecordsTheTargetPresentsChecksRespondsAndCleansUp) {
  AddChallenge();
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  // 1. Where the record goes, written down before the DNS is touched.
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.requeue_after, Duration::zero());
  EXPECT_EQ(Status()["dns01"]["resolvedFQDN"], kName);
  EXPECT_EQ(Status()["dns01"]["resolvedZone"], "example.");
  EXPECT_EQ(Ready()["reason"], "Presenting");
  EXPECT_TRUE(dns.Updates().empty());
  ASSERT_EQ(EventsWithReason("Presenting").size(), 1u);
  EXPECT_NE(EventsWithReason("Presenting")[0]["message"].get<std::string>().find(
                "solvers[0] (dns01.rfc2136)"),
            std::string::npos);
  // 2 + 3 + 4: presented, visible at both authoritative servers, the CA told.
  r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(dns.TxtValues(kName), std::vector<std::string>{"txt-value-1"});
  EXPECT_TRUE(Responded());
  EXPECT_EQ(Status()["processing"], true);
  EXPECT_EQ(Status()["presented"], true);
  EXPECT_EQ(Status()["dns01"]["nameservers"].size(), 2u);
  EXPECT_EQ(Ready()["reason"], "Validating");
  ASSERT_EQ(EventsWithReason("Presented").size(), 1u);
  // The CA says valid: the value goes.
  Authorization(acme::AuthorizationStatus::kValid, acme::ChallengeStatus::kValid);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["state"], "valid");
  EXPECT_EQ(Status()["presented"], false);
  EXPECT_EQ(Ready()["status"], "True");
  EXPECT_TRUE(dns.TxtValues(kName).empty());
  EXPECT_TRUE(EventsWithReason("Failed").empty());
}

// The CA says no: the value goes all the same, and the CA's words are the reason.
TEST_F(Dns01ChallengeTest, AnInvalidChallengeIsCleanedUpToo) {
  AddChallenge();
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Responded());
  ASSERT_EQ(dns.TxtValues(kName).size(), 1u);
  Authorization(acme::AuthorizationStatus::kInvalid, acme::ChallengeStatus::kInvalid);
  acme::Problem p;
  p.type = "urn:ietf:params:acme:error:unauthorized";
  p.detail = "No TXT records found for DNS challenge";
  acme->authorizations[kAuthz].challenges[0].error = p;
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["state"], "invalid");
  EXPECT_NE(Status()["reason"].get<std::string>().find("No TXT records found"), std::string::npos);
  EXPECT_EQ(Ready()["reason"], "Invalid");
  EXPECT_TRUE(dns.TxtValues(kName).empty());
  EXPECT_EQ(EventsWithReason("Failed").size(), 1u);
}

TEST_F(Dns01ChallengeTest, WaitsForEveryAuthoritativeServerWithBackoffAndSaysWhatItSaw) {
  dns.SetLagging("192.0.2.2:53", "example");
  AddChallenge();
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  std::vector<int64_t> waits;
  for (int i = 0; i < 4; ++i) {
    SyncResult r = Sync();
    ASSERT_TRUE(r.status.ok());
    ASSERT_TRUE(r.requeue_after.has_value());
    waits.push_back(std::chrono::duration_cast<std::chrono::seconds>(*r.requeue_after).count());
    clock.Advance(*r.requeue_after);
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{2, 4, 8, 16}));
  EXPECT_FALSE(Responded());
  EXPECT_EQ(dns.Updates().size(), 1u) << "presented once, then only checked";
  const Json st = Status();
  EXPECT_EQ(st["dns01"]["checks"], 4);
  EXPECT_EQ(st["dns01"]["nameservers"][0]["found"], true);
  EXPECT_FALSE(st["dns01"]["nameservers"][1].contains("found"));
  const std::string reason = st["reason"];
  EXPECT_NE(reason.find("ns2.example. 192.0.2.2:53 shows no TXT record"), std::string::npos)
      << reason;
  EXPECT_NE(reason.find("check 4, next in 16s"), std::string::npos) << reason;
  EXPECT_EQ(Ready()["reason"], "Propagating");
  dns.SyncLagging("192.0.2.2:53");
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Responded());
}

TEST_F(Dns01ChallengeTest, AWildcardAndItsApexShareTheNameAndLeaveEachOtherAlone) {
  AddChallenge("apex", Rfc2136(), "apex-value");
  AddChallenge("wild", Rfc2136(), "wildcard-value", true);
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  for (const char* n : {"apex", "wild", "apex", "wild"}) ASSERT_TRUE(Sync(n).status.ok());
  EXPECT_EQ(dns.TxtValues(kName), (std::vector<std::string>{"apex-value", "wildcard-value"}));
  // The apex is done first: only its value goes.
  Json apex = *kube.Peek(api::kChallenges, "default", "apex");
  apex["status"]["state"] = "valid";
  ASSERT_TRUE(kube.UpdateStatus(api::kChallenges, "default", apex).ok());
  ASSERT_TRUE(Sync("apex").status.ok());
  EXPECT_EQ(dns.TxtValues(kName), std::vector<std::string>{"wildcard-value"});
}

TEST_F(Dns01ChallengeTest, CnameFollowWritesWhereTheChainEnds) {
  dns.AddZone("challenges.test", {"192.0.2.1:53"}, {"ns1.example"});
  dns.SetUpdateKey("challenges.test", Key(kTsigSecret));
  dns.AddRecord("example", {kName, RrType::kCname, 60, "a-example.challenges.test"});
  AddChallenge("ch-1", Rfc2136({{"cnameStrategy", "Follow"}}));
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["dns01"]["resolvedFQDN"], "a-example.challenges.test.");
  EXPECT_EQ(Status()["dns01"]["resolvedZone"], "challenges.test.");
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(dns.TxtValues("a-example.challenges.test"), std::vector<std::string>{"txt-value-1"});
  EXPECT_EQ(dns.Updates().at(0).second.zone, "challenges.test.");
  EXPECT_TRUE(Responded());
}

TEST_F(Dns01ChallengeTest, WithoutFollowTheNameItselfIsUsed) {
  dns.AddZone("challenges.test", {"192.0.2.1:53"}, {"ns1.example"});
  dns.AddRecord("example", {kName, RrType::kCname, 60, "a-example.challenges.test"});
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["dns01"]["resolvedFQDN"], kName);
}

// A wrong TSIG secret: a condition and a Warning with the server's answer, retried with
// backoff (one event, not one per retry), the secret nowhere; fixed, it goes on.
TEST_F(Dns01ChallengeTest, AWrongTsigSecretIsAProblemInTheServersWords) {
  const std::string wrong = "a-wrong-tsig-secret";
  SetTsigSecret(wrong);
  AddChallenge();
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  std::vector<int64_t> waits;
  for (int i = 0; i < 3; ++i) {
    SyncResult r = Sync();
    ASSERT_TRUE(r.status.ok());
    waits.push_back(std::chrono::duration_cast<std::chrono::seconds>(*r.requeue_after).count());
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{5, 10, 20}));
  const Json ready = Ready();
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "PresentError");
  const std::string message = ready["message"];
  EXPECT_NE(message.find("the server answered NOTAUTH with TSIG error BADSIG"), std::string::npos)
      << message;
  EXPECT_NE(message.find("tsig-key. (hmac-sha256)"), std::string::npos);
  ASSERT_EQ(EventsWithReason("PresentError").size(), 1u);
  EXPECT_EQ(EventsWithReason("PresentError")[0]["type"], "Warning");
  EXPECT_EQ(EventsWithReason("PresentError")[0]["message"], message);
  EXPECT_EQ(Status()["state"], "pending") << "the authorization stays usable";
  EXPECT_FALSE(Responded());
  const std::string all = Everything();
  for (const std::string& secret : {wrong, Base64Encode(wrong), std::string(kTsigSecret),
                                    Base64Encode(kTsigSecret), Base64Encode(Base64Encode(wrong))}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << secret;
  }
  SetTsigSecret(kTsigSecret);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Responded());
  EXPECT_EQ(Ready()["reason"], "Validating");
}

TEST_F(Dns01ChallengeTest, AMissingTsigSecretSaysWhichSecretAndKey) {
  ASSERT_TRUE(kube.Delete(kube::kSecrets, "certsmith", "tsig").ok());
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Ready()["reason"], "PresentError");
  EXPECT_NE(Ready()["message"].get<std::string>().find("Secret certsmith/tsig"), std::string::npos)
      << Ready()["message"];
}

TEST_F(Dns01ChallengeTest, NoZoneFoundIsALookupError) {
  AddChallenge("ch-1", Rfc2136(), "v", false, "www.unknown.test");
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.requeue_after, std::chrono::seconds(5));
  EXPECT_EQ(Ready()["reason"], "LookupError");
  EXPECT_NE(Ready()["message"].get<std::string>().find(
                "no zone found for _acme-challenge.www.unknown.test."),
            std::string::npos);
  EXPECT_EQ(EventsWithReason("LookupError").size(), 1u);
}

TEST_F(Dns01ChallengeTest, AnUnreachableNameserverIsAProblem) {
  dns.SetUnreachable("192.0.2.1:53");
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Ready()["reason"], "PresentError");
  EXPECT_NE(Ready()["message"].get<std::string>().find("no answer from 192.0.2.1:53"),
            std::string::npos);
}

TEST_F(Dns01ChallengeTest, AWebhookSaysNoInItsOwnWords) {
  std::vector<Json> posts;
  kube.SetPostHandler([&](std::string_view path, const Json& body) -> Result<Json> {
    posts.push_back(body);
    EXPECT_EQ(path, "/apis/acme.example.com/v1alpha1/mydns");
    return Json{{"response",
                 {{"uid", body["request"]["uid"]},
                  {"success", false},
                  {"status", {{"message", "API token expired"}}}}}};
  });
  AddChallenge("ch-1", {{"dns01",
                         {{"webhook",
                           {{"groupName", "acme.example.com"},
                            {"solverName", "mydns"},
                            {"config", {{"zone", "example"}}}}}}}});
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Ready()["reason"], "PresentError");
  EXPECT_NE(Ready()["message"].get<std::string>().find(
                "the provider answered success: false: API token expired"),
            std::string::npos)
      << Ready()["message"];
  ASSERT_EQ(posts.size(), 1u);
  const Json& req = posts[0]["request"];
  EXPECT_EQ(req["action"], "Present");
  EXPECT_EQ(req["uid"], "ch-1-uid");
  EXPECT_EQ(req["resolvedFQDN"], kName);
  EXPECT_EQ(req["resolvedZone"], "example.");
  EXPECT_EQ(req["resourceNamespace"], "certsmith");  // a ClusterIssuer's
  EXPECT_EQ(req["config"]["zone"], "example");
}

TEST_F(Dns01ChallengeTest, AWebhookUrlIsCalledWithItsOwnCaOnly) {
  struct Http final : HttpTransport {
    FakeDns* dns;
    std::vector<HttpRequest> sent;
    Result<HttpResponse> Send(const HttpRequest& req) override {
      sent.push_back(req);
      Json body = Json::parse(req.body);
      const Json& r = body["request"];
      Record rec{r["resolvedFQDN"], RrType::kTxt, 60, r["key"]};
      auto update =
          r["action"] == "Present"
              ? solvers::dns01::UpdateRequest{r["resolvedZone"], {rec}, {}, Key(kTsigSecret)}
              : solvers::dns01::UpdateRequest{r["resolvedZone"], {}, {rec}, Key(kTsigSecret)};
      EXPECT_TRUE(dns->Update({"192.0.2.1", 53}, update, solvers::dns01::Transport::kUdp).ok());
      Json answer = {{"response", {{"uid", r["uid"]}, {"success", true}}}};
      return HttpResponse{200, {}, answer.dump()};
    }
    Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest&) override {
      return MakeError(ErrorCode::kInternal, "no");
    }
  };
  auto http = std::make_shared<Http>();
  http->dns = &dns;
  std::vector<TlsOptions> tls_seen;
  ctx.https_transport = [&](const TlsOptions& tls) -> Result<std::shared_ptr<HttpTransport>> {
    tls_seen.push_back(tls);
    return std::shared_ptr<HttpTransport>(http);
  };
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  AddChallenge("ch-1",
               {{"dns01",
                 {{"webhook",
                   {{"url", "https://dns-hook.internal/v1"}, {"caBundle", Base64Encode(pem)}}}}}});
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Responded());
  ASSERT_FALSE(tls_seen.empty());
  EXPECT_EQ(tls_seen[0].ca_pem, pem);
  EXPECT_TRUE(tls_seen[0].ca_only);
  EXPECT_EQ(http->sent.at(0).url, "https://dns-hook.internal/v1");
  Authorization(acme::AuthorizationStatus::kValid, acme::ChallengeStatus::kValid);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Json::parse(http->sent.back().body)["request"]["action"], "CleanUp");
  EXPECT_TRUE(dns.TxtValues(kName).empty());
}

TEST_F(Dns01ChallengeTest, ACertificateDeletedMidChallengeLeavesNoRecord) {
  dns.SetLagging("192.0.2.2:53", "example");
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(dns.TxtValues(kName).size(), 1u);
  ASSERT_TRUE(kube.Delete(api::kChallenges, "default", "ch-1").ok());  // finalizer: marked
  ASSERT_TRUE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(dns.TxtValues(kName).empty());
  EXPECT_FALSE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
}

// A controller restarted mid-challenge knows from status alone where it presented: even when
// the CNAME now points elsewhere, the value goes from where it was written.
TEST_F(Dns01ChallengeTest, ARestartedControllerCleansUpWhereStatusSays) {
  dns.AddZone("challenges.test", {"192.0.2.1:53"}, {"ns1.example"});
  dns.SetUpdateKey("challenges.test", Key(kTsigSecret));
  dns.AddRecord("challenges.test", {"old.challenges.test", RrType::kTxt, 60, "txt-value-1"});
  dns.AddRecord("challenges.test", {"old.challenges.test", RrType::kTxt, 60, "someone-else"});
  AddChallenge("ch-1", Rfc2136({{"cnameStrategy", "Follow"}}));
  Json ch = *kube.Peek(api::kChallenges, "default", "ch-1");
  ch["metadata"]["finalizers"] = {"acme.certsmith.io/finalizer"};
  ASSERT_TRUE(kube.Update(api::kChallenges, "default", ch).ok());
  ch = *kube.Peek(api::kChallenges, "default", "ch-1");
  ch["status"] = {
      {"presented", true},
      {"processing", true},
      {"state", "pending"},
      {"dns01", {{"resolvedFQDN", "old.challenges.test."}, {"resolvedZone", "challenges.test."}}}};
  ASSERT_TRUE(kube.UpdateStatus(api::kChallenges, "default", ch).ok());
  ASSERT_TRUE(kube.Delete(api::kChallenges, "default", "ch-1").ok());
  ChallengeReconciler restarted(ctx);
  ASSERT_TRUE(restarted.Sync("default/ch-1").status.ok());
  EXPECT_EQ(dns.TxtValues("old.challenges.test"), std::vector<std::string>{"someone-else"});
  EXPECT_FALSE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
}

TEST_F(Dns01ChallengeTest, ACleanUpThatKeepsFailingGivesUpAfterTheDeadlineNamingTheRecord) {
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  dns.SetUnreachable("192.0.2.1:53");
  ASSERT_TRUE(kube.Delete(api::kChallenges, "default", "ch-1").ok());
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_TRUE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
  EXPECT_EQ(Ready()["reason"], "CleanUpError");
  EXPECT_EQ(EventsWithReason("CleanUpError").size(), 1u);
  clock.Advance(std::chrono::minutes(11));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
  ASSERT_EQ(EventsWithReason("CleanUpAbandoned").size(), 1u);
  EXPECT_NE(EventsWithReason("CleanUpAbandoned")[0]["message"].get<std::string>().find(
                "remove it by hand"),
            std::string::npos);
}

TEST_F(Dns01ChallengeTest, AFailingChallengeStopsOnceItsOrderHasEnded) {
  dns.SetUnreachable("192.0.2.1:53");
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Ready()["reason"], "PresentError");
  Json order = *kube.Peek(api::kOrders, "default", "web-1");
  order["status"]["state"] = "invalid";
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.requeue_after.has_value());
  EXPECT_EQ(Status()["state"], "errored");
  EXPECT_NE(Status()["reason"].get<std::string>().find("Order web-1 is invalid"),
            std::string::npos);
}

TEST_F(Dns01ChallengeTest, RecursiveNameserversOnlyChecksThereAndNowhereElse) {
  ctx.options.dns01_recursive_nameservers = {"10.0.0.1:53"};
  ctx.options.dns01_recursive_nameservers_only = true;
  dns.SetUnreachable("192.0.2.2:53");  // locked-down egress: would fail the check
  AddChallenge();
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  dns.ClearLog();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Responded());
  for (const auto& q : dns.Queries()) EXPECT_EQ(q.server, "10.0.0.1:53");
}

TEST_F(Dns01ChallengeTest, ASolversNameserversAreTheOnlyServersAsked) {
  dns.AddResolver("10.0.0.2:53");
  dns.SetUnreachable("10.0.0.1:53");
  AddChallenge("ch-1", Rfc2136({{"nameservers", {"10.0.0.2:53"}}}));
  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kPending);
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Responded());
  for (const auto& q : dns.Queries()) EXPECT_EQ(q.server, "10.0.0.2:53");
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
