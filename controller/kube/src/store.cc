#include "kube/store.h"

namespace certsmith::kube {
namespace {

std::vector<std::string> NamespaceValues(const Json& obj) {
  std::string ns = GetNamespace(obj);
  if (ns.empty()) return {};
  return {ns};
}

std::vector<std::string> OwnerUidValues(const Json& obj) {
  std::vector<std::string> out;
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return out;
  auto refs = md->find("ownerReferences");
  if (refs == md->end() || !refs->is_array()) return out;
  for (const Json& ref : *refs)
    if (ref.is_object() && ref.contains("uid") && ref["uid"].is_string())
      out.push_back(ref["uid"].get<std::string>());
  return out;
}

std::vector<std::string> LabelValues(const Json& obj) {
  std::vector<std::string> out;
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return out;
  auto labels = md->find("labels");
  if (labels == md->end() || !labels->is_object()) return out;
  for (auto it = labels->begin(); it != labels->end(); ++it)
    if (it.value().is_string()) out.push_back(it.key() + "=" + it.value().get<std::string>());
  return out;
}

}  // namespace

Store::Store(bool compact) : compact_(compact) {
  index_funcs_[kNamespaceIndex] = NamespaceValues;
  index_funcs_[kOwnerUidIndex] = OwnerUidValues;
  index_funcs_[kLabelIndex] = LabelValues;
}

Store::Entry Store::MakeEntry(ObjectPtr obj) const {
  Entry e;
  if (!compact_) {
    e.obj = std::move(obj);
    return e;
  }
  std::vector<uint8_t> bytes = Json::to_msgpack(*obj);
  e.packed.assign(bytes.begin(), bytes.end());
  e.packed.shrink_to_fit();
  return e;
}

ObjectPtr Store::Materialize(const Entry& e) {
  if (e.obj) return e.obj;
  // Bytes we packed ourselves: decoding cannot fail short of memory corruption.
  return std::make_shared<const Json>(Json::from_msgpack(e.packed, true, false));
}

void Store::AddIndex(const std::string& name, IndexFunc fn) {
  std::lock_guard<std::mutex> lock(mu_);
  index_funcs_[name] = std::move(fn);
  indexes_.erase(name);
  auto& index = indexes_[name];
  for (auto& [key, entry] : items_)
    for (const std::string& v : index_funcs_[name](*Materialize(entry))) index[v].insert(key);
}



void Store::IndexInto(Indexes& indexes, const std::string& key, const Json& obj,
                      bool add) const {
  for (auto& [name, fn] : index_funcs_) {
    auto& index = indexes[name];
    for (const std::string& v : fn(obj)) {
      if (add) {
        index[v].insert(key);
        continue;
      }
      auto it = index.find(v);
      if (it == index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);
    }
  }
}

void Store::IndexLocked(const std::string& key, const Json& obj, bool add) {
  IndexInto(indexes_, key, obj, add);
}

bool Store::SameEntry(const Entry& a, const Entry& b) const {
  if (compact_) return a.packed == b.packed;
  std::string rv = GetResourceVersion(*a.obj);
  if (!rv.empty()) return rv == GetResourceVersion(*b.obj);
  return *a.obj == *b.obj;
}

void Store::Stage(ObjectPtr obj) {
  std::string key = ObjectKey(*obj);
  std::lock_guard<std::mutex> lock(mu_);
  auto old = staged_.find(key);
  if (old != staged_.end()) IndexInto(staged_indexes_, key, *Materialize(old->second), false);
  IndexInto(staged_indexes_, key, *obj, true);
  staged_[key] = MakeEntry(std::move(obj));
}

void Store::DiscardStaged() {
  std::lock_guard<std::mutex> lock(mu_);
  staged_.clear();
  staged_indexes_.clear();
}

Store::Diff Store::CommitStaged() {
  std::lock_guard<std::mutex> lock(mu_);
  Diff diff;
  for (auto& [key, entry] : items_) {
    auto it = staged_.find(key);
    if (it == staged_.end()) {
      diff.removed.push_back(Materialize(entry));
    } else if (!SameEntry(entry, it->second)) {
      diff.updated.emplace_back(key, Materialize(entry));
    }
  }
  for (auto& [key, entry] : staged_)
    if (!items_.count(key)) diff.added.push_back(key);
  items_.swap(staged_);
  indexes_.swap(staged_indexes_);
  staged_.clear();
  staged_indexes_.clear();
  return diff;
}

ObjectPtr Store::Upsert(ObjectPtr obj) {
  std::string key = ObjectKey(*obj);
  std::lock_guard<std::mutex> lock(mu_);
  ObjectPtr old;
  auto it = items_.find(key);
  if (it != items_.end()) {
    old = Materialize(it->second);
    IndexLocked(key, *old, false);
  }
  IndexLocked(key, *obj, true);
  items_[key] = MakeEntry(std::move(obj));
  return old;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = Materialize(it->second);
  IndexLocked(key, *old, false);
  items_.erase(it);
  return old;
}

std::vector<ObjectPtr> Store::Replace(std::vector<ObjectPtr> objects) {
  for (ObjectPtr& o : objects) Stage(std::move(o));
  return CommitStaged().removed;
}

ObjectPtr Store::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : Materialize(it->second);
}

ObjectPtr Store::Get(std::string_view ns, std::string_view name) const {
  return Get(ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name));
}

std::vector<ObjectPtr> Store::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (auto& [key, entry] : items_) out.push_back(Materialize(entry));
  return out;
}

std::vector<std::string> Store::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (auto& [key, entry] : items_) out.push_back(key);
  return out;
}

std::vector<ObjectPtr> Store::ByIndex(const std::string& index, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  for (const std::string& key : keys->second) out.push_back(Materialize(items_.at(key)));
  return out;
}

size_t Store::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

}  // namespace certsmith::kube
