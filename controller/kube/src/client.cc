#include "kube/client.h"

namespace certsmith::kube {

const ResourceRef kSecrets{"", "v1", "secrets", "Secret", true};
const ResourceRef kEvents{"", "v1", "events", "Event", true};
const ResourceRef kPods{"", "v1", "pods", "Pod", true};
const ResourceRef kServices{"", "v1", "services", "Service", true};
const ResourceRef kIngresses{"networking.k8s.io", "v1", "ingresses", "Ingress", true};
const ResourceRef kHTTPRoutes{"gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute", true};
const ResourceRef kGateways{"gateway.networking.k8s.io", "v1", "gateways", "Gateway", true};
const ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const ResourceRef kNamespaces{"", "v1", "namespaces", "Namespace", false};
const ResourceRef kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};

std::string ResourceRef::ApiVersion() const {
  return group.empty() ? version : group + "/" + version;
}

namespace {
std::string MetaString(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  if (f == m->end() || !f->is_string()) return "";
  return f->get<std::string>();
}
}  // namespace

std::string GetName(const Json& obj) { return MetaString(obj, "name"); }
std::string GetNamespace(const Json& obj) { return MetaString(obj, "namespace"); }
std::string GetUid(const Json& obj) { return MetaString(obj, "uid"); }
std::string GetResourceVersion(const Json& obj) { return MetaString(obj, "resourceVersion"); }

std::string ObjectKey(const Json& obj) {
  std::string ns = GetNamespace(obj);
  return ns.empty() ? GetName(obj) : ns + "/" + GetName(obj);
}

Result<Json> ListAll(Client& client, const ResourceRef& res, std::string_view ns,
                     ListOptions options) {
  Json all;
  Json items = Json::array();
  for (;;) {
    ASSIGN_OR_RETURN(Json page, client.List(res, ns, options));
    if (page.contains("items") && page["items"].is_array())
      for (Json& item : page["items"]) items.push_back(std::move(item));
    all = std::move(page);
    std::string next;
    if (all.contains("metadata") && all["metadata"].is_object())
      next = all["metadata"].value("continue", "");
    if (next.empty()) break;
    options.continue_token = next;
  }
  all["items"] = std::move(items);
  if (all.contains("metadata") && all["metadata"].is_object()) all["metadata"].erase("continue");
  return all;
}

Status RetryOnConflict(const std::function<Status()>& fn, int max_attempts) {
  Status st;
  for (int i = 0; i < max_attempts; ++i) {
    st = fn();
    if (st.code() != ErrorCode::kConflict) return st;
  }
  return st;
}

}  // namespace certsmith::kube
