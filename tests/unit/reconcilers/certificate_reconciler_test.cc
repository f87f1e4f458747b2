#include "certificates/certificate_reconciler.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api/certificate.h"
#include "certificates/secret_outputs.h"
#include "kube/cached_client.h"
#include "kube/time_format.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

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
                     {api::kIssuerKindAnnotation, "ClusterIssuer"},
                     // cert-manager's annotations (secret_outputs.h), from the certificate.
                     {kAltNamesAnnotation, Join(names)},
                     {kIssuerGroupAnnotation, "certsmith.io"},
                     {kCertificateNameAnnotation, "web"}}));
    return key;
  }

  // The first sync's Order (of a.example) becomes valid with a certificate for the stored
  // next key; returns the stored Order.
  Json FirstOrderValid(std::chrono::seconds lifetime = std::chrono::hours(24 * 90)) {
    Json next = kube.All(kube::kSecrets)[0];
    auto key = acme::PrivateKey::FromPem(
                   Base64DecodeLenient(next["data"]["tls.key"].get<std::string>()).value())
                   .value();
    Json order = Orders()[0];
    order["status"] = {{"state", "valid"},
                       {"url", "https://ca.test/o/1"},
                       {"certificate", Base64Encode(IssueChain(key, {"a.example"}, lifetime))}};
    return kube.UpdateStatus(api::kOrders, "default", order).value();
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

// A Certificate whose status names no next-key Secret has none: the Secret is created without
// a GET first (that GET misses the label-selected Secret cache and goes to the API server).
TEST_F(CertificateReconcilerTest, ANewKeyIsStoredWithoutReadingTheSecretFirst) {
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  const std::string next_key = Cert()["status"]["nextPrivateKeySecretName"];
  for (const kube::testing::Action& a : kube.Actions()) {
    EXPECT_FALSE(a.verb == "get" && a.resource.resource == "secrets" && a.name == next_key)
        << a.ToString();
  }
  EXPECT_TRUE(HasWrite("create secrets default/" + next_key));
  EXPECT_EQ(Orders().size(), 1u);
}

// A sync that stored the key but stopped before its status write (a crash, a conflict) may have
// ordered with that key: the next sync keeps the stored key rather than replacing it.
TEST_F(CertificateReconcilerTest, AStoredKeyNotYetInTheStatusIsKept) {
  kube.Add(api::kCertificates, Certificate());
  auto cert = api::Certificate::FromJson(Cert()).value();
  const std::string next_key = NextKeySecretName(cert);
  auto key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
  const std::string pem = key.ToPem(acme::PemEncoding::kPkcs8).value();
  Json stored = Secret("default", next_key, {{"tls.key", pem}});
  stored["metadata"]["labels"] = {{api::kManagedByLabel, api::kManagedByValue},
                                  {api::kCertificateNameLabel, "web"}};
  kube.Add(kube::kSecrets, stored);
  ASSERT_TRUE(Sync().status.ok());
  Json after = *kube.Peek(kube::kSecrets, "default", next_key);
  EXPECT_EQ(after["data"], stored["data"]);
  EXPECT_TRUE(EventsWithReason("KeyGenerated").empty());
  EXPECT_EQ(Cert()["status"]["nextPrivateKeySecretName"], next_key);
  ASSERT_EQ(Orders().size(), 1u);
  // The Order is for the stored key: its CSR carries that key's public key.
  const std::string csr =
      Base64DecodeLenient(Orders()[0]["spec"]["request"].get<std::string>()).value();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(csr.data());
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size()));
  ASSERT_NE(req, nullptr);
  EVP_PKEY* ordered = X509_REQ_get0_pubkey(req);
  EXPECT_EQ(EVP_PKEY_eq(ordered, key.get()), 1);
  X509_REQ_free(req);
}

// The informer cache can still hold a Certificate the API server has deleted (background
// deletion: the garbage collector removes its Orders and next-key Secret, whose watch events
// may arrive first). Only the API server itself is asked before a new key or Order.
TEST_F(CertificateReconcilerTest, ACertificateDeletedOnTheServerGetsNoKeyAndNoOrder) {
  kube::testing::FakeClient server;  // the API server: the Certificate is already gone
  ctx.live = &server;
  kube.Add(api::kCertificates, Certificate());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Orders().empty());
  EXPECT_TRUE(kube.All(kube::kSecrets).empty());
  EXPECT_TRUE(EventsWithReason("KeyGenerated").empty());
}

// The uncached question costs one request per issuing sync, not one per step.
TEST_F(CertificateReconcilerTest, ANewKeyAndOrderAskTheServerOnce) {
  kube::testing::FakeClient server;
  ctx.live = &server;
  kube.Add(api::kCertificates, Certificate());
  server.Add(api::kCertificates, Cert());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Orders().size(), 1u);
  EXPECT_EQ(server.ActionStrings({"list", "watch"}),
            (std::vector<std::string>{"get certificates default/web"}));
}

// The reconciler reading through informer caches, as under the manager: Certificates and Orders
// cached whole, Secrets only when labelled as certsmith's (the stores are filled by hand: an
// informer that has delivered nothing since the test began). ctx.live is the API server.
class CachedCertificateReconcilerTest : public CertificateReconcilerTest {
 protected:
  CachedCertificateReconcilerTest() {
    cached.Serve(api::kCertificates, certs, "", /*complete=*/true, nullptr);
    cached.Serve(kube::kSecrets, secrets, "", /*complete=*/false, nullptr);
    cached.Serve(api::kOrders, orders, "", /*complete=*/true, nullptr);
    ctx.client = &cached;
    ctx.live = &kube;
  }
  // GETs and LISTs of Secrets, Certificates and Orders that reached the API server.
  std::vector<std::string> ServerReads() {
    std::vector<std::string> out;
    for (const kube::testing::Action& a : kube.Actions()) {
      const std::string& r = a.resource.resource;
      if ((a.verb == "get" || a.verb == "list") &&
          (r == "secrets" || r == "certificates" || r == "orders")) {
        out.push_back(a.ToString());
      }
    }
    return out;
  }
  // The Order made by the first sync becomes valid; the informer delivers it.
  void OrderValid() {
    Json written = FirstOrderValid();
    orders.Upsert(std::make_shared<const Json>(written));
    cached.Observed(api::kOrders, written, false);
  }

  kube::Store certs, secrets, orders;
  kube::CachedClient cached{kube, {.clock = &clock, .overlay_ttl = std::chrono::hours(24)}};
};

// Issue #10: the TLS Secret is read from the API server when the issuance begins (an unlabelled
// Secret of that name, a user's or cert-manager's, is found there), not again when the Order is
// valid; the Order's name and the Certificate's other Orders come from the cache. The one other
// request is the uncached question before a new key (StillWanted).
TEST_F(CachedCertificateReconcilerTest, AnIssuanceReadsTheSecretFromTheServerOnlyWhenItBegins) {
  kube.Add(api::kCertificates, Certificate());
  certs.Upsert(std::make_shared<const Json>(Cert()));
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  EXPECT_EQ(ServerReads(), (std::vector<std::string>{"get secrets default/web-tls",
                                                      "get certificates default/web"}));
  OrderValid();
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(kube.Peek(kube::kSecrets, "default", "web-tls").has_value());
  EXPECT_EQ(Cert()["status"]["revision"], 1);
  EXPECT_EQ(ServerReads(), std::vector<std::string>{});
}

// An unlabelled Secret made during the issuance is not in the cache: the Create of the TLS
// Secret meets it (AlreadyExists), and the next sync reads it from the API server and decides
// with it as before the cut: here a user's Secret without a certificate, filled in place.
TEST_F(CachedCertificateReconcilerTest, AnUnlabelledSecretMadeDuringTheIssuanceIsReadThen) {
  kube.Add(api::kCertificates, Certificate());
  certs.Upsert(std::make_shared<const Json>(Cert()));
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  OrderValid();
  kube.Add(kube::kSecrets, Secret("default", "web-tls", {{"user.txt", "keep me"}}));
  SyncResult met = Sync();
  ASSERT_TRUE(met.status.ok()) << met.status.ToString();
  ASSERT_TRUE(met.requeue_after.has_value());
  EXPECT_EQ(*met.requeue_after, Duration::zero());
  kube.ClearActions();
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(ServerReads(), (std::vector<std::string>{"get secrets default/web-tls"}));
  Json secret = *kube.Peek(kube::kSecrets, "default", "web-tls");
  EXPECT_TRUE(secret["data"].contains("tls.crt"));
  EXPECT_TRUE(secret["data"].contains("user.txt"));
  EXPECT_EQ(secret["metadata"]["labels"][api::kManagedByLabel], "certsmith");
  EXPECT_EQ(Cert()["status"]["revision"], 1);
  EXPECT_EQ(Orders().size(), 1u);
}

// The Certificate's Orders listed from the cache for supersession include the one this
// controller made a moment ago, before the informer delivered it; a spec change reads the TLS
// Secret from the server again (the issuance that began without one was for the old spec), and
// the new Order is preceded by the uncached question about the Certificate.
TEST_F(CachedCertificateReconcilerTest, TheOrderInProgressIsSupersededFromTheCache) {
  kube.Add(api::kCertificates, Certificate());
  certs.Upsert(std::make_shared<const Json>(Cert()));
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  const std::string first = kube::GetName(Orders()[0]);
  Json cert = Cert();
  cert["spec"]["dnsNames"] = {"a.example", "b.example"};
  cert["metadata"]["generation"] = 2;
  Json updated = kube.Update(api::kCertificates, "default", cert).value();
  certs.Upsert(std::make_shared<const Json>(updated));
  cached.Observed(api::kCertificates, updated, false);
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  auto orders = Orders();
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_NE(kube::GetName(orders[0]), first);
  EXPECT_TRUE(HasWrite("delete orders default/" + first));
  EXPECT_EQ(ServerReads(), (std::vector<std::string>{"get secrets default/web-tls",
                                                      "get certificates default/web"}));
}

TEST_F(CertificateReconcilerTest, AnOrderCollectedWithItsDeletedCertificateIsNotMadeAgain) {
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  // Deleted on the server; the cache has seen its Order go but not the Certificate yet.
  kube::testing::FakeClient server;
  ctx.live = &server;
  ASSERT_TRUE(kube.Delete(api::kOrders, "default", kube::GetName(Orders()[0])).ok());
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Orders().empty());
  EXPECT_FALSE(HasWrite("create"));

  // The same name recreated is another Certificate (another uid): still not this one's Order.
  Json again = Certificate();
  again["metadata"]["uid"] = "another-uid";
  server.Add(api::kCertificates, again);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Orders().empty());
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

// Stopped between writing the Secret and the status: the Secret says revision 3, the status 2.
// The next sync records the issuance that happened (once), without ordering again.
TEST_F(CertificateReconcilerTest, AnIssuanceWrittenButNotRecordedIsRecordedOnce) {
  Json cert = Certificate();
  cert["status"] = {{"revision", 2}};
  kube.Add(api::kCertificates, cert);
  AddValidSecret({"a.example"});
  Json secret = *kube.Peek(kube::kSecrets, "default", "web-tls");
  secret["metadata"]["annotations"][api::kRevisionAnnotation] = "3";
  ASSERT_TRUE(kube.Update(kube::kSecrets, "default", secret).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Cert()["status"]["revision"], 3);
  EXPECT_TRUE(Orders().empty());
  ASSERT_EQ(EventsWithReason("Issued").size(), 1u);
  EXPECT_NE(EventsWithReason("Issued")[0].value("message", "").find("revision 3"),
            std::string::npos);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Cert()["status"]["revision"], 3);
  EXPECT_EQ(EventsWithReason("Issued").size(), 1u);
}

// A spec the parser refuses (edited past the schema) says so in Ready and keeps the rest of the
// status: the revision, the dates and the backoff state stay for when the spec is fixed.
TEST_F(CertificateReconcilerTest, AnInvalidSpecKeepsTheRestOfTheStatus) {
  Json cert = Certificate();
  cert["spec"]["privateKey"] = {{"algorithm", "DSA"}};
  cert["status"] = {{"revision", 4}, {"failedIssuanceAttempts", 2},
                    {"notAfter", "2031-01-01T00:00:00Z"}};
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  Json status = Cert()["status"];
  EXPECT_EQ(status["revision"], 4);
  EXPECT_EQ(status["failedIssuanceAttempts"], 2);
  EXPECT_EQ(status["notAfter"], "2031-01-01T00:00:00Z");
  ASSERT_EQ(status["conditions"].size(), 1u);
  EXPECT_EQ(status["conditions"][0]["reason"], "InvalidSpec");
  EXPECT_NE(status["conditions"][0]["message"].get<std::string>().find("algorithm"),
            std::string::npos);
  EXPECT_TRUE(Orders().empty());
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

// An unchanged Secret is decoded once (secret_facts.h); what depends on the spec and on the
// clock is still decided at every sync (ReissuesWhenDue: the renewal comes on a kept decoding).
TEST_F(CertificateReconcilerTest, AnUnchangedSecretIsDecodedOnce) {
  AddValidSecret({"a.example"});
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(reconciler.SecretFactsCached().Reads(), 1u);
  EXPECT_TRUE(Orders().empty());
  // The spec changes, the Secret does not: compared again without decoding it again.
  Json cert = Cert();
  cert["spec"]["dnsNames"] = {"a.example", "b.example"};
  cert["metadata"]["generation"] = 2;
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", cert).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(reconciler.SecretFactsCached().Reads(), 1u);
  EXPECT_EQ(Orders().size(), 1u);
}

TEST_F(CertificateReconcilerTest, AChangedSecretIsDecodedAgain) {
  AddValidSecret({"a.example"});
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Orders().empty());
  // Someone puts another key in: a new resourceVersion, decoded and found not to match.
  Json secret = *kube.Peek(kube::kSecrets, "default", "web-tls");
  auto other = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
  secret["data"]["tls.key"] = Base64Encode(other.ToPem(acme::PemEncoding::kPkcs8).value());
  ASSERT_TRUE(kube.Update(kube::kSecrets, "default", secret).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(reconciler.SecretFactsCached().Reads(), 2u);
  EXPECT_EQ(Orders().size(), 1u);
  EXPECT_EQ(Cert()["status"]["conditions"][0]["reason"], "SecretMismatch");
}

TEST_F(CertificateReconcilerTest, ADeletedCertificateLeavesNoDecodedSecret) {
  AddValidSecret({"a.example"});
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(reconciler.SecretFactsCached().Size(), 1u);
  ASSERT_TRUE(kube.Delete(api::kCertificates, "default", "web").ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(reconciler.SecretFactsCached().Size(), 0u);
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

// An Order held up by a Challenge a person must fix (its pending reason) is repeated in the
// Certificate's Ready and Issuing messages, and leaves them when it is fixed.
TEST_F(CertificateReconcilerTest, TheReadyMessageRepeatsWhatHoldsTheOrderUp) {
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  Json order = Orders()[0];
  const std::string problem =
      "challenge web-1-x for a.example: RFC 2136 update at 10.0.0.53:53 (UDP) adding TXT "
      "_acme-challenge.a.example. in zone example.: the server answered NOTAUTH with TSIG error "
      "BADSIG";
  order["status"] = {{"state", "pending"}, {"reason", problem}};
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  ASSERT_TRUE(Sync().status.ok());
  auto message = [&](const char* type) -> std::string {
    const Json cert = Cert();
    for (const Json& c : cert["status"]["conditions"]) {
      if (c["type"] == type) return c["message"];
    }
    return "";
  };
  EXPECT_NE(message("Ready").find("is waiting: " + problem), std::string::npos) << message("Ready");
  EXPECT_NE(message("Issuing").find(problem), std::string::npos);
  order = Orders()[0];
  order["status"] = {{"state", "pending"}};
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(message("Ready").find("BADSIG"), std::string::npos) << message("Ready");
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

// An Issuer that is not Ready (its account Secret's namespace missing, a wrong HMAC key, ...)
// cannot serve an Order: none is made, and no key either, until it is. The Certificate says which
// Issuer and why, once as an event.
TEST_F(CertificateReconcilerTest, NoKeyAndNoOrderWhileTheIssuerIsNotReady) {
  Json issuer = *kube.Peek(api::kClusterIssuers, "", "ca");
  issuer["status"]["conditions"] = {{{"type", "Ready"},
                                     {"status", "False"},
                                     {"reason", "AccountKeySecretError"},
                                     {"message", "namespaces \"certsmith\" not found"}}};
  ASSERT_TRUE(kube.UpdateStatus(api::kClusterIssuers, "", issuer).ok());
  kube.Add(api::kCertificates, Certificate());
  for (int i = 0; i < 2; ++i) {
    SyncResult r = Sync();
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_TRUE(r.requeue_after.has_value());
  }
  EXPECT_TRUE(Orders().empty());
  EXPECT_TRUE(kube.All(kube::kSecrets).empty());
  const api::Certificate cert = api::Certificate::FromJson(Cert()).value();
  const api::Condition* ready = api::FindCondition(cert.status.conditions, api::kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, api::ConditionStatus::kFalse);
  EXPECT_EQ(ready->reason, "IssuerNotReady");
  EXPECT_EQ(ready->message,
            "ClusterIssuer \"ca\" is not Ready (AccountKeySecretError): "
            "namespaces \"certsmith\" not found");
  auto events = EventsWithReason("IssuerNotReady");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "Warning");
  EXPECT_EQ(events[0]["message"], ready->message);

  // Ready now: the next sync (the manager wakes it) orders.
  issuer = *kube.Peek(api::kClusterIssuers, "", "ca");
  issuer["status"]["conditions"] = {
      {{"type", "Ready"}, {"status", "True"}, {"reason", "ACMEAccountRegistered"}}};
  ASSERT_TRUE(kube.UpdateStatus(api::kClusterIssuers, "", issuer).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Orders().size(), 1u);
}

TEST_F(CertificateReconcilerTest, AnIssuerNeverCheckedYetIsNotReadyEither) {
  ASSERT_TRUE(kube.Delete(api::kClusterIssuers, "", "ca").ok());
  kube.Add(api::kClusterIssuers, ClusterIssuer());  // no status yet
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Orders().empty());
  const api::Certificate cert = api::Certificate::FromJson(Cert()).value();
  const api::Condition* ready = api::FindCondition(cert.status.conditions, api::kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->reason, "IssuerNotReady");
  EXPECT_EQ(ready->message,
            "ClusterIssuer \"ca\" is not Ready yet: its ACME account has not been registered");
}

// What holds an Order in progress (a solver Pod that cannot run) reaches the Certificate's Ready
// message, and goes away with it.
TEST_F(CertificateReconcilerTest, ReadyShowsWhatHoldsTheOrder) {
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  Json order = Orders()[0];
  const std::string name = order["metadata"]["name"];
  const std::string why = "challenge for a.example: solver Pod x failed (Error): boom";
  order["status"] = {{"state", "pending"}, {"reason", why}};
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  ASSERT_TRUE(Sync().status.ok());
  auto ready = [&] {
    const api::Certificate cert = api::Certificate::FromJson(Cert()).value();
    return *api::FindCondition(cert.status.conditions, api::kConditionReady);
  };
  EXPECT_EQ(ready().status, api::ConditionStatus::kFalse);
  EXPECT_EQ(ready().message,
            "Issuing certificate as Secret does not exist. Order " + name + " is waiting: " + why);
  order = Orders()[0];
  order["status"].erase("reason");
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(ready().message, "Issuing certificate as Secret does not exist");
}

// A spec change while an Order is in progress makes a new Order; the old one is deleted (its
// pending authorizations are then deactivated by the Order reconciler), ended ones are kept.
TEST_F(CertificateReconcilerTest, ANewOrderReplacesTheOneInProgress) {
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  Json first = Orders()[0];
  first["status"] = {{"state", "pending"}, {"url", "https://ca.test/order/1"}};
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", first).ok());
  Json cert = Cert();
  cert["spec"]["dnsNames"] = {"a.example", "b.example"};
  cert["metadata"]["generation"] = 2;
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", cert).ok());
  ASSERT_TRUE(Sync().status.ok());
  auto orders = Orders();
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_NE(orders[0]["metadata"]["name"], first["metadata"]["name"]);
  EXPECT_EQ(orders[0]["spec"]["dnsNames"], Json::array({"a.example", "b.example"}));
  ASSERT_EQ(EventsWithReason("OrderSuperseded").size(), 1u);
  EXPECT_NE(EventsWithReason("OrderSuperseded")[0]["message"].get<std::string>().find(
                first["metadata"]["name"].get<std::string>()),
            std::string::npos);
}

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

// A generation in progress is reported for its own type only; a type change starts another
// without waiting for the first (its thread is left to finish on its own).
TEST(KeyGeneratorTest, GeneratingFollowsTheTypeAndATypeChangeDoesNotWait) {
  KeyGenerator keys;
  EXPECT_FALSE(keys.Generating("default/a", acme::KeyType::kRsa3072));
  EXPECT_FALSE(keys.Poll("default/a", acme::KeyType::kRsa2048).has_value());
  EXPECT_TRUE(keys.Generating("default/a", acme::KeyType::kRsa2048));
  EXPECT_FALSE(keys.Generating("default/a", acme::KeyType::kRsa3072));
  EXPECT_FALSE(keys.Poll("default/a", acme::KeyType::kRsa3072).has_value());
  EXPECT_TRUE(keys.Generating("default/a", acme::KeyType::kRsa3072));
  EXPECT_EQ(keys.Pending(), 1u);
}

// After a failed Order, Ready tells why in the CA's words for as long as the attempt backs off
// (the same text on every sync, so no status write), and drops them once a new Order is placed.
// A Certificate whose current certificate is still valid stays Ready=True throughout.
struct BackoffStep {
  std::chrono::seconds advance;  // on the fake clock, before this sync
  std::string ready;             // Ready status after it
  bool ready_has_ca_words;
  size_t orders;
  bool status_written;
};
struct BackoffCase {
  const char* name;
  bool valid_secret;  // a still valid certificate that is due for renewal
  std::vector<BackoffStep> steps;
};

void PrintTo(const BackoffCase& c, std::ostream* os) { *os << c.name; }

class CertificateBackoffTest : public CertificateReconcilerTest,
                               public ::testing::WithParamInterface<BackoffCase> {};

TEST_P(CertificateBackoffTest, ReadyCarriesTheCasWordsWhileBackingOff) {
  const std::string ca_words = "urn:ietf:params:acme:error:rejectedIdentifier: forbidden";
  const BackoffCase& c = GetParam();
  Json cert = Certificate();
  if (c.valid_secret) {  // valid for another hour, due since 30 min
    AddValidSecret({"a.example"}, std::chrono::hours(2));
    cert["spec"]["renewBefore"] = "90m";
  }
  kube.Add(api::kCertificates, cert);
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(Orders().size(), 1u);
  Json order = Orders()[0];
  order["status"] = {{"state", "invalid"}, {"reason", ca_words}};
  ASSERT_TRUE(kube.UpdateStatus(api::kOrders, "default", order).ok());
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const BackoffStep& step = c.steps[i];
    SCOPED_TRACE("step " + std::to_string(i));
    clock.Advance(step.advance);
    kube.ClearActions();
    ASSERT_TRUE(Sync().status.ok());
    const Json cert = Cert();
    Json ready;
    for (const Json& cond : cert["status"]["conditions"]) {
      if (cond["type"] == "Ready") ready = cond;
    }
    EXPECT_EQ(ready.value("status", ""), step.ready);
    const std::string message = ready.value("message", "");
    EXPECT_EQ(message.find(ca_words) != std::string::npos, step.ready_has_ca_words) << message;
    if (step.ready == "False") {
      EXPECT_EQ(ready["reason"], "DoesNotExist");
      EXPECT_EQ(message.rfind("Issuing certificate as Secret does not exist", 0), 0u) << message;
    }
    EXPECT_EQ(Orders().size(), step.orders);
    EXPECT_EQ(HasWrite("update certificates/status"), step.status_written);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CertificateBackoffTest,
    ::testing::Values(
        // The failing sync, a repeat (an Order event), late in the 1 min backoff, after it.
        BackoffCase{"NoCertificateYet",
                    false,
                    {{std::chrono::seconds(0), "False", true, 1, true},
                     {std::chrono::seconds(0), "False", true, 1, false},
                     {std::chrono::seconds(59), "False", true, 1, false},
                     {std::chrono::seconds(1), "False", false, 2, true}}},
        BackoffCase{"RenewalOfAValidCertificate",
                    true,
                    {{std::chrono::seconds(0), "True", false, 1, true},
                     {std::chrono::seconds(59), "True", false, 1, false},
                     {std::chrono::seconds(1), "True", false, 2, true}}}),
    [](const ::testing::TestParamInfo<BackoffCase>& info) { return info.param.name; });

// One issuance announces its renewal once: the sync that follows (the Secret write wakes the
// Certificate) finds the same renewal time in status, so no second RenewalScheduled event and
// no status write, whatever the lifetime (2/3 of it is not always whole seconds).
class CertificateLifetimeTest : public CertificateReconcilerTest,
                                public ::testing::WithParamInterface<std::chrono::seconds> {};

TEST_P(CertificateLifetimeTest, IssuanceAnnouncesItsRenewalOnce) {
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(Sync().status.ok());
  FirstOrderValid(GetParam());
  SyncResult issued = Sync();
  ASSERT_TRUE(issued.requeue_after.has_value());
  ASSERT_EQ(EventsWithReason("Issued").size(), 1u);
  kube.ClearActions();
  SyncResult again = Sync();
  ASSERT_TRUE(again.requeue_after.has_value());
  EXPECT_EQ(*again.requeue_after, *issued.requeue_after);
  EXPECT_FALSE(HasWrite("update certificates/status"));
  EXPECT_FALSE(HasWrite("patch events"));
  auto scheduled = EventsWithReason("RenewalScheduled");
  ASSERT_EQ(scheduled.size(), 1u);
  EXPECT_EQ(scheduled[0]["count"], 1);
  EXPECT_EQ(scheduled[0]["message"],
            "Renewal scheduled at " + Cert()["status"]["renewalTime"].get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Lifetimes, CertificateLifetimeTest,
                         ::testing::Values(std::chrono::hours(24 * 90),
                                           std::chrono::hours(24 * 90) - std::chrono::seconds(1),
                                           std::chrono::hours(2) + std::chrono::seconds(1)));

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
  // 2/3 of 44 s is 29.33 s: whole seconds, rounded down, as status.renewalTime shows it.
  cert.spec.renew_before.reset();
  info.not_after = info.not_before + std::chrono::seconds(44);
  EXPECT_EQ(RenewalTime(cert, info), info.not_before + std::chrono::seconds(29));
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
