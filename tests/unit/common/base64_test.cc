#include "certsmith/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace certsmith {
namespace {

// RFC 4648 §10 test vectors.
struct Vector {
  const char* plain;
  const char* encoded;
};
constexpr Vector kRfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64Test, EncodesRfc4648Vectors) {
  for (const auto& v : kRfc4648) EXPECT_EQ(Base64Encode(v.plain), v.encoded) << v.plain;
}

TEST(Base64Test, UrlEncodingHasNoPaddingAndUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
}

TEST(Base64Test, DecodesRfc4648VectorsPaddedAndUnpadded) {
  for (const auto& v : kRfc4648) {
    auto padded = Base64DecodeLenient(v.encoded);
    ASSERT_TRUE(padded.ok()) << padded.status().ToString();
    EXPECT_EQ(*padded, v.plain);
    std::string unpadded(v.encoded);
    unpadded.erase(unpadded.find_last_not_of('=') + 1);
    auto decoded = Base64DecodeLenient(unpadded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, v.plain);
  }
}

TEST(Base64Test, DecodesBothAlphabetsAndIgnoresWhitespace) {
  const std::string bytes("\xfb\xff\xbf\x00\x10", 5);
  EXPECT_EQ(*Base64DecodeLenient("+/+/ABA="), bytes);
  EXPECT_EQ(*Base64DecodeLenient("-_-_ABA"), bytes);
  EXPECT_EQ(*Base64DecodeLenient("  -_-_\r\n AB\tA=\n"), bytes);
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 37) {
    std::string part = all.substr(0, len);
    EXPECT_EQ(*Base64DecodeLenient(Base64Encode(part)), part);
    EXPECT_EQ(*Base64DecodeLenient(Base64UrlEncode(part)), part);
  }
}

TEST(Base64Test, RejectsBadCharacterWithOneBasedPositionAndNoEcho) {
  auto r = Base64DecodeLenient("abcd!secret");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("position 5"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos);
  EXPECT_EQ(r.status().message().find('!'), std::string::npos);
}

TEST(Base64Test, RejectsTruncatedInput) {
  EXPECT_FALSE(Base64DecodeLenient("abcde").ok());
  EXPECT_FALSE(Base64DecodeLenient("a").ok());
}

TEST(Base64Test, RejectsWrongPadding) {
  EXPECT_FALSE(Base64DecodeLenient("Zg=").ok());    // one '=' where two are needed
  EXPECT_FALSE(Base64DecodeLenient("Zm8==").ok());  // two where one is needed
  EXPECT_FALSE(Base64DecodeLenient("Zm9v=").ok());  // padding after a full group
  EXPECT_FALSE(Base64DecodeLenient("Zg===").ok());
  auto after = Base64DecodeLenient("Zg==Zg==");
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.status().message().find("position 5"), std::string::npos);
}

TEST(Base64Test, IsBase64UrlTokenAcceptsOnlyTheUrlAlphabet) {
  EXPECT_TRUE(IsBase64UrlToken("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"));
  EXPECT_FALSE(IsBase64UrlToken(""));
  EXPECT_FALSE(IsBase64UrlToken("abc="));
  EXPECT_FALSE(IsBase64UrlToken("a+b"));
  EXPECT_FALSE(IsBase64UrlToken("../etc"));
  EXPECT_FALSE(IsBase64UrlToken("a b"));
}

}  // namespace
}  // namespace certsmith
