// A work queue of object keys for reconcilers, with client-go's semantics:
//  - deduplicating: a key added while it waits is queued once;
//  - a key added while it is being processed is queued again only after Done(key);
//  - AddRateLimited: per-key exponential backoff (base * 2^failures, capped) until Forget(key);
//  - AddAfter: delayed add, due on the injected Clock. Due keys are moved into the queue by
//    PromoteDue(), which Get()/TryGet() call first, so a test advances its FakeClock and calls
//    TryGet() (or PromoteDue()) to see the key — no thread and no sleep involved;
//  - ShutDown wakes every blocked Get.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "certsmith/clock.h"
#include "kube/rate_limiter.h"

namespace certsmith::kube {

struct WorkQueueOptions {
  const Clock* clock = &SystemClock::Instance();
  Duration backoff_base = std::chrono::milliseconds(5);
  Duration backoff_cap = std::chrono::seconds(1000);
  // Get() re-checks delayed keys at least this often in real time (a guard for clocks that jump).
  Duration max_idle_wait = std::chrono::seconds(1);
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});

  void Add(const std::string& key);
  void AddAfter(const std::string& key, Duration delay);
  // AddAfter(key, backoff for its failure count) and counts one more failure.
  void AddRateLimited(const std::string& key);
  // The same with another base (e.g. a short one for write conflicts, which clear up as soon as
  // an informer catches up); the failure count is shared.
  void AddRateLimited(const std::string& key, Duration base);
  // Resets the failure count of key (call after a successful reconcile).
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // Blocks until a key is ready or the queue is shut down (then std::nullopt).
  std::optional<std::string> Get();
  // Non-blocking Get.
  std::optional<std::string> TryGet();
  // The caller finished processing key.
  void Done(const std::string& key);

  // Moves the delayed keys that are due on the clock into the queue; returns how many.
  size_t PromoteDue();
  // When the earliest delayed key is due, if any.
  std::optional<Clock::TimePoint> NextDue() const;

  void ShutDown();
  bool ShuttingDown() const;
  size_t Len() const;         // keys ready to Get
  size_t DelayedLen() const;  // keys waiting for their time
  // Nothing ready to Get and nothing being processed (delayed keys wait for their time).
  bool Idle() const;
  // Get() calls blocked now, waiting for a key. A caller that reads n > 0 knows those workers
  // are inside the wait (the count changes under the lock the wait releases), so an Add or
  // ShutDown from then on must wake them: how the tests check the wake-ups.
  size_t BlockedGets() const;

 private:
  void AddLocked(const std::string& key);
  size_t PromoteDueLocked();
  std::optional<std::string> PopLocked();

  WorkQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;  // queued or to be re-queued after Done
  std::set<std::string> processing_;
  std::multimap<Clock::TimePoint, std::string> delayed_;
  std::map<std::string, Clock::TimePoint> delayed_at_;  // key -> earliest due time
  std::map<std::string, int> failures_;
  size_t blocked_gets_ = 0;
  bool shutting_down_ = false;
};

}  // namespace certsmith::kube
