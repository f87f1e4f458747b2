#include "cli/flag_parser.h"

#include <gtest/gtest.h>

namespace certsmith::cli {
namespace {

std::vector<FlagSpec> Specs() {
  return {{"server", 0, true, false, "", "URL"},
          {"domain", 'd', true, true, "", "NAME"},
          {"verbose", 'v', false, false, ""}};
}

TEST(FlagParserTest, LongShortInlineAndRepeated) {
  auto r = ParseFlags(Specs(), {"--server", "https://x/dir", "-d", "a.example", "-db.example",
                                "--domain=c.example", "-v", "extra"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Get("server"), "https://x/dir");
  EXPECT_EQ(r->GetAll("domain"), (std::vector<std::string>{"a.example", "b.example", "c.example"}));
  EXPECT_TRUE(r->Has("verbose"));
  EXPECT_EQ(r->positional(), std::vector<std::string>{"extra"});
}

TEST(FlagParserTest, LastValueWinsForSingleFlags) {
  auto r = ParseFlags(Specs(), {"--server=a", "--server", "b"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Get("server"), "b");
  EXPECT_EQ(r->GetAll("server").size(), 1u);
}

TEST(FlagParserTest, Errors) {
  auto unknown = ParseFlags(Specs(), {"--nope"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("--nope"), std::string::npos);
  auto missing = ParseFlags(Specs(), {"--server"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("needs a value (URL)"), std::string::npos);
  EXPECT_FALSE(ParseFlags(Specs(), {"--verbose=yes"}).ok());
  EXPECT_FALSE(ParseFlags(Specs(), {"-x"}).ok());
}

TEST(FlagParserTest, HelpAndDoubleDash) {
  auto r = ParseFlags(Specs(), {"-h", "--", "--server"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Has("help"));
  EXPECT_EQ(r->positional(), std::vector<std::string>{"--server"});
  EXPECT_FALSE(r->Has("server"));
}

TEST(FlagParserTest, HelpTextNamesEveryFlag) {
  std::string help = FormatFlagHelp(Specs());
  EXPECT_NE(help.find("--server URL"), std::string::npos);
  EXPECT_NE(help.find("-d, --domain NAME"), std::string::npos);
  EXPECT_NE(help.find("(repeatable)"), std::string::npos);
}

}  // namespace
}  // namespace certsmith::cli
