#include "acme/retry_after.h"

#include <gtest/gtest.h>

namespace certsmith::acme {
namespace {

using std::chrono::seconds;

// 2026-11-23T16:00:00Z
const Clock::TimePoint kNow{seconds(1795449600)};

TEST(RetryAfterTest, DelaySeconds) {
  EXPECT_EQ(ParseRetryAfter("120", kNow), seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", kNow), seconds(0));
}

TEST(RetryAfterTest, HugeDelayDoesNotOverflow) {
  auto d = ParseRetryAfter("99999999999999999999999", kNow);
  ASSERT_TRUE(d.has_value());
  EXPECT_GT(*d, seconds(86400));
}

// Found by retry_after_fuzz: the year 9999 overflowed the nanosecond clock (UBSan: signed
// integer overflow). It is a wait longer than anyone accepts, not a wrapped-around date.
TEST(RetryAfterTest, AFarFutureDateIsALongWaitNotAnOverflow) {
  const Clock::TimePoint now{std::chrono::seconds(1748736000)};
  auto wait = ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, std::chrono::hours(24 * 365 * 200));
  EXPECT_EQ(PollDelay(0, wait), kMaxRetryAfter);
}

// Outside the nanosecond clock's years 1678-2261, both ways: the difference from now is taken in
// seconds (UBSan had "signed integer overflow" on `when - now` for the year 1000); the year 3000
// is not cut to 2262 either.
TEST(RetryAfterTest, DatesOutsideTheClockRangeDoNotOverflow) {
  EXPECT_EQ(ParseRetryAfter("Wed, 01 Jan 1000 00:00:00 GMT", kNow), seconds(0));
  auto wait = ParseRetryAfter("Wed, 01 Jan 3000 00:00:00 GMT", kNow);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, std::chrono::hours(24 * 365 * 970));
  EXPECT_EQ(PollDelay(0, wait), kMaxRetryAfter);
}

TEST(RetryAfterTest, ImfFixdate) {
  EXPECT_EQ(ParseRetryAfter("Mon, 23 Nov 2026 16:01:30 GMT", kNow), seconds(90));
}

TEST(RetryAfterTest, ObsoleteRfc850AndAsctimeForms) {
  EXPECT_EQ(ParseRetryAfter("Monday, 23-Nov-26 16:00:10 GMT", kNow), seconds(10));
  EXPECT_EQ(ParseRetryAfter("Mon Nov 23 16:00:20 2026", kNow), seconds(20));
}

TEST(RetryAfterTest, PastDateIsZero) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kNow), seconds(0));
}

TEST(RetryAfterTest, GarbageIsRejected) {
  EXPECT_FALSE(ParseRetryAfter("", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("1.5", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("Mon, 23 Nov 2026 16:01:30 GMT trailing", kNow).has_value());
}

TEST(PollDelayTest, ExponentialWithCap) {
  EXPECT_EQ(PollDelay(0), seconds(1));
  EXPECT_EQ(PollDelay(1), seconds(2));
  EXPECT_EQ(PollDelay(2), seconds(4));
  EXPECT_EQ(PollDelay(5), seconds(32));
  EXPECT_EQ(PollDelay(6), kMaxPollDelay);
  EXPECT_EQ(PollDelay(1000), kMaxPollDelay);
  EXPECT_EQ(PollDelay(-3), seconds(1));
}

TEST(PollDelayTest, RetryAfterWinsButIsClamped) {
  EXPECT_EQ(PollDelay(5, seconds(3)), seconds(3));
  EXPECT_EQ(PollDelay(0, seconds(0)), seconds(0));
  EXPECT_EQ(PollDelay(0, seconds(86400 * 3)), kMaxRetryAfter);
  EXPECT_EQ(PollDelay(0, seconds(-10)), seconds(0));
}

}  // namespace
}  // namespace certsmith::acme
