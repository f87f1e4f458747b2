#include "ingress/ingress_shim.h"

#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

Json Tls(const std::string& secret, std::vector<std::string> hosts) {
  Json e = Json::object();
  if (!secret.empty()) e["secretName"] = secret;
  if (!hosts.empty()) e["hosts"] = hosts;
  return e;
}

class IngressShimTest : public ReconcilerTest {
 protected:
  // tls: a list of entries. One entry written {Tls(...)} arrives as the entry itself with
  // clang and as a one-element list with GCC (nlohmann::json brace-init): both mean a list.
  static Json Ingress(Json annotations, Json tls, const std::string& name = "web") {
    if (tls.is_object()) tls = Json::array({tls});
    return {
        {"apiVersion", "networking.k8s.io/v1"},
        {"kind", "Ingress"},
        {"metadata", {{"name", name}, {"namespace", "default"}, {"annotations", annotations}}},
        {"spec",
         {{"ingressClassName", "testbed"}, {"rules", {{{"host", "a.example"}}}}, {"tls", tls}}}};
  }
  static Json ClusterIssuerAnnotation() { return {{"certsmith.io/cluster-issuer", "ca"}}; }

  SyncResult Sync(const std::string& name = "web") {
    return IngressShim(ctx, options).Sync("default/" + name);
  }
  // Replaces the Ingress's annotations and TLS entries, as `kubectl apply` would.
  void Edit(Json annotations, Json tls, const std::string& name = "web") {
    if (tls.is_object()) tls = Json::array({tls});
    Json ing = *kube.Peek(kube::kIngresses, "default", name);
    ing["metadata"]["annotations"] = annotations;
    ing["spec"]["tls"] = tls;
    ASSERT_TRUE(kube.Update(kube::kIngresses, "default", ing).ok());
    kube.ClearActions();
  }
  std::optional<Json> Cert(const std::string& name) {
    return kube.Peek(api::kCertificates, "default", name);
  }
  // Writes to Certificates only (events are written too).
  std::vector<std::string> CertWrites() {
    std::vector<std::string> out;
    for (const std::string& w : Writes()) {
      if (w.find(" certificates ") != std::string::npos) out.push_back(w);
    }
    return out;
  }
  std::string EventMessages(const std::string& reason) {
    std::string out;
    for (const Json& e : EventsWithReason(reason)) out += e.value("message", "") + "\n";
    return out;
  }
  std::string IngressUid(const std::string& name = "web") {
    return kube::GetUid(*kube.Peek(kube::kIngresses, "default", name));
  }

  IngressShimOptions options;
};

TEST_F(IngressShimTest, OneCertificatePerTlsEntryOwnedByTheIngress) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses,
           Ingress(ClusterIssuerAnnotation(),
                   {Tls("a-tls", {"a.example", "www.a.example"}), Tls("b-tls", {"b.example"})}));
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(CertWrites(), (std::vector<std::string>{"create certificates default/a-tls",
                                                    "create certificates default/b-tls"}));
  Json a = *Cert("a-tls");
  EXPECT_EQ(a["spec"]["secretName"], "a-tls");
  EXPECT_EQ(a["spec"]["dnsNames"], Json({"a.example", "www.a.example"}));
  EXPECT_EQ(a["spec"]["issuerRef"]["name"], "ca");
  EXPECT_EQ(a["spec"]["issuerRef"]["kind"], "ClusterIssuer");
  EXPECT_EQ(a["metadata"]["labels"][kIngressShimLabel], "true");
  ASSERT_EQ(a["metadata"]["ownerReferences"].size(), 1u);
  const Json& ref = a["metadata"]["ownerReferences"][0];
  EXPECT_EQ(ref["kind"], "Ingress");
  EXPECT_EQ(ref["apiVersion"], "networking.k8s.io/v1");
  EXPECT_EQ(ref["uid"], IngressUid());
  EXPECT_EQ(ref["controller"], true);
  EXPECT_EQ((*Cert("b-tls"))["spec"]["dnsNames"], Json({"b.example"}));
  EXPECT_EQ(EventsWithReason("CertificateCreated").size(), 2u);
  EXPECT_TRUE(api::Certificate::FromJson(a).ok());  // what it wrote is a valid Certificate
  EXPECT_EQ(IngressShimOwnerKey(a), "default/web");
}

TEST_F(IngressShimTest, SecondSyncWritesNothing) {
  AddReadyIssuer();
  Json ann = ClusterIssuerAnnotation();
  ann["certsmith.io/duration"] = "2160h";  // stored as "2160h0m0s": same value, no update
  ann["certsmith.io/usages"] = "digital signature, server auth";
  kube.Add(kube::kIngresses, Ingress(ann, {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  // As another writer (or an API server's defaulting) could store it: the same values spelled
  // differently. Compared parsed, they are equal, so the shim leaves them.
  Json cert = *Cert("a-tls");
  cert["spec"]["duration"] = "2160h";
  cert["spec"]["issuerRef"].erase("group");
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", cert).ok());
  kube.ClearActions();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty()) << ::testing::PrintToString(CertWrites());
}

TEST_F(IngressShimTest, NamespacedIssuerAnnotation) {
  kube.Add(kube::kIngresses,
           Ingress({{"certsmith.io/issuer", "team-ca"}}, {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ((*Cert("a-tls"))["spec"]["issuerRef"],
            Json({{"name", "team-ca"}, {"kind", "Issuer"}, {"group", "certsmith.io"}}));
  // The Issuer does not exist: say so on the Ingress (a typo must not be silent).
  EXPECT_NE(EventMessages("IssuerNotFound")
                .find("Issuer team-ca does not exist in namespace "
                      "default"),
            std::string::npos);
}

TEST_F(IngressShimTest, OptionalAnnotationsSetTheirFields) {
  AddReadyIssuer();
  Json ann = ClusterIssuerAnnotation();
  ann["certsmith.io/common-name"] = "a.example";
  ann["certsmith.io/duration"] = "720h";
  ann["certsmith.io/renew-before"] = "240h";
  ann["certsmith.io/private-key-algorithm"] = "rsa";
  ann["certsmith.io/private-key-size"] = "3072";
  ann["certsmith.io/usages"] = "digital signature,key encipherment, server auth";
  kube.Add(kube::kIngresses, Ingress(ann, {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  const Json spec = (*Cert("a-tls"))["spec"];
  EXPECT_EQ(spec["commonName"], "a.example");
  EXPECT_EQ(spec["duration"], "720h0m0s");
  EXPECT_EQ(spec["renewBefore"], "240h0m0s");
  EXPECT_EQ(spec["privateKey"], Json({{"algorithm", "RSA"}, {"size", 3072}}));
  EXPECT_EQ(spec["usages"], Json({"digital signature", "key encipherment", "server auth"}));
  EXPECT_TRUE(EventsWithReason("IssuerNotFound").empty());
}

// Each bad annotation: a Warning event naming it, and no Certificate at all.
TEST_F(IngressShimTest, InvalidAnnotationsMakeNoCertificate) {
  struct Case {
    std::string name;
    Json annotations;
    std::string expect;  // in the event message
  };
  const std::vector<Case> cases = {
      {"duration not parsable", {{"certsmith.io/duration", "90 days"}}, "certsmith.io/duration"},
      {"duration too short", {{"certsmith.io/duration", "30m"}}, "must be at least 1h"},
      {"renewBefore >= duration",
       {{"certsmith.io/duration", "24h"}, {"certsmith.io/renew-before", "48h"}},
       "certsmith.io/renew-before: must be shorter"},
      {"unknown algorithm",
       {{"certsmith.io/private-key-algorithm", "DSA"}},
       "certsmith.io/private-key-algorithm: \"DSA\" is not one of RSA, ECDSA"},
      {"size not a number",
       {{"certsmith.io/private-key-size", "big"}},
       "certsmith.io/private-key-size: \"big\" is not a key size"},
      {"ECDSA with an RSA size",
       {{"certsmith.io/private-key-size", "2048"}},
       "certsmith.io/private-key-size: ECDSA keys must be 256 or 384 bits"},
      {"unknown usage",
       {{"certsmith.io/usages", "server auth, flying"}},
       "certsmith.io/usages: \"flying\" is not a known usage"},
      {"common name too long",
       {{"certsmith.io/common-name", std::string(70, 'a') + ".example"}},
       "certsmith.io/common-name: must be at most 64"},
      {"typo in a key",
       {{"certsmith.io/renew-befor", "240h"}},
       "unknown annotation certsmith.io/renew-befor"},
      {"both issuer kinds", {{"certsmith.io/issuer", "x"}}, "set only one of certsmith.io/issuer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    kube::testing::FakeClient fresh{&clock};
    kube::EventRecorder recorder{fresh, EventOptions(&event_clock)};
    ctx.client = &fresh;
    ctx.events = &recorder;
    Json ann = ClusterIssuerAnnotation();
    ann.update(c.annotations);
    fresh.Add(kube::kIngresses, Ingress(ann, {Tls("a-tls", {"a.example"})}));
    SyncResult r = Sync();
    EXPECT_TRUE(r.status.ok()) << "a retry cannot fix an annotation: no error, no hot loop";
    EXPECT_TRUE(fresh.All(api::kCertificates).empty());
    std::string messages;
    for (const Json& e : fresh.All(kube::kEvents)) {
      EXPECT_EQ(e["type"], "Warning");
      EXPECT_EQ(e["reason"], "InvalidAnnotation");
      EXPECT_EQ(e["involvedObject"]["kind"], "Ingress");
      messages += e.value("message", "");
    }
    EXPECT_NE(messages.find(c.expect), std::string::npos) << messages;
  }
}

TEST_F(IngressShimTest, InvalidIssuerNameIsRefused) {
  kube.Add(kube::kIngresses, Ingress({{"certsmith.io/cluster-issuer", "Lets_Encrypt"}},
                                     {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE(Cert("a-tls").has_value());
  EXPECT_NE(EventMessages("InvalidAnnotation")
                .find("certsmith.io/cluster-issuer: \"Lets_Encrypt\" is not a valid ClusterIssuer"),
            std::string::npos);
}

TEST_F(IngressShimTest, InvalidAnnotationLeavesExistingCertificatesAlone) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses, Ingress(ClusterIssuerAnnotation(), {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  const Json before = *Cert("a-tls");
  // A typo in the issuer key: the issuer annotation is gone, but nothing is deleted.
  Edit({{"certsmith.io/cluster-isuer", "ca"}}, {Tls("a-tls", {"a.example", "b.example"})});
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty());
  EXPECT_EQ(*Cert("a-tls"), before);
  EXPECT_NE(
      EventMessages("InvalidAnnotation").find("no Certificate is created, changed or deleted"),
      std::string::npos);
}

TEST_F(IngressShimTest, TlsEntryProblemsAreReportedAndOtherEntriesProceed) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses,
           Ingress(ClusterIssuerAnnotation(),
                   {Tls("", {"nosecret.example"}), Tls("nohosts-tls", {}),
                    Tls("badhost-tls", {"bad_host.example"}), Tls("good-tls", {"good.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(CertWrites(), (std::vector<std::string>{"create certificates default/good-tls"}));
  const std::string m = EventMessages("InvalidTLSEntry");
  EXPECT_NE(m.find("spec.tls[0] has no secretName"), std::string::npos) << m;
  EXPECT_NE(m.find("nosecret.example"), std::string::npos) << m;
  EXPECT_NE(m.find("spec.tls[1] (secretName \"nohosts-tls\") has no hosts"), std::string::npos)
      << m;
  EXPECT_NE(m.find("spec.tls[2].hosts[0]: \"bad_host.example\" is not a valid DNS name"),
            std::string::npos)
      << m;
  for (const Json& e : EventsWithReason("InvalidTLSEntry")) EXPECT_EQ(e["type"], "Warning");
}

TEST_F(IngressShimTest, AnnotatedIngressWithoutTlsSaysSo) {
  kube.Add(kube::kIngresses, Ingress(ClusterIssuerAnnotation(), Json::array()));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty());
  EXPECT_NE(EventMessages("InvalidTLSEntry").find("no spec.tls entries"), std::string::npos);
}

TEST_F(IngressShimTest, TwoEntriesForOneSecretMakeOneCertificate) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses,
           Ingress(ClusterIssuerAnnotation(),
                   {Tls("a-tls", {"a.example"}), Tls("a-tls", {"b.example", "a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(CertWrites(), (std::vector<std::string>{"create certificates default/a-tls"}));
  EXPECT_EQ((*Cert("a-tls"))["spec"]["dnsNames"], Json({"a.example", "b.example"}));
}

TEST_F(IngressShimTest, NeverOverwritesACertificateItDoesNotOwn) {
  AddReadyIssuer();
  // A user's own Certificate, and one made by the shim for another Ingress.
  Json mine = Certificate({"mine.example"});
  mine["metadata"]["name"] = "a-tls";
  kube.Add(api::kCertificates, mine);
  kube.Add(kube::kIngresses,
           Ingress(ClusterIssuerAnnotation(), {Tls("b-tls", {"b.example"})}, "other"));
  ASSERT_TRUE(Sync("other").status.ok());
  kube.Add(kube::kIngresses, Ingress(ClusterIssuerAnnotation(),
                                     {Tls("a-tls", {"a.example"}), Tls("b-tls", {"b.example"})}));
  kube.ClearActions();
  const Json a_before = *Cert("a-tls");
  const Json b_before = *Cert("b-tls");
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty()) << ::testing::PrintToString(CertWrites());
  EXPECT_EQ(*Cert("a-tls"), a_before);
  EXPECT_EQ(*Cert("b-tls"), b_before);
  const std::string m = EventMessages("CertificateNotOwned");
  EXPECT_NE(m.find("Certificate a-tls already exists and was not made by this Ingress"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Certificate b-tls"), std::string::npos) << m;
  // Removing the entry does not delete what is not ours either.
  Edit(ClusterIssuerAnnotation(), Json::array());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty()) << ::testing::PrintToString(CertWrites());
}

TEST_F(IngressShimTest, RemovingATlsEntryDeletesItsCertificateButNotTheSecret) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses, Ingress(ClusterIssuerAnnotation(),
                                     {Tls("a-tls", {"a.example"}), Tls("b-tls", {"b.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  kube.Add(kube::kSecrets, Secret("default", "b-tls", {{"tls.crt", "x"}, {"tls.key", "y"}}));
  Edit(ClusterIssuerAnnotation(), {Tls("a-tls", {"a.example"})});
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(CertWrites(), (std::vector<std::string>{"delete certificates default/b-tls"}));
  EXPECT_FALSE(Cert("b-tls").has_value());
  EXPECT_TRUE(Cert("a-tls").has_value());
  EXPECT_TRUE(kube.Peek(kube::kSecrets, "default", "b-tls").has_value());
  EXPECT_NE(EventMessages("CertificateDeleted").find("Secret b-tls is kept"), std::string::npos);
}

TEST_F(IngressShimTest, RemovingTheAnnotationDeletesEveryCertificateItMade) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses, Ingress(ClusterIssuerAnnotation(),
                                     {Tls("a-tls", {"a.example"}), Tls("b-tls", {"b.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  Edit(Json::object(), {Tls("a-tls", {"a.example"}), Tls("b-tls", {"b.example"})});
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(CertWrites(), (std::vector<std::string>{"delete certificates default/a-tls",
                                                    "delete certificates default/b-tls"}));
  EXPECT_TRUE(kube.All(api::kCertificates).empty());
}

TEST_F(IngressShimTest, EntryWithAMistakeKeepsItsCertificate) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses, Ingress(ClusterIssuerAnnotation(), {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  Edit(ClusterIssuerAnnotation(), {Tls("a-tls", {"bad host"})});
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty()) << "skipped, not removed";
  EXPECT_EQ(EventsWithReason("InvalidTLSEntry").size(), 1u);
}

TEST_F(IngressShimTest, UpdatesManagedFieldsAndKeepsAUsersOtherFields) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses, Ingress(ClusterIssuerAnnotation(), {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  // A user adds a subject (not something the Ingress says): the shim leaves it.
  Json c = *Cert("a-tls");
  c["spec"]["subject"] = {{"organizations", {"Example Ltd"}}};
  ASSERT_TRUE(kube.Update(api::kCertificates, "default", c).ok());
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty());
  // The Ingress changes hosts and adds a duration: the shim follows, subject kept.
  Json ann = ClusterIssuerAnnotation();
  ann["certsmith.io/duration"] = "2160h";
  Edit(ann, {Tls("a-tls", {"a.example", "c.example"})});
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(CertWrites(), (std::vector<std::string>{"update certificates default/a-tls"}));
  Json spec = (*Cert("a-tls"))["spec"];
  EXPECT_EQ(spec["dnsNames"], Json({"a.example", "c.example"}));
  EXPECT_EQ(spec["duration"], "2160h0m0s");
  EXPECT_EQ(spec["subject"]["organizations"], Json({"Example Ltd"}));
  EXPECT_EQ(EventsWithReason("CertificateUpdated").size(), 1u);
  // Removing the annotation removes the field it set.
  Edit(ClusterIssuerAnnotation(), {Tls("a-tls", {"a.example", "c.example"})});
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_FALSE((*Cert("a-tls"))["spec"].contains("duration"));
}

TEST_F(IngressShimTest, CertManagerAnnotationsOnlyWithTheFlag) {
  AddReadyIssuer();
  Json ann = {{"cert-manager.io/cluster-issuer", "ca"}, {"cert-manager.io/duration", "720h"}};
  kube.Add(kube::kIngresses, Ingress(ann, {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty());
  EXPECT_TRUE(kube.All(kube::kEvents).empty()) << "cert-manager may be running beside certsmith";
  EXPECT_FALSE(IngressShimRelevant(*kube.Peek(kube::kIngresses, "default", "web"), options));

  options.honour_cert_manager_annotations = true;
  EXPECT_TRUE(IngressShimRelevant(*kube.Peek(kube::kIngresses, "default", "web"), options));
  ASSERT_TRUE(Sync().status.ok());
  Json spec = (*Cert("a-tls"))["spec"];
  EXPECT_EQ(spec["issuerRef"]["kind"], "ClusterIssuer");
  EXPECT_EQ(spec["duration"], "720h0m0s");
  EXPECT_TRUE(EventsWithReason("AnnotationIgnored").empty());

  // A cert-manager annotation certsmith does not read is named, not dropped in silence.
  ann["cert-manager.io/subject-organizations"] = "Example Ltd";
  Edit(ann, {Tls("a-tls", {"a.example"})});
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_NE(EventMessages("AnnotationIgnored")
                .find("cert-manager.io/subject-organizations is not read by certsmith"),
            std::string::npos);

  // certsmith.io/ wins over cert-manager.io/.
  ann["certsmith.io/issuer"] = "team-ca";
  ann["certsmith.io/duration"] = "1440h";
  Edit(ann, {Tls("a-tls", {"a.example"})});
  ASSERT_TRUE(Sync().status.ok());
  spec = (*Cert("a-tls"))["spec"];
  EXPECT_EQ(spec["issuerRef"]["name"], "team-ca");
  EXPECT_EQ(spec["issuerRef"]["kind"], "Issuer");
  EXPECT_EQ(spec["duration"], "1440h0m0s");
}

TEST_F(IngressShimTest, CertManagerExternalIssuerIsRefused) {
  options.honour_cert_manager_annotations = true;
  kube.Add(kube::kIngresses, Ingress({{"cert-manager.io/issuer", "vault"},
                                      {"cert-manager.io/issuer-kind", "VaultIssuer"},
                                      {"cert-manager.io/issuer-group", "vault.example.com"}},
                                     {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty());
  const std::string m = EventMessages("InvalidAnnotation");
  EXPECT_NE(m.find("cert-manager.io/issuer-kind: \"VaultIssuer\" is not supported"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("cert-manager.io/issuer-group"), std::string::npos) << m;
}

TEST_F(IngressShimTest, UnsupportedAnnotationsAreNamedNotSilentlyDropped) {
  AddReadyIssuer();
  Json ann = ClusterIssuerAnnotation();
  ann["certsmith.io/http01-edit-in-place"] = "true";
  ann["certsmith.io/issue-temporary-certificate"] = "true";
  kube.Add(kube::kIngresses, Ingress(ann, {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Cert("a-tls").has_value());
  const std::string m = EventMessages("AnnotationIgnored");
  EXPECT_NE(m.find("certsmith.io/http01-edit-in-place is not supported"), std::string::npos) << m;
  EXPECT_NE(m.find("certsmith.io/issue-temporary-certificate is not supported"), std::string::npos)
      << m;
}

TEST_F(IngressShimTest, OptionalAnnotationWithoutIssuerIsNamed) {
  kube.Add(kube::kIngresses,
           Ingress({{"certsmith.io/duration", "720h"}}, {Tls("a-tls", {"a.example"})}));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty());
  EXPECT_NE(EventMessages("AnnotationIgnored").find("without certsmith.io/issuer"),
            std::string::npos);
}

TEST_F(IngressShimTest, ApiErrorsAreRetriedAndDeletedIngressesIgnored) {
  AddReadyIssuer();
  kube.Add(kube::kIngresses, Ingress(ClusterIssuerAnnotation(), {Tls("a-tls", {"a.example"})}));
  kube.FailNext("create", "certificates", MakeError(ErrorCode::kUnavailable, "etcd is down"));
  EXPECT_FALSE(Sync().status.ok());
  EXPECT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Cert("a-tls").has_value());
  EXPECT_TRUE(Sync("gone").status.ok());  // NotFound: nothing to do
}

TEST_F(IngressShimTest, IngressBeingDeletedIsLeftToGarbageCollection) {
  Json ing = Ingress(ClusterIssuerAnnotation(), {Tls("a-tls", {"a.example"})});
  ing["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  ing["metadata"]["finalizers"] = {"example.com/hold"};
  kube.Add(kube::kIngresses, ing);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(Writes().empty());
}

TEST_F(IngressShimTest, WhatTheManagerEnqueues) {
  EXPECT_FALSE(IngressShimRelevant(Ingress(Json::object(), Json::array()), options));
  EXPECT_TRUE(IngressShimRelevant(Ingress({{"certsmith.io/isuer", "x"}}, Json::array()), options));
  Json user_cert = Certificate();
  EXPECT_FALSE(IngressShimOwnerKey(user_cert).has_value());
  user_cert["metadata"]["labels"] = {{kIngressShimLabel, "true"}};
  EXPECT_FALSE(IngressShimOwnerKey(user_cert).has_value()) << "no controller ownerReference";
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
