// FakeClient: an in-memory Kubernetes API for unit tests of reconcilers and of this library.
// It behaves like the API server where reconcilers depend on it:
//  - a cluster-wide resourceVersion counter; Update/UpdateStatus with a stale
//    metadata.resourceVersion fail with kConflict, Create of an existing name with kAlreadyExists;
//  - status subresource semantics: for resources that have one (all but Secrets, ConfigMaps,
//    Events, Leases, Namespaces unless changed with SetStatusSubresource), Update ignores
//    .status and UpdateStatus changes only .status;
//  - metadata.generation increases when anything but status/metadata changes;
//  - label and field (metadata.name / metadata.namespace) selectors on List and watch;
//  - Delete honours preconditions; objects with finalizers get deletionTimestamp instead of
//    vanishing; dependents (ownerReferences uid) are deleted in cascade (garbage collection);
//  - watches receive every later change.
// Every call is recorded as an Action so table-driven tests can assert "expected API actions";
// reactors inject errors or replace results.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "certsmith/clock.h"
#include "kube/client.h"

namespace certsmith::kube::testing {

struct Action {
  std::string verb;  // get, list, create, update, patch, delete, watch, post
  ResourceRef resource;
  std::string ns;
  std::string name;
  std::string subresource;  // "" or "status"
  Json object;              // create/update: the object sent; patch: the patch; post: the body
  PatchType patch_type = PatchType::kMerge;
  std::string path;  // post only

  // "create secrets default/tls-a", "update certificates/status default/a", "post /apis/x".
  std::string ToString() const;
};

// A reactor sees every action before the fake handles it. Returning a Status (not OK) makes the
// call fail with it; returning a Json makes the call succeed with it; std::nullopt passes on.
struct ReactorResult {
  std::optional<Status> error;
  std::optional<Json> object;
};
using Reactor = std::function<std::optional<ReactorResult>(const Action&)>;

class FakeClient final : public Client {
 public:
  explicit FakeClient(const Clock* clock = &SystemClock::Instance());
  ~FakeClient() override;

  // Seeds an object without recording an action (uid/resourceVersion filled if missing).
  void Add(const ResourceRef& res, Json obj);
  // The stored object or nullopt, without recording an action.
  std::optional<Json> Peek(const ResourceRef& res, std::string_view ns,
                           std::string_view name) const;
  // Every stored object of a resource (any namespace), sorted by key.
  std::vector<Json> All(const ResourceRef& res) const;

  std::vector<Action> Actions() const;
  // Actions as ToString() lines; verbs in skip_verbs (e.g. {"get","list","watch"}) left out.
  std::vector<std::string> ActionStrings(const std::set<std::string>& skip_verbs = {}) const;
  void ClearActions();

  // verb "*" or resource "*" match anything. Reactors added later run first.
  void PrependReactor(std::string verb, std::string resource, Reactor reactor);
  // Convenience: the next `times` calls of verb on resource fail with status.
  void FailNext(std::string verb, std::string resource, Status status, int times = 1);

  void SetStatusSubresource(const ResourceRef& res, bool enabled);
  // Answer to PostPath (default: echoes the body).
  void SetPostHandler(std::function<Result<Json>(std::string_view path, const Json& body)> fn);
  // Makes every open watch end as if the server closed it.
  void CloseWatches();

  // Client
  Result<Json> Get(const ResourceRef& res, std::string_view ns, std::string_view name) override;
  Result<Json> List(const ResourceRef& res, std::string_view ns,
                    const ListOptions& options) override;
  Result<Json> Create(const ResourceRef& res, std::string_view ns, const Json& obj) override;
  Result<Json> Update(const ResourceRef& res, std::string_view ns, const Json& obj) override;
  Result<Json> UpdateStatus(const ResourceRef& res, std::string_view ns,
                            const Json& obj) override;
  Result<Json> Patch(const ResourceRef& res, std::string_view ns, std::string_view name,
                     PatchType type, const Json& patch, bool status_subresource = false) override;
  Status Delete(const ResourceRef& res, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {}) override;
  Result<Json> PostPath(std::string_view absolute_path, const Json& body) override;
  Result<std::unique_ptr<Watch>> StartWatch(const ResourceRef& res, std::string_view ns,
                                            const ListOptions& options) override;

  class FakeWatch;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certsmith::kube::testing
