#include "kube/informer.h"

#include <random>

#include "certsmith/log.h"

namespace certsmith::kube {

void StripManagedFields(Json& obj) {
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return;
  md->erase("managedFields");
  auto ann = md->find("annotations");
  if (ann != md->end() && ann->is_object()) {
    ann->erase("kubectl.kubernetes.io/last-applied-configuration");
    if (ann->empty()) md->erase("annotations");
  }
}

Informer::Informer(Client& client, InformerOptions options)
    : client_(client),
      options_(std::move(options)),
      store_(options_.compact_store),
      sleeper_(options_.sleeper ? options_.sleeper : &own_sleeper_) {}

Informer::~Informer() { Stop(); }

void Informer::AddHandlers(ResourceEventHandlers handlers) {
  handlers_.push_back(std::move(handlers));
}

void Informer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  stopped_ = true;
  own_sleeper_.Interrupt();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_watch_) current_watch_->Cancel();
    synced_cv_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  synced_cv_.wait_for(lock, timeout, [&] { return synced_.load() || stopped_.load(); });
  return synced_.load();
}

std::string Informer::LastResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_rv_;
}

Informer::Stats Informer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Informer::Prepare(Json& obj) const {
  if (options_.transform) options_.transform(obj);
}

void Informer::Backoff(int failures) {
  thread_local std::mt19937 rng(std::random_device{}());
  double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  sleeper_->Sleep(kube::Backoff(failures, options_.backoff_base, options_.backoff_cap, 0.5, r));
}

Status Informer::ListOnce() {
  ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.page_size;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Until a list has succeeded: a failed first list is asked again from the cache.
    if (options_.first_list_from_cache && !synced_) lo.resource_version = "0";
    stats_.lists++;
  }
  // Page by page, staging each object as it comes, so memory peaks at one page of parsed JSON.
  std::string rv;
  store_.DiscardStaged();
  for (;;) {
    Result<Json> page = client_.List(options_.resource, options_.ns, lo);
    if (!page.ok()) return page.status().WithContext("list " + options_.resource.resource);
    // Whatever answered (the API server, a proxy) may send any JSON: nlohmann::json throws on a
    // wrong type, and an exception here would end the informer's thread and the controller.
    if (!page->is_object()) {
      store_.DiscardStaged();
      return MakeError(ErrorCode::kProtocol,
                       "list " + options_.resource.resource + ": the answer is not a JSON object");
    }
    try {
      if (page->contains("items") && (*page)["items"].is_array())
        for (Json& item : (*page)["items"]) {
          if (!item.is_object()) continue;
          Prepare(item);
          store_.Stage(std::make_shared<const Json>(std::move(item)));
        }
    } catch (const Json::exception& ex) {
      store_.DiscardStaged();
      return MakeError(ErrorCode::kProtocol,
                       "list " + options_.resource.resource + ": malformed object: " + ex.what());
    }
    const Json md = page->value("metadata", Json::object());
    rv = md.is_object() && md.contains("resourceVersion") && md["resourceVersion"].is_string()
             ? md["resourceVersion"].get<std::string>()
             : "";
    lo.continue_token = md.is_object() && md.contains("continue") && md["continue"].is_string()
                            ? md["continue"].get<std::string>()
                            : "";
    if (lo.continue_token.empty()) break;
    lo.resource_version.clear();  // the continue token carries it (both at once is refused)
  }
  Store::Diff diff = store_.CommitStaged();
  if (!handlers_.empty()) Dispatch(diff);
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_rv_ = rv;
    synced_ = true;
    synced_cv_.notify_all();
  }
  return Status::Ok();
}

// Tells handlers what a relist changed: deletions first, then updates, then additions.
void Informer::Dispatch(const Store::Diff& diff) {
  for (const ObjectPtr& gone : diff.removed)
    for (auto& h : handlers_)
      if (h.on_delete) h.on_delete(*gone);
  for (const auto& [key, old_obj] : diff.updated) {
    ObjectPtr obj = store_.Get(key);
    for (auto& h : handlers_)
      if (h.on_update && obj) h.on_update(*old_obj, *obj);
  }
  for (const std::string& key : diff.added) {
    ObjectPtr obj = store_.Get(key);
    for (auto& h : handlers_)
      if (h.on_add && obj) h.on_add(*obj);
  }
}

void Informer::Apply(const std::string& type, Json obj) {
  std::string rv = GetResourceVersion(obj);
  if (type == "DELETED") {
    ObjectPtr old = store_.Remove(ObjectKey(obj));
    Prepare(obj);
    for (auto& h : handlers_)
      if (h.on_delete) h.on_delete(old ? *old : obj);
  } else {
    Prepare(obj);
    auto ptr = std::make_shared<const Json>(std::move(obj));
    ObjectPtr old = store_.Upsert(ptr);
    for (auto& h : handlers_) {
      if (!old && h.on_add) h.on_add(*ptr);
      if (old && h.on_update) h.on_update(*old, *ptr);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!rv.empty()) last_rv_ = rv;
  stats_.events++;
}

Status Informer::WatchOnce() {
  ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.resource_version = LastResourceVersion();
  lo.allow_watch_bookmarks = true;
  lo.timeout_seconds = options_.watch_timeout_seconds;
  Result<std::unique_ptr<Watch>> watch = client_.StartWatch(options_.resource, options_.ns, lo);
  if (!watch.ok()) return watch.status().WithContext("watch " + options_.resource.resource);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.watches++;
    current_watch_ = watch->get();
    if (stopped_) current_watch_->Cancel();
  }
  Status result;
  for (;;) {
    Result<std::optional<WatchEvent>> ev = (*watch)->Next();
    if (!ev.ok()) {
      result = ev.status();
      break;
    }
    if (!*ev) break;  // closed by the server: resume from last_rv_
    WatchEvent& e = **ev;
    if (e.type == "BOOKMARK") {
      std::lock_guard<std::mutex> lock(mu_);
      std::string rv = GetResourceVersion(e.object);
      if (!rv.empty()) last_rv_ = rv;
      continue;
    }
    if (e.type == "ERROR") {
      const Json code_field = e.object.is_object() ? e.object.value("code", Json()) : Json();
      const Json msg_field = e.object.is_object() ? e.object.value("message", Json()) : Json();
      const int64_t code = code_field.is_number_integer() ? code_field.get<int64_t>() : 0;
      const std::string msg = msg_field.is_string() ? msg_field.get<std::string>() : "";
      result = MakeError(code == 410 ? ErrorCode::kGone : ErrorCode::kUnavailable,
                         "watch " + options_.resource.resource + ": " + log::Sanitize(msg));
      break;
    }
    if (e.type != "ADDED" && e.type != "MODIFIED" && e.type != "DELETED") continue;
    if (!e.object.is_object()) continue;  // not a Kubernetes object: nothing to store
    try {
      Apply(e.type, std::move(e.object));
    } catch (const Json::exception& ex) {
      // A malformed object that makes nlohmann::json throw: end this watch with an error (the
      // informer backs off and relists) rather than let the exception end the thread.
      result = MakeError(ErrorCode::kProtocol, "watch " + options_.resource.resource +
                                                   ": malformed object: " + ex.what());
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  current_watch_ = nullptr;
  return result;
}

void Informer::Run() {
  bool need_list = true;
  int failures = 0;
  while (!stopped_) {
    if (need_list) {
      Status st = ListOnce();
      if (!st.ok()) {
        if (stopped_) break;
        log::Warn("kube informer: list failed", {{"error", st.ToString()}});
        {
          std::lock_guard<std::mutex> lock(mu_);
          stats_.errors++;
        }
        Backoff(failures++);
        continue;
      }
      need_list = false;
      failures = 0;
    }
    Status st = WatchOnce();
    if (stopped_) break;
    if (st.ok()) {
      failures = 0;
      continue;
    }
    if (st.code() == ErrorCode::kGone) {
      log::Info("kube informer: resourceVersion too old, listing again",
                {{"resource", options_.resource.resource}});
      std::lock_guard<std::mutex> lock(mu_);
      stats_.relists_after_gone++;
      need_list = true;
      continue;
    }
    log::Warn("kube informer: watch failed", {{"error", st.ToString()}});
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.errors++;
    }
    Backoff(failures++);
  }
}

}  // namespace certsmith::kube
