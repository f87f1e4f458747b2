#include "acme/link_header.h"

#include <gtest/gtest.h>

namespace certsmith::acme {
namespace {

using Urls = std::vector<std::string>;
constexpr char kRequest[] = "https://ca.example/acme/cert/abc";

TEST(LinkHeaderTest, SeveralLinksInOneHeader) {
  auto links = ParseLinkHeaders(
      {R"(<https://ca.example/acme/cert/abc/1>;rel="alternate", <https://ca.example/dir>;rel="index", <https://ca.example/acme/cert/abc/2>; rel="alternate")"},
      kRequest);
  ASSERT_EQ(links.size(), 3u);
  EXPECT_EQ(LinksWithRel(links, "alternate"),
            (Urls{"https://ca.example/acme/cert/abc/1", "https://ca.example/acme/cert/abc/2"}));
  EXPECT_EQ(LinksWithRel(links, "index"), (Urls{"https://ca.example/dir"}));
}

TEST(LinkHeaderTest, SeveralHeadersKeepOrder) {
  auto links = ParseLinkHeaders(
      {R"(<https://x.example/a>;rel=alternate)", R"(<https://x.example/up>;rel="up")",
       R"(<https://x.example/b>;rel="alternate")"},
      kRequest);
  EXPECT_EQ(LinksWithRel(links, "alternate"), (Urls{"https://x.example/a", "https://x.example/b"}));
  EXPECT_EQ(LinksWithRel(links, "up"), (Urls{"https://x.example/up"}));
}

TEST(LinkHeaderTest, QuotedParamsMayHoldCommasAndSemicolons) {
  auto links = ParseLinkHeaders(
      {R"(<https://x.example/a>; title="chain; one, \"quoted\""; REL="Alternate", <https://x.example/b>; rel="alternate")"},
      kRequest);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].params[0].first, "title");
  EXPECT_EQ(links[0].params[0].second, "chain; one, \"quoted\"");
  // Parameter names and relation types compare case-insensitively.
  EXPECT_TRUE(links[0].HasRel("alternate"));
  EXPECT_TRUE(links[1].HasRel("alternate"));
}

TEST(LinkHeaderTest, RelMayListSeveralTypes) {
  auto links = ParseLinkHeaders({R"(<https://x.example/a>; rel="index alternate")"}, kRequest);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_TRUE(links[0].HasRel("alternate"));
  EXPECT_TRUE(links[0].HasRel("index"));
  EXPECT_FALSE(links[0].HasRel("alt"));
}

TEST(LinkHeaderTest, RelativeReferencesResolveAgainstTheRequestUrl) {
  auto links = ParseLinkHeaders(
      {R"(<abc/1>;rel="alternate", </other/2>;rel="alternate", <../x>;rel="alternate", <//cdn.example/c>;rel="alternate")"},
      kRequest);
  EXPECT_EQ(LinksWithRel(links, "alternate"),
            (Urls{"https://ca.example/acme/cert/abc/1", "https://ca.example/other/2",
                  "https://ca.example/acme/x", "https://cdn.example/c"}));
}

TEST(LinkHeaderTest, MalformedEntriesAreSkipped) {
  auto links = ParseLinkHeaders(
      {R"(garbage, <https://x.example/ok>;rel="alternate", <unterminated;rel="alternate")", ""},
      kRequest);
  EXPECT_EQ(LinksWithRel(links, "alternate"), (Urls{"https://x.example/ok"}));
}

struct ResolveCase {
  const char* base;
  const char* ref;
  const char* want;
};

TEST(ResolveUrlTest, Rfc3986Examples) {
  // From RFC 3986 §5.4.1 (normal examples), base http://a/b/c/d;p?q
  const ResolveCase cases[] = {
      {"http://a/b/c/d;p?q", "g", "http://a/b/c/g"},
      {"http://a/b/c/d;p?q", "./g", "http://a/b/c/g"},
      {"http://a/b/c/d;p?q", "g/", "http://a/b/c/g/"},
      {"http://a/b/c/d;p?q", "/g", "http://a/g"},
      {"http://a/b/c/d;p?q", "//g", "http://g"},
      {"http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y"},
      {"http://a/b/c/d;p?q", "g?y", "http://a/b/c/g?y"},
      {"http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s"},
      {"http://a/b/c/d;p?q", "", "http://a/b/c/d;p?q"},
      {"http://a/b/c/d;p?q", ".", "http://a/b/c/"},
      {"http://a/b/c/d;p?q", "..", "http://a/b/"},
      {"http://a/b/c/d;p?q", "../g", "http://a/b/g"},
      {"http://a/b/c/d;p?q", "../../g", "http://a/g"},
      {"http://a/b/c/d;p?q", "../../../g", "http://a/g"},
      {"http://a/b/c/d;p?q", "https://other/x", "https://other/x"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ResolveUrl(c.base, c.ref), c.want) << c.ref;
  }
}

}  // namespace
}  // namespace certsmith::acme
