#include <gtest/gtest.h>

#include <string>

#include "certsmith/log.h"

namespace certsmith::log {
namespace {

TEST(LogSanitizeTest, KeepsPrintableText) {
  EXPECT_EQ(Sanitize("urn:ietf:params:acme:error:badNonce"), "urn:ietf:params:acme:error:badNonce");
  EXPECT_EQ(Sanitize("Île-de-France"), "Île-de-France");  // UTF-8 passes through
}

TEST(LogSanitizeTest, EscapesControlCharacters) {
  EXPECT_EQ(Sanitize("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(Sanitize(std::string("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(Sanitize("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(Sanitize("del\x7f"), "del\\x7f");
}

TEST(LogSanitizeTest, ForgedLogLineCannotStartANewLine) {
  std::string out = Sanitize("ok\nts=2026 level=error msg=forged");
  EXPECT_EQ(out.find('\n'), std::string::npos);
}

TEST(LogSanitizeTest, TruncatesLongInput) {
  std::string long_text(1000, 'a');
  std::string out = Sanitize(long_text, 10);
  EXPECT_EQ(out, std::string(10, 'a') + "...");
  EXPECT_EQ(Sanitize("short", 10), "short");
}

}  // namespace
}  // namespace certsmith::log
