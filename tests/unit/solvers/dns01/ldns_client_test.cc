// The parts of LdnsDnsClient that need no server: nameserver syntax, answers read from wire
// built by ldns (TXT character-strings joined), and /etc/resolv.conf. The client against a real
// BIND is in tests/integration/dns01.
#include "solvers/dns01/ldns_client.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <cstdio>
#include <fstream>

#include "solvers/dns01/ldns_ptr.h"

namespace certsmith::solvers::dns01 {
namespace {

TEST(NameserverTest, ParsesHostsPortsAndBracketedIpv6) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  } cases[] = {
      {"10.0.0.53", "10.0.0.53", 53},
      {"10.0.0.53:5353", "10.0.0.53", 5353},
      {"ns1.example.org:53", "ns1.example.org", 53},
      {"[2001:db8::53]:5353", "2001:db8::53", 5353},
      {"[2001:db8::53]", "2001:db8::53", 53},
      {"2001:db8::53", "2001:db8::53", 53},
  };
  for (const Case& c : cases) {
    auto ns = ParseNameserver(c.text);
    ASSERT_TRUE(ns.ok()) << c.text << ": " << ns.status().ToString();
    EXPECT_EQ(ns->host, c.host);
    EXPECT_EQ(ns->port, c.port);
  }
  EXPECT_EQ(ParseNameserver("[2001:db8::53]:5353")->ToString(), "[2001:db8::53]:5353");
  EXPECT_EQ(ParseNameserver("10.0.0.53")->ToString(), "10.0.0.53:53");
  for (const char* bad : {"", "10.0.0.53:0", "10.0.0.53:70000", "[10.0.0.53]:53", "[2001:db8::53",
                          "[2001:db8::53]x", "host name:53", "10.0.0.53:abc"}) {
    EXPECT_FALSE(ParseNameserver(bad).ok()) << bad;
  }
  EXPECT_NE(ParseNameserver("10.0.0.53:70000").status().message().find("port"), std::string::npos);
}

TEST(ParseResponseTest, ReadsRcodeSectionsAndJoinsTxtStrings) {
  internal::PktPtr pkt(ldns_pkt_new());
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_aa(pkt.get(), true);
  ldns_pkt_set_rcode(pkt.get(), LDNS_RCODE_NOERROR);
  for (const char* text : {"_acme-challenge.Example.ORG. 60 IN TXT \"part-one\" \"part-two\"",
                           "_acme-challenge.example.org. 60 IN TXT \"second\"",
                           "alias.example.org. 60 IN CNAME Target.Example.NET."}) {
    ldns_rr* rr = nullptr;
    ASSERT_EQ(ldns_rr_new_frm_str(&rr, text, 0, nullptr, nullptr), LDNS_STATUS_OK) << text;
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
  }
  ldns_rr* soa = nullptr;
  ASSERT_EQ(ldns_rr_new_frm_str(&soa,
                                "example.org. 5 IN SOA ns.example.org. h.example.org. 1 2 "
                                "3 4 5",
                                0, nullptr, nullptr),
            LDNS_STATUS_OK);
  ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_AUTHORITY, soa);
  uint8_t* raw = nullptr;
  size_t size = 0;
  ASSERT_EQ(ldns_pkt2wire(&raw, pkt.get(), &size), LDNS_STATUS_OK);
  internal::BytesPtr owned(raw);
  auto r = ParseResponse(std::string(reinterpret_cast<char*>(raw), size));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->authoritative);
  ASSERT_EQ(r->answer.size(), 3u);
  EXPECT_EQ(r->answer[0],
            (Record{"_acme-challenge.example.org.", RrType::kTxt, 60, "part-onepart-two"}));
  EXPECT_EQ(r->answer[1].data, "second");
  EXPECT_EQ(r->answer[2],
            (Record{"alias.example.org.", RrType::kCname, 60, "target.example.net."}));
  ASSERT_EQ(r->authority.size(), 1u);
  EXPECT_EQ(r->authority[0].type, RrType::kSoa);
  EXPECT_EQ(r->authority[0].name, "example.org.");
  EXPECT_FALSE(ParseResponse("not dns").ok());
}

TEST(SystemNameserversTest, ReadsResolvConf) {
  char path[] = "/tmp/certsmith-resolv-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "# comment\nsearch svc.cluster.local\nnameserver 10.96.0.10\n"
        << "nameserver fe80::1%eth0\noptions ndots:5\nnameserver 2001:db8::1\n";
  }
  std::vector<Nameserver> got = SystemNameservers(path);
  std::remove(path);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].ToString(), "10.96.0.10:53");
  EXPECT_EQ(got[1].ToString(), "[fe80::1]:53");
  EXPECT_EQ(got[2].ToString(), "[2001:db8::1]:53");
  EXPECT_TRUE(SystemNameservers("/nonexistent/resolv.conf").empty());
}

TEST(DnsNamesTest, FqdnZoneAndChallengeName) {
  EXPECT_EQ(Fqdn("Example.ORG"), "example.org.");
  EXPECT_EQ(Fqdn("example.org."), "example.org.");
  EXPECT_TRUE(IsInZone("a.example.org", "example.org."));
  EXPECT_TRUE(IsInZone("example.org.", "example.org"));
  EXPECT_FALSE(IsInZone("badexample.org", "example.org"));
  EXPECT_EQ(ChallengeRecordName("*.Example.org"), "_acme-challenge.example.org.");
  EXPECT_EQ(ChallengeRecordName("www.example.org"), "_acme-challenge.www.example.org.");
}

}  // namespace
}  // namespace certsmith::solvers::dns01
