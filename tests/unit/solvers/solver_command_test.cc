#include "solvers/http01/solver_command.h"

#include <gtest/gtest.h>

namespace certsmith::solvers {
namespace {

constexpr char kToken[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
const std::string kKey = std::string(kToken) + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

TEST(ParseSolverArgsTest, OneChallenge) {
  Result<SolverOptions> o = ParseSolverArgs(
      {"--listen", ":8089", "--domain", "WWW.Example.org.", "--token", kToken, "--key", kKey});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->host, "0.0.0.0");
  EXPECT_EQ(o->port, 8089);
  ASSERT_EQ(o->challenges.size(), 1u);
  EXPECT_EQ(o->challenges[0].domain, "www.example.org");
  EXPECT_EQ(o->challenges[0].token, kToken);
  EXPECT_EQ(o->challenges[0].key_authorization, kKey);
}

TEST(ParseSolverArgsTest, RepeatedGroupsAndDefaultListen) {
  Result<SolverOptions> o =
      ParseSolverArgs({"--domain", "a.example", "--token", "t1", "--key", "t1.x", "--key", "t2.y",
                       "--token", "t2", "--domain", "b.example"});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->port, 8089);
  ASSERT_EQ(o->challenges.size(), 2u);
  EXPECT_EQ(o->challenges[1].domain, "b.example");
  EXPECT_EQ(o->challenges[1].key_authorization, "t2.y");
}

TEST(ParseSolverArgsTest, Rejections) {
  struct Case {
    std::vector<std::string> args;
    const char* want;
  } cases[] = {
      {{}, "at least one --domain"},
      {{"--domain", "a.example", "--token", "t1"}, "--domain, --token and --key are all required"},
      {{"--domain", "a..example", "--token", "t1", "--key", "t1.x"}, "not a valid DNS name"},
      {{"--domain", "a.example", "--token", "t/1", "--key", "t/1.x"}, "base64url"},
      {{"--domain", "a.example", "--token", "t1", "--key", "t2.x"}, "<token>.<thumbprint>"},
      {{"--domain", "a.example", "--token", "t1", "--key", "t1."}, "<token>.<thumbprint>"},
      {{"--listen", "8089"}, "[HOST]:PORT"},
      {{"--listen", ":99999"}, "not a port number"},
      {{"--bogus", "x"}, "unknown flag"},
      {{"--domain"}, "missing value"},
      {{"--log-format", "xml"}, "text or json"},
  };
  for (const Case& c : cases) {
    Result<SolverOptions> o = ParseSolverArgs(c.args);
    ASSERT_FALSE(o.ok()) << c.want;
    EXPECT_EQ(o.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(o.status().message().find(c.want), std::string::npos) << o.status().message();
  }
}

TEST(ParseSolverArgsTest, Help) {
  Result<SolverOptions> o = ParseSolverArgs({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
}

TEST(ParseListenAddressTest, Forms) {
  std::string host;
  uint16_t port = 1;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:0", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseListenAddress("[::1]:8089", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8089);
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:", &host, &port).ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:http", &host, &port).ok());
}

TEST(HostMatchesTest, IgnoresPortCaseAndTrailingDot) {
  EXPECT_TRUE(HostMatches("www.example.org", "www.example.org"));
  EXPECT_TRUE(HostMatches("WWW.example.org:80", "www.example.org"));
  EXPECT_TRUE(HostMatches("www.example.org.:8089", "www.example.org"));
  EXPECT_TRUE(HostMatches("[2001:db8::1]:80", "2001:db8::1"));
  EXPECT_FALSE(HostMatches("other.example.org", "www.example.org"));
  EXPECT_FALSE(HostMatches("", "www.example.org"));
  EXPECT_FALSE(HostMatches("www.example.org.evil", "www.example.org"));
}

}  // namespace
}  // namespace certsmith::solvers
