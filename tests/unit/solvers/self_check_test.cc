#include "solvers/http01/self_check.h"

#include <gtest/gtest.h>

namespace certsmith::solvers::http01 {
namespace {

using std::chrono::milliseconds;

TEST(SelfCheckNameserversTest, ParsesCertManagersForms) {
  auto ns = ParseSelfCheckNameservers("10.0.0.10, 127.0.0.1:5353,[2001:db8::1]:53,2001:db8::2");
  ASSERT_TRUE(ns.ok()) << ns.status().message();
  EXPECT_EQ(*ns,
            (std::vector<SelfCheckNameserver>{
                {"10.0.0.10", 53}, {"127.0.0.1", 5353}, {"2001:db8::1", 53}, {"2001:db8::2", 53}}));
  EXPECT_TRUE(ParseSelfCheckNameservers("")->empty());
}

TEST(SelfCheckNameserversTest, RefusesWhatIsNotAnAddressWithAClearMessage) {
  for (const char* bad : {"dns.example:53", "10.0.0.1:0", "10.0.0.1:70000", "10.0.0.1:x",
                          "[2001:db8::1", "[2001:db8::1]x", "300.1.1.1"}) {
    auto ns = ParseSelfCheckNameservers(bad);
    ASSERT_FALSE(ns.ok()) << bad;
    EXPECT_EQ(ns.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(ns.status().message().find("--acme-http01-solver-nameservers"), std::string::npos);
    EXPECT_NE(ns.status().message().find(bad), std::string::npos) << ns.status().message();
  }
}

std::string HostHeader(const HttpRequest& r) {
  for (const auto& [k, v] : r.headers) {
    if (k == "Host") return v;
  }
  return "";
}

TEST(SelfCheckRequestTest, PlainPort80ResolvedByTheTransport) {
  auto r = SelfCheckRequest("http://a.example/.well-known/acme-challenge/tok", "", 80,
                            milliseconds(5000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url, "http://a.example/.well-known/acme-challenge/tok");
  EXPECT_EQ(HostHeader(*r), "");
  EXPECT_EQ(r->timeout, milliseconds(5000));
}

TEST(SelfCheckRequestTest, AResolvedAddressAndPortKeepTheDomainAsHost) {
  auto r = SelfCheckRequest("http://a.example/.well-known/acme-challenge/tok", "127.0.0.1", 5002,
                            milliseconds(100));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url, "http://127.0.0.1:5002/.well-known/acme-challenge/tok");
  EXPECT_EQ(HostHeader(*r), "a.example");
  auto v6 = SelfCheckRequest("http://a.example/p", "2001:db8::1", 80, milliseconds(100));
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->url, "http://[2001:db8::1]/p");
  EXPECT_EQ(HostHeader(*v6), "a.example");
  EXPECT_EQ(*SelfCheckHost("http://b.example/x"), "b.example");
}

TEST(SelfCheckRequestTest, RefusesURLsItDidNotBuild) {
  EXPECT_FALSE(SelfCheckRequest("https://a.example/p", "", 80, milliseconds(1)).ok());
  EXPECT_FALSE(SelfCheckRequest("http://a.example:8080/p", "", 80, milliseconds(1)).ok());
  EXPECT_FALSE(SelfCheckRequest("http://user@a.example/p", "", 80, milliseconds(1)).ok());
  EXPECT_FALSE(SelfCheckHost("http:///p").ok());
}

}  // namespace
}  // namespace certsmith::solvers::http01
