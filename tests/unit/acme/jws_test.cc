#include "acme/jws.h"

#include <gtest/gtest.h>

#include "unit/acme/crypto_test_util.h"

namespace certsmith::acme {
namespace {

using nlohmann::json;
using testing::Base64UrlDecodeOrDie;

// RFC 7638 §3.1: the example RSA key and its thumbprint.
constexpr char kRfc7638N[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
constexpr char kRfc7638Thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

class JwsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new PrivateKey(*PrivateKey::Generate(KeyType::kRsa2048));
    ec_ = new PrivateKey(*PrivateKey::Generate(KeyType::kEcdsaP256));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
  }
  static PrivateKey* rsa_;
  static PrivateKey* ec_;
};
PrivateKey* JwsTest::rsa_ = nullptr;
PrivateKey* JwsTest::ec_ = nullptr;

json DecodeJson(const json& jws, const char* member) {
  return json::parse(Base64UrlDecodeOrDie(jws[member].get<std::string>()));
}

TEST(JwkThumbprintTest, MatchesRfc7638Example) {
  json jwk = {
      {"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"alg", "RS256"}, {"kid", "2011-04-29"}};
  EXPECT_EQ(JwkThumbprint(jwk), kRfc7638Thumbprint);
}

TEST(JwkThumbprintTest, EcUsesCrvKtyXYInOrder) {
  json jwk = {{"y", "yy"}, {"x", "xx"}, {"kty", "EC"}, {"crv", "P-256"}, {"use", "sig"}};
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":"xx","y":"yy"})";
  EXPECT_EQ(Base64UrlDecodeOrDie(JwkThumbprint(jwk)), testing::Sha256(canonical));
}

TEST(JwkThumbprintTest, InvalidJwkGivesEmpty) {
  EXPECT_EQ(JwkThumbprint(json::array()), "");
  EXPECT_EQ(JwkThumbprint(json{{"kty", "RSA"}, {"n", "x"}}), "");  // no e
  EXPECT_EQ(JwkThumbprint(json{{"kty", "XYZ"}}), "");
  EXPECT_EQ(JwkThumbprint(json{{"kty", "EC"}, {"crv", 1}, {"x", "a"}, {"y", "b"}}), "");
}

TEST_F(JwsTest, KeyThumbprintIsTheJwkThumbprint) {
  EXPECT_EQ(rsa_->JwkThumbprint(), JwkThumbprint(rsa_->PublicJwk()));
  EXPECT_EQ(ec_->JwkThumbprint(), JwkThumbprint(ec_->PublicJwk()));
  EXPECT_EQ(ec_->JwkThumbprint().size(), 43u);
}

TEST(KeyAuthorizationTest, IsTokenDotThumbprint) {
  json jwk = {{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}};
  const std::string token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
  std::string expected = token + "." + kRfc7638Thumbprint;
  EXPECT_EQ(KeyAuthorization(token, jwk), expected);
  EXPECT_EQ(KeyAuthorization(token, std::string_view(kRfc7638Thumbprint)), expected);
}

TEST(KeyAuthorizationTest, Dns01TxtValueIsBase64UrlSha256) {
  // Computed independently (Python hashlib) for the key authorization above.
  EXPECT_EQ(Dns01TxtValue("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
                          "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
            "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
}

TEST_F(JwsTest, NewAccountStyleJwsCarriesJwkAndVerifies) {
  KeySigner signer(*ec_);
  auto jws = SignJws(signer, "https://ca.example/acme/new-acct", "nonce-1", "",
                     R"({"termsOfServiceAgreed":true})");
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  EXPECT_EQ(jws->size(), 3u);
  json header = DecodeJson(*jws, "protected");
  EXPECT_EQ(header, (json{{"alg", "ES256"},
                          {"nonce", "nonce-1"},
                          {"url", "https://ca.example/acme/new-acct"},
                          {"jwk", ec_->PublicJwk()}}));
  EXPECT_EQ(Base64UrlDecodeOrDie((*jws)["payload"].get<std::string>()),
            R"({"termsOfServiceAgreed":true})");
  std::string input =
      (*jws)["protected"].get<std::string>() + "." + (*jws)["payload"].get<std::string>();
  std::string sig = Base64UrlDecodeOrDie((*jws)["signature"].get<std::string>());
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(testing::VerifySignature(ec_->get(), "SHA256", input, testing::RawEcdsaToDer(sig)));
}

TEST_F(JwsTest, KidJwsHasNoJwkAndPostAsGetHasEmptyPayload) {
  KeySigner signer(*rsa_);
  auto jws = SignJws(signer, "https://ca.example/acme/order/1", "n2",
                     "https://ca.example/acme/acct/7", "");
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  json header = DecodeJson(*jws, "protected");
  EXPECT_EQ(header, (json{{"alg", "RS256"},
                          {"nonce", "n2"},
                          {"url", "https://ca.example/acme/order/1"},
                          {"kid", "https://ca.example/acme/acct/7"}}));
  EXPECT_EQ((*jws)["payload"], "");
  std::string input = (*jws)["protected"].get<std::string>() + ".";
  EXPECT_TRUE(testing::VerifySignature(
      rsa_->get(), "SHA256", input, Base64UrlDecodeOrDie((*jws)["signature"].get<std::string>())));
  for (const char* member : {"protected", "payload", "signature"}) {
    std::string v = (*jws)[member].get<std::string>();
    EXPECT_EQ(v.find_first_of("=+/"), std::string::npos) << member;
  }
}

TEST_F(JwsTest, EmptyNonceIsOmitted) {
  KeySigner signer(*ec_);
  auto jws = SignJws(signer, "https://ca.example/acme/key-change", "", "", "{}");
  ASSERT_TRUE(jws.ok());
  EXPECT_FALSE(DecodeJson(*jws, "protected").contains("nonce"));
}

class FailingSigner : public Signer {
 public:
  std::string Algorithm() const override { return "ES256"; }
  json PublicJwk() const override { return json::object(); }
  Result<std::string> Sign(std::string_view) const override {
    return Status(ErrorCode::kUnavailable, "hardware key offline");
  }
};

TEST(SignJwsTest, SignerErrorsPropagate) {
  FailingSigner signer;
  auto jws = SignJws(signer, "https://ca.example/x", "n", "kid", "");
  ASSERT_FALSE(jws.ok());
  EXPECT_EQ(jws.status().code(), ErrorCode::kUnavailable);
}

TEST(SignJwsTest, InvalidUtf8InUrlIsAnErrorNotAnException) {
  FailingSigner signer;
  auto jws = SignJws(signer, "https://ca.example/\xff", "n", "kid", "");
  ASSERT_FALSE(jws.ok());
  EXPECT_EQ(jws.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace certsmith::acme
