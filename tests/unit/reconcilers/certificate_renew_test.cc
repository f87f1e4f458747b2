// `kubectl certsmith renew`: the certsmith.io/renew-revision annotation asks for a certificate
// newer than revision N. It is honoured exactly once (one Order, one new revision) however often
// it is synced or repeated, and retried with backoff when the issuance fails.
#include "api/certificate.h"
#include "certificates/certificate_reconciler.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

class CertificateRenewTest : public ReconcilerTest {
 protected:
  CertificateRenewTest() : reconciler(ctx) {
    AddReadyIssuer();
    auto key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
    kube.Add(kube::kSecrets, Secret("default", "web-tls",
                                    {{"tls.crt", IssueChain(key, {"a.example"})},
                                     {"tls.key", key.ToPem(acme::PemEncoding::kPkcs1).value()}},
                                    {{api::kIssuerNameAnnotation, "ca"},
                                     {api::kIssuerKindAnnotation, "ClusterIssuer"},
                                     {api::kRevisionAnnotation, "1"}}));
  }
  SyncResult Sync() { return reconciler.Sync("default/web"); }
  std::vector<Json> Orders() { return kube.All(api::kOrders); }
  Json Cert() { return *kube.Peek(api::kCertificates, "default", "web"); }
  void AddCertificate(const char* renew_revision) {
    Json c = Certificate();
    c["status"] = {{"revision", 1}};
    if (renew_revision != nullptr) {
      c["metadata"]["annotations"] = {{api::kRenewRevisionAnnotation, renew_revision}};
    }
    kube.Add(api::kCertificates, c);
  }
  Json Condition(const std::string& type) {
    for (const Json& c : Cert()["status"].value("conditions", Json::array())) {
      if (c["type"] == type) return c;
    }
    return nullptr;
  }
  // The CA answers the pending Order with a certificate for its key.
  void CompleteOrder(const Json& order_in) {
    Json next = *kube.Peek(kube::kSecrets, "default",
                           Cert()["status"]["nextPrivateKeySecretName"].get<std::string>());
    auto key = acme::PrivateKey::FromPem(
                   Base64DecodeLenient(next["data"]["tls.key"].get<std::string>()).value())
                   .value();
    Json order = order_in;
    order["status"] = {{"state", "valid"},
                       {"url", "https://ca.test/o/1"},
                       {"certificate", Base64Encode(IssueChain(key, {"a.example"}))}};
    ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  }

  CertificateReconciler reconciler;
};

TEST_F(CertificateRenewTest, ARequestForTheCurrentRevisionIssuesExactlyOnce) {
  AddCertificate("1");
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  EXPECT_EQ(Orders()[0]["metadata"]["annotations"][api::kRevisionAnnotation], "2");
  EXPECT_EQ(Condition("Issuing").value("reason", ""), "ManuallyTriggered");
  EXPECT_EQ(Condition("Ready").value("status", ""), "True");  // still served meanwhile
  // Synced again while the Order runs: the same Order.
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);

  CompleteOrder(Orders()[0]);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Cert()["status"]["revision"], 2);
  EXPECT_TRUE(Condition("Issuing").is_null());
  // The annotation stays, and asks for nothing more: revision 2 is newer than 1.
  kube.ClearActions();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Orders().size(), 1u);
  EXPECT_FALSE(HasWrite("create"));
  EXPECT_EQ(EventsWithReason("Issued").size(), 1u);
}

TEST_F(CertificateRenewTest, NoRequestOrAnOlderOrUnreadableOneIssuesNothing) {
  for (const char* value : {static_cast<const char*>(nullptr), "0", "", "two", "-1", "1x"}) {
    (void)kube.Delete(api::kCertificates, "default", "web");  // absent the first time
    AddCertificate(value);
    ASSERT_TRUE(Sync().status.ok());
    EXPECT_TRUE(Orders().empty()) << (value ? value : "(none)");
  }
}

TEST_F(CertificateRenewTest, AFailedRenewalIsRetriedAfterTheBackoff) {
  AddCertificate("1");
  ASSERT_TRUE(Sync().status.ok());
  Json order = Orders()[0];
  order["status"] = {{"state", "invalid"}, {"reason", "urn:ietf:params:acme:error:serverInternal"}};
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  SyncResult failed = Sync();
  ASSERT_TRUE(failed.requeue_after.has_value());
  EXPECT_EQ(Condition("Issuing").value("reason", ""), "Failed");
  EXPECT_EQ(Condition("Ready").value("status", ""), "True");
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Orders().size(), 1u);  // backing off
  clock.Advance(*failed.requeue_after);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Orders().size(), 2u);  // the request still stands: a new attempt
}

TEST(RenewalRequestedTest, ComparesWithTheStatusRevision) {
  api::Certificate cert;
  EXPECT_FALSE(RenewalRequested(cert));
  cert.metadata.annotations[api::kRenewRevisionAnnotation] = "3";
  cert.status.revision = 3;
  EXPECT_TRUE(RenewalRequested(cert));
  cert.status.revision = 4;
  EXPECT_FALSE(RenewalRequested(cert));
  cert.status.revision = 0;  // never issued yet: the first issuance is the renewal
  EXPECT_TRUE(RenewalRequested(cert));
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
