// Records core/v1 Events about objects, so `kubectl describe` tells the story of an issuance.
// A repeat of the same (object, type, reason, message) patches the existing Event's count and
// lastTimestamp instead of creating another, as kubelet and client-go do. Messages are capped
// at max_message_bytes. Callers pass the text: never put secrets in it.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "certsmith/clock.h"
#include "kube/client.h"

namespace certsmith::kube {

inline constexpr char kEventNormal[] = "Normal";
inline constexpr char kEventWarning[] = "Warning";

struct EventRecorderOptions {
  std::string component = "certsmith";  // source.component and reportingController
  std::string host;                     // source.host (optional)
  size_t max_message_bytes = 1024;
  size_t max_cached = 4096;  // aggregation entries remembered
  const Clock* clock = &SystemClock::Instance();
};

class EventRecorder {
 public:
  EventRecorder(Client& client, EventRecorderOptions options = {});

  // involved is the object the event is about (apiVersion, kind, metadata name/namespace/uid
  // are read from it). type is kEventNormal or kEventWarning; reason is CamelCase.
  Status Record(const Json& involved, std::string_view type, std::string_view reason,
                std::string_view message);

  // The Event object Record would create (exposed for tests).
  Json BuildEvent(const Json& involved, std::string_view type, std::string_view reason,
                  std::string_view message) const;

 private:
  struct Seen {
    std::string ns;
    std::string name;
    int64_t count = 1;
  };
  Client& client_;
  EventRecorderOptions options_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;
};

// Cuts s to at most max bytes without splitting a UTF-8 sequence, marking the cut with "...".
std::string TruncateUtf8(std::string_view s, size_t max);

}  // namespace certsmith::kube
