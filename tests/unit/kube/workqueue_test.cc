#include "kube/workqueue.h"

#include <gtest/gtest.h>

#include <thread>

namespace certsmith::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class WorkQueueTest : public ::testing::Test {
 protected:
  WorkQueueTest() : queue_(Options()) {}
  WorkQueueOptions Options() {
    WorkQueueOptions o;
    o.clock = &clock_;
    o.backoff_base = milliseconds(5);
    o.backoff_cap = seconds(1);
    return o;
  }
  FakeClock clock_;
  WorkQueue queue_;
};

TEST_F(WorkQueueTest, KeyQueuedTwiceWhileWaitingIsProcessedOnce) {
  queue_.Add("a");
  queue_.Add("b");
  queue_.Add("a");
  EXPECT_EQ(queue_.Len(), 2u);
  EXPECT_EQ(queue_.TryGet(), "a");
  EXPECT_EQ(queue_.TryGet(), "b");
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
}

TEST_F(WorkQueueTest, KeyReaddedWhileProcessingComesBackAfterDone) {
  queue_.Add("a");
  ASSERT_EQ(queue_.TryGet(), "a");
  queue_.Add("a");
  queue_.Add("a");
  EXPECT_EQ(queue_.TryGet(), std::nullopt);  // not handed to a second worker concurrently
  queue_.Done("a");
  EXPECT_EQ(queue_.TryGet(), "a");
  queue_.Done("a");
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
}

TEST_F(WorkQueueTest, RateLimitedBackoffDoublesCapsAndForgetResets) {
  std::vector<milliseconds> want = {milliseconds(5), milliseconds(10), milliseconds(20),
                                    milliseconds(40)};
  for (milliseconds w : want) {
    queue_.AddRateLimited("k");
    EXPECT_EQ(queue_.TryGet(), std::nullopt);
    clock_.Advance(w - milliseconds(1));
    EXPECT_EQ(queue_.TryGet(), std::nullopt) << w.count();
    clock_.Advance(milliseconds(1));
    ASSERT_EQ(queue_.TryGet(), "k") << w.count();
    queue_.Done("k");
  }
  EXPECT_EQ(queue_.NumRequeues("k"), 4);
  queue_.Forget("k");
  EXPECT_EQ(queue_.NumRequeues("k"), 0);
  queue_.AddRateLimited("k");
  clock_.Advance(milliseconds(5));
  EXPECT_EQ(queue_.TryGet(), "k");
}

TEST_F(WorkQueueTest, BackoffCapApplies) {
  for (int i = 0; i < 12; ++i) {
    queue_.AddRateLimited("k");
    clock_.Advance(seconds(2));
    ASSERT_EQ(queue_.TryGet(), "k");
    queue_.Done("k");
  }
  queue_.AddRateLimited("k");
  EXPECT_EQ(*queue_.NextDue() - clock_.Now(), seconds(1));
}

TEST_F(WorkQueueTest, RateLimitedWithItsOwnBaseSharesTheFailureCount) {
  queue_.AddRateLimited("k");  // 5 ms, one failure
  clock_.Advance(milliseconds(5));
  ASSERT_EQ(queue_.TryGet(), "k");
  queue_.Done("k");
  queue_.AddRateLimited("k", milliseconds(100));  // second failure: 100 ms * 2
  EXPECT_EQ(*queue_.NextDue() - clock_.Now(), milliseconds(200));
  EXPECT_EQ(queue_.NumRequeues("k"), 2);
  clock_.Advance(milliseconds(200));
  ASSERT_EQ(queue_.TryGet(), "k");
  queue_.Done("k");
  for (int i = 0; i < 3; ++i) {
    queue_.AddRateLimited("k", milliseconds(100));
    clock_.Advance(seconds(2));
    ASSERT_EQ(queue_.TryGet(), "k");
    queue_.Done("k");
  }
  queue_.AddRateLimited("k", milliseconds(100));  // 100 ms * 2^5
  EXPECT_EQ(*queue_.NextDue() - clock_.Now(), seconds(1));  // the queue's cap still applies
}

TEST_F(WorkQueueTest, AddAfterIsDrivenByTheClockAndKeepsEarliest) {
  queue_.AddAfter("renew", seconds(60));
  queue_.AddAfter("poll", seconds(5));
  queue_.AddAfter("renew", seconds(30));  // earlier: replaces
  queue_.AddAfter("renew", seconds(90));  // later: ignored
  EXPECT_EQ(queue_.DelayedLen(), 2u);
  clock_.Advance(seconds(5));
  EXPECT_EQ(queue_.PromoteDue(), 1u);
  EXPECT_EQ(queue_.TryGet(), "poll");
  clock_.Advance(seconds(24));
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
  clock_.Advance(seconds(1));
  EXPECT_EQ(queue_.TryGet(), "renew");
  EXPECT_EQ(queue_.DelayedLen(), 0u);
}

TEST_F(WorkQueueTest, DelayedKeyAlreadyQueuedIsNotDuplicated) {
  queue_.Add("a");
  queue_.AddAfter("a", seconds(1));
  clock_.Advance(seconds(1));
  EXPECT_EQ(queue_.TryGet(), "a");
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
}

TEST_F(WorkQueueTest, ShutDownWakesBlockedGet) {
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = queue_.Get(); });
  queue_.ShutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  EXPECT_TRUE(queue_.ShuttingDown());
  queue_.Add("late");
  EXPECT_EQ(queue_.Len(), 0u);
}

TEST_F(WorkQueueTest, BlockedGetReceivesAdd) {
  std::optional<std::string> got;
  std::thread worker([&] { got = queue_.Get(); });
  queue_.Add("x");
  worker.join();
  EXPECT_EQ(got, "x");
}

}  // namespace
}  // namespace certsmith::kube
