// Zone finding (SOA walk, negative answers' SOA) and CNAME following, against FakeDns.
#include "solvers/dns01/zone_lookup.h"

#include <gtest/gtest.h>

#include "unit/solvers/dns01/fake_dns.h"

namespace certsmith::solvers::dns01 {
namespace {

using testing::FakeDns;

class ZoneLookupTest : public ::testing::Test {
 protected:
  ZoneLookupTest() {
    dns.AddResolver("10.0.0.1:53");
    dns.AddZone("example.org", {"192.0.2.1:53"}, {"ns1.example.org"}, {"192.0.2.1"});
    dns.AddZone("sub.example.org", {"192.0.2.2:53"}, {"ns.sub.example.org"}, {"192.0.2.2"});
    dns.AddZone("acme-dns.net", {"192.0.2.3:53"});
  }
  LookupServers Resolver() { return {{{"10.0.0.1", 53}}, true}; }
  int SoaQueries() {
    int n = 0;
    for (const auto& q : dns.Queries()) n += q.question.type == RrType::kSoa;
    return n;
  }

  FakeDns dns;
};

TEST_F(ZoneLookupTest, FindsTheZoneOfADeepNameInOneQuery) {
  // NXDOMAIN for the challenge name carries the zone's SOA (RFC 2308 §3).
  auto zone = FindZone(dns, Resolver(), "_acme-challenge.www.example.org");
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  EXPECT_EQ(*zone, "example.org.");
  EXPECT_EQ(SoaQueries(), 1);
}

TEST_F(ZoneLookupTest, AnApexIsItsOwnZoneAndASubzoneWinsOverItsParent) {
  EXPECT_EQ(FindZone(dns, Resolver(), "example.org").value(), "example.org.");
  EXPECT_EQ(FindZone(dns, Resolver(), "_acme-challenge.sub.example.org.").value(),
            "sub.example.org.");
  EXPECT_EQ(FindZone(dns, Resolver(), "a.b.sub.example.org").value(), "sub.example.org.");
}

TEST_F(ZoneLookupTest, ANameThatExistsWithoutAnSoaIsNoData) {
  dns.AddRecord("example.org", {"www.example.org", RrType::kA, 60, "192.0.2.9"});
  EXPECT_EQ(FindZone(dns, Resolver(), "www.example.org").value(), "example.org.");
}

TEST_F(ZoneLookupTest, ACnameIsNeverAZoneApex) {
  // The walk goes up past an alias (RFC 1034 §3.6.2) to the zone holding it.
  dns.AddRecord("example.org", {"alias.example.org", RrType::kCname, 60, "elsewhere.net"});
  auto zone = FindZone(dns, Resolver(), "alias.example.org");
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  EXPECT_EQ(*zone, "example.org.");
  EXPECT_EQ(SoaQueries(), 2);
}

TEST_F(ZoneLookupTest, NoZoneFoundSaysWhereItLooked) {
  auto zone = FindZone(dns, Resolver(), "_acme-challenge.unknown.test");
  ASSERT_FALSE(zone.ok());
  EXPECT_EQ(zone.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(zone.status().message().find("no zone found for _acme-challenge.unknown.test."),
            std::string::npos);
  EXPECT_NE(zone.status().message().find("10.0.0.1:53"), std::string::npos);
}

TEST_F(ZoneLookupTest, AServerThatRefusesIsPassedOverAndNamedWhenAllFail) {
  dns.SetRcode("10.0.0.9:53", kRefused);
  LookupServers two = {{{"10.0.0.9", 53}, {"10.0.0.1", 53}}, true};
  EXPECT_EQ(FindZone(dns, two, "_acme-challenge.example.org").value(), "example.org.");

  dns.SetUnreachable("10.0.0.1:53");
  auto failed = FindZone(dns, two, "_acme-challenge.example.org");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("10.0.0.9:53 answered REFUSED"), std::string::npos);
  EXPECT_NE(failed.status().message().find("no answer from 10.0.0.1:53"), std::string::npos);
}

TEST_F(ZoneLookupTest, AskingNobodyIsAClearError) {
  auto zone = FindZone(dns, LookupServers{}, "example.org");
  ASSERT_FALSE(zone.ok());
  EXPECT_NE(zone.status().message().find("no nameserver to ask"), std::string::npos);
}

TEST_F(ZoneLookupTest, FollowsACnameChainAcrossZones) {
  // Seed 001: _acme-challenge points into a zone the platform team can edit.
  dns.AddRecord("example.org", {"_acme-challenge.www.example.org", RrType::kCname, 60,
                                "www.example.org.acme-dns.net"});
  dns.AddRecord("acme-dns.net",
                {"www.example.org.acme-dns.net", RrType::kCname, 60, "final.acme-dns.net"});
  auto end = FollowCnames(dns, Resolver(), "_acme-challenge.www.example.org");
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(*end, "final.acme-dns.net.");
  EXPECT_EQ(FindZone(dns, Resolver(), *end).value(), "acme-dns.net.");
  // A name without an alias is its own end.
  EXPECT_EQ(FollowCnames(dns, Resolver(), "_acme-challenge.other.example.org").value(),
            "_acme-challenge.other.example.org.");
}

TEST_F(ZoneLookupTest, ACnameLoopOrAnEndlessChainIsAnError) {
  dns.AddRecord("example.org", {"a.example.org", RrType::kCname, 60, "b.example.org"});
  dns.AddRecord("example.org", {"b.example.org", RrType::kCname, 60, "a.example.org"});
  auto loop = FollowCnames(dns, Resolver(), "a.example.org");
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find(
                "CNAME loop: a.example.org. -> b.example.org. -> a.example.org."),
            std::string::npos);
  for (int i = 0; i <= kMaxCnameHops; ++i) {
    dns.AddRecord("acme-dns.net", {"c" + std::to_string(i) + ".acme-dns.net", RrType::kCname, 60,
                                   "c" + std::to_string(i + 1) + ".acme-dns.net"});
  }
  auto endless = FollowCnames(dns, Resolver(), "c0.acme-dns.net");
  ASSERT_FALSE(endless.ok());
  EXPECT_NE(endless.status().message().find("more than 16 CNAMEs"), std::string::npos);
}

}  // namespace
}  // namespace certsmith::solvers::dns01
