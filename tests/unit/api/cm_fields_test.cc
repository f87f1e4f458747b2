// cert-manager's fields in the Certificate and Issuer types: parsed, written back, checked, and
// refused with the reason where an ACME CA cannot serve them.
#include <gtest/gtest.h>

#include "api/certificate.h"
#include "api/issuer.h"
#include "test_objects.h"

namespace certsmith::api {
namespace {

using testing::ExpectFieldError;
using testing::ValidCertificate;

Status ParseWith(const std::string& pointer, const Json& value) {
  return Certificate::FromJson(testing::With(ValidCertificate(), pointer, value)).status();
}

TEST(CmFieldsTest, EveryRequestFieldRoundTrips) {
  Json j = ValidCertificate();
  j["spec"]["uris"] = {"spiffe://a/b"};
  j["spec"]["emailAddresses"] = {"a@example.org"};
  j["spec"]["otherNames"] = {{{"oid", "1.2.3"}, {"utf8Value", "x"}}};
  j["spec"]["encodeUsagesInRequest"] = false;
  j["spec"]["renewBeforePercentage"] = 40;
  j["spec"].erase("renewBefore");
  j["spec"]["keystores"] = {
      {"pkcs12", {{"create", true}, {"password", "p"}, {"profile", "LegacyDES"}}},
      {"jks", {{"create", true}, {"passwordSecretRef", {{"name", "s"}}}, {"alias", "a"}}}};
  j["spec"]["additionalOutputFormats"] = {{{"type", "DER"}}};
  j["spec"]["revokeOnDelete"] = true;
  Result<Certificate> c = Certificate::FromJson(j);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->spec.other_names[0], (OtherName{"1.2.3", "x"}));
  EXPECT_EQ(c->spec.keystores->pkcs12->profile, "LegacyDES");
  EXPECT_EQ(c->spec.keystores->jks->password_secret_ref.name, "s");
  EXPECT_EQ(c->spec.revoke_on_delete, true);
  Json back = c->ToJson()["spec"];
  for (const char* f :
       {"uris", "emailAddresses", "otherNames", "encodeUsagesInRequest", "renewBeforePercentage",
        "keystores", "additionalOutputFormats", "revokeOnDelete"}) {
    EXPECT_EQ(back[f], j["spec"][f]) << f;
  }
}

TEST(CmFieldsTest, FieldsAnAcmeCaCannotServeAreRefusedWithTheReason) {
  ExpectFieldError(ParseWith("/spec/isCA", true), "spec.isCA",
                   "ACME CAs issue end-entity certificates only");
  ExpectFieldError(ParseWith("/spec/nameConstraints", Json{{"critical", true}}),
                   "spec.nameConstraints", "name constraints belong in CA certificates");
  ExpectFieldError(ParseWith("/spec/privateKey/algorithm", "Ed25519"), "spec.privateKey.algorithm",
                   "Ed25519: the ACME CAs certsmith serves do not sign Ed25519 keys");
  // The test certificate has an RSA key: SHA-256 is what it signs with.
  EXPECT_TRUE(ParseWith("/spec/signatureAlgorithm", "SHA256WithRSA").ok());
  ExpectFieldError(ParseWith("/spec/signatureAlgorithm", "SHA512WithRSA"),
                   "spec.signatureAlgorithm",
                   "certsmith signs requests for RSA keys with SHA256WithRSA only");
  EXPECT_TRUE(ParseWith("/spec/isCA", false).ok());
}

TEST(CmFieldsTest, RequestFieldsAreChecked) {
  ExpectFieldError(ParseWith("/spec/uris", Json{"nourl"}), "spec.uris[0]",
                   "\"nourl\" is not a URI");
  ExpectFieldError(ParseWith("/spec/emailAddresses", Json{"x"}), "spec.emailAddresses[0]",
                   "\"x\" is not an email address");
  ExpectFieldError(ParseWith("/spec/otherNames", Json{{{"oid", "1..2"}, {"utf8Value", "x"}}}),
                   "spec.otherNames[0].oid", "\"1..2\" is not a dotted object identifier");
  ExpectFieldError(ParseWith("/spec/literalSubject", "CN=a"), "spec.literalSubject",
                   "cannot be set with commonName");
  ExpectFieldError(ParseWith("/spec/renewBeforePercentage", 100), "spec.renewBeforePercentage",
                   "must be between 1 and 99");
  ExpectFieldError(ParseWith("/spec/renewBeforePercentage", 10), "spec.renewBeforePercentage",
                   "cannot be set with renewBefore");
  ExpectFieldError(ParseWith("/spec/keystores", Json{{"pkcs12", {{"create", true}}}}),
                   "spec.keystores.pkcs12", "set exactly one of password and passwordSecretRef");
  ExpectFieldError(
      ParseWith("/spec/keystores",
                Json{{"pkcs12", {{"create", true}, {"password", "p"}, {"profile", "Modern2024"}}}}),
      "spec.keystores.pkcs12.profile", "\"Modern2024\" is not one of");
  ExpectFieldError(
      ParseWith("/spec/additionalOutputFormats", Json{{{"type", "DER"}}, {{"type", "DER"}}}),
      "spec.additionalOutputFormats[1].type", "\"DER\" is listed twice");
}

TEST(CmFieldsTest, LiteralSubjectCommonNameIsANameOnlyWhenItIsADnsName) {
  EXPECT_EQ(CommonNameOfLiteralSubject("O=Example,CN=a.example,C=FR"), "a.example");
  EXPECT_EQ(CommonNameOfLiteralSubject("2.5.4.3=b.example+O=x"), "b.example");
  EXPECT_EQ(CommonNameOfLiteralSubject("CN=Web\\, Team"), "Web, Team");
  EXPECT_EQ(CommonNameOfLiteralSubject("O=Example"), "");
  Json j = ValidCertificate();
  j["spec"].erase("commonName");
  j["spec"].erase("subject");
  j["spec"]["dnsNames"] = {"b.example"};
  j["spec"]["literalSubject"] = "CN=a.example,O=Example";
  Result<Certificate> c = Certificate::FromJson(j);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->spec.DnsIdentifiers(), (std::vector<std::string>{"a.example", "b.example"}));
  j["spec"]["literalSubject"] = "CN=Example Web,O=Example";
  c = Certificate::FromJson(j);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->spec.DnsIdentifiers(), (std::vector<std::string>{"b.example"}));
}

TEST(CmFieldsTest, IssuerFields) {
  Json issuer = {{"apiVersion", "certsmith.io/v1"},
                 {"kind", "ClusterIssuer"},
                 {"metadata", {{"name", "le"}}},
                 {"spec",
                  {{"revokeOnDelete", true},
                   {"acme",
                    {{"server", "https://acme.example/dir"},
                     {"privateKeySecretRef", {{"name", "k"}}},
                     {"profile", "shortlived"},
                     {"enableDurationFeature", true},
                     {"solvers", {{{"http01", {{"ingress", {{"class", "nginx"}}}}}}}}}}}}};
  Result<Issuer> i = Issuer::FromJson(issuer);
  ASSERT_TRUE(i.ok()) << i.status().message();
  EXPECT_TRUE(i->spec.revoke_on_delete);
  EXPECT_EQ(i->spec.acme.profile, "shortlived");
  EXPECT_TRUE(i->spec.acme.enable_duration_feature);
  EXPECT_EQ(i->ToJson()["spec"]["acme"]["profile"], "shortlived");
  // cert-manager's Gateway API solver, with its field names.
  issuer["spec"]["acme"]["solvers"] = Json::array(
      {Json{{"http01",
             {{"gatewayHTTPRoute",
               {{"serviceType", "NodePort"},
                {"labels", {{"gw", "public"}}},
                {"parentRefs", Json::array({Json{{"name", "web"},
                                                 {"namespace", "infra"},
                                                 {"sectionName", "http"},
                                                 {"port", 80}}})}}}}}}});
  Result<Issuer> gw = Issuer::FromJson(issuer);
  ASSERT_TRUE(gw.ok()) << gw.status().message();
  const Http01GatewayHTTPRoute& route = *gw->spec.acme.solvers[0].http01->gateway_http_route;
  ASSERT_EQ(route.parent_refs.size(), 1u);
  EXPECT_EQ(route.parent_refs[0].name, "web");
  EXPECT_EQ(route.parent_refs[0].namespace_, "infra");
  EXPECT_EQ(route.parent_refs[0].section_name, "http");
  EXPECT_EQ(route.parent_refs[0].port, 80);
  EXPECT_EQ(route.service_type, "NodePort");
  EXPECT_EQ(route.labels.at("gw"), "public");
  EXPECT_EQ(gw->ToJson()["spec"]["acme"]["solvers"][0], issuer["spec"]["acme"]["solvers"][0]);
}

// cert-manager's built-in DNS providers apply (the schema keeps them) and are refused by name,
// saying what to use instead, with no second, misleading "exactly one of" error.
TEST(CmFieldsTest, CertManagerDnsProvidersAreRefusedWithWhatToUse) {
  for (const char* provider : kCertManagerDnsProviders) {
    SCOPED_TRACE(provider);
    Json issuer = {{"apiVersion", "certsmith.io/v1"},
                   {"kind", "ClusterIssuer"},
                   {"metadata", {{"name", "le"}}},
                   {"spec",
                    {{"acme",
                      {{"server", "https://acme.example/dir"},
                       {"privateKeySecretRef", {{"name", "k"}}},
                       {"solvers", Json::array({{{"dns01", {{provider, {{"region", "x"}}}}}}})}}}}}};
    Status s = Issuer::FromJson(issuer).status();
    ASSERT_FALSE(s.ok());
    const std::string want = std::string("spec.acme.solvers[0].dns01.") + provider +
                             ": cert-manager's built-in " + provider +
                             " provider is not built into certsmith: use a cert-manager DNS "
                             "webhook";
    EXPECT_NE(s.message().find(want), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("exactly one of"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace certsmith::api
