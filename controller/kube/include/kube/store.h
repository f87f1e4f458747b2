// The informer's in-memory cache: objects by key ("namespace/name") with indexes. Objects are
// held as shared_ptr<const Json> so listers and handlers share one copy.
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
  Store();
  // Adds a custom index; objects already stored are indexed too.
  void AddIndex(const std::string& name, IndexFunc fn);

  // Returns the previous object (null if new).
  ObjectPtr Upsert(ObjectPtr obj);
  ObjectPtr Remove(const std::string& key);
  // Replaces the whole content (relist); returns the removed objects.
  std::vector<ObjectPtr> Replace(std::vector<ObjectPtr> objects);

  ObjectPtr Get(const std::string& key) const;
  ObjectPtr Get(std::string_view ns, std::string_view name) const;
  std::vector<ObjectPtr> List() const;
  std::vector<std::string> Keys() const;
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const;
  size_t Size() const;

 private:
  void IndexLocked(const std::string& key, const Json& obj, bool add);

  mutable std::mutex mu_;
  std::map<std::string, ObjectPtr> items_;
  std::map<std::string, IndexFunc> index_funcs_;
  // index name -> value -> keys
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;
};

}  // namespace certsmith::kube
