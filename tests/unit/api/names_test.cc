#include "api/names.h"

#include <gtest/gtest.h>

namespace certsmith::api {
namespace {

TEST(NamesTest, DnsNames) {
  EXPECT_TRUE(IsValidDnsName("example.org", false));
  EXPECT_TRUE(IsValidDnsName("Example.ORG.", false));
  EXPECT_TRUE(IsValidDnsName("a-b.c1.example", false));
  EXPECT_TRUE(IsValidDnsName("localhost", false));
  EXPECT_TRUE(IsValidDnsName("*.example.org", true));
  EXPECT_FALSE(IsValidDnsName("*.example.org", false));
  EXPECT_FALSE(IsValidDnsName("*.org", true));
  EXPECT_FALSE(IsValidDnsName("a.*.example.org", true));
  EXPECT_FALSE(IsValidDnsName("a..b", false));
  EXPECT_FALSE(IsValidDnsName("-a.example", false));
  EXPECT_FALSE(IsValidDnsName("a_b.example", false));
  EXPECT_FALSE(IsValidDnsName("", false));
  EXPECT_FALSE(IsValidDnsName(std::string(64, 'a') + ".example", false));
  EXPECT_FALSE(IsValidDnsName("1.2.3.4 ", false));
}

TEST(NamesTest, KubernetesNames) {
  EXPECT_TRUE(IsDns1123Label("web-tls"));
  EXPECT_FALSE(IsDns1123Label("Web"));
  EXPECT_FALSE(IsDns1123Label("web."));
  EXPECT_FALSE(IsDns1123Label(std::string(64, 'a')));
  EXPECT_TRUE(IsDns1123Subdomain("web.tls"));
  EXPECT_FALSE(IsDns1123Subdomain("web..tls"));
  EXPECT_FALSE(IsDns1123Subdomain("web_tls"));
}

TEST(NamesTest, IpAddresses) {
  EXPECT_TRUE(IsValidIpAddress("192.0.2.1"));
  EXPECT_TRUE(IsValidIpAddress("2001:db8::1"));
  EXPECT_FALSE(IsValidIpAddress("192.0.2.256"));
  EXPECT_FALSE(IsValidIpAddress("example.org"));
}

TEST(NamesTest, Zones) {
  EXPECT_TRUE(IsUnderZone("a.b.example.org", "example.org"));
  EXPECT_TRUE(IsUnderZone("Example.org.", "example.org"));
  EXPECT_TRUE(IsUnderZone("*.example.org", "example.org"));
  EXPECT_FALSE(IsUnderZone("badexample.org", "example.org"));
  EXPECT_FALSE(IsUnderZone("example.org", "a.example.org"));
  EXPECT_EQ(NormalizeDnsName("WWW.Example.org."), "www.example.org");
}

}  // namespace
}  // namespace certsmith::api
