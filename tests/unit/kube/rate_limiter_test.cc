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

// A busy second: `n` callers reserve at once (more than the rate: they queue), then one second
// of fake time passes.
void Busy(TokenBucket& bucket, FakeClock& clock, int n) {
  for (int i = 0; i < n; ++i) bucket.Reserve();
  clock.Advance(std::chrono::seconds(1));
}

TEST(TokenBucketTest, FixedRateNeverGrowsAndPushbackStillPausesEveryCaller) {
  FakeClock clock;
  TokenBucket bucket(10, 1, &clock);
  for (int s = 0; s < 5; ++s) Busy(bucket, clock, 30);
  EXPECT_EQ(bucket.Stats().qps, 10);
  clock.Advance(std::chrono::seconds(1000));  // the queue drained: one token in the bucket
  EXPECT_EQ(bucket.Reserve(), Duration::zero());
  bucket.Pushback(std::chrono::seconds(3));
  EXPECT_EQ(bucket.Stats().qps, 10);  // not adaptive: the configured rate stays
  // The next caller (not the refused one) waits out the Retry-After, then one refill interval.
  EXPECT_EQ(bucket.Reserve(), std::chrono::seconds(3) + milliseconds(100));
  EXPECT_EQ(bucket.Stats().throttled, 1u);
}

TEST(TokenBucketTest, AdaptiveRateGrowsOnlyWhileCallersQueueAndHalvesOnPushback) {
  FakeClock clock;
  TokenBucket bucket(10, 1, &clock, AdaptiveRate{.max_qps = 40, .min_qps = 1, .step = 5});
  // Idle or light use (no caller waits): no growth, however long.
  for (int s = 0; s < 5; ++s) {
    EXPECT_EQ(bucket.Reserve(), Duration::zero());
    clock.Advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(bucket.Stats().qps, 10);
  EXPECT_EQ(bucket.Stats().waits, 0u);
  // Busy: +5 per window with queued callers, capped at max_qps.
  Busy(bucket, clock, 30);
  Busy(bucket, clock, 30);
  EXPECT_EQ(bucket.Stats().qps, 15);
  for (int s = 0; s < 20; ++s) Busy(bucket, clock, 100);
  EXPECT_EQ(bucket.Stats().qps, 40);
  EXPECT_GT(bucket.Stats().waits, 0u);
  EXPECT_GT(bucket.Stats().waited_seconds, 0);
  // A 429 halves it; the window of the pushback does not grow it back.
  bucket.Pushback(std::chrono::seconds(1));
  EXPECT_EQ(bucket.Stats().qps, 20);
  Busy(bucket, clock, 100);
  EXPECT_EQ(bucket.Stats().qps, 20);
  // Repeated pushbacks: down to min_qps, never to zero.
  for (int i = 0; i < 10; ++i) bucket.Pushback(Duration::zero());
  EXPECT_EQ(bucket.Stats().qps, 1);
  EXPECT_EQ(bucket.Stats().throttled, 11u);
}

TEST(TokenBucketTest, SlowAnswersHoldTheAdaptiveRate) {
  FakeClock clock;
  TokenBucket bucket(10, 1, &clock, AdaptiveRate{.max_qps = 40, .step = 5});
  Busy(bucket, clock, 30);  // first window: queued
  for (int s = 0; s < 5; ++s) {
    bucket.Congested();
    Busy(bucket, clock, 30);
  }
  EXPECT_EQ(bucket.Stats().qps, 10);
}

TEST(TokenBucketTest, TooManyRequestsPausesTheWholeClient) {
  FakeClock clock;
  FakeSleeper sleeper(&clock);
  RestConfig cfg;
  cfg.server = "https://x";
  cfg.qps = 100;
  cfg.burst = 100;
  cfg.max_qps = 200;
  RestClientOptions o;
  o.clock = &clock;
  o.sleeper = &sleeper;
  o.max_attempts = 1;
  auto transport = std::make_shared<testing::FakeTransport>();
  RestClient client(cfg, transport, o);
  transport->Push(testing::Response(429, "{}", {{"retry-after", "4"}}));
  EXPECT_EQ(client.Get(kSecrets, "ns", "a").status().code(), ErrorCode::kResourceExhausted);
  auto refused_at = clock.Now();
  // Another call (another worker's) waits out the Retry-After before it is sent.
  ASSERT_TRUE(client.Get(kSecrets, "ns", "b").ok());
  EXPECT_GE(clock.Now() - refused_at, std::chrono::seconds(4));
  EXPECT_EQ(client.LimiterStats().throttled, 1u);
  EXPECT_EQ(client.LimiterStats().qps, 50);
}

TEST(BackoffTest, DoublesAndCaps) {
  EXPECT_EQ(Backoff(0, milliseconds(5), std::chrono::seconds(1)), milliseconds(5));
  EXPECT_EQ(Backoff(3, milliseconds(5), std::chrono::seconds(1)), milliseconds(40));
  EXPECT_EQ(Backoff(30, milliseconds(5), std::chrono::seconds(1)), std::chrono::seconds(1));
  EXPECT_EQ(Backoff(1, milliseconds(100), std::chrono::seconds(1), 0.5, 1.0), milliseconds(300));
}

}  // namespace
}  // namespace certsmith::kube
