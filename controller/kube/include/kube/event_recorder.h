// Records core/v1 Events about objects, so `kubectl describe` tells the story of an issuance.
// A repeat of the same (object, type, reason, message) patches the existing Event's count and
// lastTimestamp instead of creating another, as kubelet and client-go do. Messages are capped
// at max_message_bytes. Callers pass the text: never put secrets in it. With `async` the writes
// happen on the recorder's own thread, so a reconciler never waits on the API for an Event.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

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
  // Record() only queues the Event (built at once, with its timestamps) and a thread writes it:
  // an issuance records several Events, and under a client-side rate limit each write would
  // hold a worker. Past max_queued unwritten Events a new one is dropped (Record says
  // kResourceExhausted), as client-go's broadcaster drops on a full queue. Write errors are
  // logged by that thread.
  bool async = false;
  size_t max_queued = 1000;
};

class EventRecorder {
 public:
  EventRecorder(Client& client, EventRecorderOptions options = {});
  // async: stops the writer thread; Events still queued are dropped.
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // involved is the object the event is about (apiVersion, kind, metadata name/namespace/uid
  // are read from it). type is kEventNormal or kEventWarning; reason is CamelCase.
  Status Record(const Json& involved, std::string_view type, std::string_view reason,
                std::string_view message);

  // async: waits until every Event queued so far has been written (or failed).
  void Flush();

  // The Event object Record would create (exposed for tests).
  Json BuildEvent(const Json& involved, std::string_view type, std::string_view reason,
                  std::string_view message) const;

 private:
  struct Seen {
    std::string ns;
    std::string name;
    int64_t count = 1;
  };
  // An Event to write: key identifies repeats, event is the Event a first occurrence creates.
  struct Pending {
    std::string key;
    Json event;
  };
  // Patches the count of an Event seen before, else creates event.
  Status Write(const Pending& pending);
  void RunWriter();

  Client& client_;
  EventRecorderOptions options_;
  std::mutex mu_;  // seen_, held across a write so repeats aggregate in order
  std::map<std::string, Seen> seen_;

  std::mutex queue_mu_;  // async only: the queue and the writer's state
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool writing_ = false;
  bool stopping_ = false;
  std::thread writer_;
};

// Cuts s to at most max bytes without splitting a UTF-8 sequence, marking the cut with "...".
std::string TruncateUtf8(std::string_view s, size_t max);

}  // namespace certsmith::kube
