// The rfc2136 provider against FakeDns: what it sends, the two-values rule, and the words of each
// refusal (never the secret).
#include "solvers/dns01/rfc2136_provider.h"

#include <gtest/gtest.h>

#include "certsmith/base64.h"
#include "unit/solvers/dns01/fake_dns.h"

namespace certsmith::solvers::dns01 {
namespace {

using testing::FakeDns;

constexpr char kSecret[] = "the-real-tsig-secret";

class Rfc2136ProviderTest : public ::testing::Test {
 protected:
  Rfc2136ProviderTest() {
    dns.AddZone("example.org", {"192.0.2.1:53"}, {"ns1.example.org"}, {"192.0.2.1"});
    dns.SetUpdateKey("example.org", Key(kSecret));
  }
  static TsigKey Key(const std::string& secret, TsigAlgorithm a = TsigAlgorithm::kHmacSha256) {
    return MakeTsigKey("update-key.", a, Base64Encode(secret)).value();
  }
  Rfc2136Provider Provider(TsigKey key, Transport t = Transport::kUdp) {
    return Rfc2136Provider(dns, Rfc2136Config{{"192.0.2.1", 53}, t, key, 60});
  }
  static ChallengeRecord Rec(const std::string& value) {
    return {"uid-1", "example.org", "_acme-challenge.example.org.", "example.org.", value, "ns"};
  }

  FakeDns dns;
};

TEST_F(Rfc2136ProviderTest, PresentAddsOneSignedRecordToTheZone) {
  Rfc2136Provider p = Provider(Key(kSecret), Transport::kTcp);
  ASSERT_TRUE(p.Present(Rec("v1")).ok());
  auto updates = dns.Updates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].first, "192.0.2.1:53");
  const UpdateRequest& u = updates[0].second;
  EXPECT_EQ(u.zone, "example.org.");
  EXPECT_TRUE(u.remove.empty());
  ASSERT_EQ(u.add.size(), 1u);
  EXPECT_EQ(u.add[0], (Record{"_acme-challenge.example.org.", RrType::kTxt, 60, "v1"}));
  ASSERT_TRUE(u.tsig.has_value());
  EXPECT_EQ(u.tsig->name, "update-key.");
  EXPECT_EQ(dns.TxtValues("_acme-challenge.example.org"), (std::vector<std::string>{"v1"}));
  EXPECT_EQ(p.Describe(), "rfc2136 at 192.0.2.1:53 (TCP, TSIG key update-key. (hmac-sha256))");
}

// A wildcard and its apex put two values on one name: presenting one keeps the other, cleaning
// one up leaves the other; both steps can be repeated.
TEST_F(Rfc2136ProviderTest, TwoValuesOnOneNameSurviveEachOther) {
  Rfc2136Provider p = Provider(Key(kSecret));
  ASSERT_TRUE(p.Present(Rec("apex")).ok());
  ASSERT_TRUE(p.Present(Rec("wildcard")).ok());
  ASSERT_TRUE(p.Present(Rec("wildcard")).ok());
  EXPECT_EQ(dns.TxtValues("_acme-challenge.example.org"),
            (std::vector<std::string>{"apex", "wildcard"}));
  ASSERT_TRUE(p.CleanUp(Rec("apex")).ok());
  ASSERT_TRUE(p.CleanUp(Rec("apex")).ok());
  EXPECT_EQ(dns.TxtValues("_acme-challenge.example.org"), (std::vector<std::string>{"wildcard"}));
  auto last = dns.Updates().back().second;
  ASSERT_EQ(last.remove.size(), 1u);
  EXPECT_EQ(last.remove[0].data, "apex");
  EXPECT_TRUE(last.add.empty());
}

TEST_F(Rfc2136ProviderTest, AWrongSecretIsBadSigInTheServersWordsWithoutTheSecret) {
  const std::string wrong = "a-wrong-secret-value";
  Status s = Provider(Key(wrong)).Present(Rec("v1"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(s.message().find("the server answered NOTAUTH with TSIG error BADSIG"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("update-key. (hmac-sha256)"), std::string::npos);
  EXPECT_NE(s.message().find("at 192.0.2.1:53 (UDP) adding TXT _acme-challenge.example.org."),
            std::string::npos);
  for (const std::string& secret :
       {wrong, Base64Encode(wrong), std::string(kSecret), Base64Encode(kSecret)}) {
    EXPECT_EQ(s.message().find(secret), std::string::npos);
  }
}

TEST_F(Rfc2136ProviderTest, EachRefusalSaysWhatItMeans) {
  Status badkey = Provider(Key(kSecret, TsigAlgorithm::kHmacSha512)).Present(Rec("v"));
  EXPECT_NE(badkey.message().find("BADKEY (the server does not know TSIG key update-key. "
                                  "(hmac-sha512)"),
            std::string::npos)
      << badkey.message();

  dns.SetUpdatesAllowed("example.org", false);
  Status refused = Provider(Key(kSecret)).Present(Rec("v"));
  EXPECT_EQ(refused.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("answered REFUSED (the server's update policy does not allow"),
            std::string::npos)
      << refused.message();

  ChallengeRecord elsewhere = Rec("v");
  elsewhere.zone = "other.test.";
  Status notauth = Provider(Key(kSecret)).Present(elsewhere);
  EXPECT_NE(notauth.message().find("NOTAUTH (the server is not authoritative for zone "
                                   "other.test.)"),
            std::string::npos)
      << notauth.message();

  dns.SetUnreachable("192.0.2.1:53");
  Status down = Provider(Key(kSecret)).CleanUp(Rec("v"));
  EXPECT_EQ(down.code(), ErrorCode::kUnavailable);
  EXPECT_NE(down.message().find("deleting TXT _acme-challenge.example.org."), std::string::npos);
  EXPECT_NE(down.message().find("no answer from 192.0.2.1:53"), std::string::npos);
}

}  // namespace
}  // namespace certsmith::solvers::dns01
