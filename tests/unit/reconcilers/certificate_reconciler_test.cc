#include "certificates/certificate_reconciler.h"

#include "api/certificate.h"
#include "kube/time_format.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

class CertificateReconcilerTest : public ReconcilerTest {
 protected:
  CertificateReconcilerTest() : reconciler(ctx) { AddReadyIssuer(); }
  SyncResult Sync() { return reconciler.Sync("default/web"); }
  Json Cert() { return *kube.Peek(api::kCertificates, "default", "web"); }
  std::vector<Json> Orders() { return kube.All(api::kOrders); }

  // A valid Secret for names, as the controller would have written it.
  acme::PrivateKey AddValidSecret(std::vector<std::string> names,
                                  std::chrono::hours lifetime = std::chrono::hours(24 * 90)) {
    auto key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
    kube.Add(kube::kSecrets,
             Secret("default", "web-tls",
                    {{"tls.crt", IssueChain(key, names, lifetime)},
                     {"tls.key", key.ToPem(acme::PemEncoding::kPkcs1).value()}},
                    {{api::kIssuerNameAnnotation, "ca"},
                     {api::kIssuerKindAnnotation, "ClusterIssuer"}}));
    return key;
  }

  CertificateReconciler reconciler;
};

TEST_F(CertificateReconcilerTest, IssuesWhenSecretIsMissingAndStoresTheKeyFirst) {
  kube.Add(api::kCertificates, Certificate());
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(Orders().size(), 1u);
  // The key is in a Secret before the Order exists: a crash in between loses nothing.
  size_t key_write = IndexOf("create secrets default/web-next-key");
  size_t order_write = IndexOf("create orders default/web-1-");
  ASSERT_LT(key_write, Writes().size());
  ASSERT_LT(order_write, Writes().size());
  EXPECT_LT(key_write, order_write);
  Json order = Orders()[0];
  EXPECT_EQ(order["spec"]["dnsNames"], Json::array({"a.example"}));
  EXPECT_FALSE(order["spec"].value("request", "").empty());
  EXPECT_EQ(order["metadata"]["ownerReferences"][0]["kind"], "Certificate");
  Json status = Cert()["status"];
  EXPECT_EQ(status["nextPrivateKeySecretName"].get<std::string>().rfind("web-next-key", 0), 0u);
  EXPECT_EQ(EventsWithReason("KeyGenerated").size(), 1u);
  EXPECT_EQ(EventsWithReason("OrderCreated").size(), 1u);

  // A second sync is idempotent: same key, same Order, nothing new.
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(HasWrite("create"));
  EXPECT_EQ(Orders().size(), 1u);
}

TEST_F(CertificateReconcilerTest, WritesTheTlsSecretWhenTheOrderIsValid) {
  Json cert = Certificate();
  cert["spec"]["privateKey"] = {{"encoding", "PKCS8"}};
  cert["spec"]["secretTemplate"] = {{"labels", {{"team", "web"}}}};
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  Json next = kube.All(kube::kSecrets)[0];
  std::string key_pem = Base64DecodeLenient(next["data"]["tls.key"].get<std::string>()).value();
  auto key = acme::PrivateKey::FromPem(key_pem).value();
  Json order = Orders()[0];
  order["status"] = {{"state", "valid"},
                     {"url", "https://ca.test/o/1"},
                     {"certificate", Base64Encode(IssueChain(key, {"a.example"}))}};
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());

  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto secret = kube.Peek(kube::kSecrets, "default", "web-tls");
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ((*secret)["type"], "kubernetes.io/tls");
  std::string tls_key = Base64DecodeLenient((*secret)["data"]["tls.key"].get<std::string>()).value();
  EXPECT_NE(tls_key.find("BEGIN PRIVATE KEY"), std::string::npos);  // PKCS#8 as asked
  EXPECT_TRUE(acme::PrivateKey::FromPem(tls_key)->SamePublicKey(key));
  std::string ca = Base64DecodeLenient((*secret)["data"]["ca.crt"].get<std::string>()).value();
  EXPECT_EQ(acme::ParseCertificatePem(ca)->common_name, "Test CA");
  EXPECT_EQ((*secret)["metadata"]["labels"][api::kManagedByLabel], "certsmith");
  EXPECT_EQ((*secret)["metadata"]["labels"]["team"], "web");
  EXPECT_EQ((*secret)["metadata"]["annotations"][api::kIssuerNameAnnotation], "ca");
  Json status = Cert()["status"];
  EXPECT_EQ(status["revision"], 1);
  EXPECT_TRUE(status.contains("renewalTime"));
  EXPECT_FALSE(status.contains("nextPrivateKeySecretName"));
  EXPECT_FALSE(kube.Peek(kube::kSecrets, "default", next["metadata"]["name"].get<std::string>()));
  EXPECT_EQ(EventsWithReason("Issued").size(), 1u);
  ASSERT_TRUE(r.requeue_after.has_value());  // the renewal, at 2/3 of 90 days
  EXPECT_NEAR(std::chrono::duration_cast<std::chrono::hours>(*r.requeue_after).count(),
              24 * 60 - 1, 2);
}

TEST_F(CertificateReconcilerTest, SkipsWhenTheSecretIsValid) {
  AddValidSecret({"a.example"});
  kube.Add(api::kCertificates, Certificate());
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(Orders().empty());
  EXPECT_FALSE(HasWrite("create secrets"));
  Json status = Cert()["status"];
  EXPECT_EQ(status["conditions"][0]["status"], "True");
  EXPECT_EQ(EventsWithReason("RenewalScheduled").size(), 1u);
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_GT(*r.requeue_after, std::chrono::hours(24 * 50));
}

TEST_F(CertificateReconcilerTest, ReissuesWhenTheSpecChanges) {
  AddValidSecret({"a.example"});
  kube.Add(api::kCertificates, Certificate({"a.example", "b.example"}));
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  EXPECT_EQ(Orders()[0]["spec"]["dnsNames"], Json::array({"a.example", "b.example"}));
}

TEST_F(CertificateReconcilerTest, ReissuesWhenDue) {
  AddValidSecret({"a.example"}, std::chrono::hours(30));
  kube.Add(api::kCertificates, Certificate());
  SyncResult first = Sync();
  ASSERT_TRUE(first.requeue_after.has_value());
  EXPECT_TRUE(Orders().empty());
  clock.Advance(*first.requeue_after);  // renewal time: 2/3 of 30h after notBefore
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Orders().size(), 1u);
}

TEST_F(CertificateReconcilerTest, FailedOrderBacksOffThenOrdersAgain) {
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  Json order = Orders()[0];
  order["status"] = {{"state", "invalid"},
                     {"reason", "urn:ietf:params:acme:error:rejectedIdentifier: no"}};
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  SyncResult r = Sync();
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, std::chrono::minutes(1));
  Json status = Cert()["status"];
  EXPECT_EQ(status["failedIssuanceAttempts"], 1);
  EXPECT_TRUE(status.contains("lastFailureTime"));
  EXPECT_EQ(EventsWithReason("Failed").size(), 1u);
  // Within the backoff nothing is ordered; after it a new Order (new name) is.
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Orders().size(), 1u);
  clock.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Orders().size(), 2u);
}

// The TLS Secret's ownerReference follows spec.secretDeletionPolicy, else the controller's
// default; it decides whether deleting the Certificate takes the Secret along.
struct SecretOwnershipCase {
  const char* name;
  const char* field;          // spec.secretDeletionPolicy ("" unset)
  const char* flag;           // ControllerOptions::default_secret_deletion_policy
  bool secret_exists;         // a valid Secret (UpToDate path) or none (issued by this test)
  bool starts_owned;          // the Secret already carries this Certificate's reference
  bool expect_owned;
};

void PrintTo(const SecretOwnershipCase& c, std::ostream* os) { *os << c.name; }

class SecretOwnershipTest : public CertificateReconcilerTest,
                            public ::testing::WithParamInterface<SecretOwnershipCase> {
 protected:
  // A Secret owner that is not ours and must be left alone.
  static Json OtherOwner() {
    return {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "shop"},
            {"uid", "other-uid"}, {"controller", true}};
  }
  static int OwnerRefsWithUid(const Json& secret, const std::string& uid) {
    int n = 0;
    for (const Json& ref : secret["metadata"].value("ownerReferences", Json::array())) {
      if (ref.value("uid", "") == uid) ++n;
    }
    return n;
  }
  // Issues through a valid Order (the Complete path writes the Secret).
  void IssueSecret() {
    ASSERT_TRUE(Sync().status.ok());
    Json next = kube.All(kube::kSecrets)[0];
    auto pem = Base64DecodeLenient(next["data"]["tls.key"].get<std::string>()).value();
    auto key = acme::PrivateKey::FromPem(pem).value();
    Json order = Orders()[0];
    order["status"] = {{"state", "valid"},
                       {"certificate", Base64Encode(IssueChain(key, {"a.example"}))}};
    ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  }
};

TEST_P(SecretOwnershipTest, FollowsThePolicy) {
  const SecretOwnershipCase& c = GetParam();
  ctx.options.default_secret_deletion_policy = c.flag;
  Json cert = Certificate();
  if (*c.field) cert["spec"]["secretDeletionPolicy"] = c.field;
  kube.Add(api::kCertificates, cert);
  const std::string uid = kube::GetUid(Cert());
  if (c.secret_exists) {
    AddValidSecret({"a.example"});
    Json secret = *kube.Peek(kube::kSecrets, "default", "web-tls");
    secret["metadata"]["ownerReferences"] = Json::array({OtherOwner()});
    if (c.starts_owned) {
      secret["metadata"]["ownerReferences"].push_back(
          {{"apiVersion", "certsmith.io/v1"}, {"kind", "Certificate"}, {"name", "web"},
           {"uid", uid}, {"controller", false}, {"blockOwnerDeletion", true}});
    }
    ASSERT_TRUE(kube.Update(kube::kSecrets, "default", secret).ok());
  } else {
    IssueSecret();
  }
  kube.ClearActions();

  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  Json secret = *kube.Peek(kube::kSecrets, "default", "web-tls");
  EXPECT_EQ(OwnerRefsWithUid(secret, uid), c.expect_owned ? 1 : 0);
  if (c.expect_owned) {
    for (const Json& ref : secret["metadata"]["ownerReferences"]) {
      if (ref.value("uid", "") != uid) continue;
      EXPECT_EQ(ref["kind"], "Certificate");
      EXPECT_EQ(ref["name"], "web");
      EXPECT_EQ(ref["controller"], false);  // the Secret may have another controller
      EXPECT_EQ(ref["blockOwnerDeletion"], true);
    }
  }
  if (c.secret_exists) {
    EXPECT_EQ(OwnerRefsWithUid(secret, "other-uid"), 1);  // other owners untouched
    EXPECT_EQ(HasWrite("update secrets default/web-tls"), c.starts_owned != c.expect_owned);
    EXPECT_EQ(EventsWithReason("SecretDeletionPolicy").size(),
              c.starts_owned != c.expect_owned ? 1u : 0u);
  }

  // Idempotent: the next sync writes nothing to the Secret.
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(HasWrite("update secrets default/web-tls"));

  // What the reference is for: the garbage collector takes the Secret with the Certificate.
  ASSERT_TRUE(kube.Delete(api::kCertificates, "default", "web").ok());
  EXPECT_EQ(kube.Peek(kube::kSecrets, "default", "web-tls").has_value(), !c.expect_owned);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SecretOwnershipTest,
    ::testing::Values(
        SecretOwnershipCase{"DefaultRetainLeavesNoReference", "", "Retain", true, false, false},
        SecretOwnershipCase{"DefaultRetainOnIssue", "", "Retain", false, false, false},
        SecretOwnershipCase{"FieldDeleteAddsReference", "Delete", "Retain", true, false, true},
        SecretOwnershipCase{"FieldDeleteOnIssue", "Delete", "Retain", false, false, true},
        SecretOwnershipCase{"FlagDeleteAddsReference", "", "Delete", true, false, true},
        SecretOwnershipCase{"FlagDeleteOnIssue", "", "Delete", false, false, true},
        SecretOwnershipCase{"FieldRetainOverridesFlag", "Retain", "Delete", true, true, false},
        SecretOwnershipCase{"BackToRetainRemovesReference", "", "Retain", true, true, false},
        SecretOwnershipCase{"AlreadyOwnedStaysOwned", "Delete", "Retain", true, true, true}),
    [](const ::testing::TestParamInfo<SecretOwnershipCase>& info) { return info.param.name; });

TEST_F(CertificateReconcilerTest, DeletedCertificateTakesItsOrdersAndNextKeyAlong) {
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  ASSERT_EQ(kube.All(kube::kSecrets).size(), 1u);  // the next private key
  ASSERT_TRUE(kube.Delete(api::kCertificates, "default", "web").ok());
  EXPECT_TRUE(Orders().empty());
  EXPECT_TRUE(kube.All(kube::kSecrets).empty());
  // A sync still queued for the deleted Certificate does nothing.
  kube.ClearActions();
  EXPECT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Writes().empty());
}

TEST_F(CertificateReconcilerTest, DeletedWhileItsRsaKeyIsGeneratingDropsTheKey) {
  Json cert = Certificate();
  cert["spec"]["privateKey"] = {{"algorithm", "RSA"}};
  kube.Add(api::kCertificates, cert);
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.requeue_after.has_value());  // generating off the worker: look again shortly
  EXPECT_EQ(reconciler.KeysGenerating(), 1u);
  ASSERT_TRUE(kube.Delete(api::kCertificates, "default", "web").ok());
  ASSERT_TRUE(Sync().status.ok());  // the requeued sync finds it gone
  EXPECT_EQ(reconciler.KeysGenerating(), 0u);
  EXPECT_TRUE(kube.All(kube::kSecrets).empty());
}

TEST(KeyGeneratorTest, ForgetDropsAGenerationWithoutWaitingForIt) {
  KeyGenerator keys;
  EXPECT_FALSE(keys.Poll("default/a", acme::KeyType::kRsa2048).has_value());
  EXPECT_FALSE(keys.Poll("default/b", acme::KeyType::kRsa2048).has_value());
  EXPECT_EQ(keys.Pending(), 2u);
  keys.Forget("default/a");
  keys.Forget("default/unknown");
  EXPECT_EQ(keys.Pending(), 1u);
  // A Certificate of the same name made later starts afresh.
  EXPECT_FALSE(keys.Poll("default/a", acme::KeyType::kRsa2048).has_value());
  EXPECT_EQ(keys.Pending(), 2u);
}

TEST(RenewalTimeTest, DefaultsToTwoThirdsAndHonoursRenewBefore) {
  api::Certificate cert;
  acme::CertificateInfo info;
  info.not_before = Clock::TimePoint(std::chrono::hours(0));
  info.not_after = Clock::TimePoint(std::chrono::hours(90));
  EXPECT_EQ(RenewalTime(cert, info), Clock::TimePoint(std::chrono::hours(60)));
  cert.spec.renew_before = std::chrono::hours(10);
  EXPECT_EQ(RenewalTime(cert, info), Clock::TimePoint(std::chrono::hours(80)));
  cert.spec.renew_before = std::chrono::hours(100);  // longer than the lifetime: ignored
  EXPECT_EQ(RenewalTime(cert, info), Clock::TimePoint(std::chrono::hours(60)));
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
