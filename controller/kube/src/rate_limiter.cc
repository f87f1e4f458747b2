#include "kube/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace certsmith::kube {

bool RealSleeper::Sleep(Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  if (interrupted_) return false;
  return !cv_.wait_for(lock, d, [&] { return interrupted_; });
}

void RealSleeper::Interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  cv_.notify_all();
}

RealSleeper& RealSleeper::Instance() {
  static RealSleeper sleeper;
  return sleeper;
}

bool FakeSleeper::Sleep(Duration d) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(d);
  }
  if (d > Duration::zero())
    clock_->Advance(std::chrono::duration_cast<std::chrono::system_clock::duration>(d));
  return true;
}

std::vector<Duration> FakeSleeper::Sleeps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sleeps_;
}

Duration FakeSleeper::Total() const {
  Duration total{0};
  for (Duration d : Sleeps()) total += d;
  return total;
}

TokenBucket::TokenBucket(double qps, int burst, const Clock* clock, AdaptiveRate adaptive)
    : qps_(qps),
      burst_(std::max(1, burst)),
      tokens_(burst_),
      clock_(clock),
      last_(clock->Now()),
      adaptive_(adaptive),
      window_start_(last_) {
  if (adaptive_.step <= 0) adaptive_.step = std::max(1.0, qps / 10);
  stats_.qps = std::max(0.0, qps);
}

void TokenBucket::Refill(Clock::TimePoint now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

void TokenBucket::Adapt(Clock::TimePoint now) {
  if (now - window_start_ < adaptive_.window) return;
  if (adaptive_.max_qps > qps_ && queued_in_window_ && !pushback_in_window_) {
    qps_ = std::min(adaptive_.max_qps, qps_ + adaptive_.step);
    stats_.qps = qps_;
  }
  window_start_ = now;
  queued_in_window_ = false;
  pushback_in_window_ = false;
}

Duration TokenBucket::Reserve() {
  if (qps_ <= 0) return Duration::zero();
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_->Now();
  Refill(now);
  Adapt(now);
  tokens_ -= 1;
  double wait = tokens_ < 0 ? -tokens_ / qps_ : 0.0;
  if (last_ > now) wait += std::chrono::duration<double>(last_ - now).count();
  if (wait <= 0) return Duration::zero();
  queued_in_window_ = true;
  ++stats_.waits;
  stats_.waited_seconds += wait;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(wait));
}

void TokenBucket::Wait(Sleeper& sleeper) {
  Duration d = Reserve();
  if (d > Duration::zero()) sleeper.Sleep(d);
}

void TokenBucket::Pushback(Duration retry_after) {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.throttled;
  if (qps_ <= 0) return;
  auto now = clock_->Now();
  Refill(now);
  pushback_in_window_ = true;
  if (adaptive_.max_qps > 0) {
    qps_ = std::max(std::min(adaptive_.min_qps, qps_), qps_ / 2);
    stats_.qps = qps_;
  }
  auto until = now + std::chrono::duration_cast<std::chrono::system_clock::duration>(retry_after);
  if (until > last_) {
    tokens_ = std::min(tokens_, 0.0);  // no burst right after the pause
    last_ = until;
  }
}

void TokenBucket::Congested() {
  std::lock_guard<std::mutex> lock(mu_);
  pushback_in_window_ = true;
}

RateLimiterStats TokenBucket::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Duration Backoff(int attempt, Duration base, Duration cap, double jitter, double random01) {
  double scaled = static_cast<double>(base.count()) * std::pow(2.0, std::min(attempt, 40));
  double capped = std::min(scaled, static_cast<double>(cap.count()));
  capped *= 1.0 + jitter * random01;
  return Duration(static_cast<Duration::rep>(capped));
}

}  // namespace certsmith::kube
