#include "cli/poll_interval.h"

#include <gtest/gtest.h>

namespace certsmith::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(PollIntervalTest, FirstPollIsImmediateThenShortBackoff) {
  EXPECT_EQ(PollInterval(0, std::nullopt), milliseconds(0));
  EXPECT_EQ(PollInterval(1, std::nullopt), milliseconds(20));
  EXPECT_EQ(PollInterval(2, std::nullopt), milliseconds(40));
  EXPECT_EQ(PollInterval(5, std::nullopt), milliseconds(320));
}

TEST(PollIntervalTest, CappedAtFiveSeconds) {
  EXPECT_EQ(PollInterval(9, std::nullopt), milliseconds(5000));
  EXPECT_EQ(PollInterval(1000, std::nullopt), milliseconds(5000));
}

TEST(PollIntervalTest, RetryAfterWinsEvenOnTheFirstPoll) {
  EXPECT_EQ(PollInterval(0, seconds(30)), milliseconds(30'000));
  EXPECT_EQ(PollInterval(7, seconds(0)), milliseconds(0));
}

}  // namespace
}  // namespace certsmith::cli
