#include "api/duration.h"

#include <gtest/gtest.h>

namespace certsmith::api {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ParseDurationTest, AcceptsGoDurations) {
  struct Case {
    const char* text;
    Duration want;
  } cases[] = {
      {"2160h", hours(2160)},
      {"90m", minutes(90)},
      {"1h30m", minutes(90)},
      {"1.5h", minutes(90)},
      {"300ms", milliseconds(300)},
      {"1h2m3s", seconds(3723)},
      {"0", Duration(0)},
      {"-5m", minutes(-5)},
      {"10us", nanoseconds(10'000)},
      {"10\xC2\xB5s", nanoseconds(10'000)},
      {"7ns", nanoseconds(7)},
      {".5s", milliseconds(500)},
      {"1.s", seconds(1)},
  };
  for (const Case& c : cases) {
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().message();
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(ParseDurationTest, RejectsNonDurations) {
  for (const char* text : {"", "90", "1d", "h", "1h30", "abc", "1 h", "--1h", ".s", "1.5.5h",
                           "9999999999999999999h"}) {
    Result<Duration> d = ParseDuration(text);
    EXPECT_FALSE(d.ok()) << text;
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(ParseDurationTest, ErrorQuotesTheInputAndAnExample) {
  Result<Duration> d = ParseDuration("30d");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("\"30d\""), std::string::npos);
  EXPECT_NE(d.status().message().find("2160h"), std::string::npos);
}

TEST(FormatDurationTest, MatchesGoString) {
  EXPECT_EQ(FormatDuration(hours(2160)), "2160h0m0s");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m0s");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(seconds(5)), "5s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(milliseconds(300)), "300ms");
  EXPECT_EQ(FormatDuration(nanoseconds(1500)), "1.5\xC2\xB5s");
  EXPECT_EQ(FormatDuration(nanoseconds(12)), "12ns");
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(minutes(-5)), "-5m0s");
}

TEST(FormatDurationTest, RoundTrips) {
  for (const char* text : {"2160h", "1h30m", "45m", "1.25s", "720h", "100ms"}) {
    Result<Duration> d = ParseDuration(text);
    ASSERT_TRUE(d.ok());
    Result<Duration> again = ParseDuration(FormatDuration(*d));
    ASSERT_TRUE(again.ok()) << FormatDuration(*d);
    EXPECT_EQ(*again, *d) << text;
  }
}

}  // namespace
}  // namespace certsmith::api
