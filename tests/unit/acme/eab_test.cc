#include <gtest/gtest.h>

#include "acme/jws.h"
#include "certsmith/base64.h"
#include "unit/acme/crypto_test_util.h"

namespace certsmith::acme {
namespace {

using nlohmann::json;
using testing::Base64UrlDecodeOrDie;

TEST(HmacAlgorithmTest, ParsesCaseInsensitively) {
  EXPECT_EQ(*ParseHmacAlgorithm("HS256"), HmacAlgorithm::kHS256);
  EXPECT_EQ(*ParseHmacAlgorithm("hs384"), HmacAlgorithm::kHS384);
  EXPECT_EQ(*ParseHmacAlgorithm("Hs512"), HmacAlgorithm::kHS512);
  EXPECT_STREQ(HmacAlgorithmName(HmacAlgorithm::kHS384), "HS384");
}

TEST(HmacAlgorithmTest, UnknownAlgorithmIsAClearError) {
  auto r = ParseHmacAlgorithm("HS1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("HS1"), std::string::npos);
  EXPECT_NE(r.status().message().find("HS256, HS384 or HS512"), std::string::npos);
  EXPECT_FALSE(ParseHmacAlgorithm("").ok());
  EXPECT_FALSE(ParseHmacAlgorithm("RS256").ok());
}

TEST(ComputeHmacTest, MatchesRfc4231TestCase2) {
  const std::string key = "Jefe", data = "what do ya want for nothing?";
  EXPECT_EQ(testing::Hex(*ComputeHmac(HmacAlgorithm::kHS256, key, data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(testing::Hex(*ComputeHmac(HmacAlgorithm::kHS384, key, data)),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
            "8e2240ca5e69e2c78b3239ecfab21649");
  EXPECT_EQ(testing::Hex(*ComputeHmac(HmacAlgorithm::kHS512, key, data)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  // The reference HMAC used below agrees with the RFC too.
  EXPECT_EQ(testing::Hex(testing::ReferenceHmac("SHA256", key, data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// Bytes whose encodings differ between the two alphabets and need padding.
const std::string kKeyBytes("\xfb\xff\xbf\x01\x02\x03\x04\xfe\xfd\x10\x20\x30\x40\x50\x60\x70", 16);

TEST(DecodeEabHmacKeyTest, AcceptsEveryFormCasHandOut) {
  std::string url = Base64UrlEncode(kKeyBytes);      // "-_-_..." unpadded
  std::string std_padded = Base64Encode(kKeyBytes);  // "+/+/...=="
  ASSERT_NE(url, std_padded);
  for (const std::string& text :
       {url, url + "==", std_padded, std_padded.substr(0, std_padded.size() - 2),
        "  " + url.substr(0, 10) + "\n" + url.substr(10) + "\r\n"}) {
    auto r = DecodeEabHmacKey(text);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, kKeyBytes);
  }
}

TEST(DecodeEabHmacKeyTest, RejectsEmpty) {
  for (const char* text : {"", "   \n"}) {
    auto r = DecodeEabHmacKey(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("empty"), std::string::npos);
  }
  EXPECT_FALSE(DecodeEabHmacKey("==").ok());
}

TEST(DecodeEabHmacKeyTest, RejectsGarbageNamingThePositionWithoutEchoingTheKey) {
  const std::string text = "abcdEFGH12345678$secretPART";
  auto r = DecodeEabHmacKey(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind(
                "EAB HMAC key is not valid base64url: character at position 17", 0),
            0u)
      << r.status().message();
  for (const char* fragment : {"abcd", "secret", "PART", "$"}) {
    EXPECT_EQ(r.status().message().find(fragment), std::string::npos) << fragment;
  }
}

class EabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = PrivateKey::Generate(KeyType::kEcdsaP256);
    ASSERT_TRUE(key.ok());
    jwk_ = key->PublicJwk();
  }
  json jwk_;
};

TEST_F(EabTest, InnerJwsHasAlgKidUrlAndTheAccountJwkAndAVerifiableMac) {
  struct Case {
    HmacAlgorithm alg;
    const char* name;
    const char* digest;
  };
  for (const Case& c : {Case{HmacAlgorithm::kHS256, "HS256", "SHA256"},
                        Case{HmacAlgorithm::kHS384, "HS384", "SHA384"},
                        Case{HmacAlgorithm::kHS512, "HS512", "SHA512"}}) {
    ExternalAccountBinding eab{"kid-123", kKeyBytes, c.alg};
    auto jws = MakeEabJws(eab, jwk_, "https://ca.example/acme/new-acct");
    ASSERT_TRUE(jws.ok()) << jws.status().ToString();
    json header = json::parse(Base64UrlDecodeOrDie((*jws)["protected"].get<std::string>()));
    EXPECT_EQ(
        header,
        (json{{"alg", c.name}, {"kid", "kid-123"}, {"url", "https://ca.example/acme/new-acct"}}));
    EXPECT_FALSE(header.contains("nonce"));
    EXPECT_EQ(json::parse(Base64UrlDecodeOrDie((*jws)["payload"].get<std::string>())), jwk_);
    std::string input =
        (*jws)["protected"].get<std::string>() + "." + (*jws)["payload"].get<std::string>();
    EXPECT_EQ(Base64UrlDecodeOrDie((*jws)["signature"].get<std::string>()),
              testing::ReferenceHmac(c.digest, kKeyBytes, input))
        << c.name;
  }
}

TEST_F(EabTest, RejectsMissingKeyIdOrKeyWithoutEchoingTheKey) {
  auto no_kid = MakeEabJws({"", kKeyBytes, HmacAlgorithm::kHS256}, jwk_, "https://x/");
  ASSERT_FALSE(no_kid.ok());
  EXPECT_NE(no_kid.status().message().find("key ID"), std::string::npos);
  EXPECT_EQ(no_kid.status().message().find(kKeyBytes), std::string::npos);
  EXPECT_FALSE(MakeEabJws({"kid", "", HmacAlgorithm::kHS256}, jwk_, "https://x/").ok());
}

}  // namespace
}  // namespace certsmith::acme
