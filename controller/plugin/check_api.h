// `kubectl certsmith check api`: are certsmith's CRDs served (each kind can be listed), and is a
// controller answering? "Answering" means a replica holds the leader Lease and renewed it within
// its leaseDurationSeconds (plus a few seconds for clock skew): the leader renews every 2 s and
// only the leader reconciles, so a fresh Lease is a live controller. A controller run without
// leader election writes no Lease and cannot be seen this way; the message says so.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "certsmith/clock.h"
#include "kube/client.h"

namespace certsmith::plugin {

struct ApiCheck {
  struct Item {
    std::string what;  // "certificates.certsmith.io", "controller"
    bool ok = false;
    std::string message;
  };
  std::vector<Item> items;
  bool ok() const;
  nlohmann::json ToJson() const;
};

// The Lease (nullptr when there is none) seen at now.
ApiCheck::Item LeaseFreshness(const nlohmann::json* lease, const std::string& where,
                              Clock::TimePoint now);
ApiCheck CheckApi(kube::Client& client, const std::string& ns,
                  const std::string& controller_namespace, Clock::TimePoint now);

}  // namespace certsmith::plugin
