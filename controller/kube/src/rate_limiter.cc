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

TokenBucket::TokenBucket(double qps, int burst, const Clock* clock)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(burst_), clock_(clock), last_(clock->Now()) {}

Duration TokenBucket::Reserve() {
  if (qps_ <= 0) return Duration::zero();
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_->Now();
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

void TokenBucket::Wait(Sleeper& sleeper) {
  Duration d = Reserve();
  if (d > Duration::zero()) sleeper.Sleep(d);
}

Duration Backoff(int attempt, Duration base, Duration cap, double jitter, double random01) {
  double scaled = static_cast<double>(base.count()) * std::pow(2.0, std::min(attempt, 40));
  double capped = std::min(scaled, static_cast<double>(cap.count()));
  capped *= 1.0 + jitter * random01;
  return Duration(static_cast<Duration::rep>(capped));
}

}  // namespace certsmith::kube
