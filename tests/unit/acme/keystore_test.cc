// The keystore writers: PKCS#12 in each cert-manager profile (algorithms read back from the ASN.1,
// MAC verified, key and chain recovered with OpenSSL), and JKS read back by a reader written here
// from the format's description (magic, entries, key protector, the closing SHA-1).
#include "acme/keystore.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "acme/certificate.h"
#include "unit/acme/crypto_test_util.h"

namespace certsmith::acme {
namespace {

using testing::CertSpec;

struct Fixture {
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  PrivateKey ca_key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  std::string leaf_pem, ca_pem;
  Fixture() {
    const auto now = std::chrono::system_clock::now();
    CertSpec ca{.common_name = "Keystore Test CA",
                .organization = "",
                .dns_names = {},
                .ip_addresses = {},
                .not_before = now,
                .not_after = now + std::chrono::hours(24),
                .serial = 1,
                .is_ca = true,
                .subject = nullptr};
    auto ca_cert = testing::MakeCertificate(ca, ca_key.get(), ca_key.get());
    CertSpec leaf{.common_name = "",
                  .organization = "",
                  .dns_names = {"a.example"},
                  .ip_addresses = {},
                  .not_before = now,
                  .not_after = now + std::chrono::hours(2),
                  .serial = 2,
                  .is_ca = false,
                  .subject = nullptr};
    auto leaf_cert = testing::MakeCertificate(leaf, key.get(), ca_key.get(), ca_cert.get());
    leaf_pem = testing::CertificateToPem(leaf_cert.get());
    ca_pem = testing::CertificateToPem(ca_cert.get());
  }
  std::string Chain() const { return leaf_pem + ca_pem; }
};

using P12Ptr = std::unique_ptr<PKCS12, decltype(&PKCS12_free)>;
P12Ptr ReadP12(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return P12Ptr(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())), PKCS12_free);
}

std::string OidText(const ASN1_OBJECT* oid) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof(buf), oid, 0);
  return buf;
}

// The encryption of the certificate bag(s) and of the key bag, and the MAC digest.
struct P12Algorithms {
  std::string certs, key, mac;
};
P12Algorithms AlgorithmsOf(PKCS12* p12) {
  P12Algorithms out;
  const X509_ALGOR* mac_alg = nullptr;
  PKCS12_get0_mac(nullptr, &mac_alg, nullptr, nullptr, p12);
  if (mac_alg) out.mac = OidText(mac_alg->algorithm);
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  for (int i = 0; i < sk_PKCS7_num(safes); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes, i);
    if (OBJ_obj2nid(p7->type) == NID_pkcs7_encrypted) {
      out.certs = OidText(p7->d.encrypted->enc_data->algorithm->algorithm);
    } else if (OBJ_obj2nid(p7->type) == NID_pkcs7_data) {
      STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(p7);
      for (int j = 0; j < sk_PKCS12_SAFEBAG_num(bags); ++j) {
        const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, j);
        if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag) continue;
        const X509_ALGOR* alg = nullptr;
        X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
        out.key = OidText(alg->algorithm);
      }
      sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  return out;
}

TEST(Pkcs12Test, EachProfileUsesItsAlgorithms) {
  Fixture f;
  struct Case {
    Pkcs12Profile profile;
    P12Algorithms want;
  } cases[] = {
      {Pkcs12Profile::kLegacyRc2,
       {"pbeWithSHA1And40BitRC2-CBC", "pbeWithSHA1And3-KeyTripleDES-CBC", "sha1"}},
      {Pkcs12Profile::kLegacyDes,
       {"pbeWithSHA1And3-KeyTripleDES-CBC", "pbeWithSHA1And3-KeyTripleDES-CBC", "sha1"}},
      {Pkcs12Profile::kModern2023, {"PBES2", "PBES2", "sha256"}},
  };
  for (const Case& c : cases) {
    auto der = MakePkcs12Keystore(f.key, f.Chain(), "s3cret", c.profile);
    ASSERT_TRUE(der.ok()) << der.status().ToString();
    P12Ptr p12 = ReadP12(*der);
    ASSERT_NE(p12, nullptr);
    P12Algorithms got = AlgorithmsOf(p12.get());
    EXPECT_EQ(got.certs, c.want.certs);
    EXPECT_EQ(got.key, c.want.key);
    EXPECT_EQ(got.mac, c.want.mac);
    EXPECT_EQ(PKCS12_verify_mac(p12.get(), "s3cret", -1), 1);
    EXPECT_EQ(PKCS12_verify_mac(p12.get(), "wrong", -1), 0);
  }
}

TEST(Pkcs12Test, LegacyDesAndModernOpenWithTheKeyAndChain) {
  Fixture f;
  for (Pkcs12Profile profile : {Pkcs12Profile::kLegacyDes, Pkcs12Profile::kModern2023}) {
    auto der = MakePkcs12Keystore(f.key, f.Chain(), "pässword", profile);
    ASSERT_TRUE(der.ok()) << der.status().ToString();
    P12Ptr p12 = ReadP12(*der);
    EVP_PKEY* pkey = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* ca = nullptr;
    ASSERT_EQ(PKCS12_parse(p12.get(), "pässword", &pkey, &cert, &ca), 1);
    EXPECT_EQ(EVP_PKEY_eq(pkey, f.key.get()), 1);
    EXPECT_EQ(testing::CertificateToPem(cert), f.leaf_pem);
    ASSERT_EQ(sk_X509_num(ca), 1);
    EXPECT_EQ(testing::CertificateToPem(sk_X509_value(ca, 0)), f.ca_pem);
    EVP_PKEY_free(pkey);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
  }
}

TEST(Pkcs12Test, TruststoreHoldsOnlyTheCa) {
  Fixture f;
  auto der = MakePkcs12Truststore(f.ca_pem, "pw", Pkcs12Profile::kLegacyDes);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  P12Ptr p12 = ReadP12(*der);
  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  ASSERT_EQ(PKCS12_parse(p12.get(), "pw", &pkey, &cert, &ca), 1);
  EXPECT_EQ(pkey, nullptr);
  EXPECT_EQ(cert, nullptr);
  ASSERT_EQ(sk_X509_num(ca), 1);
  EXPECT_EQ(testing::CertificateToPem(sk_X509_value(ca, 0)), f.ca_pem);
  sk_X509_pop_free(ca, X509_free);
}

TEST(Pkcs12Test, ProfileNames) {
  EXPECT_EQ(*ParsePkcs12Profile(""), Pkcs12Profile::kLegacyRc2);
  EXPECT_EQ(*ParsePkcs12Profile("LegacyDES"), Pkcs12Profile::kLegacyDes);
  EXPECT_EQ(*ParsePkcs12Profile("Modern2023"), Pkcs12Profile::kModern2023);
  EXPECT_FALSE(ParsePkcs12Profile("legacydes").ok());
}

// -- JKS, read back by the format's rules ----------------------------------------------------

class JksReader {
 public:
  explicit JksReader(std::string bytes) : b_(std::move(bytes)) {}
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(b_.at(pos_++));
    return v;
  }
  uint64_t U64() { return (static_cast<uint64_t>(U32()) << 32) | U32(); }
  std::string Utf() {
    size_t n = (static_cast<unsigned char>(b_.at(pos_)) << 8) |
               static_cast<unsigned char>(b_.at(pos_ + 1));
    pos_ += 2;
    return Take(n);
  }
  std::string Bytes() { return Take(U32()); }
  std::string Take(size_t n) {
    std::string s = b_.substr(pos_, n);
    if (s.size() != n) throw std::out_of_range("short");
    pos_ += n;
    return s;
  }
  size_t pos() const { return pos_; }
  const std::string& bytes() const { return b_; }

 private:
  std::string b_;
  size_t pos_ = 0;
};

std::string Sha1(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Utf16Be(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back('\0');
    out.push_back(c);
  }
  return out;
}

TEST(JksTest, KeystoreReadsBackWithItsKeyChainAndCa) {
  Fixture f;
  const auto created =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  auto jks = MakeJksKeystore(f.key, f.Chain(), f.ca_pem, "changeit", "web", created);
  ASSERT_TRUE(jks.ok()) << jks.status().ToString();
  JksReader r(*jks);
  EXPECT_EQ(r.U32(), 0xFEEDFEEDu);
  EXPECT_EQ(r.U32(), 2u);
  ASSERT_EQ(r.U32(), 2u);  // the key entry and the CA

  ASSERT_EQ(r.U32(), 1u);  // private key entry
  EXPECT_EQ(r.Utf(), "web");
  EXPECT_EQ(r.U64(), 1700000000123u);
  const std::string epki = r.Bytes();
  const auto* p = reinterpret_cast<const unsigned char*>(epki.data());
  X509_SIG* sig = d2i_X509_SIG(nullptr, &p, static_cast<long>(epki.size()));
  ASSERT_NE(sig, nullptr);
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* data = nullptr;
  X509_SIG_get0(sig, &alg, &data);
  char oid[64];
  OBJ_obj2txt(oid, sizeof(oid), alg->algorithm, 1);
  EXPECT_STREQ(oid, "1.3.6.1.4.1.42.2.17.1.1");
  std::string prot(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                   ASN1_STRING_length(data));
  X509_SIG_free(sig);
  // salt(20) || key XOR stream || SHA-1(UTF-16BE password || key)
  ASSERT_GT(prot.size(), 40u);
  const std::string salt = prot.substr(0, 20);
  const std::string enc = prot.substr(20, prot.size() - 40);
  const std::string check = prot.substr(prot.size() - 20);
  const std::string stream = JksKeyStream("changeit", salt, enc.size());
  std::string plain;
  for (size_t i = 0; i < enc.size(); ++i) plain.push_back(enc[i] ^ stream[i]);
  EXPECT_EQ(Sha1(Utf16Be("changeit") + plain), check);
  const auto* kp = reinterpret_cast<const unsigned char*>(plain.data());
  PKCS8_PRIV_KEY_INFO* p8 = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &kp, static_cast<long>(plain.size()));
  ASSERT_NE(p8, nullptr);
  EVP_PKEY* pkey = EVP_PKCS82PKEY(p8);
  EXPECT_EQ(EVP_PKEY_eq(pkey, f.key.get()), 1);
  EVP_PKEY_free(pkey);
  PKCS8_PRIV_KEY_INFO_free(p8);

  ASSERT_EQ(r.U32(), 2u);  // the chain: leaf, CA
  EXPECT_EQ(r.Utf(), "X.509");
  EXPECT_EQ(r.Bytes(), *CertificatePemToDer(f.leaf_pem));
  EXPECT_EQ(r.Utf(), "X.509");
  EXPECT_EQ(r.Bytes(), *CertificatePemToDer(f.ca_pem));

  ASSERT_EQ(r.U32(), 2u);  // trusted certificate entry
  EXPECT_EQ(r.Utf(), "ca");
  EXPECT_EQ(r.U64(), 1700000000123u);
  EXPECT_EQ(r.Utf(), "X.509");
  EXPECT_EQ(r.Bytes(), *CertificatePemToDer(f.ca_pem));

  const size_t body = r.pos();
  EXPECT_EQ(r.Take(20), Sha1(Utf16Be("changeit") + "Mighty Aphrodite" + r.bytes().substr(0, body)));
  EXPECT_EQ(body + 20, r.bytes().size());
}

TEST(JksTest, TruststoreHoldsTheCaUnderCa) {
  Fixture f;
  auto jks = MakeJksTruststore(f.ca_pem, "changeit", std::chrono::system_clock::now());
  ASSERT_TRUE(jks.ok()) << jks.status().ToString();
  JksReader r(*jks);
  r.U32();
  r.U32();
  ASSERT_EQ(r.U32(), 1u);
  EXPECT_EQ(r.U32(), 2u);
  EXPECT_EQ(r.Utf(), "ca");
  r.U64();
  EXPECT_EQ(r.Utf(), "X.509");
  EXPECT_EQ(r.Bytes(), *CertificatePemToDer(f.ca_pem));
  const size_t body = r.pos();
  EXPECT_EQ(r.Take(20), Sha1(Utf16Be("changeit") + "Mighty Aphrodite" + r.bytes().substr(0, body)));
}

TEST(JksTest, KeyStreamIsChainedSha1OfPasswordAndPreviousDigest) {
  const std::string salt(20, '\x01');
  const std::string s = JksKeyStream("pw", salt, 45);
  ASSERT_EQ(s.size(), 45u);
  const std::string d1 = Sha1(Utf16Be("pw") + salt);
  const std::string d2 = Sha1(Utf16Be("pw") + d1);
  const std::string d3 = Sha1(Utf16Be("pw") + d2);
  EXPECT_EQ(s, (d1 + d2 + d3).substr(0, 45));
}

}  // namespace
}  // namespace certsmith::acme
