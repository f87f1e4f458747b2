#include "kube/event_recorder.h"

#include <atomic>
#include <cstdio>

#include "certsmith/log.h"
#include "kube/time_format.h"

namespace certsmith::kube {

std::string TruncateUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t keep = max > 3 ? max - 3 : 0;
  // Step back over continuation bytes (10xxxxxx) so a code point is not cut in half.
  while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80) --keep;
  return std::string(s.substr(0, keep)) + "...";
}

EventRecorder::EventRecorder(Client& client, EventRecorderOptions options)
    : client_(client), options_(std::move(options)) {
  if (options_.async) writer_ = std::thread([this] { RunWriter(); });
}

EventRecorder::~EventRecorder() {
  if (!writer_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  writer_.join();
}

void EventRecorder::RunWriter() {
  std::unique_lock<std::mutex> lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) {
      if (!queue_.empty()) {
        log::Debug("kube events: dropped at shutdown", {{"events", std::to_string(queue_.size())}});
      }
      return;
    }
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    Status s = Write(next);
    if (!s.ok()) {
      log::Warn("recording event failed",
                {{"object", next.event["involvedObject"].value("namespace", "") + "/" +
                                next.event["involvedObject"].value("name", "")},
                 {"reason", next.event.value("reason", "")},
                 {"error", s.ToString()}});
    }
    lock.lock();
    writing_ = false;
    queue_cv_.notify_all();
  }
}

void EventRecorder::Flush() {
  std::unique_lock<std::mutex> lock(queue_mu_);
  queue_cv_.wait(lock, [this] { return stopping_ || (queue_.empty() && !writing_); });
}

Json EventRecorder::BuildEvent(const Json& involved, std::string_view type,
                               std::string_view reason, std::string_view message) const {
  auto now = options_.clock->Now();
  std::string ns = GetNamespace(involved);
  if (ns.empty()) ns = "default";
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  // The time alone collides when one object gets two events at the same clock reading (a
  // coarse or fake clock): the second would be refused as AlreadyExists and lost. A
  // process-wide sequence number keeps names unique.
  static std::atomic<uint32_t> sequence{0};
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, ".%llx%04x", static_cast<unsigned long long>(nanos),
                sequence.fetch_add(1) & 0xffff);
  Json ref = {{"apiVersion", involved.value("apiVersion", "")},
              {"kind", involved.value("kind", "")},
              {"name", GetName(involved)},
              {"uid", GetUid(involved)}};
  if (!GetNamespace(involved).empty()) ref["namespace"] = GetNamespace(involved);
  if (!GetResourceVersion(involved).empty())
    ref["resourceVersion"] = GetResourceVersion(involved);
  Json source = {{"component", options_.component}};
  if (!options_.host.empty()) source["host"] = options_.host;
  return Json{{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", {{"name", GetName(involved) + suffix}, {"namespace", ns}}},
              {"involvedObject", ref},
              {"type", std::string(type)},
              {"reason", std::string(reason)},
              {"message", TruncateUtf8(message, options_.max_message_bytes)},
              {"source", source},
              {"reportingComponent", options_.component},
              {"reportingInstance", options_.host},
              {"firstTimestamp", FormatTime(now)},
              {"lastTimestamp", FormatTime(now)},
              {"count", 1}};
}

Status EventRecorder::Record(const Json& involved, std::string_view type, std::string_view reason,
                             std::string_view message) {
  std::string capped = TruncateUtf8(message, options_.max_message_bytes);
  Pending p{involved.value("kind", "") + "/" + ObjectKey(involved) + "/" + GetUid(involved) +
                "/" + std::string(type) + "/" + std::string(reason) + "/" + capped,
            BuildEvent(involved, type, reason, message)};
  if (!options_.async) return Write(p);
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (queue_.size() >= options_.max_queued) {
      return MakeError(ErrorCode::kResourceExhausted,
                       std::to_string(queue_.size()) + " Events are waiting to be written; "
                       "dropped " + std::string(reason));
    }
    queue_.push_back(std::move(p));
  }
  queue_cv_.notify_all();
  return Status::Ok();
}

Status EventRecorder::Write(const Pending& pending) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find(pending.key);
  if (it != seen_.end()) {
    Json patch = {{"count", it->second.count + 1},
                  {"lastTimestamp", pending.event["lastTimestamp"]}};
    Result<Json> patched =
        client_.Patch(kEvents, it->second.ns, it->second.name, PatchType::kMerge, patch);
    if (patched.ok()) {
      it->second.count++;
      return Status::Ok();
    }
    // The Event expired (1h TTL on the server) or was deleted: start a new one.
    if (patched.status().code() != ErrorCode::kNotFound) return patched.status();
    seen_.erase(it);
  }
  const Json& ev = pending.event;
  Result<Json> created = client_.Create(kEvents, ev["metadata"]["namespace"].get<std::string>(), ev);
  if (!created.ok()) return created.status();
  if (seen_.size() >= options_.max_cached) seen_.erase(seen_.begin());
  seen_[pending.key] = Seen{GetNamespace(*created), GetName(*created), 1};
  return Status::Ok();
}

}  // namespace certsmith::kube
