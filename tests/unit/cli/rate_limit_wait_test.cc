#include "cli/rate_limit_wait.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace certsmith::cli {
namespace {

using std::chrono::seconds;

Status RateLimited(std::optional<seconds> retry_after) {
  Status s(ErrorCode::kResourceExhausted, "urn:ietf:params:acme:error:rateLimited: slow down");
  s.set_http_status(429);
  if (retry_after) s.set_retry_after(*retry_after);
  return s;
}

class RateLimitWaitTest : public ::testing::Test {
 protected:
  RateLimitWait Make(seconds max_wait) {
    return RateLimitWait(
        max_wait, [this](seconds d) { slept_.push_back(d); },
        [this](const std::string& line) { said_.push_back(line); });
  }
  std::vector<seconds> slept_;
  std::vector<std::string> said_;
};

TEST_F(RateLimitWaitTest, AShortRetryAfterIsWaitedOutAndSaidOnce) {
  int calls = 0;
  Result<int> r = Make(seconds(60)).Call("the new order", [&]() -> Result<int> {
    return ++calls == 1 ? Result<int>(RateLimited(seconds(2))) : Result<int>(7);
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(slept_, std::vector<seconds>{seconds(2)});
  ASSERT_EQ(said_.size(), 1u);
  EXPECT_NE(said_[0].find("rate limiting the new order"), std::string::npos) << said_[0];
  EXPECT_NE(said_[0].find("waiting 2s"), std::string::npos) << said_[0];
  EXPECT_NE(said_[0].find("--max-wait 60s"), std::string::npos) << said_[0];
}

TEST_F(RateLimitWaitTest, ARetryAfterLongerThanMaxWaitEndsWithTheCasError) {
  int calls = 0;
  Status s = Make(seconds(60)).Call("the finalize", [&] {
    ++calls;
    return RateLimited(seconds(61));
  });
  EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(s.retry_after(), seconds(61));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(slept_.empty());
  EXPECT_TRUE(said_.empty());
}

TEST_F(RateLimitWaitTest, TheTotalWaitOfOneRequestIsBounded) {
  int calls = 0;
  Status s = Make(seconds(10)).Call("the new order", [&] {
    ++calls;
    return RateLimited(seconds(4));
  });
  EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(calls, 3);  // waited 4 + 4; a third 4 s would pass 10 s
  EXPECT_EQ(slept_, (std::vector<seconds>{seconds(4), seconds(4)}));
  ASSERT_EQ(said_.size(), 3u);
  EXPECT_NE(said_[2].find("giving up"), std::string::npos) << said_[2];
}

TEST_F(RateLimitWaitTest, RetryAfterZeroStillEnds) {
  int calls = 0;
  Status s = Make(seconds(3)).Call("x", [&] {
    ++calls;
    return RateLimited(seconds(0));
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(calls, 4);  // 1 s counted per round
}

TEST_F(RateLimitWaitTest, OtherErrorsAndA429WithoutRetryAfterAreNotRetried) {
  int calls = 0;
  Status s = Make(seconds(60)).Call("x", [&] {
    ++calls;
    return calls == 1 ? RateLimited(std::nullopt) : Status::Ok();
  });
  EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted);
  Status unavailable = Make(seconds(60)).Call("x", [&] {
    ++calls;
    return Status(ErrorCode::kUnavailable, "503").set_retry_after(seconds(1));
  });
  EXPECT_EQ(unavailable.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(slept_.empty());
}

TEST_F(RateLimitWaitTest, MaxWaitZeroNeverWaits) {
  int calls = 0;
  Status s = Make(seconds(0)).Call("x", [&] {
    ++calls;
    return RateLimited(seconds(1));
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace certsmith::cli
