#include "issuers/issuer_reconciler.h"

#include "acme/problem.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

class IssuerReconcilerTest : public ReconcilerTest {
 protected:
  IssuerReconcilerTest() { ctx.options.cluster_resource_namespace = "certsmith"; }
  SyncResult Sync() { return IssuerReconciler(ctx, api::kClusterIssuers).Sync("ca"); }
  Json Status() { return kube.Peek(api::kClusterIssuers, "", "ca")->value("status", Json()); }
  Json Ready() {
    for (const Json& c : Status().value("conditions", Json::array())) {
      if (c["type"] == "Ready") return c;
    }
    return nullptr;
  }
  void AddEabSecret() {
    // "hmac-key-bytes" base64url-encoded, as CAs hand it out.
    kube.Add(kube::kSecrets, Secret("certsmith", "ca-eab", {{"secret", "aG1hYy1rZXktYnl0ZXM"}}));
  }
};

TEST_F(IssuerReconcilerTest, CreatesAccountKeyAndRegistersWithEab) {
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  AddEabSecret();
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(HasWrite("create secrets certsmith/ca-account"));
  EXPECT_EQ(acme->calls, (std::vector<std::string>{"LookupAccount", "NewAccount"}));
  ASSERT_TRUE(acme->last_eab.has_value());
  EXPECT_EQ(acme->last_eab->key_id, "kid-1");
  EXPECT_EQ(acme->last_eab->hmac_key, "hmac-key-bytes");
  EXPECT_EQ(Status()["acme"]["uri"], FakeAcmeClient::kAccountUrl);
  // The fake's directory has no renewalInfo: recorded for the Certificates (ari_schedule.h).
  EXPECT_EQ(Status()["acme"]["renewalInfo"], "NotOffered");
  EXPECT_EQ(Ready()["status"], "True");
  EXPECT_EQ(Ready()["reason"], "ACMEAccountRegistered");
  auto registered = EventsWithReason("AccountRegistered");
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0]["type"], "Normal");
  EXPECT_TRUE(EventsWithReason("AccountFound").empty());
  auto key = kube.Peek(kube::kSecrets, "certsmith", "ca-account");
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE((*key)["data"].contains("tls.key"));
}

TEST_F(IssuerReconcilerTest, RecordsThatTheDirectoryOffersRenewalInfo) {
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  AddEabSecret();
  acme->directory.renewal_info = "https://ca.test/renewal-info";
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["acme"]["renewalInfo"], "Offered");
}

TEST_F(IssuerReconcilerTest, ExistingAccountIsFoundWithoutUsingEab) {
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  auto key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
  kube.Add(kube::kSecrets, Secret("certsmith", "ca-account", {{"tls.key", key.ToPem().value()}}));
  acme->account_exists = true;  // and no EAB Secret at all: using it would fail
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(acme->calls, (std::vector<std::string>{"LookupAccount"}));
  EXPECT_FALSE(HasWrite("create secrets"));
  EXPECT_EQ(Ready()["status"], "True");
  // kubectl describe tells a found account from a registered one: its own reason and event.
  EXPECT_EQ(Ready()["reason"], "ACMEAccountFound");
  auto found = EventsWithReason("AccountFound");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["type"], "Normal");
  EXPECT_NE(found[0]["message"].get<std::string>().find(FakeAcmeClient::kAccountUrl),
            std::string::npos);
  EXPECT_NE(found[0]["message"].get<std::string>().find("External Account Binding was not used"),
            std::string::npos);
  EXPECT_TRUE(EventsWithReason("AccountRegistered").empty());
  // A second sync with the same server and key uses the cached client: no CA round trip.
  acme->calls.clear();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(acme->calls.empty());
  EXPECT_EQ(clients_made, 1);
}

// A restarted controller (its account registry empty) takes the account the status records for
// this spec, key and email: no request to the CA, no status write, no event.
TEST_F(IssuerReconcilerTest, ARestartUsesTheRecordedAccountWithoutAskingTheCa) {
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  AddEabSecret();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Ready()["reason"], "ACMEAccountRegistered");
  accounts.Remove("ClusterIssuer/ca");  // the restart
  acme->calls.clear();
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(acme->calls.empty());
  EXPECT_EQ(Writes(), std::vector<std::string>{});
  EXPECT_EQ(EventsWithReason("AccountFound").size(), 0u);
  EXPECT_EQ(acme->url_set, FakeAcmeClient::kAccountUrl);
  auto entry = accounts.Find("ClusterIssuer/ca");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->account_url, FakeAcmeClient::kAccountUrl);
  // What the status says no longer holds: the CA is asked again.
  const std::vector<std::pair<std::string, std::function<void(Json&)>>> changes = {
      {"spec changed", [](Json& o) { o["metadata"]["generation"] = 2; }},
      {"email changed", [](Json& o) { o["spec"]["acme"]["email"] = "new@example.org"; }},
      {"key changed", [](Json& o) { o["status"]["acme"]["lastPrivateKeyHash"] = "other"; }},
      {"another CA", [](Json& o) { o["status"]["acme"]["uri"] = "https://other.test/acct/1"; }},
      {"not Ready", [](Json& o) { o["status"]["conditions"][0]["status"] = "False"; }},
  };
  const Json ready = *kube.Peek(api::kClusterIssuers, "", "ca");
  acme->account_exists = true;
  for (const auto& [what, change] : changes) {
    SCOPED_TRACE(what);
    Json changed = ready;
    change(changed);
    kube.Add(api::kClusterIssuers, changed);
    accounts.Remove("ClusterIssuer/ca");
    acme->calls.clear();
    ASSERT_TRUE(Sync().status.ok());
    EXPECT_EQ(acme->calls, (std::vector<std::string>{"LookupAccount"}));
  }
}

// An Issuer registered by a controller that did not record renewalInfo: the restart reads the
// directory once and records it, so the restarts after it ask the CA nothing.
TEST_F(IssuerReconcilerTest, ARestartRecordsRenewalInfoOnceForAnOlderIssuer) {
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  AddEabSecret();
  ASSERT_TRUE(Sync().status.ok());
  Json older = *kube.Peek(api::kClusterIssuers, "", "ca");
  older["status"]["acme"].erase("renewalInfo");
  kube.Add(api::kClusterIssuers, older);
  accounts.Remove("ClusterIssuer/ca");  // the restart
  acme->calls.clear();
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(acme->calls.empty());  // no account request
  EXPECT_EQ(Writes().size(), 1u);
  EXPECT_EQ(Status()["acme"]["renewalInfo"], "NotOffered");
  EXPECT_EQ(Ready()["reason"], "ACMEAccountRegistered");
  accounts.Remove("ClusterIssuer/ca");  // and another restart
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Writes(), std::vector<std::string>{});
}

// The lookup failing for any reason but "does not exist" must not spend the EAB: the CA may
// well hold an account for this key, and a pair bound once cannot bind another. The Issuer says
// what went wrong and is retried; NewAccount is never called.
TEST_F(IssuerReconcilerTest, LookupErrorOtherThanNotFoundDoesNotSpendTheEab) {
  const std::vector<std::pair<std::string, certsmith::Status>> cases = {
      {"CA unreachable",
       MakeError(ErrorCode::kUnavailable, "cannot reach https://ca.test/dir: connection refused")},
      {"CA 500", CaProblem("urn:ietf:params:acme:error:serverInternal", "database is down", 500)},
      {"rate limited", CaProblem("urn:ietf:params:acme:error:rateLimited", "too many lookups", 429,
                                 std::chrono::seconds(30))},
      {"key refused", CaProblem("urn:ietf:params:acme:error:unauthorized", "key is revoked", 403)},
  };
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  AddEabSecret();
  for (const auto& [what, error] : cases) {
    SCOPED_TRACE(what);
    acme->calls.clear();
    acme->lookup_error = error;
    SyncResult r = Sync();
    EXPECT_FALSE(r.status.ok());  // retried with the queue's capped backoff
    EXPECT_EQ(acme->calls, (std::vector<std::string>{"LookupAccount"}));
    EXPECT_FALSE(acme->last_eab.has_value());
    EXPECT_EQ(Ready()["status"], "False");
    EXPECT_EQ(Ready()["reason"], "ErrRegisterACMEAccount");
    EXPECT_NE(Ready()["message"].get<std::string>().find(error.message()), std::string::npos)
        << Ready()["message"];
    EXPECT_FALSE(accounts.Find("ClusterIssuer/ca").has_value());
  }
  // Once the lookup answers "does not exist", the same Issuer registers, with the EAB.
  acme->lookup_error.reset();
  acme->calls.clear();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls, (std::vector<std::string>{"LookupAccount", "NewAccount"}));
  ASSERT_TRUE(acme->last_eab.has_value());
  EXPECT_EQ(Ready()["reason"], "ACMEAccountRegistered");
}

// Orders and Challenges waiting for the account (after a restart) are woken once it is
// registered: the listener hears each new or changed account once, not every sync.
TEST_F(IssuerReconcilerTest, ARegisteredAccountIsAnnouncedOnce) {
  std::vector<std::string> heard;
  accounts.OnRegistered([&heard](const std::string& key) { heard.push_back(key); });
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  AddEabSecret();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(heard, (std::vector<std::string>{"ClusterIssuer/ca"}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(heard.size(), 1u);
  accounts.OnRegistered(nullptr);
  accounts.Put("ClusterIssuer/other", {"h", "https://ca.test/acct/2", acme});
  EXPECT_EQ(heard.size(), 1u);
}

TEST_F(IssuerReconcilerTest, AnInvalidSpecKeepsTheAccountUri) {
  Json issuer = ClusterIssuer();
  issuer["spec"]["acme"]["server"] = 42;
  issuer["status"] = {{"acme", {{"uri", FakeAcmeClient::kAccountUrl}}}};
  kube.Add(api::kClusterIssuers, issuer);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["acme"]["uri"], FakeAcmeClient::kAccountUrl);
  EXPECT_EQ(Ready()["status"], "False");
  EXPECT_EQ(Ready()["reason"], "InvalidSpec");
  EXPECT_TRUE(acme->calls.empty());
}

TEST_F(IssuerReconcilerTest, WrongHmacKeyMakesReadyFalseWithTheCasMessage) {
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  AddEabSecret();
  acme->new_account_error = CaProblem("urn:ietf:params:acme:error:unauthorized",
                                      "External account binding JWS signature is invalid", 401);
  SyncResult r = Sync();
  EXPECT_FALSE(r.status.ok());  // retried with the queue's capped backoff
  EXPECT_EQ(Ready()["status"], "False");
  EXPECT_EQ(Ready()["reason"], "ErrRegisterACMEAccount");
  EXPECT_NE(Ready()["message"].get<std::string>().find("signature is invalid"), std::string::npos);
  EXPECT_EQ(EventsWithReason("ErrRegisterACMEAccount").size(), 1u);
  EXPECT_FALSE(accounts.Find("ClusterIssuer/ca").has_value());
}

TEST_F(IssuerReconcilerTest, MissingEabSecretSaysWhich) {
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  SyncResult r = Sync();
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(Ready()["reason"], "EABSecretMissing");
  EXPECT_NE(Ready()["message"].get<std::string>().find("certsmith/ca-eab"), std::string::npos);
  EXPECT_EQ(acme->calls, (std::vector<std::string>{"LookupAccount"}));
}

TEST_F(IssuerReconcilerTest, DisabledKeyGenerationWithoutSecretFails) {
  Json issuer = ClusterIssuer(false);
  issuer["spec"]["acme"]["disableAccountKeyGeneration"] = true;
  kube.Add(api::kClusterIssuers, issuer);
  EXPECT_FALSE(Sync().status.ok());
  EXPECT_EQ(Ready()["reason"], "AccountKeyMissing");
  EXPECT_FALSE(HasWrite("create secrets"));
  EXPECT_TRUE(acme->calls.empty());
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
