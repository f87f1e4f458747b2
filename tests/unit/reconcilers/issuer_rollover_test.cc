// Account key rollover done by the controller (`kubectl certsmith account rollover`): the new key
// is staged in the Secret before the CA hears of it, the CA's keyChange is sent once, the Secret
// is updated after, the shared ACME client signs with the new key, and every interruption ends
// with the Secret holding the key the CA knows (RFC 8555 §7.3.5).
#include "acme/jws.h"
#include "api/condition.h"
#include "issuers/account_key_rollover.h"
#include "issuers/issuer_reconciler.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

std::string Thumbprint(const acme::Signer& s) { return acme::JwkThumbprint(s.PublicJwk()); }

// The CA's side: the one account and the key it answers to.
struct FakeCa {
  std::string bound;  // thumbprint of the account's key
  int key_changes = 0;
  int registrations = 0;
  std::optional<Status> key_change_error;  // the CA refuses (the key stays)
  bool answer_lost = false;                // the CA changes the key, its answer never arrives
};

// One client per signer, as the controller's factory makes them; all share the CA.
class KeyAwareAcme : public FakeAcmeClient {
 public:
  KeyAwareAcme(std::shared_ptr<FakeCa> ca, std::shared_ptr<const acme::Signer> signer)
      : ca_(std::move(ca)), signer_(std::move(signer)) {}
  Result<acme::Account> LookupAccount() override {
    if (Thumbprint(*signer_) != ca_->bound) {
      return MakeError(ErrorCode::kNotFound, "accountDoesNotExist");
    }
    return Known(false);
  }
  Result<acme::Account> NewAccount(const acme::NewAccountRequest&) override {
    ++ca_->registrations;
    ca_->bound = Thumbprint(*signer_);
    return Known(true);
  }
  Status KeyRollover(std::shared_ptr<const acme::Signer> new_key) override {
    ++ca_->key_changes;
    if (Thumbprint(*signer_) != ca_->bound) return MakeError(ErrorCode::kUnauthenticated, "old");
    if (ca_->key_change_error) return *ca_->key_change_error;
    ca_->bound = Thumbprint(*new_key);
    if (ca_->answer_lost) return MakeError(ErrorCode::kUnavailable, "connection reset");
    signer_ = std::move(new_key);
    return Status::Ok();
  }
  std::string signing_thumbprint() const { return Thumbprint(*signer_); }

 private:
  static acme::Account Known(bool created) {
    acme::Account a;
    a.url = kAccountUrl;
    a.status = acme::AccountStatus::kValid;
    a.created = created;
    return a;
  }
  std::shared_ptr<FakeCa> ca_;
  std::shared_ptr<const acme::Signer> signer_;
};

class IssuerRolloverTest : public ReconcilerTest {
 protected:
  IssuerRolloverTest() {
    ctx.options.cluster_resource_namespace = "certsmith";
    ctx.acme_factory = [this](const api::Issuer&, std::shared_ptr<const acme::Signer> signer)
        -> Result<std::shared_ptr<acme::AcmeClient>> {
      return std::shared_ptr<acme::AcmeClient>(std::make_shared<KeyAwareAcme>(ca, signer));
    };
    old_key = acme::PrivateKey::Generate(acme::KeyType::kRsa2048).value();
    kube.Add(kube::kSecrets,
             Secret("certsmith", "ca-account",
                    {{"tls.key", old_key.ToPem(acme::PemEncoding::kPkcs1).value()}}));
    ca->bound = old_key.JwkThumbprint();
    kube.Add(api::kClusterIssuers, ClusterIssuer(false));
    // Ready, its client cached, as a running controller has it.
    EXPECT_TRUE(Sync().status.ok());
    EXPECT_EQ(Condition("Ready")["status"], "True");
  }
  SyncResult Sync() { return IssuerReconciler(ctx, api::kClusterIssuers).Sync("ca"); }
  void Request(const std::string& id) {
    Json issuer = *kube.Peek(api::kClusterIssuers, "", "ca");
    issuer["metadata"]["annotations"][api::kAccountKeyRolloverAnnotation] = id;
    ASSERT_TRUE(kube.Update(api::kClusterIssuers, "", issuer).ok());
  }
  Json Condition(const std::string& type) {
    Json status = kube.Peek(api::kClusterIssuers, "", "ca")->value("status", Json::object());
    for (const Json& c : status.value("conditions", Json::array())) {
      if (c["type"] == type) return c;
    }
    return nullptr;
  }
  Json KeySecret() { return *kube.Peek(kube::kSecrets, "certsmith", "ca-account"); }
  std::optional<acme::PrivateKey> KeyIn(const std::string& field) {
    Json data = KeySecret().value("data", Json::object());
    if (!data.contains(field)) return std::nullopt;
    auto pem = Base64DecodeLenient(data[field].get<std::string>());
    return acme::PrivateKey::FromPem(*pem).value();
  }
  // The client the Order and Challenge reconcilers would use now.
  std::string RegistryThumbprint() {
    auto entry = accounts.Find("ClusterIssuer/ca");
    EXPECT_TRUE(entry.has_value());
    return std::static_pointer_cast<KeyAwareAcme>(entry->client)->signing_thumbprint();
  }

  std::shared_ptr<FakeCa> ca = std::make_shared<FakeCa>();
  acme::PrivateKey old_key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
};

TEST_F(IssuerRolloverTest, RollsOverOnceAndTheSharedClientSignsWithTheNewKey) {
  auto cached_client = accounts.Find("ClusterIssuer/ca")->client;
  Request("r1");
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(ca->key_changes, 1);
  auto key = KeyIn("tls.key");
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(key->SamePublicKey(old_key));
  EXPECT_EQ(ca->bound, key->JwkThumbprint());  // the Secret holds the key the CA knows
  EXPECT_TRUE(key->is_ecdsa());                // spec.acme.accountKey's type: P-256 by default
  EXPECT_FALSE(KeyIn("tls.key.next").has_value());
  EXPECT_EQ(KeySecret()["metadata"]["annotations"][api::kAccountKeyRolloverAnnotation], "r1");
  // The Order and Challenge reconcilers' client is the one that changed keys.
  EXPECT_EQ(accounts.Find("ClusterIssuer/ca")->client, cached_client);
  EXPECT_EQ(RegistryThumbprint(), ca->bound);
  Json rolled = Condition(api::kConditionAccountKeyRollover);
  EXPECT_EQ(rolled["status"], "True");
  EXPECT_EQ(rolled["reason"], "RolledOver");
  EXPECT_EQ(rolled["message"].get<std::string>().rfind("request r1: ", 0), 0u);
  Json status = kube.Peek(api::kClusterIssuers, "", "ca")->value("status", Json::object());
  EXPECT_EQ(status["acme"]["lastPrivateKeyHash"], acme::PublicKeyFingerprint(*key));
  EXPECT_EQ(status["acme"]["uri"], FakeAcmeClient::kAccountUrl);
  EXPECT_EQ(Condition("Ready")["status"], "True");
  EXPECT_EQ(EventsWithReason("AccountKeyRolledOver").size(), 1u);

  // Done once: more syncs (the annotation stays) change nothing.
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(ca->key_changes, 1);
  EXPECT_FALSE(HasWrite("update secrets"));
  EXPECT_EQ(ca->registrations, 0);  // never a new account
  // A second request rolls over again.
  Request("r2");
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(ca->key_changes, 2);
  EXPECT_FALSE(KeyIn("tls.key")->SamePublicKey(*key));
}

// The controller stops (or the network drops the CA's answer) between the CA's keyChange and
// the Secret update: the Secret holds the old key and the staged one, and the CA only knows the
// staged one. The next sync makes the staged key the account key, without a second keyChange and
// without registering a new account (which would spend the EAB again).
TEST_F(IssuerRolloverTest, AnAnswerLostAfterTheCaChangedTheKeyIsFinishedFromTheStagedKey) {
  Request("r1");
  ca->answer_lost = true;
  EXPECT_FALSE(Sync().status.ok());  // retried by the queue
  ASSERT_TRUE(KeyIn("tls.key.next").has_value());
  const acme::PrivateKey staged = *KeyIn("tls.key.next");
  EXPECT_TRUE(KeyIn("tls.key")->SamePublicKey(old_key));
  EXPECT_EQ(ca->bound, staged.JwkThumbprint());
  EXPECT_EQ(Condition(api::kConditionAccountKeyRollover)["status"], "Unknown");

  ca->answer_lost = false;
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(KeyIn("tls.key")->SamePublicKey(staged));
  EXPECT_FALSE(KeyIn("tls.key.next").has_value());
  EXPECT_EQ(KeySecret()["metadata"]["annotations"][api::kAccountKeyRolloverAnnotation], "r1");
  EXPECT_EQ(ca->key_changes, 1);
  EXPECT_EQ(ca->registrations, 0);
  EXPECT_EQ(RegistryThumbprint(), staged.JwkThumbprint());
  EXPECT_EQ(Condition("Ready")["status"], "True");
}

// Stopped after staging, before the CA heard of it: the account still answers to the old key,
// and the staged key is the one sent (the key stored first is the key the CA gets).
TEST_F(IssuerRolloverTest, AKeyStagedBeforeAStopIsTheOneSent) {
  const acme::PrivateKey staged = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
  Json secret = KeySecret();
  secret["data"]["tls.key.next"] = Base64Encode(staged.ToPem().value());
  ASSERT_TRUE(kube.Update(kube::kSecrets, "certsmith", secret).ok());
  Request("r1");
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(ca->key_changes, 1);
  EXPECT_EQ(ca->bound, staged.JwkThumbprint());
  EXPECT_TRUE(KeyIn("tls.key")->SamePublicKey(staged));
}

TEST_F(IssuerRolloverTest, ACaRefusalKeepsTheOldKeyAndSaysWhy) {
  Request("r1");
  ca->key_change_error =
      CaProblem("urn:ietf:params:acme:error:malformed", "New key is already in use", 409);
  ASSERT_TRUE(Sync().status.ok());  // final: not retried
  EXPECT_TRUE(KeyIn("tls.key")->SamePublicKey(old_key));
  EXPECT_FALSE(KeyIn("tls.key.next").has_value());
  EXPECT_EQ(ca->bound, old_key.JwkThumbprint());
  Json failed = Condition(api::kConditionAccountKeyRollover);
  EXPECT_EQ(failed["status"], "False");
  EXPECT_EQ(failed["reason"], "Failed");
  EXPECT_NE(failed["message"].get<std::string>().find("already in use"), std::string::npos);
  EXPECT_EQ(EventsWithReason("AccountKeyRolloverFailed").size(), 1u);
  EXPECT_EQ(Condition("Ready")["status"], "True");
  EXPECT_EQ(RegistryThumbprint(), old_key.JwkThumbprint());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(ca->key_changes, 1);  // the request is done, not retried
}

TEST_F(IssuerRolloverTest, ATransientCaErrorIsRetriedWithTheSameStagedKey) {
  Request("r1");
  ca->key_change_error = CaProblem("urn:ietf:params:acme:error:serverInternal", "busy", 500);
  EXPECT_FALSE(Sync().status.ok());
  const acme::PrivateKey staged = *KeyIn("tls.key.next");
  EXPECT_EQ(Condition(api::kConditionAccountKeyRollover)["reason"], "Retrying");
  ca->key_change_error.reset();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(ca->key_changes, 2);
  EXPECT_TRUE(KeyIn("tls.key")->SamePublicKey(staged));
}

TEST_F(IssuerRolloverTest, AKeySecretSharedWithAnotherIssuerIsNotRolledOver) {
  Json other = ClusterIssuer(false);
  other["metadata"]["name"] = "ca-staging";
  kube.Add(api::kClusterIssuers, other);
  Request("r1");
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(ca->key_changes, 0);
  Json refused = Condition(api::kConditionAccountKeyRollover);
  EXPECT_EQ(refused["reason"], "SharedAccountKey");
  EXPECT_NE(refused["message"].get<std::string>().find("ClusterIssuer ca-staging"),
            std::string::npos);
  EXPECT_TRUE(KeyIn("tls.key")->SamePublicKey(old_key));
}

TEST_F(IssuerRolloverTest, WaitsForChallengesPresentedWithTheOldKey) {
  Json ch = {{"apiVersion", "acme.certsmith.io/v1"},
             {"kind", "Challenge"},
             {"metadata", {{"name", "web-1"}, {"namespace", "shop"}}},
             {"spec", {{"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}},
             {"status", {{"state", "pending"}}}};
  kube.Add(api::kChallenges, ch);
  Request("r1");
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(ca->key_changes, 0);
  EXPECT_EQ(Condition(api::kConditionAccountKeyRollover)["reason"], "WaitingForChallenges");
  EXPECT_FALSE(KeyIn("tls.key.next").has_value());
  ch["status"]["state"] = "valid";
  ASSERT_TRUE(kube.UpdateStatus(api::kChallenges, "shop", ch).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(ca->key_changes, 1);
}

TEST_F(IssuerRolloverTest, AStagedKeyWithoutARequestIsDropped) {
  Json secret = KeySecret();
  secret["data"]["tls.key.next"] =
      Base64Encode(acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256)->ToPem().value());
  ASSERT_TRUE(kube.Update(kube::kSecrets, "certsmith", secret).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(KeyIn("tls.key.next").has_value());
  EXPECT_TRUE(KeyIn("tls.key")->SamePublicKey(old_key));
  EXPECT_EQ(ca->key_changes, 0);
}

TEST(PendingRolloverRequestTest, TheSecretSaysWhichRequestWasDone) {
  Json issuer = {{"metadata", {{"annotations", {{api::kAccountKeyRolloverAnnotation, "r2"}}}}}};
  Json secret = {{"metadata", {{"annotations", {{api::kAccountKeyRolloverAnnotation, "r1"}}}}}};
  EXPECT_EQ(PendingRolloverRequest(issuer, secret), "r2");
  secret["metadata"]["annotations"][api::kAccountKeyRolloverAnnotation] = "r2";
  EXPECT_EQ(PendingRolloverRequest(issuer, secret), "");
  EXPECT_EQ(PendingRolloverRequest(Json{{"metadata", Json::object()}}, secret), "");
  EXPECT_EQ(StagedKeyField("tls.key"), "tls.key.next");
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
