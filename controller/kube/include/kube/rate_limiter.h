// Client-side rate limiting and the one place where the Kubernetes client waits.
#pragma once

#include <chrono>
#include <condition_variable>
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

// Token bucket: `burst` tokens, refilled at `qps` per second on the injected clock. Reserve()
// takes a token now and says how long the caller must wait before using it (0 when one was
// available), so concurrent callers queue fairly without holding the lock while waiting.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst, const Clock* clock);
  Duration Reserve();
  // Reserve() then wait on sleeper. qps <= 0 disables limiting.
  void Wait(Sleeper& sleeper);

 private:
  std::mutex mu_;
  double qps_;
  double burst_;
  double tokens_;
  const Clock* clock_;
  Clock::TimePoint last_;
};

// Exponential backoff: base * 2^attempt, capped, with up to `jitter` fraction added.
Duration Backoff(int attempt, Duration base, Duration cap, double jitter = 0.0,
                 double random01 = 0.0);

}  // namespace certsmith::kube
