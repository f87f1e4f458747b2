#include "kube/testing/fake_client.h"

#include <algorithm>
#include <atomic>

#include "kube/labels.h"
#include "kube/time_format.h"

namespace certsmith::kube::testing {
namespace {

std::string ResourceKey(const ResourceRef& res) {
  return res.group.empty() ? res.resource : res.resource + "." + res.group;
}

std::string StoreKey(const ResourceRef& res, std::string_view ns, std::string_view name) {
  if (!res.namespaced || ns.empty()) return std::string(name);
  return std::string(ns) + "/" + std::string(name);
}

Status KubeError(ErrorCode code, int http, std::string reason, std::string message) {
  Json st = {{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
             {"message", message}, {"reason", reason},   {"code", http}};
  return MakeError(code, message).set_http_status(http).set_payload(st.dump());
}

Status NotFound(const ResourceRef& res, std::string_view name) {
  return KubeError(ErrorCode::kNotFound, 404, "NotFound",
                   ResourceKey(res) + " \"" + std::string(name) + "\" not found");
}

// Spec-ish content for generation: everything but metadata and status.
Json SpecOf(const Json& obj) {
  Json copy = obj;
  if (copy.is_object()) {
    copy.erase("metadata");
    copy.erase("status");
  }
  return copy;
}

Action MakeAction(std::string verb, const ResourceRef& res, std::string ns = "",
                  std::string name = "", std::string sub = "", Json obj = nullptr,
                  PatchType type = PatchType::kMerge) {
  Action a;
  a.verb = std::move(verb);
  a.resource = res;
  a.ns = std::move(ns);
  a.name = std::move(name);
  a.subresource = std::move(sub);
  a.object = std::move(obj);
  a.patch_type = type;
  return a;
}

}  // namespace

std::string Action::ToString() const {
  std::string res = resource.resource;
  if (!subresource.empty()) res += "/" + subresource;
  if (verb == "post") return "post " + path;
  std::string key = ns.empty() ? name : (name.empty() ? ns : ns + "/" + name);
  std::string out = verb + " " + res;
  if (!key.empty()) out += " " + key;
  return out;
}

struct WatchChannel {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<WatchEvent> events;
  bool closed = false;
  bool cancelled = false;
  ResourceRef res;
  std::string ns;
  LabelSelector selector;
  std::string field_selector;
};

class FakeClient::FakeWatch final : public Watch {
 public:
  explicit FakeWatch(std::shared_ptr<WatchChannel> ch) : ch_(std::move(ch)) {}
  ~FakeWatch() override { Cancel(); }
  Result<std::optional<WatchEvent>> Next() override {
    std::unique_lock<std::mutex> lock(ch_->mu);
    ch_->cv.wait(lock, [&] { return ch_->cancelled || ch_->closed || !ch_->events.empty(); });
    if (ch_->cancelled) return MakeError(ErrorCode::kCancelled, "watch cancelled");
    if (!ch_->events.empty()) {
      WatchEvent ev = std::move(ch_->events.front());
      ch_->events.pop_front();
      return std::optional<WatchEvent>(std::move(ev));
    }
    return std::optional<WatchEvent>();
  }
  void Cancel() override {
    std::lock_guard<std::mutex> lock(ch_->mu);
    ch_->cancelled = true;
    ch_->cv.notify_all();
  }

 private:
  std::shared_ptr<WatchChannel> ch_;
};

struct FakeClient::Impl {
  const Clock* clock;
  mutable std::mutex mu;
  int64_t rv = 0;
  int64_t uid = 0;
  std::map<std::string, std::map<std::string, Json>> objects;  // resource key -> key -> obj
  std::map<std::string, ResourceRef> refs;
  std::vector<Action> actions;
  std::vector<std::tuple<std::string, std::string, Reactor>> reactors;
  std::map<std::string, bool> status_subresource;
  std::function<Result<Json>(std::string_view, const Json&)> post_handler;
  std::vector<std::weak_ptr<WatchChannel>> watches;

  bool HasStatus(const ResourceRef& res) const {
    auto it = status_subresource.find(ResourceKey(res));
    if (it != status_subresource.end()) return it->second;
    static const std::set<std::string> kNoStatus = {"Secret", "ConfigMap", "Event", "Lease",
                                                    "Namespace"};
    return kNoStatus.count(res.kind) == 0;
  }

  std::string NextRv() { return std::to_string(++rv); }

  void Notify(const ResourceRef& res, const std::string& type, const Json& obj) {
    for (auto it = watches.begin(); it != watches.end();) {
      auto ch = it->lock();
      if (!ch) {
        it = watches.erase(it);
        continue;
      }
      ++it;
      if (!(ch->res == res)) continue;
      if (!ch->ns.empty() && GetNamespace(obj) != ch->ns) continue;
      if (!ch->selector.MatchesObject(obj)) continue;
      if (!ch->field_selector.empty()) {
        auto m = MatchesFieldSelector(ch->field_selector, obj);
        if (!m.ok() || !*m) continue;
      }
      std::lock_guard<std::mutex> lock(ch->mu);
      ch->events.push_back(WatchEvent{type, obj});
      ch->cv.notify_all();
    }
  }

  // Runs reactors; a non-null result ends the call.
  std::optional<ReactorResult> React(const Action& a) {
    actions.push_back(a);
    for (auto it = reactors.rbegin(); it != reactors.rend(); ++it) {
      auto& [verb, resource, fn] = *it;
      if (verb != "*" && verb != a.verb) continue;
      if (resource != "*" && resource != a.resource.resource) continue;
      if (auto r = fn(a)) return r;
    }
    return std::nullopt;
  }

  Json& Stamp(Json& obj, const ResourceRef& res, std::string_view ns) {
    Json& md = obj["metadata"];
    if (res.namespaced && !ns.empty()) md["namespace"] = std::string(ns);
    if (!md.contains("uid")) md["uid"] = "uid-" + std::to_string(++uid);
    if (!md.contains("creationTimestamp")) md["creationTimestamp"] = FormatTime(clock->Now());
    if (!md.contains("generation")) md["generation"] = 1;
    obj["apiVersion"] = res.ApiVersion();
    obj["kind"] = res.kind;
    md["resourceVersion"] = NextRv();
    return obj;
  }

  Result<Json> Store(const ResourceRef& res, std::string_view ns, Json obj, bool create) {
    std::string name = GetName(obj);
    if (create && name.empty() && obj.contains("metadata") &&
        obj["metadata"].contains("generateName"))
      name = obj["metadata"]["generateName"].get<std::string>() + std::to_string(uid + 1);
    if (name.empty())
      return KubeError(ErrorCode::kInvalidArgument, 422, "Invalid", "metadata.name: Required value");
    obj["metadata"]["name"] = name;
    auto& table = objects[ResourceKey(res)];
    refs[ResourceKey(res)] = res;
    std::string key = StoreKey(res, ns, name);
    if (create) {
      if (table.count(key))
        return KubeError(ErrorCode::kAlreadyExists, 409, "AlreadyExists",
                         ResourceKey(res) + " \"" + name + "\" already exists");
      obj["metadata"].erase("resourceVersion");
      table[key] = Stamp(obj, res, ns);
      Notify(res, "ADDED", table[key]);
      return table[key];
    }
    table[key] = obj;
    Notify(res, "MODIFIED", obj);
    return obj;
  }

  // Applies an update of `incoming` over the stored object; status_only selects the half.
  Result<Json> Replace(const ResourceRef& res, std::string_view ns, const Json& incoming,
                       bool status_only, bool check_rv) {
    std::string name = GetName(incoming);
    auto& table = objects[ResourceKey(res)];
    auto it = table.find(StoreKey(res, ns, name));
    if (it == table.end()) return NotFound(res, name);
    const Json& old = it->second;
    std::string want_rv = GetResourceVersion(incoming);
    if (check_rv && !want_rv.empty() && want_rv != GetResourceVersion(old))
      return KubeError(ErrorCode::kConflict, 409, "Conflict",
                       "Operation cannot be fulfilled on " + ResourceKey(res) + " \"" + name +
                           "\": the object has been modified; please apply your changes to the "
                           "latest version and try again");
    Json next;
    if (status_only) {
      next = old;
      if (incoming.contains("status")) next["status"] = incoming["status"];
      else next.erase("status");
    } else {
      next = incoming;
      if (HasStatus(res)) {
        if (old.contains("status")) next["status"] = old["status"];
        else next.erase("status");
      }
      Json& md = next["metadata"];
      for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp"})
        if (old["metadata"].contains(f)) md[f] = old["metadata"][f];
      int64_t gen = old["metadata"].value("generation", 1);
      md["generation"] = SpecOf(next) == SpecOf(old) ? gen : gen + 1;
    }
    next["metadata"]["resourceVersion"] = NextRv();
    next["apiVersion"] = res.ApiVersion();
    next["kind"] = res.kind;
    if (res.namespaced && !ns.empty()) next["metadata"]["namespace"] = std::string(ns);
    // An object being deleted whose last finalizer was removed goes away now.
    if (next["metadata"].contains("deletionTimestamp") &&
        next["metadata"].value("finalizers", Json::array()).empty()) {
      table.erase(it);
      Notify(res, "DELETED", next);
      CollectGarbage(GetUid(next));
      return next;
    }
    it->second = next;
    Notify(res, "MODIFIED", next);
    return next;
  }

  // Deletes dependents whose ownerReferences name uid (background propagation).
  void CollectGarbage(const std::string& owner_uid) {
    if (owner_uid.empty()) return;
    std::vector<std::pair<std::string, std::string>> doomed;
    for (auto& [rk, table] : objects)
      for (auto& [key, obj] : table)
        for (const Json& ref : obj["metadata"].value("ownerReferences", Json::array()))
          if (ref.value("uid", "") == owner_uid) doomed.emplace_back(rk, key);
    for (auto& [rk, key] : doomed) {
      auto& table = objects[rk];
      auto it = table.find(key);
      if (it == table.end()) continue;
      Json obj = std::move(it->second);
      table.erase(it);
      Notify(refs[rk], "DELETED", obj);
      CollectGarbage(GetUid(obj));
    }
  }
};

FakeClient::FakeClient(const Clock* clock) : impl_(std::make_unique<Impl>()) {
  impl_->clock = clock;
}

FakeClient::~FakeClient() { CloseWatches(); }

void FakeClient::Add(const ResourceRef& res, Json obj) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string ns = GetNamespace(obj);
  auto& table = impl_->objects[ResourceKey(res)];
  impl_->refs[ResourceKey(res)] = res;
  std::string key = StoreKey(res, ns, GetName(obj));
  impl_->Stamp(obj, res, ns);
  bool existed = table.count(key) > 0;
  table[key] = obj;
  impl_->Notify(res, existed ? "MODIFIED" : "ADDED", obj);
}

std::optional<Json> FakeClient::Peek(const ResourceRef& res, std::string_view ns,
                                     std::string_view name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto t = impl_->objects.find(ResourceKey(res));
  if (t == impl_->objects.end()) return std::nullopt;
  auto it = t->second.find(StoreKey(res, ns, name));
  if (it == t->second.end()) return std::nullopt;
  return it->second;
}

std::vector<Json> FakeClient::All(const ResourceRef& res) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<Json> out;
  auto t = impl_->objects.find(ResourceKey(res));
  if (t != impl_->objects.end())
    for (auto& [k, v] : t->second) out.push_back(v);
  return out;
}

std::vector<Action> FakeClient::Actions() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->actions;
}

std::vector<std::string> FakeClient::ActionStrings(const std::set<std::string>& skip) const {
  std::vector<std::string> out;
  for (const Action& a : Actions())
    if (!skip.count(a.verb)) out.push_back(a.ToString());
  return out;
}

void FakeClient::ClearActions() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->actions.clear();
}

void FakeClient::PrependReactor(std::string verb, std::string resource, Reactor reactor) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->reactors.emplace_back(std::move(verb), std::move(resource), std::move(reactor));
}

void FakeClient::FailNext(std::string verb, std::string resource, Status status, int times) {
  auto left = std::make_shared<std::atomic<int>>(times);
  PrependReactor(std::move(verb), std::move(resource),
                 [left, status](const Action&) -> std::optional<ReactorResult> {
                   if (left->fetch_sub(1) <= 0) return std::nullopt;
                   return ReactorResult{status, std::nullopt};
                 });
}

void FakeClient::SetStatusSubresource(const ResourceRef& res, bool enabled) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->status_subresource[ResourceKey(res)] = enabled;
}

void FakeClient::SetPostHandler(
    std::function<Result<Json>(std::string_view path, const Json& body)> fn) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->post_handler = std::move(fn);
}

void FakeClient::CloseWatches() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& w : impl_->watches) {
    if (auto ch = w.lock()) {
      std::lock_guard<std::mutex> l2(ch->mu);
      ch->closed = true;
      ch->cv.notify_all();
    }
  }
  impl_->watches.clear();
}

#define FAKE_REACT(action)                                        \
  if (auto r = impl_->React(action)) {                            \
    if (r->error && !r->error->ok()) return *r->error;            \
    if (r->object) return *r->object;                             \
  }

Result<Json> FakeClient::Get(const ResourceRef& res, std::string_view ns, std::string_view name) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  FAKE_REACT((MakeAction("get", res, std::string(ns), std::string(name))));
  auto& table = impl_->objects[ResourceKey(res)];
  auto it = table.find(StoreKey(res, ns, name));
  if (it == table.end()) return NotFound(res, name);
  return it->second;
}

Result<Json> FakeClient::List(const ResourceRef& res, std::string_view ns,
                              const ListOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  FAKE_REACT((MakeAction("list", res, std::string(ns))));
  ASSIGN_OR_RETURN(LabelSelector sel, LabelSelector::Parse(options.label_selector));
  Json items = Json::array();
  for (auto& [key, obj] : impl_->objects[ResourceKey(res)]) {
    if (res.namespaced && !ns.empty() && GetNamespace(obj) != ns) continue;
    if (!sel.MatchesObject(obj)) continue;
    if (!options.field_selector.empty()) {
      ASSIGN_OR_RETURN(bool m, MatchesFieldSelector(options.field_selector, obj));
      if (!m) continue;
    }
    items.push_back(obj);
  }
  // Pagination: continue token is the index of the next item.
  size_t start = options.continue_token.empty() ? 0 : std::stoul(options.continue_token);
  Json list = {{"apiVersion", res.ApiVersion()},
               {"kind", res.kind + "List"},
               {"metadata", {{"resourceVersion", std::to_string(impl_->rv)}}}};
  Json page = Json::array();
  size_t end = items.size();
  if (options.limit > 0) end = std::min(end, start + static_cast<size_t>(options.limit));
  for (size_t i = start; i < end; ++i) page.push_back(items[i]);
  if (end < items.size()) list["metadata"]["continue"] = std::to_string(end);
  list["items"] = std::move(page);
  return list;
}

Result<Json> FakeClient::Create(const ResourceRef& res, std::string_view ns, const Json& obj) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  FAKE_REACT((MakeAction("create", res, std::string(ns), GetName(obj), "", obj)));
  Json copy = obj;
  return impl_->Store(res, ns, std::move(copy), true);
}

Result<Json> FakeClient::Update(const ResourceRef& res, std::string_view ns, const Json& obj) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  FAKE_REACT((MakeAction("update", res, std::string(ns), GetName(obj), "", obj)));
  return impl_->Replace(res, ns, obj, false, true);
}

Result<Json> FakeClient::UpdateStatus(const ResourceRef& res, std::string_view ns,
                                      const Json& obj) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  FAKE_REACT((MakeAction("update", res, std::string(ns), GetName(obj), "status", obj)));
  if (!impl_->HasStatus(res)) return NotFound(res, GetName(obj));
  return impl_->Replace(res, ns, obj, true, true);
}

Result<Json> FakeClient::Patch(const ResourceRef& res, std::string_view ns, std::string_view name,
                               PatchType type, const Json& patch, bool status_subresource) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Action a = MakeAction("patch", res, std::string(ns), std::string(name), status_subresource ? "status" : "",
           patch, type);
  FAKE_REACT(a);
  if (status_subresource && !impl_->HasStatus(res)) return NotFound(res, name);
  auto& table = impl_->objects[ResourceKey(res)];
  auto it = table.find(StoreKey(res, ns, name));
  if (it == table.end()) return NotFound(res, name);
  Json patched = it->second;
  try {
    if (type == PatchType::kJson) {
      patched = patched.patch(patch);
    } else {
      // Strategic merge is approximated by a JSON merge patch (lists replaced whole).
      patched.merge_patch(patch);
    }
  } catch (const Json::exception& e) {
    return KubeError(ErrorCode::kInvalidArgument, 422, "Invalid",
                     std::string("patch does not apply: ") + e.what());
  }
  // A patch carrying metadata.resourceVersion is a precondition, as on the server.
  bool check_rv = patch.is_object() && patch.contains("metadata") &&
                  patch["metadata"].is_object() && patch["metadata"].contains("resourceVersion");
  if (!check_rv) patched["metadata"]["resourceVersion"] = GetResourceVersion(it->second);
  patched["metadata"]["name"] = std::string(name);
  return impl_->Replace(res, ns, patched, status_subresource, check_rv);
}

Status FakeClient::Delete(const ResourceRef& res, std::string_view ns, std::string_view name,
                          const DeleteOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (auto r = impl_->React(MakeAction("delete", res, std::string(ns), std::string(name))))
    if (r->error && !r->error->ok()) return *r->error;
  auto& table = impl_->objects[ResourceKey(res)];
  auto it = table.find(StoreKey(res, ns, name));
  if (it == table.end()) return NotFound(res, name);
  Json& obj = it->second;
  if ((options.precondition_uid && *options.precondition_uid != GetUid(obj)) ||
      (options.precondition_resource_version &&
       *options.precondition_resource_version != GetResourceVersion(obj)))
    return KubeError(ErrorCode::kConflict, 409, "Conflict",
                     "Precondition failed for " + ResourceKey(res) + " \"" + std::string(name) +
                         "\"");
  if (!obj["metadata"].value("finalizers", Json::array()).empty()) {
    if (!obj["metadata"].contains("deletionTimestamp")) {
      obj["metadata"]["deletionTimestamp"] = FormatTime(impl_->clock->Now());
      obj["metadata"]["resourceVersion"] = impl_->NextRv();
      impl_->Notify(res, "MODIFIED", obj);
    }
    return Status::Ok();
  }
  Json gone = std::move(obj);
  table.erase(it);
  impl_->NextRv();
  impl_->Notify(res, "DELETED", gone);
  if (options.propagation_policy != "Orphan") impl_->CollectGarbage(GetUid(gone));
  return Status::Ok();
}

Result<Json> FakeClient::PostPath(std::string_view absolute_path, const Json& body) {
  std::function<Result<Json>(std::string_view, const Json&)> handler;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    Action a = MakeAction("post", ResourceRef{}, "", "", "", body);
    a.path = std::string(absolute_path);
    FAKE_REACT(a);
    handler = impl_->post_handler;
  }
  if (handler) return handler(absolute_path, body);
  return body;
}

Result<std::unique_ptr<Watch>> FakeClient::StartWatch(const ResourceRef& res, std::string_view ns,
                                                      const ListOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (auto r = impl_->React(MakeAction("watch", res, std::string(ns))))
    if (r->error && !r->error->ok()) return *r->error;
  auto ch = std::make_shared<WatchChannel>();
  ch->res = res;
  ch->ns = res.namespaced ? std::string(ns) : "";
  ASSIGN_OR_RETURN(ch->selector, LabelSelector::Parse(options.label_selector));
  ch->field_selector = options.field_selector;
  impl_->watches.push_back(ch);
  return std::unique_ptr<Watch>(std::make_unique<FakeWatch>(ch));
}

#undef FAKE_REACT

}  // namespace certsmith::kube::testing
