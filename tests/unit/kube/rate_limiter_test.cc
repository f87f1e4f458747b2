#include "kube/rate_limiter.h"

#include <gtest/gtest.h>

#include "unit/kube/fake_transport.h"
#include "kube/rest_client.h"

namespace certsmith::kube {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucketTest, BurstThenOneTokenPerInterval) {
  FakeClock clock;
  TokenBucket bucket(/*qps=*/10, /*burst=*/3, &clock);
  EXPECT_EQ(bucket.Reserve(), Duration::zero());
  EXPECT_EQ(bucket.Reserve(), Duration::zero());
  EXPECT_EQ(bucket.Reserve(), Duration::zero());
  EXPECT_EQ(bucket.Reserve(), milliseconds(100));  // 4th waits one refill interval
  EXPECT_EQ(bucket.Reserve(), milliseconds(200));  // 5th queues behind it
  clock.Advance(milliseconds(300));
  EXPECT_EQ(bucket.Reserve(), milliseconds(0));  // debt of 2 repaid, one token refilled
  clock.Advance(std::chrono::seconds(10));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.Reserve(), Duration::zero());  // capped at burst
  EXPECT_EQ(bucket.Reserve(), milliseconds(100));
}

TEST(TokenBucketTest, ZeroQpsDisables) {
  FakeClock clock;
  TokenBucket bucket(0, 1, &clock);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(bucket.Reserve(), Duration::zero());
}

TEST(TokenBucketTest, RestClientWaitsThroughSleeper) {
  FakeClock clock;
  FakeSleeper sleeper(&clock);
  RestConfig cfg;
  cfg.server = "https://x";
  cfg.qps = 5;
  cfg.burst = 2;
  RestClientOptions o;
  o.clock = &clock;
  o.sleeper = &sleeper;
  RestClient client(cfg, std::make_shared<testing::FakeTransport>(), o);
  auto start = clock.Now();
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(client.Get(kSecrets, "ns", "s").ok());
  // 2 free, then 10 more at 5 per second: 2 seconds of (fake) waiting.
  EXPECT_EQ(clock.Now() - start, std::chrono::seconds(2));
  EXPECT_EQ(sleeper.Sleeps().size(), 10u);
}

TEST(BackoffTest, DoublesAndCaps) {
  EXPECT_EQ(Backoff(0, milliseconds(5), std::chrono::seconds(1)), milliseconds(5));
  EXPECT_EQ(Backoff(3, milliseconds(5), std::chrono::seconds(1)), milliseconds(40));
  EXPECT_EQ(Backoff(30, milliseconds(5), std::chrono::seconds(1)), std::chrono::seconds(1));
  EXPECT_EQ(Backoff(1, milliseconds(100), std::chrono::seconds(1), 0.5, 1.0), milliseconds(300));
}

}  // namespace
}  // namespace certsmith::kube
