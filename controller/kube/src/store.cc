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

Store::Store() {
  index_funcs_[kNamespaceIndex] = NamespaceValues;
  index_funcs_[kOwnerUidIndex] = OwnerUidValues;
  index_funcs_[kLabelIndex] = LabelValues;
}

void Store::AddIndex(const std::string& name, IndexFunc fn) {
  std::lock_guard<std::mutex> lock(mu_);
  index_funcs_[name] = std::move(fn);
  indexes_.erase(name);
  auto& index = indexes_[name];
  for (auto& [key, obj] : items_)
    for (const std::string& v : index_funcs_[name](*obj)) index[v].insert(key);
}

void Store::IndexLocked(const std::string& key, const Json& obj, bool add) {
  for (auto& [name, fn] : index_funcs_) {
    auto& index = indexes_[name];
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

ObjectPtr Store::Upsert(ObjectPtr obj) {
  std::string key = ObjectKey(*obj);
  std::lock_guard<std::mutex> lock(mu_);
  ObjectPtr old;
  auto it = items_.find(key);
  if (it != items_.end()) {
    old = it->second;
    IndexLocked(key, *old, false);
  }
  IndexLocked(key, *obj, true);
  items_[key] = std::move(obj);
  return old;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = it->second;
  IndexLocked(key, *old, false);
  items_.erase(it);
  return old;
}

std::vector<ObjectPtr> Store::Replace(std::vector<ObjectPtr> objects) {
  std::map<std::string, ObjectPtr> fresh;
  for (ObjectPtr& o : objects) fresh[ObjectKey(*o)] = std::move(o);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> removed;
  for (auto& [key, obj] : items_)
    if (!fresh.count(key)) removed.push_back(obj);
  items_ = std::move(fresh);
  indexes_.clear();
  for (auto& [key, obj] : items_) IndexLocked(key, *obj, true);
  return removed;
}

ObjectPtr Store::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

ObjectPtr Store::Get(std::string_view ns, std::string_view name) const {
  return Get(ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name));
}

std::vector<ObjectPtr> Store::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (auto& [key, obj] : items_) out.push_back(obj);
  return out;
}

std::vector<std::string> Store::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (auto& [key, obj] : items_) out.push_back(key);
  return out;
}

std::vector<ObjectPtr> Store::ByIndex(const std::string& index, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  for (const std::string& key : keys->second) out.push_back(items_.at(key));
  return out;
}

size_t Store::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

}  // namespace certsmith::kube
