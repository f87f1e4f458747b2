// The cert-manager fields in the reconcilers: ARI renewal windows (fake clock, fixed randomness),
// Secret outputs (keystores, extra formats, annotations), revocation on delete, and what newOrder
// carries (replaces, profile, notBefore/notAfter).
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "acme/keystore.h"
#include "acme/renewal_info.h"
#include "certificates/ari_schedule.h"
#include "certificates/certificate_reconciler.h"
#include "certificates/revocation.h"
#include "certificates/secret_outputs.h"
#include "issuers/issuer_reconciler.h"
#include "kube/time_format.h"
#include "orders/order_reconciler.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(PointInWindowTest, UniformFractionOfTheWindowInWholeSeconds) {
  const Clock::TimePoint start(seconds(1000));
  const Clock::TimePoint end(seconds(2000));
  EXPECT_EQ(PointInWindow(start, end, 0.0), start);
  EXPECT_EQ(PointInWindow(start, end, 0.25), start + seconds(250));
  EXPECT_EQ(PointInWindow(start, end, 0.9999999), end - seconds(1));  // never the end itself
  EXPECT_EQ(PointInWindow(start, end, 1.0), end - seconds(1));
  EXPECT_EQ(PointInWindow(end, start, 0.5), end);  // inverted: its start
}

class CmFieldsTest : public ReconcilerTest {
 protected:
  CmFieldsTest() : reconciler(ctx) {
    AddReadyIssuer();
    ctx.random = [this] { return random_value; };
  }
  SyncResult Sync() { return reconciler.Sync("default/web"); }
  Json Cert() { return *kube.Peek(api::kCertificates, "default", "web"); }
  std::vector<Json> Orders() { return kube.All(api::kOrders); }
  std::string SecretData(const std::string& key) {
    auto s = kube.Peek(kube::kSecrets, "default", "web-tls");
    if (!s || !(*s)["data"].contains(key)) return "";
    return Base64DecodeLenient((*s)["data"][key].get<std::string>()).value();
  }

  // A valid Secret (90 days from an hour ago), as the controller writes it.
  std::string AddValidSecret(Json extra_annotations = Json::object()) {
    key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
    chain = IssueChain(key, {"a.example"});
    Json annotations = {{api::kIssuerNameAnnotation, "ca"},
                        {api::kIssuerKindAnnotation, "ClusterIssuer"}};
    annotations.update(extra_annotations);
    Json s = Secret("default", "web-tls",
                    {{"tls.crt", chain}, {"tls.key", key.ToPem(acme::PemEncoding::kPkcs1).value()}},
                    annotations);
    s["metadata"]["labels"] = {{api::kCertificateNameLabel, "web"}};
    kube.Add(kube::kSecrets, s);
    return chain;
  }
  acme::RenewalInfo Window(Clock::TimePoint::duration from, Clock::TimePoint::duration to,
                           Clock::TimePoint::duration retry) {
    acme::RenewalInfo w;
    w.window_start = clock.Now() + from;
    w.window_end = clock.Now() + to;
    w.next_poll = clock.Now() + retry;
    return w;
  }
  // What the issuer's registration recorded about the CA's directory (status.acme.renewalInfo).
  void RecordIssuerRenewalInfo(const std::string& offered) {
    Json issuer = *kube.Peek(api::kClusterIssuers, "", "ca");
    issuer["status"]["acme"]["renewalInfo"] = offered;
    kube.Add(api::kClusterIssuers, issuer);
  }
  Clock::TimePoint RenewalTimeInStatus() {
    return *kube::ParseTime(Cert()["status"].value("renewalTime", ""));
  }

  double random_value = 0.5;
  acme::PrivateKey key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
  std::string chain;
  CertificateReconciler reconciler;
};

// -- ARI ---------------------------------------------------------------------------------------

TEST_F(CmFieldsTest, AriWindowSetsTheRenewalTimeAndSaysSo) {
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  acme->renewal_info = Window(hours(24 * 10), hours(24 * 12), hours(6));
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(acme->renewal_info_pem, chain);  // the CA is asked about the Secret's certificate
  const auto start = std::chrono::floor<seconds>(clock.Now() + hours(24 * 10));
  EXPECT_EQ(RenewalTimeInStatus(), start + hours(24));  // half way, as random says
  Json ri = Cert()["status"]["renewalInfo"];
  EXPECT_EQ(ri["certificateID"], *acme::AriCertId(chain));
  EXPECT_EQ(ri["windowStart"], kube::FormatTime(start));
  // Looked at again when the CA's Retry-After says, long before the renewal.
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_LE(*r.requeue_after, hours(6));
  auto scheduled = EventsWithReason("RenewalScheduled");
  ASSERT_EQ(scheduled.size(), 1u);
  EXPECT_NE(scheduled[0].value("message", "").find("set by the CA"), std::string::npos)
      << scheduled[0].dump();
  EXPECT_TRUE(Orders().empty());
}

TEST_F(CmFieldsTest, AnUnchangedWindowKeepsThePointAndTheCaIsNotAskedBeforeItsTime) {
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  acme->renewal_info = Window(hours(24 * 10), hours(24 * 12), hours(6));
  ASSERT_TRUE(Sync().status.ok());
  const auto first = RenewalTimeInStatus();
  ASSERT_TRUE(Sync().status.ok());  // before the Retry-After: no question to the CA
  EXPECT_EQ(acme->renewal_info_calls, 1);
  clock.Advance(hours(7));
  random_value = 0.9;  // a new draw would move it
  // The same window (in absolute time), asked again.
  acme->renewal_info = Window(hours(24 * 10) - hours(7), hours(24 * 12) - hours(7), hours(6));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->renewal_info_calls, 2);
  EXPECT_EQ(RenewalTimeInStatus(), first);
  EXPECT_EQ(EventsWithReason("RenewalScheduled").size(), 1u);
}

TEST_F(CmFieldsTest, AMovedWindowIsFollowedAndTheRenewalOrderReplacesTheCertificate) {
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  acme->renewal_info = Window(hours(24 * 10), hours(24 * 12), minutes(10));
  ASSERT_TRUE(Sync().status.ok());
  // The CA moves the window to now (a mass revocation): at the next check the point moves.
  clock.Advance(minutes(11));
  acme->renewal_info = Window(hours(-1), hours(1), minutes(10));
  random_value = 0.25;  // 30 minutes into the window: already past
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(RenewalTimeInStatus(),
            std::chrono::floor<seconds>(clock.Now() - hours(1)) + minutes(30));
  EXPECT_EQ(EventsWithReason("RenewalScheduled").size(), 2u);
  ASSERT_EQ(Orders().size(), 1u);
  EXPECT_EQ(Orders()[0]["spec"]["replaces"], *acme::AriCertId(chain));
}

// A window the CA moves is a new window: a new point is drawn in it, even when the old point
// would still fit (the CA may have moved it to spread renewals).
TEST_F(CmFieldsTest, AWindowMovedAroundThePointDrawsAgain) {
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  acme->renewal_info = Window(hours(24 * 10), hours(24 * 12), minutes(10));
  ASSERT_TRUE(Sync().status.ok());  // point: 11 days from now
  const auto t0 = clock.Now();
  clock.Advance(minutes(11));
  acme->renewal_info = Window(t0 + hours(24 * 10 + 12) - clock.Now(),
                              t0 + hours(24 * 11 + 12) - clock.Now(), minutes(10));
  random_value = 0.25;
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(RenewalTimeInStatus(),
            std::chrono::floor<seconds>(t0 + hours(24 * 10 + 12)) + hours(6));
  EXPECT_EQ(EventsWithReason("RenewalScheduled").size(), 2u);
}

TEST_F(CmFieldsTest, WithoutRenewalInfoTheTwoThirdsRuleStays) {
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  SyncResult r = Sync();  // acme->renewal_info unset: the directory has no renewalInfo
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(Cert()["status"].contains("renewalInfo"));
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_NEAR(std::chrono::duration_cast<hours>(*r.requeue_after).count(), 24 * 60 - 1, 2);
  EXPECT_EQ(EventsWithReason("RenewalScheduled")[0].value("message", "").find("set by the CA"),
            std::string::npos);
}

// A restart over issued Certificates of a CA without renewalInfo asks the CA nothing: the
// issuer recorded it when its account was registered.
TEST_F(CmFieldsTest, AnIssuerRecordedWithoutRenewalInfoIsNotAsked) {
  RecordIssuerRenewalInfo("NotOffered");
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(acme->renewal_info_calls, 0);
  EXPECT_FALSE(Cert()["status"].contains("renewalInfo"));
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_NEAR(std::chrono::duration_cast<hours>(*r.requeue_after).count(), 24 * 60 - 1, 2);
}

TEST_F(CmFieldsTest, AnIssuerRecordedWithRenewalInfoIsAsked) {
  RecordIssuerRenewalInfo("Offered");
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  acme->renewal_info = Window(hours(24 * 10), hours(24 * 12), hours(6));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->renewal_info_calls, 1);
  EXPECT_TRUE(Cert()["status"].contains("renewalInfo"));
}

TEST_F(CmFieldsTest, AnUnreachableCaKeepsTheKnownWindowAndAsksAgainLater) {
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  acme->renewal_info = Window(hours(24 * 10), hours(24 * 12), minutes(10));
  ASSERT_TRUE(Sync().status.ok());
  const auto first = RenewalTimeInStatus();
  clock.Advance(minutes(11));
  acme->renewal_info = Result<acme::RenewalInfo>(MakeError(ErrorCode::kUnavailable, "503"));
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(RenewalTimeInStatus(), first);
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_LE(*r.requeue_after, minutes(5));
}

// -- Secret outputs ----------------------------------------------------------------------------

TEST_F(CmFieldsTest, KeystoresFormatsAndAnnotationsAreAddedToAnExistingSecretOnce) {
  AddValidSecret();
  kube.Add(kube::kSecrets, Secret("default", "p12-pass", {{"password", "s3cret"}}));
  Json cert = Certificate();
  cert["spec"]["keystores"] = {
      {"pkcs12",
       {{"create", true},
        {"profile", "LegacyDES"},
        {"passwordSecretRef", {{"name", "p12-pass"}, {"key", "password"}}}}},
      {"jks", {{"create", true}, {"password", "changeit"}}}};
  cert["spec"]["additionalOutputFormats"] = {{{"type", "CombinedPEM"}}, {{"type", "DER"}}};
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  const std::string p12 = SecretData(kKeystoreP12);
  ASSERT_FALSE(p12.empty());
  const auto* p = reinterpret_cast<const unsigned char*>(p12.data());
  PKCS12* parsed = d2i_PKCS12(nullptr, &p, static_cast<long>(p12.size()));
  ASSERT_NE(parsed, nullptr);
  EVP_PKEY* pkey = nullptr;
  X509* leaf = nullptr;
  STACK_OF(X509)* cas = nullptr;
  ASSERT_EQ(PKCS12_parse(parsed, "s3cret", &pkey, &leaf, &cas), 1);
  EXPECT_EQ(EVP_PKEY_eq(pkey, key.get()), 1);
  EVP_PKEY_free(pkey);
  X509_free(leaf);
  sk_X509_pop_free(cas, X509_free);
  PKCS12_free(parsed);
  EXPECT_FALSE(SecretData(kTruststoreP12).empty());
  EXPECT_EQ(SecretData(kKeystoreJks).substr(0, 4), std::string("\xFE\xED\xFE\xED", 4));
  EXPECT_FALSE(SecretData(kTruststoreJks).empty());
  const std::string combined = SecretData(kCombinedPem);
  EXPECT_EQ(combined.rfind("-----BEGIN EC PRIVATE KEY-----", 0), 0u) << combined;
  EXPECT_NE(combined.find(chain), std::string::npos);
  const std::string der = SecretData(kKeyDer);
  const auto* dp = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* from_der = d2i_AutoPrivateKey(nullptr, &dp, static_cast<long>(der.size()));
  ASSERT_NE(from_der, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(from_der, key.get()), 1);
  EVP_PKEY_free(from_der);
  Json annotations = (*kube.Peek(kube::kSecrets, "default", "web-tls"))["metadata"]["annotations"];
  EXPECT_EQ(annotations[kAltNamesAnnotation], "a.example");
  EXPECT_EQ(annotations[kCertificateNameAnnotation], "web");
  EXPECT_EQ(annotations[kIssuerGroupAnnotation], "certsmith.io");
  EXPECT_FALSE(annotations.contains(kIpSansAnnotation));

  // Nothing changed: no new keystore (new salts) and no Secret write at the next sync.
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(HasWrite("update secrets"));
  EXPECT_EQ(SecretData(kKeystoreP12), p12);

  // The password changes: the keystore follows.
  kube.Add(kube::kSecrets, Secret("default", "p12-pass", {{"password", "n3w"}}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_NE(SecretData(kKeystoreP12), p12);
}

TEST_F(CmFieldsTest, OutputsNoLongerAskedForAreRemoved) {
  AddValidSecret();
  Json cert = Certificate();
  cert["spec"]["additionalOutputFormats"] = {{{"type", "DER"}}};
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_FALSE(SecretData(kKeyDer).empty());
  cert = Cert();
  cert["spec"].erase("additionalOutputFormats");
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", cert).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(SecretData(kKeyDer).empty());
}

TEST_F(CmFieldsTest, AMissingPasswordSecretIsNamedInReadyAndAnEvent) {
  AddValidSecret();
  Json cert = Certificate();
  cert["spec"]["keystores"] = {
      {"pkcs12", {{"create", true}, {"passwordSecretRef", {{"name", "nope"}}}}}};
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  Json ready = Cert()["status"]["conditions"][0];
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "SecretOutputsFailed");
  EXPECT_NE(ready["message"].get<std::string>().find("spec.keystores.pkcs12.passwordSecretRef"),
            std::string::npos)
      << ready.dump();
  EXPECT_EQ(EventsWithReason("SecretOutputsFailed").size(), 1u);
}

TEST_F(CmFieldsTest, RequestFieldsGoIntoTheCsrAndAChangeReissues) {
  AddValidSecret();
  Json cert = Certificate();
  cert["spec"]["uris"] = {"spiffe://cluster.local/web"};
  cert["spec"]["emailAddresses"] = {"ops@example.org"};
  cert["spec"]["usages"] = {"server auth"};
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());  // the Secret was issued without them: SpecChanged
  ASSERT_EQ(Orders().size(), 1u);
  const std::string csr =
      Base64DecodeLenient(Orders()[0]["spec"]["request"].get<std::string>()).value();
  const auto* p = reinterpret_cast<const unsigned char*>(csr.data());
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size()));
  ASSERT_NE(req, nullptr);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(sans, nullptr);
  EXPECT_EQ(sk_GENERAL_NAME_num(sans), 3);  // DNS, URI, email
  auto* eku =
      static_cast<EXTENDED_KEY_USAGE*>(X509V3_get_d2i(exts, NID_ext_key_usage, nullptr, nullptr));
  ASSERT_NE(eku, nullptr);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
  EXTENDED_KEY_USAGE_free(eku);
  GENERAL_NAMES_free(sans);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
}

TEST_F(CmFieldsTest, RenewBeforePercentageSetsTheRenewalTime) {
  AddValidSecret();
  Json cert = Certificate();
  cert["spec"]["renewBeforePercentage"] = 25;
  kube.Add(api::kCertificates, cert);
  SyncResult r = Sync();
  ASSERT_TRUE(r.requeue_after.has_value());
  // 90 days from an hour ago, renewed when 25% (22.5 days) are left.
  EXPECT_NEAR(std::chrono::duration_cast<hours>(*r.requeue_after).count(), 24 * 67.5 - 1, 2);
}

// -- Revocation on delete ------------------------------------------------------------------------

TEST_F(CmFieldsTest, RevokeOnDeleteAddsAFinalizerAndRevokesBeforeTheSecretGoes) {
  AddValidSecret();
  Json cert = Certificate();
  cert["spec"]["revokeOnDelete"] = true;
  cert["spec"]["secretDeletionPolicy"] = "Delete";
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(HasRevocationFinalizer(Cert()));
  // The finalizer, not the garbage collector, deletes the Secret: no ownerReference on it.
  EXPECT_FALSE(
      (*kube.Peek(kube::kSecrets, "default", "web-tls"))["metadata"].contains("ownerReferences"));

  Json deleting = Cert();
  deleting["metadata"]["deletionTimestamp"] = kube::FormatTime(clock.Now());
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", deleting).ok());
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(acme->revoked.size(), 1u);
  EXPECT_EQ(acme->revoked[0].first, chain);
  EXPECT_EQ(acme->revoked[0].second, acme::RevocationReason::kCessationOfOperation);
  EXPECT_EQ(EventsWithReason("Revoked").size(), 1u);
  // Revoked first, then the Secret deleted, then the finalizer removed.
  EXPECT_LT(IndexOf("delete secrets default/web-tls"), IndexOf("update certificates default/web"));
  EXPECT_FALSE(kube.Peek(kube::kSecrets, "default", "web-tls").has_value());
  auto after = kube.Peek(api::kCertificates, "default", "web");
  EXPECT_TRUE(!after || !HasRevocationFinalizer(*after));
}

TEST_F(CmFieldsTest, TheIssuerDefaultAppliesAndTheCertificateCanSayNo) {
  Json issuer = *kube.Peek(api::kClusterIssuers, "", "ca");
  issuer["spec"]["revokeOnDelete"] = true;
  ASSERT_TRUE(kube.Update(api::kClusterIssuers, "", issuer).ok());
  AddValidSecret();
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(HasRevocationFinalizer(Cert()));
  Json cert = Cert();
  cert["spec"]["revokeOnDelete"] = false;
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", cert).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(HasRevocationFinalizer(Cert()));
}

TEST_F(CmFieldsTest, AFailedRevocationIsShownRetriedAndAbandonedAfterTheTimeout) {
  AddValidSecret();
  Json cert = Certificate();
  cert["spec"]["revokeOnDelete"] = true;
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  Json deleting = Cert();
  deleting["metadata"]["deletionTimestamp"] = kube::FormatTime(clock.Now());
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", deleting).ok());
  acme->revoke_result = CaProblem("urn:ietf:params:acme:error:serverInternal", "try later", 500);
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_LE(*r.requeue_after, seconds(15));
  EXPECT_TRUE(HasRevocationFinalizer(Cert()));
  Json ready = Cert()["status"]["conditions"][0];
  EXPECT_EQ(ready["reason"], "RevocationFailed");
  EXPECT_NE(ready["message"].get<std::string>().find("try later"), std::string::npos);
  ASSERT_EQ(EventsWithReason("RevocationFailed").size(), 1u);
  // Past the bound (5 minutes after the deletion was asked for) the deletion goes on.
  clock.Advance(minutes(5) + seconds(1));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(EventsWithReason("RevocationAbandoned").size(), 1u);
  auto after = kube.Peek(api::kCertificates, "default", "web");
  EXPECT_TRUE(!after || !HasRevocationFinalizer(*after));
  // Retain (the default): the Secret stays.
  EXPECT_TRUE(kube.Peek(kube::kSecrets, "default", "web-tls").has_value());
}

TEST_F(CmFieldsTest, AnAlreadyRevokedCertificateCountsAsRevoked) {
  AddValidSecret();
  Json cert = Certificate();
  cert["spec"]["revokeOnDelete"] = true;
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  Json deleting = Cert();
  deleting["metadata"]["deletionTimestamp"] = kube::FormatTime(clock.Now());
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", deleting).ok());
  acme->revoke_result = CaProblem("urn:ietf:params:acme:error:alreadyRevoked", "done", 400);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(EventsWithReason("Revoked").size(), 1u);
  EXPECT_TRUE(EventsWithReason("RevocationFailed").empty());
}

// -- newOrder: replaces, profile, notBefore/notAfter ---------------------------------------------

class CmOrderTest : public ReconcilerTest {
 protected:
  CmOrderTest() : reconciler(ctx) { AddReadyIssuer(); }
  void AddOrder(Json extra_spec) {
    Json spec = {{"request", Base64Encode("csr-der")},
                 {"dnsNames", {"a.example"}},
                 {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}};
    spec.update(extra_spec);
    kube.Add(api::kOrders, {{"apiVersion", "acme.certsmith.io/v1"},
                            {"kind", "Order"},
                            {"metadata", {{"name", "web-1-abc"}, {"namespace", "default"}}},
                            {"spec", spec}});
  }
  void SetIssuerAcme(const std::string& field, Json value) {
    Json issuer = *kube.Peek(api::kClusterIssuers, "", "ca");
    issuer["spec"]["acme"][field] = value;
    ASSERT_TRUE(kube.Update(api::kClusterIssuers, "", issuer).ok());
  }
  OrderReconciler reconciler;
};

TEST_F(CmOrderTest, NewOrderCarriesReplacesProfileAndTheDurationWhenAskedFor) {
  SetIssuerAcme("profile", "shortlived");
  SetIssuerAcme("enableDurationFeature", true);
  AddOrder({{"replaces", "aki.serial"}, {"duration", "48h"}});
  acme->order.status = acme::OrderStatus::kPending;
  ASSERT_TRUE(reconciler.Sync("default/web-1-abc").status.ok());
  ASSERT_TRUE(acme->last_new_order.has_value());
  EXPECT_EQ(acme->last_new_order->replaces, "aki.serial");
  EXPECT_EQ(acme->last_new_order->profile, "shortlived");
  ASSERT_TRUE(acme->last_new_order->not_before && acme->last_new_order->not_after);
  EXPECT_EQ(*acme->last_new_order->not_after - *acme->last_new_order->not_before, hours(48));
}

TEST_F(CmOrderTest, WithoutEnableDurationFeatureNoDatesAreSent) {
  AddOrder({{"duration", "48h"}});
  acme->order.status = acme::OrderStatus::kPending;
  ASSERT_TRUE(reconciler.Sync("default/web-1-abc").status.ok());
  ASSERT_TRUE(acme->last_new_order.has_value());
  EXPECT_FALSE(acme->last_new_order->not_after.has_value());
  EXPECT_TRUE(acme->last_new_order->profile.empty());
}

TEST_F(CmOrderTest, AlreadyReplacedOrdersAgainWithoutReplaces) {
  AddOrder({{"replaces", "aki.serial"}});
  acme->order.status = acme::OrderStatus::kPending;
  acme->new_order_error_once =
      CaProblem("urn:ietf:params:acme:error:alreadyReplaced", "already replaced", 409);
  ASSERT_TRUE(reconciler.Sync("default/web-1-abc").status.ok());
  EXPECT_EQ(std::count(acme->calls.begin(), acme->calls.end(), "NewOrder"), 2);
  EXPECT_TRUE(acme->last_new_order->replaces.empty());
  EXPECT_EQ(EventsWithReason("ReplacesRefused").size(), 1u);
}

// -- Issuer profile --------------------------------------------------------------------------

TEST_F(CmOrderTest, AnIssuerProfileTheCaDoesNotOfferKeepsItNotReady) {
  IssuerReconciler issuers(ctx, api::kClusterIssuers);
  kube.Add(kube::kSecrets, Secret("certsmith", "ca-eab", {{"secret", "c2VjcmV0LWhtYWMta2V5"}}));
  SetIssuerAcme("profile", "shortlived");
  acme->directory.meta.profiles = {{"classic", "the usual"}, {"tlsserver", "TLS only"}};
  accounts.Remove("ClusterIssuer/ca");
  issuers.Sync("ca");
  Json ready = (*kube.Peek(api::kClusterIssuers, "", "ca"))["status"]["conditions"][0];
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "ProfileNotOffered");
  EXPECT_NE(ready["message"].get<std::string>().find("classic, tlsserver"), std::string::npos)
      << ready.dump();
  EXPECT_FALSE(accounts.Find("ClusterIssuer/ca").has_value());  // no Orders meanwhile

  acme->directory.meta.profiles["shortlived"] = "6 days";
  issuers.Sync("ca");
  ready = (*kube.Peek(api::kClusterIssuers, "", "ca"))["status"]["conditions"][0];
  EXPECT_EQ(ready["status"], "True");
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
