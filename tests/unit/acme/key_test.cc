#include "acme/key.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <optional>
#include <thread>
#include <vector>

#include "certsmith/base64.h"
#include "unit/acme/crypto_test_util.h"

namespace certsmith::acme {
namespace {

using testing::Base64UrlDecodeOrDie;

// RSA generation is slow: one key per suite.
class KeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto key = PrivateKey::Generate(KeyType::kRsa2048);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    rsa_ = new PrivateKey(*key);
  }
  static void TearDownTestSuite() {
    delete rsa_;
    rsa_ = nullptr;
  }
  static const PrivateKey& Rsa() { return *rsa_; }
  static PrivateKey Ec(KeyType type) {
    auto key = PrivateKey::Generate(type);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return *key;
  }

  static PrivateKey* rsa_;
};
PrivateKey* KeyTest::rsa_ = nullptr;

std::vector<std::string> MemberNames(const nlohmann::json& object) {
  std::vector<std::string> names;
  for (auto it = object.begin(); it != object.end(); ++it) names.push_back(it.key());
  return names;
}

TEST(KeyTypeTest, ParsesCanonicalNamesAndAliases) {
  EXPECT_EQ(*ParseKeyType("ec256"), KeyType::kEcdsaP256);
  EXPECT_EQ(*ParseKeyType("P-256"), KeyType::kEcdsaP256);
  EXPECT_EQ(*ParseKeyType("ECDSA-P384"), KeyType::kEcdsaP384);
  EXPECT_EQ(*ParseKeyType("secp384r1"), KeyType::kEcdsaP384);
  EXPECT_EQ(*ParseKeyType("RSA2048"), KeyType::kRsa2048);
  EXPECT_EQ(*ParseKeyType("rsa-3072"), KeyType::kRsa3072);
  EXPECT_EQ(*ParseKeyType("rsa4096"), KeyType::kRsa4096);
  for (KeyType t : {KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kRsa2048, KeyType::kRsa3072,
                    KeyType::kRsa4096}) {
    EXPECT_EQ(*ParseKeyType(KeyTypeName(t)), t);
  }
}

TEST(KeyTypeTest, RejectsUnknownNamesListingTheValidOnes) {
  auto r = ParseKeyType("rsa1024");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("rsa1024"), std::string::npos);
  EXPECT_NE(r.status().message().find("ec256"), std::string::npos);
  EXPECT_FALSE(ParseKeyType("").ok());
  EXPECT_FALSE(ParseKeyType("ed25519").ok());
}

TEST(KeyTypeTest, MapsCertManagerAlgorithmAndSize) {
  EXPECT_EQ(*KeyTypeFromAlgorithm("RSA", 0), KeyType::kRsa2048);
  EXPECT_EQ(*KeyTypeFromAlgorithm("rsa", 3072), KeyType::kRsa3072);
  EXPECT_EQ(*KeyTypeFromAlgorithm("RSA", 4096), KeyType::kRsa4096);
  EXPECT_EQ(*KeyTypeFromAlgorithm("ECDSA", 0), KeyType::kEcdsaP256);
  EXPECT_EQ(*KeyTypeFromAlgorithm("ECDSA", 384), KeyType::kEcdsaP384);
  EXPECT_FALSE(KeyTypeFromAlgorithm("RSA", 1024).ok());
  EXPECT_FALSE(KeyTypeFromAlgorithm("ECDSA", 521).ok());
  auto ed = KeyTypeFromAlgorithm("Ed25519", 0);
  ASSERT_FALSE(ed.ok());
  EXPECT_NE(ed.status().message().find("Ed25519"), std::string::npos);
}

TEST(KeyTypeTest, ParsesPemEncoding) {
  EXPECT_EQ(*ParsePemEncoding(""), PemEncoding::kPkcs1);
  EXPECT_EQ(*ParsePemEncoding("PKCS1"), PemEncoding::kPkcs1);
  EXPECT_EQ(*ParsePemEncoding("pkcs8"), PemEncoding::kPkcs8);
  EXPECT_FALSE(ParsePemEncoding("DER").ok());
}

TEST_F(KeyTest, EcdsaP256HasFixedWidthJwkAndEs256) {
  PrivateKey key = Ec(KeyType::kEcdsaP256);
  EXPECT_TRUE(key.is_ecdsa());
  EXPECT_EQ(key.bits(), 256);
  EXPECT_EQ(key.type(), KeyType::kEcdsaP256);
  EXPECT_EQ(key.JwsAlgorithm(), "ES256");
  const auto& jwk = key.PublicJwk();
  EXPECT_EQ(MemberNames(jwk), (std::vector<std::string>{"crv", "kty", "x", "y"}));
  EXPECT_EQ(jwk["crv"], "P-256");
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_EQ(Base64UrlDecodeOrDie(jwk["x"].get<std::string>()).size(), 32u);
  EXPECT_EQ(Base64UrlDecodeOrDie(jwk["y"].get<std::string>()).size(), 32u);
}

TEST_F(KeyTest, EcdsaP384HasFixedWidthJwkAndEs384) {
  PrivateKey key = Ec(KeyType::kEcdsaP384);
  EXPECT_EQ(key.bits(), 384);
  EXPECT_EQ(key.JwsAlgorithm(), "ES384");
  EXPECT_EQ(key.PublicJwk()["crv"], "P-384");
  EXPECT_EQ(Base64UrlDecodeOrDie(key.PublicJwk()["x"].get<std::string>()).size(), 48u);
  EXPECT_EQ(Base64UrlDecodeOrDie(key.PublicJwk()["y"].get<std::string>()).size(), 48u);
}

TEST_F(KeyTest, EcdsaJwkMatchesTheEncodedPublicPoint) {
  PrivateKey key = Ec(KeyType::kEcdsaP256);
  // The SPKI ends with the uncompressed point 04 || X || Y.
  std::string point = key.PublicKeyDer().substr(key.PublicKeyDer().size() - 65);
  ASSERT_EQ(point[0], '\x04');
  EXPECT_EQ(Base64UrlDecodeOrDie(key.PublicJwk()["x"].get<std::string>()), point.substr(1, 32));
  EXPECT_EQ(Base64UrlDecodeOrDie(key.PublicJwk()["y"].get<std::string>()), point.substr(33, 32));
}

TEST_F(KeyTest, RsaJwkHasRequiredMembersOnly) {
  EXPECT_TRUE(Rsa().is_rsa());
  EXPECT_EQ(Rsa().bits(), 2048);
  EXPECT_EQ(Rsa().type(), KeyType::kRsa2048);
  EXPECT_EQ(Rsa().JwsAlgorithm(), "RS256");
  const auto& jwk = Rsa().PublicJwk();
  EXPECT_EQ(MemberNames(jwk), (std::vector<std::string>{"e", "kty", "n"}));
  EXPECT_EQ(jwk["e"], "AQAB");  // 65537, minimal octets
  std::string n = Base64UrlDecodeOrDie(jwk["n"].get<std::string>());
  EXPECT_EQ(n.size(), 256u);
  EXPECT_NE(n[0], '\0');
}

TEST_F(KeyTest, Pkcs8PemRoundTrips) {
  for (const PrivateKey& key : {Rsa(), Ec(KeyType::kEcdsaP256), Ec(KeyType::kEcdsaP384)}) {
    auto pem = key.ToPem(PemEncoding::kPkcs8);
    ASSERT_TRUE(pem.ok()) << pem.status().ToString();
    EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
    auto back = PrivateKey::FromPem(*pem);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(back->SamePublicKey(key));
    EXPECT_EQ(back->PublicJwk(), key.PublicJwk());
    EXPECT_EQ(back->type(), key.type());
  }
}

TEST_F(KeyTest, TraditionalPemRoundTrips) {
  auto rsa_pem = Rsa().ToPem(PemEncoding::kPkcs1);
  ASSERT_TRUE(rsa_pem.ok());
  EXPECT_EQ(rsa_pem->rfind("-----BEGIN RSA PRIVATE KEY-----\n", 0), 0u);
  EXPECT_TRUE(PrivateKey::FromPem(*rsa_pem)->SamePublicKey(Rsa()));

  PrivateKey ec = Ec(KeyType::kEcdsaP256);
  auto ec_pem = ec.ToPem(PemEncoding::kPkcs1);
  ASSERT_TRUE(ec_pem.ok());
  EXPECT_EQ(ec_pem->rfind("-----BEGIN EC PRIVATE KEY-----\n", 0), 0u);
  EXPECT_TRUE(PrivateKey::FromPem(*ec_pem)->SamePublicKey(ec));
}

TEST_F(KeyTest, SkipsEcParametersBlockAsOpensslEcparamWritesIt) {
  PrivateKey ec = Ec(KeyType::kEcdsaP256);
  std::string pem =
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
      *ec.ToPem(PemEncoding::kPkcs1);
  auto back = PrivateKey::FromPem(pem);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->SamePublicKey(ec));
}

TEST_F(KeyTest, DifferentKeysAreNotTheSame) {
  PrivateKey a = Ec(KeyType::kEcdsaP256);
  PrivateKey b = Ec(KeyType::kEcdsaP256);
  EXPECT_FALSE(a.SamePublicKey(b));
  EXPECT_FALSE(a.SamePublicKey(Rsa()));
  EXPECT_NE(PublicKeyFingerprint(a), PublicKeyFingerprint(b));
  PrivateKey copy = a;
  EXPECT_TRUE(copy.SamePublicKey(a));
}

TEST_F(KeyTest, FingerprintIsHexSha256OfSpki) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(Rsa().get(), &der);
  ASSERT_GT(len, 0);
  std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  EXPECT_EQ(Rsa().PublicKeyDer(), spki);
  EXPECT_EQ(PublicKeyFingerprint(Rsa()), testing::Hex(testing::Sha256(spki)));
  EXPECT_EQ(PublicKeyFingerprint(Rsa()).size(), 64u);
}

TEST_F(KeyTest, RejectsGarbageWithoutEchoingIt) {
  auto r = PrivateKey::FromPem(
      "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGJ5dGVz\n"
      "-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().find("c2VjcmV0"), std::string::npos);
  EXPECT_FALSE(PrivateKey::FromPem("").ok());
  EXPECT_FALSE(PrivateKey::FromPem("not a key").ok());
}

TEST_F(KeyTest, RejectsPublicKeyPem) {
  std::string pub = "-----BEGIN PUBLIC KEY-----\n" + Base64Encode(Rsa().PublicKeyDer()) +
                    "\n-----END PUBLIC KEY-----\n";
  EXPECT_FALSE(PrivateKey::FromPem(pub).ok());
}

TEST_F(KeyTest, RejectsEncryptedKeysWithAClearMessage) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  char pass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), Rsa().get(), EVP_aes_128_cbc(), nullptr, 0,
                                          nullptr, pass),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto r = PrivateKey::FromPem(std::string_view(data, static_cast<size_t>(len)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("encrypted"), std::string::npos) << r.status().message();
}

TEST_F(KeyTest, RejectsUnsupportedAlgorithmsCurvesAndSmallRsa) {
  struct Case {
    EVP_PKEY* key;
    const char* expect;
  };
  Case cases[] = {
      {EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), "ED25519"},
      {EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"), "secp521r1"},
      {EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}), "1024 bits"},
  };
  for (const Case& c : cases) {
    ASSERT_NE(c.key, nullptr);
    auto r = PrivateKey::FromEvpPkey(c.key);
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
    EVP_PKEY_free(c.key);
  }
}

TEST_F(KeyTest, FromEvpPkeyTakesItsOwnReference) {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  auto key = PrivateKey::FromEvpPkey(raw);
  EVP_PKEY_free(raw);  // ours; the PrivateKey keeps its own reference
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(key->SignJws("still usable").ok());
}

TEST_F(KeyTest, FromEvpPkeyRejectsAPublicKey) {
  const auto* p = reinterpret_cast<const unsigned char*>(Rsa().PublicKeyDer().data());
  EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, static_cast<long>(Rsa().PublicKeyDer().size()));
  ASSERT_NE(pub, nullptr);
  auto r = PrivateKey::FromEvpPkey(pub);
  EVP_PKEY_free(pub);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("public key"), std::string::npos) << r.status().message();
}

TEST_F(KeyTest, RsaSignatureVerifiesAndIsDeterministic) {
  auto sig = Rsa().SignJws("protected.payload");
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_TRUE(testing::VerifySignature(Rsa().get(), "SHA256", "protected.payload", *sig));
  EXPECT_FALSE(testing::VerifySignature(Rsa().get(), "SHA256", "protected.payloaX", *sig));
  EXPECT_EQ(*Rsa().SignJws("protected.payload"), *sig);  // PKCS#1 v1.5
}

TEST_F(KeyTest, EcdsaSignatureIsFixedWidthRAndS) {
  struct Case {
    KeyType type;
    const char* digest;
    size_t size;
  };
  for (const Case& c :
       {Case{KeyType::kEcdsaP256, "SHA256", 64u}, Case{KeyType::kEcdsaP384, "SHA384", 96u}}) {
    PrivateKey key = Ec(c.type);
    // Many signatures, so that R or S with leading zero bytes shows up (1 in 128 each).
    for (int i = 0; i < 300; ++i) {
      std::string input = "input " + std::to_string(i);
      auto sig = key.SignJws(input);
      ASSERT_TRUE(sig.ok()) << sig.status().ToString();
      ASSERT_EQ(sig->size(), c.size);
      ASSERT_TRUE(
          testing::VerifySignature(key.get(), c.digest, input, testing::RawEcdsaToDer(*sig)))
          << i;
    }
  }
}

TEST_F(KeyTest, ConcurrentSigningWithOneSharedKey) {
  PrivateKey ec = Ec(KeyType::kEcdsaP256);
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const PrivateKey& key = t % 2 ? ec : Rsa();
      for (int i = 0; i < 40; ++i) {
        std::string input = "thread " + std::to_string(t) + " " + std::to_string(i);
        auto sig = key.SignJws(input);
        if (!sig.ok()) {
          ++failures[t];
          continue;
        }
        std::string der = key.is_rsa() ? *sig : testing::RawEcdsaToDer(*sig);
        if (!testing::VerifySignature(key.get(), "SHA256", input, der)) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace certsmith::acme
