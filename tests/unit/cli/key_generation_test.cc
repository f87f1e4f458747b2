#include "cli/key_generation.h"

#include <gtest/gtest.h>

namespace certsmith::cli {
namespace {

TEST(KeyGenerationTest, RsaRaceYieldsOneUsableKeyOfTheRightSize) {
  auto key = GenerateCertificateKey(acme::KeyType::kRsa2048);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_TRUE(key->is_rsa());
  EXPECT_EQ(key->bits(), 2048);
  EXPECT_TRUE(key->SignJws("data").ok());
  auto other = GenerateCertificateKey(acme::KeyType::kRsa2048);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->SamePublicKey(*key));
}

TEST(KeyGenerationTest, EcdsaDirect) {
  auto key = GenerateCertificateKey(acme::KeyType::kEcdsaP384);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(key->is_ecdsa());
  EXPECT_EQ(key->bits(), 384);
}

}  // namespace
}  // namespace certsmith::cli
