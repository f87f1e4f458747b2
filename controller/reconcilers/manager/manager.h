// Wires the reconcilers to the API: one informer per watched kind (Secrets only with certsmith's
// label selector), one workqueue and a few worker threads per reconciler. Reconcilers get a
// Context whose client reads the watched kinds from the informer caches (kube::CachedClient:
// their own writes are visible at once) and writes to the API server. Informer events only
// enqueue keys: an object's own status writes do not re-trigger it (its sync already chose when
// to look again), but a child's change enqueues its owner (Challenge -> Order -> Certificate),
// an Issuer's change enqueues the Certificates, and a managed Secret's change its Certificate.
// Ingresses with certsmith.io/ annotations go to the Ingress shim, and a change to a Certificate
// it made enqueues the Ingress. With enable_gateway_api, Gateways go to the Gateway shim the
// same way and a solver HTTPRoute's status change wakes its Challenge; those two informers start
// once the Gateway API answers (OptionalApi), and the caches do not wait for them.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kube/cached_client.h"
#include "kube/informer.h"
#include "kube/rate_limiter.h"
#include "kube/workqueue.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

class IssuerReconciler;
class CertificateReconciler;
class OrderReconciler;
class ChallengeReconciler;
class IngressShim;
class OptionalApi;
struct ShimSource;

struct ManagerOptions {
  std::string watch_namespace;  // empty: all namespaces
  // Where Secrets are watched (one informer each), for a controller allowed Secrets in these
  // namespaces only (the chart's rbac.secretNamespaces); empty: watch_namespace.
  std::vector<std::string> secret_namespaces;
  int workers = 5;  // per reconciler
  // The Ingress shim also reads cert-manager.io/ annotations (ingress/ingress_shim.h).
  bool honour_cert_manager_annotations = false;
  // --enable-gateway-api: watch Gateways (the Gateway shim) and solver HTTPRoutes.
  bool enable_gateway_api = false;
};

class Manager {
 public:
  Manager(Context& ctx, ManagerOptions options);
  ~Manager();

  // Starts the informers (caches fill before workers need them).
  void StartInformers();
  bool WaitForSync(std::chrono::milliseconds timeout);
  // Starts the workers (after winning leader election).
  void StartWorkers();
  void Stop();
  bool Synced() const;
  // Every informer synced and every work queue idle (nothing ready, nothing being processed;
  // keys waiting for a later time do not count): what a restart has to reach.
  bool Idle() const;

 private:
  struct Controller {
    std::string name;
    std::unique_ptr<kube::WorkQueue> queue;
    std::function<SyncResult(const std::string&)> sync;
    const kube::ResourceRef* resource = nullptr;  // what its keys name (a 403 is reported on it)
  };
  Controller& Add(std::string name, const kube::ResourceRef& resource,
                  std::function<SyncResult(const std::string&)> sync);
  // An informer whose store also serves the reconcilers' reads of res. complete: it caches
  // every object of the kind (no selector), so a miss means NotFound.
  // optional: kept apart (optional_informers_), started once the API exists, not waited for.
  kube::Informer& Watch(const kube::ResourceRef& res, std::string ns, std::string selector,
                        std::function<void(Json&)> transform = kube::StripManagedFields,
                        bool optional = false);
  void Work(Controller& c);
  void EnqueueOwner(Controller& target, const Json& obj, const std::string& kind);
  // Wakes the Certificates whose spec.issuerRef names this Issuer or ClusterIssuer.
  void EnqueueCertificatesOf(const std::string& issuer_kind, const Json& issuer);
  void WatchIngresses(kube::Informer& certificates);
  // The shim's objects go to its queue when relevant; its Certificates back to their owner.
  void WatchShim(Controller& shim, kube::Informer& objects, kube::Informer& certificates,
                 const ShimSource& source);
  void WatchGatewayApi(kube::Informer& certificates, Controller& challenges);
  // For a solver object (Pod, HTTPRoute) owned by a Challenge: a status change or a deletion
  // wakes the Challenge.
  kube::ResourceEventHandlers WakeOwningChallenge(Controller& challenges);

  kube::Client& api_;  // the API server, uncached: informers list and watch through it
  std::unique_ptr<kube::CachedClient> cache_;
  Context ctx_;  // the caller's, with client = cache_
  ManagerOptions options_;
  std::unique_ptr<IssuerReconciler> issuers_;
  std::unique_ptr<IssuerReconciler> cluster_issuers_;
  std::unique_ptr<CertificateReconciler> certificates_;
  std::unique_ptr<OrderReconciler> orders_;
  std::unique_ptr<ChallengeReconciler> challenges_;
  std::unique_ptr<IngressShim> ingress_shim_;
  std::unique_ptr<IngressShim> gateway_shim_;
  std::vector<std::unique_ptr<kube::Informer>> optional_informers_;
  kube::RealSleeper probe_sleeper_;
  std::unique_ptr<OptionalApi> gateway_api_;
  std::thread probe_thread_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::vector<std::unique_ptr<kube::Informer>> informers_;
  std::vector<std::thread> workers_;
  kube::Informer* certificate_informer_ = nullptr;
  kube::Informer* order_informer_ = nullptr;
  kube::Informer* challenge_informer_ = nullptr;
  int metrics_collector_ = -1;  // sets the workqueue and challenge gauges at each scrape
  std::atomic<bool> stopped_{false};
};

}  // namespace certsmith::reconcilers
