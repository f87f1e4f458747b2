// A Client whose reads come from informer caches and whose writes go to the API server, as
// controller-runtime's default client does: a reconciler reads what it needs many times per
// object, and with a client-side rate limit every GET delays every write.
//
// Reads of a served resource come from its informer Store, with two corrections for staleness:
//  - read your writes: the object a write returned (Create, Update, UpdateStatus, Patch) is
//    remembered until the informer delivers that resourceVersion or a newer one, so the next
//    sync of the same key never sees the state from before its own write (for an Order, that
//    would mean placing the ACME order twice);
//  - a Delete leaves a tombstone: the object reads as NotFound until the informer drops it.
// Remembered writes and tombstones also expire after `overlay_ttl` (an object the informer
// never shows, e.g. one outside its label selector), and a write that fails with kConflict
// forgets what was remembered of that object.
//
// Reads fall through to the API server when the resource is not served, the informer has not
// synced yet, the namespace is outside the informer's, or, for a partial cache (a label
// selector: only some objects of the kind are cached), when the cache has no such object
// (GetCached answers NotFound then). List always asks the API server; ListCached answers from a
// store that holds every object of the kind.
//
// Other readers (kubectl, other controllers) may change an object after the cache saw it: an
// Update built from a cached object then fails with kConflict, and the caller retries once the
// informer caught up. A Create of a deterministic name may find the object already there
// (kAlreadyExists) when the cache has not shown it yet; callers treat that as "exists".
//
// resourceVersions are compared as integers (what etcd, and the test API server, produce). When
// either is not an integer the remembered write wins until the informer reports the object.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "certsmith/clock.h"
#include "kube/client.h"
#include "kube/store.h"

namespace certsmith::kube {

struct CachedClientOptions {
  const Clock* clock = &SystemClock::Instance();
  // How long a remembered write or a tombstone outlives the informer not catching up.
  std::chrono::seconds overlay_ttl{30};
};

class CachedClient final : public Client {
 public:
  explicit CachedClient(Client& api, CachedClientOptions options = {});

  // Serves Get of res from store. ns: the informer's namespace ("" = all). complete: the store
  // holds every object of the kind in ns (no label or field selector), so a miss is NotFound;
  // otherwise a miss is read from the API server. synced: whether the store has been filled.
  // One resource may be served by several stores, one per namespace (a read picks its
  // namespace's, else the all-namespaces one). Call before any Get; not thread-safe against
  // concurrent Get.
  void Serve(const ResourceRef& res, const Store& store, std::string ns, bool complete,
             std::function<bool()> synced);
  // The informer of a served resource saw obj (added, updated) or its removal (deleted = true,
  // obj is the last cached state): forgets remembered writes it supersedes. Wire it to the
  // informer's handlers.
  void Observed(const ResourceRef& res, const Json& obj, bool deleted);

  Result<Json> Get(const ResourceRef& res, std::string_view ns, std::string_view name) override;
  // A served, synced kind is read from its store alone (a label-selected store's miss is
  // NotFound); other reads as Get.
  Result<Json> GetCached(const ResourceRef& res, std::string_view ns,
                         std::string_view name) override;
  Result<Json> List(const ResourceRef& res, std::string_view ns,
                    const ListOptions& options) override;
  // From a served, synced store without a selector (every object of the kind), with this
  // client's remembered writes and tombstones, filtered by the label selector; otherwise (a
  // label-selected store, a field selector) from the API server.
  Result<Json> ListCached(const ResourceRef& res, std::string_view ns,
                          const ListOptions& options) override;
  Result<Json> Create(const ResourceRef& res, std::string_view ns, const Json& obj) override;
  Result<Json> Update(const ResourceRef& res, std::string_view ns, const Json& obj) override;
  Result<Json> UpdateStatus(const ResourceRef& res, std::string_view ns, const Json& obj) override;
  Result<Json> Patch(const ResourceRef& res, std::string_view ns, std::string_view name,
                     PatchType type, const Json& patch, bool status_subresource) override;
  Status Delete(const ResourceRef& res, std::string_view ns, std::string_view name,
                const DeleteOptions& options) override;
  Result<Json> PostPath(std::string_view absolute_path, const Json& body) override;
  Result<std::unique_ptr<Watch>> StartWatch(const ResourceRef& res, std::string_view ns,
                                            const ListOptions& options) override;

  struct Stats {
    int64_t cache_reads = 0;  // answered from a store or a remembered write
    int64_t api_reads = 0;    // fell through to the API server
    size_t remembered = 0;    // writes and tombstones not yet seen by the informers
  };
  Stats stats() const;

 private:
  struct Served {
    const Store* store = nullptr;
    std::string ns;
    bool complete = false;
    std::function<bool()> synced;
  };
  // A write the informer has not delivered yet; no object = a tombstone.
  struct Remembered {
    std::optional<Json> obj;
    std::string resource_version;
    Clock::TimePoint expires;
  };
  // What the cache says of one object: obj when it holds it; known: its absence is certain too
  // (a tombstone, or a store holding every object of the kind); deleted: a tombstone.
  struct CacheAnswer {
    std::optional<Json> obj;
    bool known = false;
    bool deleted = false;
  };
  CacheAnswer ReadCache(const Served& s, const ResourceRef& res, std::string_view ns,
                        std::string_view name);
  Result<Json> Read(const ResourceRef& res, std::string_view ns, std::string_view name,
                    bool cache_only);
  static std::string ResourceId(const ResourceRef& res);
  static std::string StoreKey(const ResourceRef& res, std::string_view ns, std::string_view name);
  // The served entry covering (res, ns), synced or not; Find: only once synced.
  const Served* Scope(const ResourceRef& res, std::string_view ns) const;
  const Served* Find(const ResourceRef& res, std::string_view ns) const;
  // Remembers a successful write; forgets (res, ns, name) on a conflict.
  Result<Json> Remember(const ResourceRef& res, std::string_view ns, std::string_view name,
                        Result<Json> written);
  void ExpireLocked(Clock::TimePoint now);

  Client& api_;
  CachedClientOptions options_;
  std::map<std::string, Served> served_;  // by ResourceId + "|" + namespace ("" = all)
  mutable std::mutex mu_;
  std::map<std::string, Remembered> overlay_;  // by ResourceId + "|" + store key
  Stats stats_;
};

// -1, 0, 1 as a is older than, the same as, or newer than b; nullopt when either is not an
// integer.
std::optional<int> CompareResourceVersions(const std::string& a, const std::string& b);

}  // namespace certsmith::kube
