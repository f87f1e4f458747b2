#include "acme/certificate.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <memory>

#include "acme/renewal_info.h"
#include "unit/acme/crypto_test_util.h"

namespace certsmith::acme {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;
using testing::CertSpec;

system_clock::time_point At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

class CertificateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_key_ = new PrivateKey(*PrivateKey::Generate(KeyType::kEcdsaP384));
    leaf_key_ = new PrivateKey(*PrivateKey::Generate(KeyType::kEcdsaP256));
    CertSpec ca{"Test Root CA",
                "Test CA Org",
                {},
                {},
                At("2026-01-01T00:00:00Z"),
                At("2036-01-01T00:00:00Z"),
                1,
                true};
    ca_cert_ = testing::MakeCertificate(ca, ca_key_->get(), nullptr).release();
    CertSpec leaf{"www.example.org",
                  "Exemple Société",
                  {"www.example.org", "example.org"},
                  {"192.0.2.1", "2001:db8::1"},
                  At("2026-11-23T10:00:00Z"),
                  At("2027-02-21T10:00:00Z"),
                  0x0123ABCDEFL,
                  false};
    leaf_cert_ =
        testing::MakeCertificate(leaf, leaf_key_->get(), ca_key_->get(), ca_cert_).release();
  }
  static void TearDownTestSuite() {
    X509_free(ca_cert_);
    X509_free(leaf_cert_);
    delete ca_key_;
    delete leaf_key_;
  }
  static std::string LeafPem() { return testing::CertificateToPem(leaf_cert_); }
  static std::string CaPem() { return testing::CertificateToPem(ca_cert_); }

  static PrivateKey* ca_key_;
  static PrivateKey* leaf_key_;
  static X509* ca_cert_;
  static X509* leaf_cert_;
};
PrivateKey* CertificateTest::ca_key_ = nullptr;
PrivateKey* CertificateTest::leaf_key_ = nullptr;
X509* CertificateTest::ca_cert_ = nullptr;
X509* CertificateTest::leaf_cert_ = nullptr;

// RFC 5280 §4.1.2.5: notAfter 99991231235959Z means "no well-defined expiration". It must read
// as far in the future (saturated), not overflow the nanosecond clock into the past, which would
// make a TLS Secret holding it look expired and re-issued forever (pem_der_fuzz corpus:
// regression-notafter-9999).
TEST(CertificateTimesTest, NotAfterInTheYear9999IsFarInTheFuture) {
  constexpr char kForever[] = R"(-----BEGIN CERTIFICATE-----
MIIBHjCBxAIBATAKBggqhkjOPQQDAjAaMRgwFgYDVQQDDA9mb3JldmVyLmV4YW1w
bGUwIBcNMjQwMTAxMDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMBoxGDAWBgNVBAMM
D2ZvcmV2ZXIuZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABIo7pTOO
peQUnZ2QVitoHXm829gX2817N436+untCUpNWsKWxtcFAOItfsthWWsmLBNBbadI
lDfC8dLT2BmKTNAwCgYIKoZIzj0EAwIDSQAwRgIhAMkGG+9xvcEHI2EL71J5DpwK
fAjtPr/CTCh/nBK33Dx1AiEAzclnm7Ec0QBVlROgGIX25iresTExZOJcWu9qElc9
htA=
-----END CERTIFICATE-----
)";
  auto info = ParseCertificatePem(kForever);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const auto now = system_clock::now();
  EXPECT_GT(info->not_after, now + hours(24 * 365 * 200));
  EXPECT_LT(info->not_before, now);
  auto rfc3339 = ParseRfc3339("9999-12-31T23:59:59Z");
  ASSERT_TRUE(rfc3339.ok());
  EXPECT_EQ(*rfc3339, info->not_after);
}

TEST_F(CertificateTest, ParsesLeafFields) {
  auto info = ParseCertificatePem(LeafPem());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->subject, "CN=www.example.org,O=Exemple Société");
  EXPECT_EQ(info->common_name, "www.example.org");
  EXPECT_EQ(info->subject_fields.common_name, "www.example.org");
  EXPECT_EQ(info->subject_fields.organizations, std::vector<std::string>{"Exemple Société"});
  EXPECT_EQ(info->issuer, "CN=Test Root CA,O=Test CA Org");
  EXPECT_EQ(info->issuer_common_name, "Test Root CA");
  EXPECT_EQ(info->serial_hex, "0123ABCDEF");
  EXPECT_EQ(info->not_before, At("2026-11-23T10:00:00Z"));
  EXPECT_EQ(info->not_after, At("2027-02-21T10:00:00Z"));
  EXPECT_EQ(info->dns_names, (std::vector<std::string>{"www.example.org", "example.org"}));
  EXPECT_EQ(info->ip_addresses, (std::vector<std::string>{"192.0.2.1", "2001:db8::1"}));
  EXPECT_EQ(info->public_key_sha256, PublicKeyFingerprint(*leaf_key_));
  EXPECT_FALSE(info->is_ca);
}

TEST_F(CertificateTest, ParsesCaAndDerTheSameWay) {
  auto info = ParseCertificateDer(testing::CertificateToDer(ca_cert_));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->is_ca);
  EXPECT_EQ(info->subject, info->issuer);
  EXPECT_TRUE(info->dns_names.empty());
  EXPECT_EQ(info->not_after, At("2036-01-01T00:00:00Z"));
  EXPECT_EQ(info->public_key_sha256, PublicKeyFingerprint(*ca_key_));
}

TEST_F(CertificateTest, SplitsBundleInOrderSkippingOtherBlocks) {
  std::string bundle = "leading text\n" + LeafPem() + "\r\n" + *leaf_key_->ToPem() + CaPem();
  auto blocks = SplitPemCertificates(bundle);
  ASSERT_TRUE(blocks.ok()) << blocks.status().ToString();
  ASSERT_EQ(blocks->size(), 2u);
  EXPECT_EQ((*blocks)[0], LeafPem());
  EXPECT_EQ((*blocks)[1], CaPem());
  EXPECT_EQ(ParseCertificatePem((*blocks)[1])->common_name, "Test Root CA");
}

TEST_F(CertificateTest, SplitRejectsEmptyAndUnterminated) {
  EXPECT_FALSE(SplitPemCertificates("").ok());
  EXPECT_FALSE(SplitPemCertificates(*leaf_key_->ToPem()).ok());
  std::string cut = LeafPem();
  cut.resize(cut.size() / 2);
  auto r = SplitPemCertificates(CaPem() + cut);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("certificate 2"), std::string::npos);
}

TEST_F(CertificateTest, PemToDerGivesTheFirstCertificate) {
  auto der = CertificatePemToDer(LeafPem() + CaPem());
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(*der, testing::CertificateToDer(leaf_cert_));
}

TEST_F(CertificateTest, ParseSkipsAKeyBlockBeforeTheCertificate) {
  auto info = ParseCertificatePem(*leaf_key_->ToPem() + LeafPem());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->common_name, "www.example.org");
}

TEST_F(CertificateTest, RejectsGarbage) {
  EXPECT_FALSE(ParseCertificatePem("not pem").ok());
  EXPECT_FALSE(ParseCertificateDer("\x30\x03\x02\x01\x01").ok());
  EXPECT_FALSE(ParseCertificateDer("").ok());
  EXPECT_FALSE(CertificatePemToDer("").ok());
}

TEST_F(CertificateTest, MatchesOnlyItsOwnKey) {
  EXPECT_TRUE(CertificateMatchesKey(LeafPem() + CaPem(), *leaf_key_));
  EXPECT_FALSE(CertificateMatchesKey(LeafPem(), *ca_key_));
  EXPECT_TRUE(CertificateMatchesKey(CaPem(), *ca_key_));
  EXPECT_FALSE(CertificateMatchesKey("garbage", *leaf_key_));
}

// The ARI ID comes with the rest of the leaf's facts (the controller decodes a chain once).
TEST_F(CertificateTest, DescribesTheAriCertificateId) {
  auto leaf = ParseCertificatePem(LeafPem() + CaPem());
  ASSERT_TRUE(leaf.ok());
  // RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(serial 01 23 AB CD EF).
  const std::string suffix = ".ASOrze8";
  ASSERT_GT(leaf->ari_cert_id.size(), suffix.size());
  EXPECT_EQ(leaf->ari_cert_id.substr(leaf->ari_cert_id.size() - suffix.size()), suffix);
  EXPECT_EQ(*AriCertId(LeafPem()), leaf->ari_cert_id);
  // The self-signed root has no Authority Key Identifier: ARI cannot name it.
  EXPECT_EQ(ParseCertificatePem(CaPem())->ari_cert_id, "");
  EXPECT_FALSE(AriCertId(CaPem()).ok());
}

TEST_F(CertificateTest, RsaCertificateFingerprintMatchesKey) {
  PrivateKey rsa = *PrivateKey::Generate(KeyType::kRsa2048);
  CertSpec spec{"",
                "",
                {"rsa.example"},
                {},
                At("2026-01-01T00:00:00Z"),
                At("2051-01-01T00:00:00Z"),  // GeneralizedTime after 2049
                7,
                false};
  auto cert = testing::MakeCertificate(spec, rsa.get(), nullptr);
  auto info = ParseCertificatePem(testing::CertificateToPem(cert.get()));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->public_key_sha256, PublicKeyFingerprint(rsa));
  EXPECT_EQ(info->common_name, "");
  EXPECT_EQ(info->not_after, At("2051-01-01T00:00:00Z"));
  EXPECT_EQ(info->serial_hex, "07");
}

// A CA copies the CSR's subject: the parsed subject fields equal what was requested, so the
// controller can tell whether a certificate still matches its spec.
TEST_F(CertificateTest, SubjectFieldsRoundTripFromCsr) {
  Subject requested = *ParseSubject(
      "CN=ov.example.fr,O=Exemple\\, SA,OU=IT,OU=Web,C=FR,ST=Île-de-France,L=Paris,"
      "STREET=1 rue de la Paix,postalCode=75002,serialNumber=RCS-1");
  auto der = MakeCsrDer(*leaf_key_, {requested, {"ov.example.fr"}, {}});
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(
      d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())), X509_REQ_free);
  ASSERT_NE(req, nullptr);
  CertSpec spec{"",
                "",
                {"ov.example.fr"},
                {},
                At("2026-01-01T00:00:00Z"),
                At("2027-01-01T00:00:00Z"),
                9,
                false,
                X509_REQ_get_subject_name(req.get())};
  auto cert = testing::MakeCertificate(spec, leaf_key_->get(), ca_key_->get(), ca_cert_);
  auto info = ParseCertificatePem(testing::CertificateToPem(cert.get()));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(FormatSubject(info->subject_fields), FormatSubject(requested));
  EXPECT_EQ(info->subject_fields.organizations, std::vector<std::string>{"Exemple, SA"});
  EXPECT_EQ(info->subject_fields.organizational_units, (std::vector<std::string>{"IT", "Web"}));
  EXPECT_EQ(info->subject,
            "CN=ov.example.fr,serialNumber=RCS-1,OU=Web,OU=IT,O=Exemple\\, SA,postalCode=75002,"
            "street=1 rue de la Paix,L=Paris,ST=Île-de-France,C=FR");
}

// --- RFC 3339 --------------------------------------------------------------------------------

TEST(Rfc3339Test, FormatsUtcWithWholeSeconds) {
  system_clock::time_point t{seconds{1795446245}};  // 2026-11-23T15:04:05Z
  EXPECT_EQ(FormatRfc3339(t), "2026-11-23T15:04:05Z");
  EXPECT_EQ(FormatRfc3339(t + std::chrono::milliseconds(999)), "2026-11-23T15:04:05Z");
  EXPECT_EQ(FormatRfc3339(system_clock::time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(system_clock::time_point{seconds{-1}}), "1969-12-31T23:59:59Z");
}

TEST(Rfc3339Test, ParsesZuluOffsetsAndFractions) {
  system_clock::time_point t{seconds{1795446245}};
  EXPECT_EQ(*ParseRfc3339("2026-11-23T15:04:05Z"), t);
  EXPECT_EQ(*ParseRfc3339("2026-11-23t15:04:05z"), t);
  EXPECT_EQ(*ParseRfc3339("2026-11-23T17:04:05+02:00"), t);
  EXPECT_EQ(*ParseRfc3339("2026-11-23T09:34:05-05:30"), t);
  EXPECT_EQ(*ParseRfc3339("2026-11-23T15:04:05.25Z"), t + std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseRfc3339("2026-11-23T15:04:05.123456789123Z"),
            t + std::chrono::nanoseconds(123456789));
  EXPECT_EQ(*ParseRfc3339("2024-02-29T00:00:00Z"), system_clock::time_point{seconds{1709164800}});
}

TEST(Rfc3339Test, RoundTrips) {
  system_clock::time_point t{seconds{4102444799}};  // 2099-12-31T23:59:59Z
  EXPECT_EQ(*ParseRfc3339(FormatRfc3339(t)), t);
}

TEST(Rfc3339Test, RejectsMalformed) {
  for (const char* text :
       {"", "2026-11-23", "2026-11-23T15:04:05", "2026-11-23 15:04:05Z", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T15:04:05.Z",
        "2026-11-23T15:04:05+0200", "2026-11-23T15:04:05Zjunk", "2026/11/23T15:04:05Z"}) {
    auto r = ParseRfc3339(text);
    EXPECT_FALSE(r.ok()) << text;
  }
}

}  // namespace
}  // namespace certsmith::acme
