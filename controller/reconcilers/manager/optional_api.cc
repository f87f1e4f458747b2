#include "manager/optional_api.h"

#include <algorithm>

#include "certsmith/log.h"
#include "kube/errors.h"

namespace certsmith::reconcilers {

bool OptionalApi::ProbeOnce() {
  probes_.fetch_add(1);
  kube::ListOptions o;
  o.limit = 1;
  auto listed = client_.List(options_.probe, options_.ns, o);
  if (listed.ok()) {
    log::Info("optional API found, watching it", {{"api", options_.what}});
    if (options_.on_available) options_.on_available();
    return true;
  }
  if (kube::IsNotFound(listed.status())) {
    // Once: the controller works without it, and a line per retry would drown the log.
    if (!missing_seen_.exchange(true)) {
      missing_logged_.fetch_add(1);
      log::Warn("optional API is not installed; watching starts when it is, without a restart",
                {{"api", options_.what}, {"hint", options_.missing_hint}});
    }
  } else {
    log::Debug("optional API probe failed",
               {{"api", options_.what}, {"error", listed.status().ToString()}});
  }
  return false;
}

bool OptionalApi::Run() {
  for (int attempt = 0;; ++attempt) {
    if (ProbeOnce()) return true;
    if (!sleeper_.Sleep(
            kube::Backoff(std::min(attempt, 30), options_.backoff_base, options_.backoff_cap))) {
      return false;
    }
  }
}

}  // namespace certsmith::reconcilers
