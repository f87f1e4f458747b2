#include "cli/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "cli/atomic_file.h"

namespace certsmith::cli {
namespace {

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/certsmith-keys-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(MakeDirectories(dir_, 0700).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(KeyFileTest, CreatesOnceWithMode0600ThenLoadsTheSameKey) {
  std::string path = dir_ + "/account.pem";
  auto first = LoadOrCreateKey(path, acme::KeyType::kEcdsaP384);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->key.type(), acme::KeyType::kEcdsaP384);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = LoadOrCreateKey(path, acme::KeyType::kEcdsaP256);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  EXPECT_TRUE(second->key.SamePublicKey(first->key));
}

TEST_F(KeyFileTest, NeverOverwritesAFileThatIsNotAKey) {
  std::string path = dir_ + "/account.pem";
  ASSERT_TRUE(WriteFileAtomic(path, "not a key", 0600).ok());
  auto r = LoadOrCreateKey(path, acme::KeyType::kEcdsaP256);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*ReadFile(path), "not a key");
}

TEST_F(KeyFileTest, ReplaceKeepsTheOldKey) {
  std::string path = dir_ + "/account.pem";
  auto old_key = LoadOrCreateKey(path, acme::KeyType::kEcdsaP256);
  auto new_key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256);
  ASSERT_TRUE(old_key.ok() && new_key.ok());
  ASSERT_TRUE(ReplaceKeyKeepingOld(path, old_key->key, *new_key).ok());
  EXPECT_TRUE(LoadKey(path)->SamePublicKey(*new_key));
  EXPECT_TRUE(LoadKey(path + ".old")->SamePublicKey(old_key->key));
}

}  // namespace
}  // namespace certsmith::cli
