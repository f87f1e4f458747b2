// The informer's in-memory cache: objects by key ("namespace/name") with indexes. Objects are
// held as shared_ptr<const Json> so listers and handlers share one copy — or, in compact mode,
// as MessagePack bytes decoded on each read: about a third of the memory of a parsed
// nlohmann::json tree (bench/kube), for a few microseconds per Get.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kube/client.h"

namespace certsmith::kube {

using ObjectPtr = std::shared_ptr<const Json>;
// Index values of an object (e.g. its owner uids).
using IndexFunc = std::function<std::vector<std::string>(const Json&)>;

// Built-in indexes, present in every Store.
inline constexpr char kNamespaceIndex[] = "namespace";  // metadata.namespace
inline constexpr char kOwnerUidIndex[] = "owner-uid";   // each ownerReferences[].uid
inline constexpr char kLabelIndex[] = "label";          // each "key=value" label

class Store {
 public:
  explicit Store(bool compact = false);
  bool compact() const { return compact_; }
  // Adds a custom index; objects already stored are indexed too.
  void AddIndex(const std::string& name, IndexFunc fn);

  // Returns the previous object (null if new).
  ObjectPtr Upsert(ObjectPtr obj);
  ObjectPtr Remove(const std::string& key);
  // Replaces the whole content (relist); returns the removed objects.
  std::vector<ObjectPtr> Replace(std::vector<ObjectPtr> objects);

  // Relist in two steps, so a large list never holds all its objects parsed at once: Stage()
  // each object as its page arrives (packed at once in compact mode), then CommitStaged()
  // swaps them in and says what changed, by key.
  void Stage(ObjectPtr obj);
  struct Diff {
    std::vector<std::string> added;                           // keys, read them with Get
    std::vector<std::pair<std::string, ObjectPtr>> updated;  // key, previous object
    std::vector<ObjectPtr> removed;
  };
  Diff CommitStaged();
  // Drops staged objects of an interrupted relist.
  void DiscardStaged();

  ObjectPtr Get(const std::string& key) const;
  ObjectPtr Get(std::string_view ns, std::string_view name) const;
  std::vector<ObjectPtr> List() const;
  std::vector<std::string> Keys() const;
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const;
  size_t Size() const;

 private:
  // A stored object: parsed (obj) or packed as MessagePack (compact mode).
  struct Entry {
    ObjectPtr obj;
    std::string packed;
  };
  Entry MakeEntry(ObjectPtr obj) const;
  static ObjectPtr Materialize(const Entry& e);
  bool SameEntry(const Entry& a, const Entry& b) const;
  using Indexes = std::map<std::string, std::map<std::string, std::set<std::string>>>;
  void IndexInto(Indexes& indexes, const std::string& key, const Json& obj, bool add) const;
  void IndexLocked(const std::string& key, const Json& obj, bool add);

  bool compact_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> items_;
  std::map<std::string, IndexFunc> index_funcs_;
  Indexes indexes_;  // index name -> value -> keys
  std::map<std::string, Entry> staged_;
  Indexes staged_indexes_;
};

}  // namespace certsmith::kube
