#include "kube/cached_client.h"

#include <charconv>
#include <set>

#include "kube/errors.h"
#include "kube/labels.h"

namespace certsmith::kube {
namespace {

std::optional<uint64_t> ParseVersion(const std::string& rv) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), v);
  if (rv.empty() || ec != std::errc() || end != rv.data() + rv.size()) return std::nullopt;
  return v;
}

bool HasFinalizers(const Json& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return false;
  auto f = meta->find("finalizers");
  return f != meta->end() && f->is_array() && !f->empty();
}

}  // namespace

std::optional<int> CompareResourceVersions(const std::string& a, const std::string& b) {
  auto va = ParseVersion(a);
  auto vb = ParseVersion(b);
  if (!va || !vb) return std::nullopt;
  return *va < *vb ? -1 : (*va > *vb ? 1 : 0);
}

CachedClient::CachedClient(Client& api, CachedClientOptions options)
    : api_(api), options_(std::move(options)) {}

std::string CachedClient::ResourceId(const ResourceRef& res) {
  return res.group + "/" + res.resource;
}

std::string CachedClient::StoreKey(const ResourceRef& res, std::string_view ns,
                                   std::string_view name) {
  if (!res.namespaced || ns.empty()) return std::string(name);
  return std::string(ns) + "/" + std::string(name);
}

void CachedClient::Serve(const ResourceRef& res, const Store& store, std::string ns, bool complete,
                         std::function<bool()> synced) {
  if (!res.namespaced) ns.clear();
  const std::string key = ResourceId(res) + "|" + ns;
  served_[key] = Served{&store, std::move(ns), complete, std::move(synced)};
}

const CachedClient::Served* CachedClient::Scope(const ResourceRef& res, std::string_view ns) const {
  const std::string id = ResourceId(res) + "|";
  auto it = res.namespaced ? served_.find(id + std::string(ns)) : served_.end();
  if (it == served_.end()) it = served_.find(id);  // a store of every namespace
  return it == served_.end() ? nullptr : &it->second;
}

const CachedClient::Served* CachedClient::Find(const ResourceRef& res, std::string_view ns) const {
  const Served* s = Scope(res, ns);
  if (s == nullptr || (s->synced && !s->synced())) return nullptr;
  return s;
}

CachedClient::CacheAnswer CachedClient::ReadCache(const Served& s, const ResourceRef& res,
                                                  std::string_view ns, std::string_view name) {
  const std::string key = StoreKey(res, ns, name);
  const std::string id = ResourceId(res) + "|" + key;
  // The remembered write is looked up before the store is read: Observed() forgets it only
  // after the informer has stored that version, so a store read that follows this lookup is at
  // least as new as whatever made the entry go. (Read the other way round, the entry could
  // vanish between the two reads and the older stored object be returned.)
  std::optional<Remembered> remembered;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = overlay_.find(id);
    if (it != overlay_.end() && options_.clock->Now() >= it->second.expires) {
      overlay_.erase(it);
    } else if (it != overlay_.end()) {
      remembered = it->second;
    }
  }
  ObjectPtr cached = s.store->Get(key);
  if (remembered) {
    auto cmp = cached ? CompareResourceVersions(GetResourceVersion(*cached),
                                                remembered->resource_version)
                      : std::nullopt;
    // The cache caught up with a write (same or newer version), or shows a newer object than
    // the one deleted.
    const bool caught_up = cmp && (remembered->obj ? *cmp >= 0 : *cmp > 0);
    if (!caught_up) return CacheAnswer{remembered->obj, /*known=*/true, !remembered->obj};
    std::lock_guard<std::mutex> lock(mu_);
    auto it = overlay_.find(id);
    if (it != overlay_.end() && it->second.resource_version == remembered->resource_version) {
      overlay_.erase(it);
    }
  }
  if (cached) return CacheAnswer{*cached, true, false};
  return CacheAnswer{std::nullopt, s.complete, false};
}

Result<Json> CachedClient::Get(const ResourceRef& res, std::string_view ns, std::string_view name) {
  return Read(res, ns, name, /*cache_only=*/false);
}

Result<Json> CachedClient::GetCached(const ResourceRef& res, std::string_view ns,
                                     std::string_view name) {
  return Read(res, ns, name, /*cache_only=*/true);
}

Result<Json> CachedClient::Read(const ResourceRef& res, std::string_view ns, std::string_view name,
                                bool cache_only) {
  if (const Served* s = Find(res, ns); s != nullptr) {
    CacheAnswer answer = ReadCache(*s, res, ns, name);
    if (answer.known || cache_only) {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.cache_reads++;
      if (answer.obj) return std::move(*answer.obj);
      return MakeError(ErrorCode::kNotFound,
                       res.resource + " \"" + std::string(name) + "\" not found" +
                           (answer.deleted ? " (deleted)" : answer.known ? "" : " in the cache"));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.api_reads++;
  }
  return api_.Get(res, ns, name);
}

Result<Json> CachedClient::Remember(const ResourceRef& res, std::string_view ns,
                                    std::string_view name, Result<Json> written) {
  if (!written.ok()) {
    // The server holds a newer version than the one written from: whatever was remembered is
    // stale too (for an object the informer never shows, nothing else would correct it).
    if (IsConflict(written.status()) && Scope(res, ns) != nullptr) {
      std::lock_guard<std::mutex> lock(mu_);
      overlay_.erase(ResourceId(res) + "|" + StoreKey(res, ns, name));
    }
    return written;
  }
  if (Scope(res, GetNamespace(*written)) == nullptr) return written;
  const std::string rv = GetResourceVersion(*written);
  if (rv.empty()) return written;
  const auto now = options_.clock->Now();
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now);
  overlay_[ResourceId(res) + "|" + ObjectKey(*written)] =
      Remembered{*written, rv, now + options_.overlay_ttl};
  return written;
}

void CachedClient::ExpireLocked(Clock::TimePoint now) {
  for (auto it = overlay_.begin(); it != overlay_.end();) {
    if (now >= it->second.expires) {
      it = overlay_.erase(it);
    } else {
      ++it;
    }
  }
}

void CachedClient::Observed(const ResourceRef& res, const Json& obj, bool deleted) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = overlay_.find(ResourceId(res) + "|" + ObjectKey(obj));
  if (it == overlay_.end()) return;
  const Remembered& r = it->second;
  auto cmp = CompareResourceVersions(GetResourceVersion(obj), r.resource_version);
  bool forget;
  if (!cmp) {
    forget = true;  // cannot tell: trust the informer from now on
  } else if (deleted) {
    // The version we wrote (or a later one) is gone; a tombstone's work is done. An older
    // incarnation's removal says nothing about the object we created since.
    forget = !r.obj || *cmp >= 0;
  } else {
    forget = r.obj ? *cmp >= 0 : *cmp > 0;
  }
  if (forget) overlay_.erase(it);
}

Result<Json> CachedClient::List(const ResourceRef& res, std::string_view ns,
                                const ListOptions& options) {
  return api_.List(res, ns, options);
}

Result<Json> CachedClient::ListCached(const ResourceRef& res, std::string_view ns,
                                      const ListOptions& options) {
  const Served* s = Find(res, ns);
  auto selector = LabelSelector::Parse(options.label_selector);
  // Only a store holding every object of the kind can say what is not there.
  if (s == nullptr || !s->complete || !options.field_selector.empty() || !selector.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.api_reads++;
    }
    return api_.List(res, ns, options);
  }
  const bool one_namespace = res.namespaced && !ns.empty();
  // Every key the store or this client's unseen writes know of; each read as Get reads it.
  std::set<std::string> keys;
  for (const ObjectPtr& o : one_namespace ? s->store->ByIndex(kNamespaceIndex, std::string(ns))
                                          : s->store->List()) {
    keys.insert(ObjectKey(*o));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string prefix =
        ResourceId(res) + "|" + (one_namespace ? std::string(ns) + "/" : std::string());
    for (auto it = overlay_.lower_bound(prefix);
         it != overlay_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      keys.insert(it->first.substr(ResourceId(res).size() + 1));
    }
    stats_.cache_reads++;
  }
  Json items = Json::array();
  for (const std::string& key : keys) {
    const size_t slash = res.namespaced ? key.find('/') : std::string::npos;
    const std::string key_ns = slash == std::string::npos ? "" : key.substr(0, slash);
    const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
    CacheAnswer answer = ReadCache(*s, res, key_ns, name);
    if (answer.obj && selector->MatchesObject(*answer.obj)) items.push_back(std::move(*answer.obj));
  }
  return Json{{"apiVersion", "v1"},
              {"kind", "List"},
              {"metadata", Json::object()},
              {"items", std::move(items)}};
}

Result<Json> CachedClient::Create(const ResourceRef& res, std::string_view ns, const Json& obj) {
  return Remember(res, ns, GetName(obj), api_.Create(res, ns, obj));
}

Result<Json> CachedClient::Update(const ResourceRef& res, std::string_view ns, const Json& obj) {
  return Remember(res, ns, GetName(obj), api_.Update(res, ns, obj));
}

Result<Json> CachedClient::UpdateStatus(const ResourceRef& res, std::string_view ns,
                                        const Json& obj) {
  return Remember(res, ns, GetName(obj), api_.UpdateStatus(res, ns, obj));
}

Result<Json> CachedClient::Patch(const ResourceRef& res, std::string_view ns, std::string_view name,
                                 PatchType type, const Json& patch, bool status_subresource) {
  return Remember(res, ns, name, api_.Patch(res, ns, name, type, patch, status_subresource));
}

Status CachedClient::Delete(const ResourceRef& res, std::string_view ns, std::string_view name,
                            const DeleteOptions& options) {
  Status st = api_.Delete(res, ns, name, options);
  const Served* s = (st.ok() || IsNotFound(st)) ? Scope(res, ns) : nullptr;
  if (s == nullptr) return st;
  const std::string key = StoreKey(res, ns, name);
  ObjectPtr cached = s->store->Get(key);
  const auto now = options_.clock->Now();
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now);
  const std::string overlay_key = ResourceId(res) + "|" + key;
  auto it = overlay_.find(overlay_key);
  // The last version this client knows: its own write if newer than the cache.
  std::optional<Json> last;
  if (it != overlay_.end() && it->second.obj) last = *it->second.obj;
  if (cached &&
      (!last || CompareResourceVersions(GetResourceVersion(*cached), GetResourceVersion(*last))
                        .value_or(-1) > 0)) {
    last = *cached;
  }
  // Finalizers keep the object (with a deletionTimestamp) until their owners remove them: the
  // informer shows that soon; a tombstone would hide it.
  if (!last || HasFinalizers(*last)) {
    if (it != overlay_.end()) overlay_.erase(it);
    return st;
  }
  overlay_[overlay_key] =
      Remembered{std::nullopt, GetResourceVersion(*last), now + options_.overlay_ttl};
  return st;
}

Result<Json> CachedClient::PostPath(std::string_view absolute_path, const Json& body) {
  return api_.PostPath(absolute_path, body);
}

Result<std::unique_ptr<Watch>> CachedClient::StartWatch(const ResourceRef& res, std::string_view ns,
                                                        const ListOptions& options) {
  return api_.StartWatch(res, ns, options);
}

CachedClient::Stats CachedClient::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.remembered = overlay_.size();
  return s;
}

}  // namespace certsmith::kube
