#include "kube/event_recorder.h"

#include <atomic>
#include <cstdio>

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
    : client_(client), options_(std::move(options)) {}

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
  std::string key = involved.value("kind", "") + "/" + ObjectKey(involved) + "/" +
                    GetUid(involved) + "/" + std::string(type) + "/" + std::string(reason) + "/" +
                    capped;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find(key);
  if (it != seen_.end()) {
    Json patch = {{"count", it->second.count + 1},
                  {"lastTimestamp", FormatTime(options_.clock->Now())}};
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
  Json ev = BuildEvent(involved, type, reason, message);
  Result<Json> created = client_.Create(kEvents, ev["metadata"]["namespace"].get<std::string>(), ev);
  if (!created.ok()) return created.status();
  if (seen_.size() >= options_.max_cached) seen_.erase(seen_.begin());
  seen_[key] = Seen{GetNamespace(*created), GetName(*created), 1};
  return Status::Ok();
}

}  // namespace certsmith::kube
