// Waits for an optional API (the Gateway API: its CRDs may be installed after the controller
// starts) without a restart: it lists one object of a probe resource, and while the API server
// answers 404 (no such resource) it says so once in the log and tries again with exponential
// backoff; once the list succeeds it calls on_available once and ends. Other errors (403, 5xx)
// are logged at debug level and retried the same way.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "kube/client.h"
#include "kube/rate_limiter.h"

namespace certsmith::reconcilers {

struct OptionalApiOptions {
  kube::ResourceRef probe;   // e.g. kube::kHTTPRoutes
  std::string ns;            // where to list ("" = all namespaces)
  std::string what;          // for the log: "the Gateway API (gateway.networking.k8s.io/v1)"
  std::string missing_hint;  // what to do about it
  kube::Duration backoff_base = std::chrono::seconds(2);
  kube::Duration backoff_cap = std::chrono::minutes(1);
  std::function<void()> on_available;
};

class OptionalApi {
 public:
  // sleeper: interrupted to stop Run() (RealSleeper::Interrupt()).
  OptionalApi(kube::Client& client, kube::Sleeper& sleeper, OptionalApiOptions options)
      : client_(client), sleeper_(sleeper), options_(std::move(options)) {}
  // Probes until the API is there (true) or the sleeper is interrupted (false).
  bool Run();
  // One probe: true when the API answers (on_available called).
  bool ProbeOnce();
  // How many times "not installed" was logged: once, however many probes found it missing.
  int missing_logged() const { return missing_logged_.load(); }
  int probes() const { return probes_.load(); }

 private:
  kube::Client& client_;
  kube::Sleeper& sleeper_;
  OptionalApiOptions options_;
  std::atomic<bool> missing_seen_{false};
  std::atomic<int> missing_logged_{0};
  std::atomic<int> probes_{0};
};

}  // namespace certsmith::reconcilers
