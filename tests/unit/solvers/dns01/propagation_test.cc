// The propagation check: the zone's authoritative servers by default (NS walk, no recursion,
// port 53), only the configured servers when asked, and the backoff between rounds.
#include "solvers/dns01/propagation.h"

#include <gtest/gtest.h>

#include "unit/solvers/dns01/fake_dns.h"

namespace certsmith::solvers::dns01 {
namespace {

using testing::FakeDns;

constexpr char kName[] = "_acme-challenge.www.example.org.";

class PropagationTest : public ::testing::Test {
 protected:
  PropagationTest() {
    dns.AddResolver("10.0.0.1:53");
    dns.AddZone("example.org", {"192.0.2.1:53", "192.0.2.2:53"},
                {"ns1.example.org", "ns2.example.org"}, {"192.0.2.1", "192.0.2.2"});
    dns.AddRecord("example.org", {kName, RrType::kTxt, 60, "other-value"});
    dns.AddRecord("example.org", {kName, RrType::kTxt, 60, "the-value"});
  }
  PropagationConfig Authoritative() { return {{{{"10.0.0.1", 53}}, true}, false, 53}; }

  FakeDns dns;
};

TEST_F(PropagationTest, AsksEveryAuthoritativeServerWithoutRecursion) {
  auto r = CheckPropagation(dns, Authoritative(), kName, "example.org.", "the-value");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->propagated);
  ASSERT_EQ(r->servers.size(), 2u);
  EXPECT_EQ(r->servers[0].server, "ns1.example.org. 192.0.2.1:53");
  EXPECT_EQ(r->servers[0].values, (std::vector<std::string>{"other-value", "the-value"}));
  int txt_queries = 0;
  for (const auto& q : dns.Queries()) {
    if (q.question.type != RrType::kTxt) continue;
    ++txt_queries;
    EXPECT_FALSE(q.question.recursion_desired) << q.server;
    EXPECT_TRUE(q.server == "192.0.2.1:53" || q.server == "192.0.2.2:53") << q.server;
  }
  EXPECT_EQ(txt_queries, 2);
}

TEST_F(PropagationTest, OneLaggingServerHoldsItBackAndIsNamed) {
  dns.SetLagging("192.0.2.2:53", "example.org");
  Record late{kName, RrType::kTxt, 60, "late-value"};
  ASSERT_TRUE(
      dns.Update({"192.0.2.1", 53}, UpdateRequest{"example.org.", {late}, {}, {}}, Transport::kUdp)
          .ok());
  auto r = CheckPropagation(dns, Authoritative(), kName, "example.org.", "late-value");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->propagated);
  EXPECT_TRUE(r->servers[0].found);
  EXPECT_FALSE(r->servers[1].found);
  EXPECT_EQ(r->Summary(),
            "ns1.example.org. 192.0.2.1:53 has it; ns2.example.org. 192.0.2.2:53 shows only "
            "\"other-value\", \"the-value\"");
  dns.SyncLagging("192.0.2.2:53");
  EXPECT_TRUE(
      CheckPropagation(dns, Authoritative(), kName, "example.org.", "late-value")->propagated);
}

TEST_F(PropagationTest, AnUnreachableServerIsReportedNotFatal) {
  dns.SetUnreachable("192.0.2.2:53");
  auto r = CheckPropagation(dns, Authoritative(), kName, "example.org.", "the-value");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->propagated);
  EXPECT_NE(r->servers[1].error.find("no answer from 192.0.2.2:53"), std::string::npos);
}

TEST_F(PropagationTest, OnlyTheConfiguredServersWhenAsked) {
  // Locked-down egress: the zone's servers are never asked, the resolver is, with recursion.
  dns.SetUnreachable("192.0.2.1:53");
  dns.SetUnreachable("192.0.2.2:53");
  PropagationConfig only = {{{{"10.0.0.1", 53}}, true}, true, 53};
  auto r = CheckPropagation(dns, only, kName, "example.org.", "the-value");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->propagated);
  ASSERT_EQ(r->servers.size(), 1u);
  EXPECT_EQ(r->servers[0].server, "10.0.0.1:53");
  for (const auto& q : dns.Queries()) {
    EXPECT_EQ(q.server, "10.0.0.1:53");
    EXPECT_TRUE(q.question.recursion_desired);
  }
}

TEST_F(PropagationTest, AZoneWithoutNsRecordsIsAnError) {
  dns.AddZone("bare.test", {"192.0.2.5:53"});
  auto r = CheckPropagation(dns, Authoritative(), "_acme-challenge.bare.test", "bare.test.", "v");
  // FakeDns gives a zone without NS names no NS records.
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("zone bare.test. has no NS records"), std::string::npos);
}

TEST_F(PropagationTest, AnNsHostOnlyTheSystemKnowsIsAskedThere) {
  dns.AddZone("corp.test", {"172.16.0.1:53"}, {"dns.internal"});
  dns.SetHostAddresses("dns.internal", {"172.16.0.1"});
  dns.AddRecord("corp.test", {"_acme-challenge.corp.test", RrType::kTxt, 60, "v"});
  auto r = CheckPropagation(dns, Authoritative(), "_acme-challenge.corp.test", "corp.test", "v");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->propagated);
  EXPECT_EQ(r->servers[0].server, "dns.internal. 172.16.0.1:53");
}

TEST(NextCheckDelayTest, DoublesFromTwoSecondsUpToAMinute) {
  std::vector<int64_t> got;
  for (int n = 0; n <= 8; ++n) got.push_back(NextCheckDelay(n).count());
  EXPECT_EQ(got, (std::vector<int64_t>{0, 2, 4, 8, 16, 32, 60, 60, 60}));
}

}  // namespace
}  // namespace certsmith::solvers::dns01
