// `kubectl certsmith status certificate` and `inspect secret`: one screen with everything, and
// never the private key.
#include "plugin/status.h"

#include <gtest/gtest.h>

#include "plugin/commands.h"
#include "unit/plugin/plugin_test_util.h"

namespace certsmith::plugin {
namespace {

using namespace testing;

class StatusTest : public ::testing::Test {
 protected:
  StatusTest() {
    key_pem = key.ToPem(acme::PemEncoding::kPkcs8).value();
    kube.Add(api::kCertificates, Certificate());
    kube.Add(
        api::kClusterIssuers,
        {{"apiVersion", "certsmith.io/v1"},
         {"kind", "ClusterIssuer"},
         {"metadata", {{"name", "le"}}},
         {"status",
          {{"conditions",
            {{{"type", "Ready"}, {"status", "True"}, {"reason", "ACMEAccountRegistered"}}}}}}});
    kube.Add(kube::kSecrets,
             TlsSecret("www-tls", Chain(key, {"www.example.org", "example.org"}), key_pem));
    AddOrder("www-1-aaaa", 1, "valid", "", "2030-01-01T00:00:00Z");
    AddOrder("www-2-bbbb", 2, "invalid",
             "urn:ietf:params:acme:error:rejectedIdentifier: Error creating new order :: "
             "DOMAIN_NOT_FOUND",
             "2030-01-02T00:00:00Z");
    AddChallenge("www-2-bbbb-1", "www-2-bbbb", "www.example.org", "valid", "");
    AddChallenge("www-2-bbbb-2", "www-2-bbbb", "example.org", "invalid",
                 "urn:ietf:params:acme:error:unauthorized: 404 from http://example.org/x");
    AddChallenge("www-1-aaaa-1", "www-1-aaaa", "www.example.org", "valid", "");
    for (int i = 0; i < 10; ++i) {
      AddEvent("e" + std::to_string(i), "Normal", "Step" + std::to_string(i),
               "step " + std::to_string(i), kNow - std::chrono::minutes(20 - i));
    }
    AddEvent("other", "Normal", "Elsewhere", "another object's", kNow, "Ingress");
  }

  void AddOrder(const std::string& name, int revision, const std::string& state,
                const std::string& reason, const std::string& created) {
    Json o = {
        {"apiVersion", "acme.certsmith.io/v1"},
        {"kind", "Order"},
        {"metadata",
         {{"name", name},
          {"namespace", "shop"},
          {"uid", name + "-uid"},
          {"creationTimestamp", created},
          {"labels", {{api::kCertificateNameLabel, "www"}}},
          {"annotations", {{api::kRevisionAnnotation, std::to_string(revision)}}},
          {"ownerReferences", {{{"kind", "Certificate"}, {"name", "www"}, {"uid", "cert-uid"}}}}}},
        {"status", {{"state", state}, {"url", "https://ca.test/order/" + name}}}};
    if (!reason.empty()) o["status"]["reason"] = reason;
    kube.Add(api::kOrders, o);
  }
  void AddChallenge(const std::string& name, const std::string& order, const std::string& dns,
                    const std::string& state, const std::string& reason) {
    Json c = {
        {"apiVersion", "acme.certsmith.io/v1"},
        {"kind", "Challenge"},
        {"metadata",
         {{"name", name},
          {"namespace", "shop"},
          {"labels", {{api::kCertificateNameLabel, "www"}}},
          {"ownerReferences", {{{"kind", "Order"}, {"name", order}, {"uid", order + "-uid"}}}}}},
        {"spec", {{"type", "http-01"}, {"dnsName", dns}}},
        {"status", {{"state", state}}}};
    if (!reason.empty()) c["status"]["reason"] = reason;
    kube.Add(api::kChallenges, c);
  }
  void AddEvent(const std::string& name, const std::string& type, const std::string& reason,
                const std::string& message, Clock::TimePoint at,
                const std::string& kind = "Certificate") {
    kube.Add(kube::kEvents,
             {{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", {{"name", name}, {"namespace", "shop"}}},
              {"involvedObject", {{"kind", kind}, {"name", "www"}, {"namespace", "shop"}}},
              {"type", type},
              {"reason", reason},
              {"message", message},
              {"count", 1},
              {"lastTimestamp", kube::FormatTime(at)}});
  }

  acme::PrivateKey key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
  std::string key_pem;
  kube::testing::FakeClient kube;
};

TEST_F(StatusTest, OneScreenWithTheCurrentOrderAndTheCasWords) {
  auto report = GatherStatus(kube, "shop", "www");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(kube::GetName(report->order), "www-2-bbbb");  // the highest revision
  ASSERT_EQ(report->challenges.size(), 2u);               // its own, not revision 1's
  ASSERT_EQ(report->events.size(), StatusReport::kMaxEvents);
  EXPECT_EQ(report->events.back()["reason"], "Step9");  // the latest, oldest first

  const std::string text = FormatStatus(*report, kNow);
  for (const char* expected : {
           "Certificate shop/www\n",
           "  Ready:      True  Ready: Certificate is up to date and has not expired (since 3m "
           "ago)\n",
           "  Issuing:    -\n",
           "  Names:      www.example.org, example.org\n",
           "  Issuer:     ClusterIssuer le (Ready True, ACMEAccountRegistered)\n",
           "  Revision:   2   not after ",
           "Secret www-tls (kubernetes.io/tls)\n",
           "  Subject:    CN=www.example.org\n",
           "  SANs:       DNS:www.example.org, DNS:example.org\n",
           "  Issuer:     CN=Test Intermediate\n",
           "  Serial:     1F2E\n",
           "(expires in 89d)\n",
           "  Key:        ECDSA P-256, matches the certificate\n",
           "  Chain:      2 certificate(s)\n",
           "Order www-2-bbbb (revision 2): invalid\n",
           "  URL:        https://ca.test/order/www-2-bbbb\n",
           "  Challenges: http-01 www.example.org  valid\n",
           "              http-01 example.org  invalid: urn:ietf:params:acme:error:unauthorized: "
           "404",
           "  CA said:    urn:ietf:params:acme:error:rejectedIdentifier: Error creating new order "
           ":: DOMAIN_NOT_FOUND\n",
           "Step9",
       }) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n" << text;
  }
  EXPECT_EQ(text.find("Step0"), std::string::npos);      // past the last kMaxEvents
  EXPECT_EQ(text.find("Elsewhere"), std::string::npos);  // another object's Event
}

TEST_F(StatusTest, NeverThePrivateKey) {
  auto report = GatherStatus(kube, "shop", "www");
  ASSERT_TRUE(report.ok());
  const std::string encoded = Base64Encode(key_pem);
  for (const std::string& out : {FormatStatus(*report, kNow), StatusToJson(*report).dump()}) {
    EXPECT_EQ(out.find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(out.find(encoded.substr(0, 40)), std::string::npos);
    EXPECT_EQ(out.find(key_pem.substr(40, 40)), std::string::npos);
  }
  Json j = StatusToJson(*report);
  EXPECT_FALSE(j["secret"].contains("data"));
  EXPECT_EQ(j["secret"]["contents"]["certificates"][0]["serialNumber"], "1F2E");
  EXPECT_EQ(j["order"]["metadata"]["name"], "www-2-bbbb");
}

TEST_F(StatusTest, WhatIsMissingIsPartOfTheStory) {
  ASSERT_TRUE(kube.Delete(kube::kSecrets, "shop", "www-tls").ok());
  ASSERT_TRUE(kube.Delete(api::kClusterIssuers, "", "le").ok());
  for (const char* o : {"www-1-aaaa", "www-2-bbbb"})
    ASSERT_TRUE(kube.Delete(api::kOrders, "shop", o).ok());
  auto report = GatherStatus(kube, "shop", "www");
  ASSERT_TRUE(report.ok());
  const std::string text = FormatStatus(*report, kNow);
  EXPECT_NE(text.find("Secret www-tls: does not exist"), std::string::npos) << text;
  EXPECT_NE(text.find("ClusterIssuer le (not found)"), std::string::npos);
  EXPECT_NE(text.find("Order: none"), std::string::npos);
  auto missing = GatherStatus(kube, "shop", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "certificate shop/nope not found");
}

TEST_F(StatusTest, ARenewalRequestIsShownPendingThenDone) {
  Json cert = *kube.Peek(api::kCertificates, "shop", "www");
  cert["metadata"]["annotations"] = {{api::kRenewRevisionAnnotation, "2"}};
  ASSERT_TRUE(kube.Update(api::kCertificates, "shop", cert).ok());
  EXPECT_NE(FormatStatus(*GatherStatus(kube, "shop", "www"), kNow)
                .find("Renewal:    requested after revision 2 (pending)"),
            std::string::npos);
  cert = *kube.Peek(api::kCertificates, "shop", "www");
  cert["status"]["revision"] = 3;
  ASSERT_TRUE(kube.UpdateStatus(api::kCertificates, "shop", cert).ok());
  EXPECT_NE(FormatStatus(*GatherStatus(kube, "shop", "www"), kNow).find("(done)"),
            std::string::npos);
}

TEST_F(StatusTest, InspectSecretShowsTheChainAndTheKeyTypeOnly) {
  std::istringstream in;
  std::ostringstream out, err;
  Io io{in, out, err};
  FakeClock clock(kNow);
  Session s;
  s.client = &kube;
  s.ns = "shop";
  s.clock = &clock;
  s.options.args = {"secret", "www-tls"};
  EXPECT_EQ(RunInspect(s, io), 0) << err.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("Managed by: certsmith, Certificate www, ClusterIssuer le, revision 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Certificate 1 of 2 (leaf)"), std::string::npos);
  EXPECT_NE(text.find("Certificate 2 of 2 (CA)"), std::string::npos);
  EXPECT_NE(text.find("Private key: ECDSA P-256, matches the leaf certificate"), std::string::npos);
  EXPECT_NE(text.find("tls.key ("), std::string::npos);  // its size, not its contents
  EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos);
  // A key that does not match is a failure.
  auto other = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
  kube.Add(kube::kSecrets, TlsSecret("mismatch", Chain(key, {"a.example"}), other.ToPem().value()));
  s.options.args = {"secret", "mismatch"};
  std::ostringstream out2;
  Io io2{in, out2, err};
  EXPECT_EQ(RunInspect(s, io2), 1);
  EXPECT_NE(out2.str().find("DOES NOT match"), std::string::npos);
  s.options.output = "json";
  std::ostringstream out3;
  Io io3{in, out3, err};
  RunInspect(s, io3);
  Json j = Json::parse(out3.str());
  EXPECT_EQ(j["contents"]["keyMatchesCertificate"], false);
  EXPECT_FALSE(j.contains("data"));
}

}  // namespace
}  // namespace certsmith::plugin
