#include "api/certificate.h"

#include <gtest/gtest.h>

#include "test_objects.h"

namespace certsmith::api {
namespace {

using testing::ExpectFieldError;
using testing::ValidCertificate;

Status ParseWith(const std::string& pointer, const Json& value) {
  return Certificate::FromJson(testing::With(ValidCertificate(), pointer, value)).status();
}

TEST(CertificateTest, ParsesAValidCertificate) {
  Result<Certificate> c = Certificate::FromJson(ValidCertificate());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->metadata.name, "web");
  EXPECT_EQ(c->metadata.namespace_, "shop");
  EXPECT_EQ(c->spec.issuer_ref.kind, "ClusterIssuer");
  EXPECT_EQ(c->spec.duration, std::chrono::hours(2160));
  EXPECT_EQ(c->spec.private_key.EffectiveSize(), 3072);
  EXPECT_EQ(c->spec.subject->countries[0], "FR");
  EXPECT_EQ(c->spec.revision_history_limit, 3);
  EXPECT_EQ(c->spec.secret_template->labels.at("team"), "shop");
}

TEST(CertificateTest, DefaultsMatchTheDocumentedChoices) {
  Json j = ValidCertificate();
  j["spec"].erase("privateKey");
  j["spec"]["issuerRef"] = {{"name", "le"}};
  Result<Certificate> c = Certificate::FromJson(j);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->spec.private_key.algorithm, "ECDSA");
  EXPECT_EQ(c->spec.private_key.EffectiveSize(), 256);
  EXPECT_EQ(c->spec.private_key.rotation_policy, "Always");
  EXPECT_EQ(c->spec.issuer_ref.kind, "Issuer");
  EXPECT_EQ(c->spec.issuer_ref.group, "certsmith.io");
  // Unset: the controller's --default-secret-deletion-policy decides (Retain unless set).
  EXPECT_EQ(c->spec.secret_deletion_policy, "");
}

TEST(CertificateTest, SecretDeletionPolicy) {
  for (const char* policy : {"Retain", "Delete"}) {
    Result<Certificate> c =
        Certificate::FromJson(testing::With(ValidCertificate(), "/spec/secretDeletionPolicy", policy));
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->spec.secret_deletion_policy, policy);
    EXPECT_EQ(c->spec.ToJson()["secretDeletionPolicy"], policy);
  }
  ExpectFieldError(ParseWith("/spec/secretDeletionPolicy", "Orphan"), "spec.secretDeletionPolicy",
                   "\"Orphan\" is not one of Retain, Delete");
  ExpectFieldError(ParseWith("/spec/secretDeletionPolicy", "delete"), "spec.secretDeletionPolicy",
                   "\"delete\" is not one of Retain, Delete");
  EXPECT_FALSE(Certificate::FromJson(ValidCertificate())->spec.ToJson().contains(
      "secretDeletionPolicy"));
}

TEST(CertificateTest, IdentifiersIncludeCommonNameOnceAndNormalised) {
  Json j = ValidCertificate();
  j["spec"]["commonName"] = "WWW.example.org";
  Result<Certificate> c = Certificate::FromJson(j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->spec.DnsIdentifiers(),
            (std::vector<std::string>{"www.example.org", "example.org", "*.api.example.org"}));
  EXPECT_EQ(c->spec.IpIdentifiers(), std::vector<std::string>{"192.0.2.10"});
  j["spec"]["commonName"] = "only.example.org";
  j["spec"].erase("dnsNames");
  c = Certificate::FromJson(j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->spec.DnsIdentifiers(), std::vector<std::string>{"only.example.org"});
}

TEST(CertificateTest, RequiredFields) {
  ExpectFieldError(ParseWith("/spec/secretName", nullptr), "spec.secretName", "required");
  ExpectFieldError(ParseWith("/spec/issuerRef/name", nullptr), "spec.issuerRef.name", "required");
  Json j = ValidCertificate();
  for (const char* k : {"commonName", "dnsNames", "ipAddresses"}) j["spec"].erase(k);
  ExpectFieldError(Certificate::FromJson(j).status(), "spec",
                   "at least one of commonName, dnsNames or ipAddresses is required");
}

TEST(CertificateTest, NamesAreChecked) {
  ExpectFieldError(ParseWith("/spec/dnsNames/2", "a..b"), "spec.dnsNames[2]",
                   "\"a..b\" is not a valid DNS name");
  ExpectFieldError(ParseWith("/spec/ipAddresses/0", "300.1.1.1"), "spec.ipAddresses[0]",
                   "\"300.1.1.1\" is not a valid IP address");
  ExpectFieldError(ParseWith("/spec/commonName", std::string(65, 'a')), "spec.commonName",
                   "must be at most 64 characters");
  ExpectFieldError(ParseWith("/spec/secretName", "Web_TLS"), "spec.secretName",
                   "\"Web_TLS\" is not a valid Secret name");
}

TEST(CertificateTest, IssuerRefKindAndGroup) {
  ExpectFieldError(ParseWith("/spec/issuerRef/kind", "Foo"), "spec.issuerRef.kind",
                   "\"Foo\" is not one of Issuer, ClusterIssuer");
  ExpectFieldError(ParseWith("/spec/issuerRef/group", "cert-manager.io"), "spec.issuerRef.group",
                   "must be certsmith.io");
}

TEST(CertificateTest, KeyRules) {
  ExpectFieldError(ParseWith("/spec/privateKey/size", 1024), "spec.privateKey.size",
                   "RSA keys must be 2048, 3072 or 4096 bits");
  Json j = ValidCertificate();
  j["spec"]["privateKey"] = {{"algorithm", "ECDSA"}, {"size", 521}};
  ExpectFieldError(Certificate::FromJson(j).status(), "spec.privateKey.size",
                   "ECDSA keys must be 256 or 384 bits");
  ExpectFieldError(ParseWith("/spec/privateKey/algorithm", "DSA"), "spec.privateKey.algorithm",
                   "\"DSA\" is not one of RSA, ECDSA");
  ExpectFieldError(ParseWith("/spec/privateKey/encoding", "DER"), "spec.privateKey.encoding",
                   "\"DER\" is not one of PKCS1, PKCS8");
  ExpectFieldError(ParseWith("/spec/privateKey/rotationPolicy", "Sometimes"),
                   "spec.privateKey.rotationPolicy", "\"Sometimes\" is not one of Never, Always");
  ExpectFieldError(ParseWith("/spec/privateKey/size", "big"), "spec.privateKey.size",
                   "must be an integer");
}

TEST(CertificateTest, LifetimeRules) {
  ExpectFieldError(ParseWith("/spec/duration", "90d"), "spec.duration",
                   "\"90d\" is not a duration");
  ExpectFieldError(ParseWith("/spec/duration", "30m"), "spec.duration", "must be at least 1h");
  ExpectFieldError(ParseWith("/spec/renewBefore", "1m"), "spec.renewBefore", "must be at least 5m");
  ExpectFieldError(ParseWith("/spec/renewBefore", "2160h"), "spec.renewBefore",
                   "must be shorter than spec.duration");
}

TEST(CertificateTest, SubjectUsagesAndHistory) {
  ExpectFieldError(ParseWith("/spec/subject/countries/0", "France"), "spec.subject.countries[0]",
                   "\"France\" is not a two-letter upper-case ISO 3166 country code");
  ExpectFieldError(ParseWith("/spec/usages/1", "web server"), "spec.usages[1]",
                   "\"web server\" is not a known usage");
  ExpectFieldError(ParseWith("/spec/revisionHistoryLimit", 0), "spec.revisionHistoryLimit",
                   "must be at least 1");
}

TEST(CertificateTest, WrongTypesHavePaths) {
  ExpectFieldError(ParseWith("/spec/dnsNames", "www.example.org"), "spec.dnsNames",
                   "must be a list of strings");
  ExpectFieldError(ParseWith("/spec/dnsNames/0", 5), "spec.dnsNames[0]", "must be a string");
  ExpectFieldError(ParseWith("/spec/secretTemplate/labels/team", 1),
                   "spec.secretTemplate.labels.team", "must be a string");
  ExpectFieldError(ParseWith("/apiVersion", "cert-manager.io/v1"), "apiVersion",
                   "must be certsmith.io/v1");
}

TEST(CertificateTest, ReportsEveryErrorAtOnce) {
  Json j = ValidCertificate();
  j["spec"]["dnsNames"][0] = "-bad";
  j["spec"]["privateKey"]["size"] = 1000;
  j["spec"]["duration"] = "1m";
  Status s = Certificate::FromJson(j).status();
  ExpectFieldError(s, "spec.dnsNames[0]", "\"-bad\" is not a valid DNS name");
  ExpectFieldError(s, "spec.privateKey.size", "RSA keys");
  ExpectFieldError(s, "spec.duration", "must be at least 1h");
  EXPECT_NE(s.message().find("Certificate shop/web is invalid"), std::string::npos);
}

TEST(CertificateTest, StatusRoundTrips) {
  FakeClock clock;
  Result<Certificate> c = Certificate::FromJson(ValidCertificate());
  ASSERT_TRUE(c.ok());
  c->status.not_after = clock.Now() + std::chrono::hours(24);
  c->status.revision = 4;
  c->status.failed_issuance_attempts = 2;
  c->status.next_private_key_secret_name = "web-next-key";
  Condition ready{kConditionReady, ConditionStatus::kTrue, "Ready", "ok", std::nullopt, 2};
  SetCondition(&c->status.conditions, ready, clock.Now());
  Json j = c->ToJson();
  EXPECT_EQ(j["status"]["notAfter"], "2023-11-15T22:13:20Z");
  Result<Certificate> again = Certificate::FromJson(j);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->status.not_after, c->status.not_after);
  EXPECT_EQ(again->status.revision, 4);
  EXPECT_EQ(again->status.conditions, c->status.conditions);
  EXPECT_EQ(again->spec.ToJson(), c->spec.ToJson());
  ExpectFieldError(ParseWith("/status/notAfter", "tomorrow"), "status.notAfter",
                   "\"tomorrow\" is not an RFC 3339 UTC time");
}

}  // namespace
}  // namespace certsmith::api
