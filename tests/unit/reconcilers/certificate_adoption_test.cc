// Migration from cert-manager without re-issuing: a converted Certificate next to the TLS Secret
// cert-manager wrote adopts it (no key, no Order, Ready at once) when the key matches, the names
// match, it is not due, and cert-manager's annotations name the same Issuer.
#include "api/certificate.h"
#include "certificates/adoption.h"
#include "certificates/certificate_reconciler.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

Json CertManagerAnnotations(const std::string& issuer, const std::string& kind) {
  Json a = {{"cert-manager.io/issuer-name", issuer},
            {"cert-manager.io/issuer-group", "cert-manager.io"},
            {"cert-manager.io/certificate-name", "web"},
            {"cert-manager.io/alt-names", "a.example"}};
  if (!kind.empty()) a["cert-manager.io/issuer-kind"] = kind;
  return a;
}

class CertificateAdoptionTest : public ReconcilerTest {
 protected:
  CertificateAdoptionTest() : reconciler(ctx) { AddReadyIssuer(); }
  SyncResult Sync() { return reconciler.Sync("default/web"); }
  Json Cert() { return *kube.Peek(api::kCertificates, "default", "web"); }
  std::vector<Json> Orders() { return kube.All(api::kOrders); }
  Json TlsSecret() { return *kube.Peek(kube::kSecrets, "default", "web-tls"); }

  // The Secret as cert-manager leaves it: its annotations and label, an RSA-2048 key (its
  // default), and with --enable-certificate-owner-ref its Certificate as owner.
  void AddCertManagerSecret(Json annotations, std::vector<std::string> names = {"a.example"},
                            std::chrono::minutes lifetime = std::chrono::hours(24 * 90)) {
    static const acme::PrivateKey key = acme::PrivateKey::Generate(acme::KeyType::kRsa2048).value();
    Json s = Secret("default", "web-tls",
                    {{"tls.crt", IssueChain(key, names, lifetime)},
                     {"tls.key", key.ToPem(acme::PemEncoding::kPkcs1).value()}},
                    annotations);
    s["type"] = "kubernetes.io/tls";
    s["metadata"]["labels"] = {{"controller.cert-manager.io/fao", "true"}};
    s["metadata"]["ownerReferences"] = {
        {{"apiVersion", "cert-manager.io/v1"},
         {"kind", "Certificate"},
         {"name", "web"},
         {"uid", "cm-uid"},
         {"controller", true}},
        {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "shop"}, {"uid", "d-uid"}}};
    kube.Add(kube::kSecrets, s);
  }
  // As `kubectl certsmith convert` writes it: cert-manager's default key made explicit.
  static Json Converted() {
    Json c = Certificate();
    c["spec"]["privateKey"] = {{"algorithm", "RSA"}};
    return c;
  }

  CertificateReconciler reconciler;
};

TEST_F(CertificateAdoptionTest, AdoptsCertManagersSecretWithoutAKeyOrAnOrder) {
  AddCertManagerSecret(CertManagerAnnotations("ca", "ClusterIssuer"));
  const std::string crt_before = TlsSecret()["data"]["tls.crt"];
  kube.Add(api::kCertificates, Converted());
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(Orders().empty());
  EXPECT_FALSE(HasWrite("create secrets"));  // no next key either
  EXPECT_TRUE(EventsWithReason("KeyGenerated").empty());

  Json status = Cert()["status"];
  EXPECT_EQ(status["revision"], 1);
  ASSERT_EQ(status["conditions"].size(), 1u);
  EXPECT_EQ(status["conditions"][0]["type"], "Ready");
  EXPECT_EQ(status["conditions"][0]["status"], "True");
  EXPECT_TRUE(status.contains("renewalTime"));
  ASSERT_TRUE(r.requeue_after.has_value());  // the renewal, not an issuance
  EXPECT_GT(*r.requeue_after, std::chrono::hours(24 * 50));

  Json secret = TlsSecret();
  EXPECT_EQ(secret["data"]["tls.crt"], crt_before);  // the certificate served stays
  const Json& labels = secret["metadata"]["labels"];
  EXPECT_EQ(labels[api::kManagedByLabel], "certsmith");  // now in the controller's Secret cache
  EXPECT_EQ(labels[api::kCertificateNameLabel], "web");
  EXPECT_EQ(labels["controller.cert-manager.io/fao"], "true");
  const Json& annotations = secret["metadata"]["annotations"];
  EXPECT_EQ(annotations[api::kIssuerNameAnnotation], "ca");
  EXPECT_EQ(annotations[api::kIssuerKindAnnotation], "ClusterIssuer");
  EXPECT_EQ(annotations[api::kRevisionAnnotation], "1");
  EXPECT_EQ(annotations["cert-manager.io/issuer-name"], "ca");  // kept for a rollback
  // cert-manager's Certificate no longer owns it (deleting that one must not collect it); other
  // owners stay.
  ASSERT_EQ(secret["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ(secret["metadata"]["ownerReferences"][0]["kind"], "Deployment");

  ASSERT_EQ(EventsWithReason("Adopted").size(), 1u);
  EXPECT_NE(EventsWithReason("Adopted")[0].value("message", "").find("no new order"),
            std::string::npos);
  EXPECT_TRUE(EventsWithReason("Issued").empty());

  // Adopted once: the next sync sees its own Secret and writes nothing.
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Writes().empty());
  EXPECT_EQ(EventsWithReason("Adopted").size(), 1u);
}

// What decides between adopting and issuing: the rule adopts only a certificate certsmith would
// itself keep, from the Issuer the Certificate names.
struct AdoptionCase {
  const char* name;
  const char* issuer;              // cert-manager.io/issuer-name on the Secret
  const char* kind;                // cert-manager.io/issuer-kind ("" absent: cert-manager's Issuer)
  const char* spec_kind;           // the Certificate's issuerRef.kind
  std::vector<std::string> names;  // in the Secret's certificate (the spec has a.example)
  int lifetime_minutes;
  const char* algorithm;      // the Certificate's spec.privateKey.algorithm
  const char* expect_reason;  // "" adopted; else the Issuing reason of the new Order
};

constexpr int kNinetyDays = 90 * 24 * 60;

void PrintTo(const AdoptionCase& c, std::ostream* os) { *os << c.name; }

class AdoptionTableTest : public CertificateAdoptionTest,
                          public ::testing::WithParamInterface<AdoptionCase> {};

TEST_P(AdoptionTableTest, AdoptsOrIssues) {
  const AdoptionCase& c = GetParam();
  AddCertManagerSecret(CertManagerAnnotations(c.issuer, c.kind), c.names,
                       std::chrono::minutes(c.lifetime_minutes));
  Json cert = Converted();
  cert["spec"]["issuerRef"]["kind"] = c.spec_kind;
  cert["spec"]["privateKey"]["algorithm"] = c.algorithm;
  auto parsed = api::Certificate::FromJson(cert);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Json secret = TlsSecret();
  IssuanceCheck check = CheckIssuance(*parsed, &secret, clock.Now());
  if (std::string(c.expect_reason).empty()) {
    EXPECT_FALSE(check.needed) << check.reason;
    EXPECT_TRUE(check.adopt);
    return;
  }
  EXPECT_TRUE(check.needed);
  EXPECT_EQ(check.reason, c.expect_reason);
  // Due for renewal, the certificate is still served (Ready) while the new one is ordered, and
  // the Secret is taken over when it is written.
  EXPECT_EQ(check.current_valid, std::string(c.expect_reason) == "Renewing");
}

INSTANTIATE_TEST_SUITE_P(
    Table, AdoptionTableTest,
    ::testing::Values(AdoptionCase{"SameClusterIssuer",
                                   "ca",
                                   "ClusterIssuer",
                                   "ClusterIssuer",
                                   {"a.example"},
                                   kNinetyDays,
                                   "RSA",
                                   ""},
                      AdoptionCase{"IssuerKindDefaultsToIssuer",
                                   "ca",
                                   "",
                                   "Issuer",
                                   {"a.example"},
                                   kNinetyDays,
                                   "RSA",
                                   ""},
                      AdoptionCase{"AnotherIssuer",
                                   "letsencrypt",
                                   "ClusterIssuer",
                                   "ClusterIssuer",
                                   {"a.example"},
                                   kNinetyDays,
                                   "RSA",
                                   "IncorrectIssuer"},
                      AdoptionCase{"AnotherKind",
                                   "ca",
                                   "Issuer",
                                   "ClusterIssuer",
                                   {"a.example"},
                                   kNinetyDays,
                                   "RSA",
                                   "IncorrectIssuer"},
                      AdoptionCase{"NamesDiffer",
                                   "ca",
                                   "ClusterIssuer",
                                   "ClusterIssuer",
                                   {"a.example", "b.example"},
                                   kNinetyDays,
                                   "RSA",
                                   "SpecChanged"},
                      // cert-manager's default key is RSA; a spec saying ECDSA wants another key.
                      AdoptionCase{"KeyTypeDiffers",
                                   "ca",
                                   "ClusterIssuer",
                                   "ClusterIssuer",
                                   {"a.example"},
                                   kNinetyDays,
                                   "ECDSA",
                                   "SpecChanged"},
                      AdoptionCase{"DueForRenewal",
                                   "ca",
                                   "ClusterIssuer",
                                   "ClusterIssuer",
                                   {"a.example"},
                                   80,
                                   "RSA",
                                   "Renewing"}),
    [](const ::testing::TestParamInfo<AdoptionCase>& info) { return info.param.name; });

TEST(AdoptionRuleTest, OnlyCertManagersOwnSecretsFromTheSameIssuer) {
  api::Certificate cert;
  cert.spec.issuer_ref = {"ca", "ClusterIssuer", "certsmith.io"};
  Json secret = {{"metadata", {{"annotations", CertManagerAnnotations("ca", "ClusterIssuer")}}}};
  EXPECT_TRUE(WrittenByCertManagerForIssuer(cert, secret));
  // An external issuer's group (another controller's certificate) is not cert-manager's ACME.
  secret["metadata"]["annotations"]["cert-manager.io/issuer-group"] = "awspca.cert-manager.io";
  EXPECT_FALSE(WrittenByCertManagerForIssuer(cert, secret));
  secret["metadata"]["annotations"].erase("cert-manager.io/issuer-group");
  EXPECT_TRUE(WrittenByCertManagerForIssuer(cert, secret));
  // Already certsmith's (its own annotation decides, whatever cert-manager's say).
  secret["metadata"]["annotations"][api::kIssuerNameAnnotation] = "ca";
  EXPECT_FALSE(WrittenByCertManagerForIssuer(cert, secret));
  EXPECT_FALSE(WrittenByCertManagerForIssuer(cert, Json{{"metadata", Json::object()}}));
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
