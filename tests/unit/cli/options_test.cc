#include "cli/options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace certsmith::cli {
namespace {

// 32 bytes, base64url without padding, as a CA portal shows it.
constexpr char kHmac[] = "a0JIhf5qTqd2pHq_kXaTHRiyKPvZBKctDfcaQekWtFo";

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

ParsedFlags Flags(const std::vector<FlagSpec>& specs, std::vector<std::string> args) {
  auto r = ParseFlags(specs, args);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : ParsedFlags{};
}

std::vector<std::string> IssueArgs(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--server", "https://ca/dir", "--account-key", "/tmp/a.pem",
                                   "-d",       "a.example",      "--out",         "/tmp/out"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(IssueOptionsTest, ParsesEverything) {
  auto flags =
      Flags(IssueFlags(),
            IssueArgs({"-d", "127.0.0.1", "--http01-listen", ":5002", "--key-type", "rsa3072",
                       "--subject", "O=Example,C=fr", "--preferred-chain", "Root X", "--timeout",
                       "2m", "--eab-kid", "kid", "--eab-hmac-key", kHmac, "--eab-alg", "HS512"}));
  auto o = ParseIssueOptions(flags, FakeEnv({}));
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->names, (std::vector<std::string>{"a.example", "127.0.0.1"}));
  EXPECT_EQ(o->solver, SolverKind::kHttp01Listen);
  EXPECT_EQ(o->http01_host, "0.0.0.0");
  EXPECT_EQ(o->http01_port, 5002);
  EXPECT_EQ(o->key_type, acme::KeyType::kRsa3072);
  EXPECT_EQ(o->subject.organizations, std::vector<std::string>{"Example"});
  EXPECT_EQ(o->subject.countries, std::vector<std::string>{"FR"});
  EXPECT_EQ(o->preferred_chain, "Root X");
  EXPECT_EQ(o->server.timeout, std::chrono::seconds(120));
  ASSERT_TRUE(o->account.eab.has_value());
  EXPECT_EQ(o->account.eab->key_id, "kid");
  EXPECT_EQ(o->account.eab->hmac_key.size(), 32u);
  EXPECT_EQ(o->account.eab->algorithm, acme::HmacAlgorithm::kHS512);
}

TEST(IssueOptionsTest, MaxWaitDefaultsToAMinute) {
  auto dflt =
      ParseIssueOptions(Flags(IssueFlags(), IssueArgs({"--http01-webroot", "/w"})), FakeEnv({}));
  ASSERT_TRUE(dflt.ok()) << dflt.status().message();
  EXPECT_EQ(dflt->server.max_wait, std::chrono::seconds(60));
  auto set = ParseIssueOptions(
      Flags(IssueFlags(), IssueArgs({"--http01-webroot", "/w", "--max-wait", "2m"})), FakeEnv({}));
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->server.max_wait, std::chrono::seconds(120));
  auto bad = ParseIssueOptions(
      Flags(IssueFlags(), IssueArgs({"--http01-webroot", "/w", "--max-wait", "soon"})),
      FakeEnv({}));
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(IssueOptionsTest, ExactlyOneSolver) {
  auto none = ParseIssueOptions(Flags(IssueFlags(), IssueArgs({})), FakeEnv({}));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("exactly one of"), std::string::npos);
  auto two = ParseIssueOptions(
      Flags(IssueFlags(), IssueArgs({"--http01-webroot", "/w", "--dns01-hook", "h"})), FakeEnv({}));
  EXPECT_FALSE(two.ok());
  auto hook =
      ParseIssueOptions(Flags(IssueFlags(), IssueArgs({"--dns01-hook", "my hook"})), FakeEnv({}));
  ASSERT_TRUE(hook.ok());
  EXPECT_EQ(hook->solver, SolverKind::kDns01Hook);
  EXPECT_EQ(hook->dns01_hook, "my hook");
}

TEST(IssueOptionsTest, RequiredOptions) {
  auto flags = Flags(IssueFlags(), {"--server", "https://ca/dir", "--http01-webroot", "/w"});
  auto o = ParseIssueOptions(flags, FakeEnv({}));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("--account-key"), std::string::npos);
  auto bad_subject = ParseIssueOptions(
      Flags(IssueFlags(), IssueArgs({"--http01-webroot", "/w", "--subject", "X=1"})), FakeEnv({}));
  ASSERT_FALSE(bad_subject.ok());
  EXPECT_NE(bad_subject.status().message().find("--subject"), std::string::npos);
}

TEST(EabOptionsTest, HmacKeyFromEnvironmentWhenNotOnCommandLine) {
  auto flags = Flags(RegisterFlags(),
                     {"--server", "https://ca/dir", "--account-key", "k", "--eab-kid", "kid"});
  auto o = ParseRegisterOptions(flags, FakeEnv({{"CERTSMITH_EAB_HMAC_KEY", kHmac}}));
  ASSERT_TRUE(o.ok()) << o.status().message();
  ASSERT_TRUE(o->account.eab.has_value());
  EXPECT_EQ(o->account.eab->hmac_key.size(), 32u);
}

TEST(EabOptionsTest, HmacKeyFromFileWithTrailingNewline) {
  std::string path = testing::TempDir() + "/hmac.txt";
  std::ofstream(path) << kHmac << "\n";
  auto flags = Flags(RegisterFlags(), {"--server", "https://ca/dir", "--account-key", "k",
                                       "--eab-kid", "kid", "--eab-hmac-key-file", path});
  auto o = ParseRegisterOptions(flags, FakeEnv({{"CERTSMITH_EAB_HMAC_KEY", "ignored!"}}));
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->account.eab->hmac_key.size(), 32u);
  std::remove(path.c_str());
}

TEST(EabOptionsTest, MalformedKeyIsAUsageErrorThatDoesNotEchoTheKey) {
  std::string secret = "zz*secret-part-of-key";
  auto flags = Flags(RegisterFlags(), {"--server", "https://ca/dir", "--account-key", "k",
                                       "--eab-kid", "kid", "--eab-hmac-key", secret});
  auto o = ParseRegisterOptions(flags, FakeEnv({}));
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("malformed"), std::string::npos);
  EXPECT_NE(o.status().message().find("position 3"), std::string::npos);
  EXPECT_EQ(o.status().message().find("secret"), std::string::npos);
}

TEST(EabOptionsTest, KidAndKeyMustComeTogether) {
  auto no_key = ParseRegisterOptions(
      Flags(RegisterFlags(),
            {"--server", "https://ca/dir", "--account-key", "k", "--eab-kid", "kid"}),
      FakeEnv({}));
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("CERTSMITH_EAB_HMAC_KEY"), std::string::npos);
  auto no_kid = ParseRegisterOptions(
      Flags(RegisterFlags(),
            {"--server", "https://ca/dir", "--account-key", "k", "--eab-hmac-key", kHmac}),
      FakeEnv({}));
  EXPECT_FALSE(no_kid.ok());
  auto neither = ParseRegisterOptions(
      Flags(RegisterFlags(), {"--server", "https://ca/dir", "--account-key", "k"}),
      FakeEnv({{"CERTSMITH_EAB_HMAC_KEY", kHmac}}));
  ASSERT_TRUE(neither.ok());
  EXPECT_FALSE(neither->account.eab.has_value());
}

TEST(RevokeOptionsTest, ReasonAndKeyRules) {
  auto with_key =
      ParseRevokeOptions(Flags(RevokeFlags(), {"--server", "https://ca/dir", "--cert", "c.pem",
                                               "--key", "k.pem", "--reason", "1"}));
  ASSERT_TRUE(with_key.ok()) << with_key.status().message();
  EXPECT_EQ(with_key->reason, acme::RevocationReason::kKeyCompromise);
  auto bad_reason =
      ParseRevokeOptions(Flags(RevokeFlags(), {"--server", "https://ca/dir", "--cert", "c.pem",
                                               "--account-key", "a", "--reason", "2"}));
  EXPECT_FALSE(bad_reason.ok());
  auto no_key =
      ParseRevokeOptions(Flags(RevokeFlags(), {"--server", "https://ca/dir", "--cert", "c.pem"}));
  EXPECT_FALSE(no_key.ok());
}

TEST(AccountOptionsTest, Actions) {
  auto show = ParseAccountOptions(
      Flags(AccountFlags(), {"show", "--server", "https://ca/dir", "--account-key", "a"}));
  ASSERT_TRUE(show.ok());
  EXPECT_EQ(show->action, AccountAction::kShow);
  auto rollover_without_key = ParseAccountOptions(
      Flags(AccountFlags(), {"rollover", "--server", "https://ca/dir", "--account-key", "a"}));
  EXPECT_FALSE(rollover_without_key.ok());
  auto same_file =
      ParseAccountOptions(Flags(AccountFlags(), {"rollover", "--server", "https://ca/dir",
                                                 "--account-key", "a", "--new-key", "a"}));
  EXPECT_FALSE(same_file.ok());
  auto unknown = ParseAccountOptions(
      Flags(AccountFlags(), {"delete", "--server", "https://ca/dir", "--account-key", "a"}));
  EXPECT_FALSE(unknown.ok());
}

TEST(ListenAddressTest, Forms) {
  auto a = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8080);
  auto b = ParseListenAddress("[::1]:80");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "::1");
  auto c = ParseListenAddress(":0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first, "0.0.0.0");
  EXPECT_EQ(c->second, 0);
  EXPECT_FALSE(ParseListenAddress("host").ok());
  EXPECT_FALSE(ParseListenAddress("host:99999").ok());
  EXPECT_FALSE(ParseListenAddress("host:8x").ok());
}

TEST(DurationTest, Units) {
  EXPECT_EQ(*ParseDuration("90"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseDuration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseDuration("10m"), std::chrono::seconds(600));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::seconds(3600));
  EXPECT_FALSE(ParseDuration("soon").ok());
  EXPECT_FALSE(ParseDuration("5d").ok());
}

}  // namespace
}  // namespace certsmith::cli
