#include "kube/workqueue.h"

namespace certsmith::kube {

WorkQueue::WorkQueue(WorkQueueOptions options) : options_(std::move(options)) {}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // re-queued by Done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  if (delay <= Duration::zero()) {
    AddLocked(key);
    return;
  }
  auto due = options_.clock->Now() + std::chrono::duration_cast<Clock::TimePoint::duration>(delay);
  // Keep only the earliest due time per key, as client-go's delaying queue does.
  auto it = delayed_at_.find(key);
  if (it != delayed_at_.end()) {
    if (it->second <= due) return;
    auto range = delayed_.equal_range(it->second);
    for (auto d = range.first; d != range.second; ++d)
      if (d->second == key) {
        delayed_.erase(d);
        break;
      }
  }
  delayed_.emplace(due, key);
  delayed_at_[key] = due;
  cv_.notify_all();  // a waiting Get may need to wake earlier
}

void WorkQueue::AddRateLimited(const std::string& key) {
  AddRateLimited(key, options_.backoff_base);
}

void WorkQueue::AddRateLimited(const std::string& key, Duration base) {
  int failures;
  {
    std::lock_guard<std::mutex> lock(mu_);
    failures = failures_[key]++;
  }
  AddAfter(key, Backoff(failures, base, options_.backoff_cap));
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

size_t WorkQueue::PromoteDueLocked() {
  auto now = options_.clock->Now();
  size_t moved = 0;
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    delayed_at_.erase(key);
    AddLocked(key);
    ++moved;
  }
  return moved;
}

size_t WorkQueue::PromoteDue() {
  std::lock_guard<std::mutex> lock(mu_);
  return PromoteDueLocked();
}

std::optional<Clock::TimePoint> WorkQueue::NextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (delayed_.empty()) return std::nullopt;
  return delayed_.begin()->first;
}

std::optional<std::string> WorkQueue::PopLocked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<std::string> WorkQueue::TryGet() {
  std::lock_guard<std::mutex> lock(mu_);
  PromoteDueLocked();
  return PopLocked();
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    PromoteDueLocked();
    if (!queue_.empty()) return PopLocked();
    if (shutting_down_) return std::nullopt;
    Duration wait = options_.max_idle_wait;
    if (!delayed_.empty()) {
      auto until = delayed_.begin()->first - options_.clock->Now();
      wait = std::min(wait, std::chrono::duration_cast<Duration>(until));
      if (wait < Duration::zero()) wait = Duration::zero();
    }
    ++blocked_gets_;
    cv_.wait_for(lock, wait);
    --blocked_gets_;
  }
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

bool WorkQueue::Idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty() && processing_.empty();
}

size_t WorkQueue::BlockedGets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocked_gets_;
}

size_t WorkQueue::DelayedLen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delayed_.size();
}

}  // namespace certsmith::kube
