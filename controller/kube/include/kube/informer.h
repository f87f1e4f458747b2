// Informer: keeps a Store in step with the API server — list, then watch from the list's
// resourceVersion (with bookmarks); after a dropped or timed-out watch it resumes from the last
// resourceVersion it saw; on 410 Gone (history compacted) it lists again and reconciles the
// store (deleting what vanished). Errors back off exponentially with jitter. Handlers run on the
// informer's own thread, one at a time, in the order the changes were observed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "certsmith/clock.h"
#include "kube/client.h"
#include "kube/rate_limiter.h"
#include "kube/store.h"

namespace certsmith::kube {

struct ResourceEventHandlers {
  std::function<void(const Json& obj)> on_add;
  std::function<void(const Json& old_obj, const Json& obj)> on_update;
  std::function<void(const Json& obj)> on_delete;
};

struct InformerOptions {
  ResourceRef resource;
  std::string ns;  // empty = all namespaces
  std::string label_selector;
  std::string field_selector;
  // Applied to each object before it is stored (and before handlers see it), to keep only what
  // the controller needs: e.g. StripManagedFields, or dropping Secret data.
  std::function<void(Json&)> transform;
  // Keep cached objects packed (MessagePack) and decode them on each store read: ~1/3 of the
  // memory (bench/kube) for a few microseconds per Get. Handlers still get parsed objects.
  bool compact_store = true;
  int64_t page_size = 500;
  // The first list asks for resourceVersion=0, which the API server answers from its watch cache
  // (as client-go's reflector does): a label-selected list then costs no read of every object of
  // the kind from etcd (20,000 unrelated Secrets of 100 KiB took etcd minutes and the
  // kube-apiserver gigabytes). The cache may be a little behind; the watch from the list's
  // resourceVersion brings it up to date. Later lists (after a 410 Gone) read from etcd.
  bool first_list_from_cache = true;
  int64_t watch_timeout_seconds = 300;
  Duration backoff_base = std::chrono::milliseconds(800);
  Duration backoff_cap = std::chrono::seconds(30);
  const Clock* clock = &SystemClock::Instance();
  Sleeper* sleeper = nullptr;  // null = an internal RealSleeper interrupted by Stop()
};

// A ready-made transform: drops metadata.managedFields and the last-applied annotation.
void StripManagedFields(Json& obj);

class Informer {
 public:
  Informer(Client& client, InformerOptions options);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Register before Start().
  void AddHandlers(ResourceEventHandlers handlers);
  Store& store() { return store_; }
  const Store& store() const { return store_; }

  void Start();  // runs Run() on a thread
  void Run();    // blocks until Stop()
  void Stop();
  bool HasSynced() const { return synced_.load(); }
  // Waits (real time) until synced or timeout; false on timeout or Stop.
  bool WaitForSync(std::chrono::milliseconds timeout);

  // The steps Run() is made of, public for tests.
  // Lists every page, replaces the store, calls handlers; marks the informer synced.
  Status ListOnce();
  // Watches from the last resourceVersion until the stream ends. OK: closed normally (resume);
  // kGone: the resourceVersion is too old (relist); anything else: an error (back off).
  Status WatchOnce();

  std::string LastResourceVersion() const;
  struct Stats {
    int lists = 0;
    int watches = 0;
    int relists_after_gone = 0;
    int errors = 0;
    int events = 0;
  };
  Stats stats() const;

 private:
  void Apply(const std::string& type, Json obj);
  void Dispatch(const Store::Diff& diff);
  void Prepare(Json& obj) const;
  void Backoff(int failures);

  Client& client_;
  InformerOptions options_;
  Store store_;
  std::vector<ResourceEventHandlers> handlers_;
  RealSleeper own_sleeper_;
  Sleeper* sleeper_;

  mutable std::mutex mu_;
  std::condition_variable synced_cv_;
  std::string last_rv_;
  Stats stats_;
  Watch* current_watch_ = nullptr;
  std::atomic<bool> synced_{false};
  std::atomic<bool> stopped_{false};
  std::thread thread_;
};

}  // namespace certsmith::kube
