// Http01Server on loopback: port 0, real GETs through the production transport.
#include "certsmith/http01_server.h"

#include <gtest/gtest.h>

#include "certsmith/http_transport.h"

namespace certsmith {
namespace {

TEST(Http01ServerTest, LookupServesOnlyChallengePaths) {
  Http01Server server;
  ASSERT_TRUE(server.SetResponse("tok_en-1", "tok_en-1.thumb").ok());
  EXPECT_EQ(server.Lookup("/.well-known/acme-challenge/tok_en-1"), "tok_en-1.thumb");
  EXPECT_FALSE(server.Lookup("/.well-known/acme-challenge/other").has_value());
  EXPECT_FALSE(server.Lookup("/tok_en-1").has_value());
  EXPECT_FALSE(server.SetResponse("../etc/passwd", "x").ok());
  server.Remove("tok_en-1");
  EXPECT_FALSE(server.Lookup("/.well-known/acme-challenge/tok_en-1").has_value());
}

TEST(Http01ServerTest, ResponseForADomainAnswersOnlyThatHost) {
  Http01Server server;
  ASSERT_TRUE(server.SetResponse("tok", "tok.thumb", "a.example").ok());
  const char* path = "/.well-known/acme-challenge/tok";
  EXPECT_EQ(server.Lookup(path, "a.example"), "tok.thumb");
  EXPECT_EQ(server.Lookup(path, "A.Example.:8080"), "tok.thumb");
  EXPECT_FALSE(server.Lookup(path, "b.example").has_value());
  EXPECT_FALSE(server.Lookup(path, "").has_value());
  EXPECT_FALSE(server.Lookup(path, "a.example.evil").has_value());
}

TEST(Http01ServerTest, HostMatchingStripsPortsAndBrackets) {
  EXPECT_TRUE(Http01HostMatches("[::1]:80", "::1"));
  EXPECT_TRUE(Http01HostMatches("a.example", "a.example."));
  EXPECT_FALSE(Http01HostMatches("a.example:80:90", "a.example"));
}

TEST(Http01ServerTest, AnswersOverHttpOnAFreePort) {
  auto transport = MakeCpprestTransport(TransportOptions{});
  if (!transport) GTEST_SKIP() << "no HTTP transport built in";
  Http01Server server;
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  ASSERT_NE(server.port(), 0);
  ASSERT_TRUE(server.SetResponse("abc", "abc.xyz").ok());
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  HttpRequest request;
  request.url = base + "/.well-known/acme-challenge/abc";
  auto hit = transport->Send(request);
  ASSERT_TRUE(hit.ok()) << hit.status().message();
  EXPECT_EQ(hit->status, 200);
  EXPECT_EQ(hit->body, "abc.xyz");
  EXPECT_NE(hit->Header("content-type").value_or("").find("text/plain"), std::string::npos);
  request.url = base + "/.well-known/acme-challenge/nope";
  auto miss = transport->Send(request);
  ASSERT_TRUE(miss.ok());
  EXPECT_EQ(miss->status, 404);
  EXPECT_EQ(server.served_count(), 1);
  server.Stop();
  EXPECT_EQ(server.port(), 0);
}

}  // namespace
}  // namespace certsmith
