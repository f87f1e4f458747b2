// `kubectl certsmith status certificate NAME`: everything about one Certificate on one screen:
// its conditions and dates, its Issuer, the certificate in its Secret, the current Order with its
// Challenges and the CA's last words, and its latest Events.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "certsmith/clock.h"
#include "kube/client.h"
#include "plugin/secret_view.h"

namespace certsmith::plugin {

struct StatusReport {
  nlohmann::json certificate;
  nlohmann::json issuer;  // null when it could not be read (issuer_error says why)
  std::string issuer_error;
  nlohmann::json secret;  // the Secret's metadata and type, never its data; null when absent
  std::string secret_error;
  SecretContents contents;
  nlohmann::json order;  // the current Order (highest revision), null when there is none
  std::vector<nlohmann::json> challenges;  // the current Order's
  std::vector<nlohmann::json> events;      // the Certificate's, oldest first, at most kMaxEvents
  static constexpr size_t kMaxEvents = 8;
};

// Reads what the report shows. NotFound when the Certificate does not exist; other reads that
// fail are recorded in the report (a missing Secret or Issuer is part of the story).
Result<StatusReport> GatherStatus(kube::Client& client, const std::string& ns,
                                  const std::string& name);
std::string FormatStatus(const StatusReport& report, Clock::TimePoint now);
// -o yaml|json: the objects themselves (the Secret without its data) and the parsed certificate.
nlohmann::json StatusToJson(const StatusReport& report);

}  // namespace certsmith::plugin
