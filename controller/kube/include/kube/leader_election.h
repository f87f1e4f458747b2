// Lease-based leader election (coordination.k8s.io/v1 Lease), as client-go does it: a replica
// holds the lease while it renews renewTime within leaseDurationSeconds; others take it over
// once it has expired on their clock. Release() (called on Stop) empties holderIdentity and
// shortens the lease so another replica takes over at once instead of waiting for expiry.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "certsmith/clock.h"
#include "kube/client.h"
#include "kube/rate_limiter.h"
#include "kube/time_format.h"

namespace certsmith::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per replica, e.g. pod name + random suffix
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;
  bool release_on_stop = true;
  const Clock* clock = &SystemClock::Instance();
  Sleeper* sleeper = nullptr;  // null = an internal RealSleeper interrupted by Stop()
};

class LeaderElector {
 public:
  LeaderElector(Client& client, LeaderElectionConfig config);
  ~LeaderElector();

  // One attempt: creates the lease, renews it if we hold it, or takes it over if it expired.
  // Returns true if we hold the lease afterwards. Errors (API, conflict with another replica)
  // count as "not held".
  bool TryAcquireOrRenew();
  // Acquires (retrying every retry_period), calls on_started_leading, renews every
  // retry_period; returns when Stop() is called or renewal failed for renew_deadline (then
  // on_stopped_leading is called). Releases the lease on the way out when release_on_stop.
  void Run();
  void Stop();
  // Gives up the lease if we hold it.
  Status Release();

  bool IsLeader() const { return leader_.load(); }
  std::string ObservedLeader() const;

 private:
  Json BuildLease(const Json* existing, bool transition) const;

  Client& client_;
  LeaderElectionConfig config_;
  RealSleeper own_sleeper_;
  Sleeper* sleeper_;
  mutable std::mutex mu_;
  std::string observed_leader_;
  std::optional<Clock::TimePoint> observed_renew_;  // our clock when the record last changed
  std::string observed_record_;
  Clock::TimePoint last_renew_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace certsmith::kube
