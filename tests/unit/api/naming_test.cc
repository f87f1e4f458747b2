#include "api/naming.h"

#include <gtest/gtest.h>

#include "api/names.h"

namespace certsmith::api {
namespace {

TEST(NamingTest, OrderNameIsDeterministicAndChangesWithSpec) {
  std::string a = OrderName("web", 3, R"({"dnsNames":["a.example"]})");
  EXPECT_EQ(a, OrderName("web", 3, R"({"dnsNames":["a.example"]})"));
  EXPECT_NE(a, OrderName("web", 3, R"({"dnsNames":["b.example"]})"));
  EXPECT_NE(a, OrderName("web", 4, R"({"dnsNames":["a.example"]})"));
  EXPECT_EQ(a.rfind("web-3-", 0), 0u) << a;
  EXPECT_EQ(a.size(), std::string("web-3-").size() + 10);
}

TEST(NamingTest, LongAndDottedNamesBecomeValidLabels) {
  std::string long_name(250, 'a');
  long_name[100] = '.';
  std::string order = OrderName(long_name, 12345, "spec");
  EXPECT_LE(order.size(), kMaxLabelLength);
  EXPECT_TRUE(IsDns1123Label(order)) << order;
  EXPECT_NE(order.find("-12345-"), std::string::npos);
  std::string challenge = ChallengeName(order, "https://ca/authz/1", "http-01");
  EXPECT_LE(challenge.size(), kMaxLabelLength);
  EXPECT_TRUE(IsDns1123Label(challenge)) << challenge;
  EXPECT_TRUE(IsDns1123Label(OrderName("www.example.com", 1, "x")));
  EXPECT_TRUE(IsDns1123Label(OrderName(std::string(62, 'b') + "-", 1, "x")));
}

TEST(NamingTest, ChallengeNameDependsOnAuthorizationAndType) {
  std::string a = ChallengeName("web-1-abc", "https://ca/authz/1", "http-01");
  EXPECT_EQ(a, ChallengeName("web-1-abc", "https://ca/authz/1", "http-01"));
  EXPECT_NE(a, ChallengeName("web-1-abc", "https://ca/authz/2", "http-01"));
  EXPECT_NE(a, ChallengeName("web-1-abc", "https://ca/authz/1", "dns-01"));
  EXPECT_EQ(a.rfind("web-1-abc-", 0), 0u);
}

TEST(NamingTest, ShortHashIsStableFnv1a) {
  // FNV-1a 64 of "" is cbf29ce484222325: the hash must not change between releases, or a
  // restarted controller would not find the Orders it made.
  EXPECT_EQ(ShortHash(""), "cbf29ce484");
  EXPECT_EQ(ShortHash("a"), "af63dc4c86");
  EXPECT_EQ(HashedName("cm-acme-http-solver", "x").size(),
            std::string("cm-acme-http-solver-").size() + 10);
  EXPECT_EQ(HashedName("", "x").substr(0, 2), "x-");
}

}  // namespace
}  // namespace certsmith::api
