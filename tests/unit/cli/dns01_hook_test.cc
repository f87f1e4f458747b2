#include "cli/dns01_hook.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "cli/atomic_file.h"
#include "cli/challenge_solver.h"

namespace certsmith::cli {
namespace {

HookCall Call(std::string command) {
  return {std::move(command), "present", "a.example", "_acme-challenge.a.example", "VALUE_1"};
}

TEST(Dns01HookTest, ArgumentsArriveUnsplitAfterTheCommandsOwnWords) {
  auto argv = HookArgv(Call("my-hook --zone x"));
  ASSERT_EQ(argv.size(), 7u);
  EXPECT_EQ(argv[2], "my-hook --zone x \"$@\"");
  EXPECT_EQ(argv[4], "present");
  EXPECT_EQ(argv[5], "_acme-challenge.a.example");
  EXPECT_EQ(argv[6], "VALUE_1");
}

TEST(Dns01HookTest, EnvironmentHasTheValuesButNeverTheHmacKey) {
  std::string hmac = "CERTSMITH_EAB_HMAC_KEY=secret";
  std::string path = "PATH=/bin";
  char* base[] = {hmac.data(), path.data(), nullptr};
  auto env = HookEnvironment(Call("h"), base);
  auto has = [&](const std::string& e) {
    return std::find(env.begin(), env.end(), e) != env.end();
  };
  EXPECT_TRUE(has("PATH=/bin"));
  EXPECT_TRUE(has("CERTSMITH_DOMAIN=a.example"));
  EXPECT_TRUE(has("CERTSMITH_TXT_VALUE=VALUE_1"));
  EXPECT_TRUE(has("CERTSMITH_HOOK_ACTION=present"));
  EXPECT_FALSE(has(hmac));
}

TEST(Dns01HookTest, RunsTheCommandAndReportsItsExitStatus) {
  std::string out = testing::TempDir() + "/hook-" + std::to_string(::getpid());
  ASSERT_TRUE(RunHook(Call("printf '%s %s %s|%s' > " + out)).ok());
  EXPECT_EQ(*ReadFile(out), "present _acme-challenge.a.example VALUE_1|");
  std::filesystem::remove(out);
  Status failed = RunHook(Call("exit 3;"));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("exited with status 3"), std::string::npos);
}

TEST(Dns01HookTest, RecordNameOfAWildcardIsTheBaseName) {
  EXPECT_EQ(Dns01RecordName({"dns", "*.a.example"}), "_acme-challenge.a.example");
  EXPECT_EQ(Dns01RecordName({"dns", "b.example"}), "_acme-challenge.b.example");
}

}  // namespace
}  // namespace certsmith::cli
