#include "cli/output_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "cli/atomic_file.h"
#include "test_certificates.h"

namespace certsmith::cli {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class OutputFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/certsmith-out-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(MakeDirectories(dir_, 0755).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(OutputFilesTest, PendingKeyThenCertbotNamedFiles) {
  auto key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256);
  auto other = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok() && other.ok());
  CertificateFiles files = FilesIn(dir_);
  ASSERT_TRUE(WritePendingKey(files, *key).ok());
  EXPECT_EQ(ModeOf(files.pending_key), 0600u);
  EXPECT_FALSE(FileExists(files.privkey));

  std::string leaf = testing_support::SelfSignedPem(*key, "leaf.example");
  std::string intermediate = testing_support::SelfSignedPem(*other, "Intermediate");
  ASSERT_TRUE(WriteIssuedCertificate(files, *key, leaf + intermediate).ok());
  EXPECT_EQ(*ReadFile(files.cert), leaf);
  EXPECT_EQ(*ReadFile(files.chain), intermediate);
  EXPECT_EQ(*ReadFile(files.fullchain), leaf + intermediate);
  EXPECT_EQ(*ReadFile(files.privkey), *key->ToPem());
  EXPECT_EQ(ModeOf(files.privkey), 0600u);
  EXPECT_EQ(ModeOf(files.cert), 0644u);
  EXPECT_FALSE(FileExists(files.pending_key));
}

TEST_F(OutputFilesTest, RefusesACertificateForAnotherKey) {
  auto key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256);
  auto other = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok() && other.ok());
  CertificateFiles files = FilesIn(dir_);
  Status s = WriteIssuedCertificate(files, *key, testing_support::SelfSignedPem(*other, "x"));
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(FileExists(files.cert));
  EXPECT_FALSE(FileExists(files.privkey));
}

TEST_F(OutputFilesTest, AtomicWriteReplacesAndKeepsMode) {
  std::string path = dir_ + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "two", 0600).ok());
  EXPECT_EQ(*ReadFile(path), "two");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);  // no temp left
}

}  // namespace
}  // namespace certsmith::cli
