// Client-side rate limiting and the one place where the Kubernetes client waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "certsmith/clock.h"

namespace certsmith::kube {

using Duration = std::chrono::nanoseconds;

// Every wait of certsmith::kube (rate limit, retry backoff, informer backoff, leader election
// retry) goes through a Sleeper, so tests swap in FakeSleeper and never sleep.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Waits for d (or less, if interrupted). Returns false if interrupted.
  virtual bool Sleep(Duration d) = 0;
};

// Real waiting on a condition variable; Interrupt() ends current and future sleeps (shutdown).
class RealSleeper final : public Sleeper {
 public:
  bool Sleep(Duration d) override;
  void Interrupt();
  static RealSleeper& Instance();  // process-wide, never interrupted

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
};

// Advances a FakeClock instead of waiting, and records each duration asked for.
class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock* clock) : clock_(clock) {}
  bool Sleep(Duration d) override;
  std::vector<Duration> Sleeps() const;
  Duration Total() const;

 private:
  FakeClock* clock_;
  mutable std::mutex mu_;
  std::vector<Duration> sleeps_;
};

// What a TokenBucket did, for metrics and benchmarks.
struct RateLimiterStats {
  double qps = 0;            // the rate in force now (0: not limited)
  uint64_t throttled = 0;    // pushbacks from the server: 429 (API Priority and Fairness), 503
  uint64_t waits = 0;        // reservations that had to wait (client-side throttling)
  double waited_seconds = 0;  // the sum of those waits
};

// How a TokenBucket's rate may adapt (AIMD, as TCP does): while callers queue for tokens and the
// server has not pushed back for a whole window, the rate grows by `step` per window, up to
// `max_qps`; each pushback halves it, down to `min_qps`. max_qps <= qps keeps the rate fixed.
struct AdaptiveRate {
  double max_qps = 0;
  double min_qps = 1;
  double step = 0;  // 0: a tenth of the starting rate
  Duration window = std::chrono::seconds(1);
};

// Token bucket: `burst` tokens, refilled at `qps` per second on the injected clock. Reserve()
// takes a token now and says how long the caller must wait before using it (0 when one was
// available), so concurrent callers queue fairly without holding the lock while waiting.
// Pushback(retry_after) is the server saying "too many": every caller, not only the one that was
// refused, waits until retry_after has passed, and an adaptive rate is halved.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst, const Clock* clock, AdaptiveRate adaptive = {});
  Duration Reserve();
  // Reserve() then wait on sleeper. qps <= 0 disables limiting.
  void Wait(Sleeper& sleeper);
  void Pushback(Duration retry_after);
  // The server answered, but slowly (APF queues requests before it rejects them): the rate does
  // not grow in this window.
  void Congested();
  RateLimiterStats Stats() const;

 private:
  void Refill(Clock::TimePoint now);
  void Adapt(Clock::TimePoint now);

  mutable std::mutex mu_;
  double qps_;
  double burst_;
  double tokens_;
  const Clock* clock_;
  Clock::TimePoint last_;  // refilled up to here; in the future while paused by a pushback
  AdaptiveRate adaptive_;
  Clock::TimePoint window_start_;
  bool queued_in_window_ = false;
  bool pushback_in_window_ = false;
  RateLimiterStats stats_;
};

// Exponential backoff: base * 2^attempt, capped, with up to `jitter` fraction added.
Duration Backoff(int attempt, Duration base, Duration cap, double jitter = 0.0,
                 double random01 = 0.0);

}  // namespace certsmith::kube
