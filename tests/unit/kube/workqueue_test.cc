#include "kube/workqueue.h"

#include <gtest/gtest.h>

#include <future>
#include <optional>
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
  queue_.AddRateLimited("k", milliseconds(100));            // 100 ms * 2^5
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

TEST_F(WorkQueueTest, IdleWhenNothingIsReadyOrProcessingDelayedKeysAside) {
  EXPECT_TRUE(queue_.Idle());
  queue_.AddAfter("renew", seconds(60));
  EXPECT_TRUE(queue_.Idle());  // a key for later is not work now
  queue_.Add("a");
  EXPECT_FALSE(queue_.Idle());
  ASSERT_EQ(queue_.TryGet(), "a");
  EXPECT_FALSE(queue_.Idle());  // being processed
  queue_.Done("a");
  EXPECT_TRUE(queue_.Idle());
  clock_.Advance(seconds(60));
  queue_.PromoteDue();
  EXPECT_FALSE(queue_.Idle());
}

TEST_F(WorkQueueTest, DelayedKeyAlreadyQueuedIsNotDuplicated) {
  queue_.Add("a");
  queue_.AddAfter("a", seconds(1));
  clock_.Advance(seconds(1));
  EXPECT_EQ(queue_.TryGet(), "a");
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
}

// A Get blocked on an empty queue must be woken by ShutDown and by Add. Get also wakes by itself
// every max_idle_wait, which would hide a missing wake-up: here that wait is 30 s, six times the
// bound, and the worker is known to be inside the wait before the call under test.
class BlockedGetTest : public ::testing::Test {
 protected:
  static constexpr std::chrono::seconds kIdleWait{30};
  static constexpr std::chrono::seconds kBound{5};  // real time: generous on a loaded machine

  BlockedGetTest() : queue_(Options()) {}
  ~BlockedGetTest() override {
    queue_.ShutDown();
    if (worker_.joinable()) worker_.join();  // after a failed wake-up: up to kIdleWait
  }
  WorkQueueOptions Options() {
    WorkQueueOptions o;
    o.clock = &clock_;
    o.max_idle_wait = kIdleWait;
    return o;
  }
  // Starts a worker blocked in Get(); false if it did not block within the bound.
  bool StartBlockedWorker() {
    worker_ = std::thread([this] { got_.set_value(queue_.Get()); });
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    while (queue_.BlockedGets() == 0) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
  // What the blocked Get returned, if it returned within the bound.
  std::optional<std::optional<std::string>> Woken() {
    std::future<std::optional<std::string>> f = got_.get_future();
    if (f.wait_for(kBound) != std::future_status::ready) return std::nullopt;
    return f.get();
  }

  FakeClock clock_;
  WorkQueue queue_;
  std::promise<std::optional<std::string>> got_;
  std::thread worker_;
};

TEST_F(BlockedGetTest, ShutDownWakesBlockedGet) {
  ASSERT_TRUE(StartBlockedWorker());
  queue_.ShutDown();
  auto woken = Woken();
  ASSERT_TRUE(woken.has_value()) << "ShutDown did not wake the blocked Get within "
                                 << kBound.count() << " s";
  EXPECT_EQ(*woken, std::nullopt);
  EXPECT_TRUE(queue_.ShuttingDown());
  queue_.Add("late");
  EXPECT_EQ(queue_.Len(), 0u);
}

TEST_F(BlockedGetTest, BlockedGetReceivesAdd) {
  ASSERT_TRUE(StartBlockedWorker());
  queue_.Add("x");
  auto woken = Woken();
  ASSERT_TRUE(woken.has_value()) << "Add did not wake the blocked Get within " << kBound.count()
                                 << " s";
  EXPECT_EQ(*woken, "x");
}

// Done re-queues a key added while it was processed; a worker blocked meanwhile gets it.
TEST_F(BlockedGetTest, BlockedGetReceivesKeyRequeuedByDone) {
  queue_.Add("k");
  ASSERT_EQ(queue_.TryGet(), "k");
  queue_.Add("k");  // dirty while processing: waits for Done
  ASSERT_TRUE(StartBlockedWorker());
  queue_.Done("k");
  auto woken = Woken();
  ASSERT_TRUE(woken.has_value()) << "Done did not wake the blocked Get within " << kBound.count()
                                 << " s";
  EXPECT_EQ(*woken, "k");
}

// A delayed key added while a worker waits must shorten its wait: AddAfter wakes it to look at
// the new due time (else it sleeps the whole idle wait before seeing the key).
TEST_F(BlockedGetTest, BlockedGetReceivesDelayedKeyWhenDue) {
  ASSERT_TRUE(StartBlockedWorker());
  queue_.AddAfter("d", milliseconds(50));
  clock_.Advance(milliseconds(50));
  auto woken = Woken();
  ASSERT_TRUE(woken.has_value()) << "AddAfter did not wake the blocked Get within "
                                 << kBound.count() << " s";
  EXPECT_EQ(*woken, "d");
}

}  // namespace
}  // namespace certsmith::kube
