// The Kubernetes API as certsmith's controllers see it: typed CRUD over JSON objects, watches,
// and POST to aggregated API paths. Reconcilers code against this interface; RestClient
// (kube/rest_client.h) implements it over certsmith::HttpTransport and FakeClient
// (kube/testing/fake_client.h) implements it in memory for unit tests.
//
// Error mapping (every implementation follows it, so reconcilers can branch on codes):
//   404 -> kNotFound, 409 reason AlreadyExists -> kAlreadyExists, other 409 -> kConflict,
//   410 -> kGone, 400/422 -> kInvalidArgument (server message), 401 -> kUnauthenticated,
//   403 -> kPermissionDenied, 429 -> kResourceExhausted (retry_after set), 5xx -> kUnavailable.
//   Status::payload() holds the server's Status object as JSON text.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "certsmith/status.h"

namespace certsmith::kube {

using Json = nlohmann::json;

// Identifies a resource type: group/version/resource (the URL part) plus its kind.
struct ResourceRef {
  std::string group;  // "" for the core API
  std::string version;
  std::string resource;  // plural, lower case: "secrets"
  std::string kind;      // "Secret"
  bool namespaced = true;

  // "v1" for core, "group/version" otherwise.
  std::string ApiVersion() const;
  bool operator==(const ResourceRef&) const = default;
};

// Well-known resources.
extern const ResourceRef kSecrets;
extern const ResourceRef kEvents;
extern const ResourceRef kPods;
extern const ResourceRef kServices;
extern const ResourceRef kIngresses;
// Gateway API (gateway.networking.k8s.io/v1): an optional API, installed by its own CRDs.
extern const ResourceRef kHTTPRoutes;
extern const ResourceRef kGateways;
extern const ResourceRef kLeases;
extern const ResourceRef kNamespaces;
extern const ResourceRef kConfigMaps;

struct ListOptions {
  std::string label_selector;  // "app=x,tier!=db,env in (a,b),!legacy"
  std::string field_selector;  // "metadata.name=x"
  std::string resource_version;
  int64_t limit = 0;  // 0 = no limit
  std::string continue_token;
  // Watch only: ask the server for BOOKMARK events (allowWatchBookmarks).
  bool allow_watch_bookmarks = false;
  // Watch only: server-side timeout (timeoutSeconds); 0 = server default.
  int64_t timeout_seconds = 0;
};

struct DeleteOptions {
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJson,            // application/json-patch+json (RFC 6902)
  kStrategicMerge,  // application/strategic-merge-patch+json
};

// One watch event. type is "ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "ERROR"
// (for ERROR, object is a Status object; code 410 means the resourceVersion is too old).
struct WatchEvent {
  std::string type;
  Json object;
};

// An open watch. Next() blocks until an event arrives; it returns std::nullopt when the server
// closed the stream normally (resume from the last resourceVersion), kCancelled after Cancel(),
// and another error when the connection broke.
class Watch {
 public:
  virtual ~Watch() = default;
  virtual Result<std::optional<WatchEvent>> Next() = 0;
  // Makes a blocked Next() return kCancelled. Safe from any thread.
  virtual void Cancel() = 0;
};

// All methods are thread-safe. ns is ignored for cluster-scoped resources.
class Client {
 public:
  virtual ~Client() = default;
  virtual Result<Json> Get(const ResourceRef& res, std::string_view ns, std::string_view name) = 0;
  // Returns the List object (items, metadata.resourceVersion, metadata.continue).
  virtual Result<Json> List(const ResourceRef& res, std::string_view ns,
                            const ListOptions& options) = 0;
  virtual Result<Json> Create(const ResourceRef& res, std::string_view ns, const Json& obj) = 0;
  // PUT; obj's metadata.resourceVersion is the optimistic-concurrency precondition.
  virtual Result<Json> Update(const ResourceRef& res, std::string_view ns, const Json& obj) = 0;
  // PUT to the /status subresource: only .status changes.
  virtual Result<Json> UpdateStatus(const ResourceRef& res, std::string_view ns,
                                    const Json& obj) = 0;
  virtual Result<Json> Patch(const ResourceRef& res, std::string_view ns, std::string_view name,
                             PatchType type, const Json& patch,
                             bool status_subresource = false) = 0;
  virtual Status Delete(const ResourceRef& res, std::string_view ns, std::string_view name,
                        const DeleteOptions& options = {}) = 0;
  // POST to an absolute API path ("/apis/x.example/v1/things"), for aggregated APIs.
  virtual Result<Json> PostPath(std::string_view absolute_path, const Json& body) = 0;
  virtual Result<std::unique_ptr<Watch>> StartWatch(const ResourceRef& res, std::string_view ns,
                                                    const ListOptions& options) = 0;

  // Get, except that a client reading from informer caches (CachedClient) answers from them
  // alone: an object its label-selected cache does not hold is NotFound, not a question to the
  // API server. For callers that learn of such an object another way (a Create answering
  // AlreadyExists). Other clients: Get.
  virtual Result<Json> GetCached(const ResourceRef& res, std::string_view ns,
                                 std::string_view name) {
    return Get(res, ns, name);
  }
  // List, except that a client reading from informer caches answers from a cache that holds
  // every object of the kind (its own writes included) instead of the API server: a moment
  // behind other writers, never behind its own. Other clients: List.
  virtual Result<Json> ListCached(const ResourceRef& res, std::string_view ns,
                                  const ListOptions& options) {
    return List(res, ns, options);
  }
};

// Lists every page (following metadata.continue) and returns one List object whose items are
// all the items and whose metadata.resourceVersion is the last page's.
Result<Json> ListAll(Client& client, const ResourceRef& res, std::string_view ns,
                     ListOptions options);

// Calls fn; while it fails with kConflict, calls it again (fn re-reads the object itself), at
// most max_attempts times. Returns fn's last status.
Status RetryOnConflict(const std::function<Status()>& fn, int max_attempts = 5);

// Small helpers over object JSON (missing fields read as empty).
std::string GetName(const Json& obj);
std::string GetNamespace(const Json& obj);
std::string GetUid(const Json& obj);
std::string GetResourceVersion(const Json& obj);
// "namespace/name", or "name" for cluster-scoped objects: the informer store key.
std::string ObjectKey(const Json& obj);

}  // namespace certsmith::kube
