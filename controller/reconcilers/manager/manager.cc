#include "manager/manager.h"

#include "api/challenge.h"
#include "api/resources.h"
#include "certificates/certificate_reconciler.h"
#include "certsmith/log.h"
#include "challenges/challenge_reconciler.h"
#include "gateway/gateway_shim.h"
#include "ingress/ingress_shim.h"
#include "issuers/issuer_reconciler.h"
#include "kube/errors.h"
#include "manager/optional_api.h"
#include "orders/order_reconciler.h"
#include "reconcilers/util.h"
#include "solvers/http01/solver_resources.h"

namespace certsmith::reconcilers {
namespace {

// First retry after a 409 Conflict (a stale cached read); doubles per consecutive failure.
constexpr auto kConflictRetryBase = std::chrono::milliseconds(20);

int64_t Generation(const Json& obj) {
  return obj.value("metadata", Json::object()).value("generation", int64_t{0});
}

bool SpecOrDeletionChanged(const Json& old_obj, const Json& obj) {
  return Generation(old_obj) != Generation(obj) ||
         obj["metadata"].contains("deletionTimestamp") !=
             old_obj["metadata"].contains("deletionTimestamp");
}

bool MetadataChanged(const Json& old_obj, const Json& obj, const char* field) {
  return old_obj["metadata"].value(field, Json()) != obj["metadata"].value(field, Json());
}

// The annotations through which `kubectl certsmith` asks for something (renew, account key
// rollover): a change wakes the object though its generation stays the same.
bool AnnotationChanged(const Json& old_obj, const Json& obj, const char* key) {
  auto value = [key](const Json& o) {
    return o["metadata"].value("annotations", Json::object()).value(key, Json());
  };
  return value(old_obj) != value(obj);
}

// What the Certificate reconciler acts on: an Order that ended (valid with its certificate,
// invalid, expired, errored; with the reason), or what holds one in progress (its pending reason,
// repeated in the Certificate's Ready message: a solver Pod that cannot run, a refused DNS
// update). Progress in between (pending, ready, processing, authorizations, poll times) changes
// nothing for it.
std::string OrderOutcome(const Json& obj) {
  const Json status = obj.value("status", Json::object());
  const std::string state = status.value("state", "");
  if (state == "valid") return status.value("certificate", "").empty() ? "" : "valid";
  if (state == "invalid" || state == "expired" || state == "errored") {
    return state + "|" + status.value("reason", "");
  }
  return "waiting|" + status.value("reason", "");
}

// What an Order acts on: its Challenge's state, and a problem that needs a person
// (api::ChallengeProblem: Ready=False with a problem reason, or SolverReady=False), which the
// Order repeats.
std::string ChallengeOutcome(const Json& obj) {
  const Json status = obj.value("status", Json::object());
  std::string problem;
  for (const Json& c : status.value("conditions", Json::array())) {
    const std::string type = c.value("type", "");
    if (c.value("status", "") != "False") continue;
    if (type == api::kConditionSolverReady ||
        (type == api::kConditionReady && api::IsChallengeProblemReason(c.value("reason", "")))) {
      problem += type + "|" + c.value("reason", "") + "|" + c.value("message", "") + "|";
    }
  }
  return status.value("state", "") + "|" + problem;
}

bool ChallengeStateChanged(const Json& old_obj, const Json& obj) {
  return ChallengeOutcome(old_obj) != ChallengeOutcome(obj) || SpecOrDeletionChanged(old_obj, obj);
}

bool OrderOutcomeChanged(const Json& old_obj, const Json& obj) {
  return OrderOutcome(old_obj) != OrderOutcome(obj) || SpecOrDeletionChanged(old_obj, obj);
}

Context WithClient(Context ctx, kube::Client* client) {
  if (ctx.live == nullptr) ctx.live = ctx.client;
  ctx.client = client;
  return ctx;
}

// For kinds certsmith writes back from its cache though users `kubectl apply` them (TLS Secrets,
// an existing Ingress a solver adds its rule to): keep the last-applied annotation, or the write
// would drop what `kubectl apply` needs for its next three-way merge.
void StripOnlyManagedFields(Json& obj) {
  auto md = obj.find("metadata");
  if (md != obj.end() && md->is_object()) md->erase("managedFields");
}

}  // namespace

Manager::Manager(Context& ctx, ManagerOptions options)
    : api_(*ctx.client),
      cache_(std::make_unique<kube::CachedClient>(*ctx.client,
                                                  kube::CachedClientOptions{.clock = ctx.clock})),
      ctx_(WithClient(ctx, cache_.get())),
      options_(std::move(options)),
      issuers_(std::make_unique<IssuerReconciler>(ctx_, api::kIssuers)),
      cluster_issuers_(std::make_unique<IssuerReconciler>(ctx_, api::kClusterIssuers)),
      certificates_(std::make_unique<CertificateReconciler>(ctx_)),
      orders_(std::make_unique<OrderReconciler>(ctx_)),
      challenges_(std::make_unique<ChallengeReconciler>(ctx_)),
      ingress_shim_(std::make_unique<IngressShim>(
          ctx_, IngressShimOptions{options_.honour_cert_manager_annotations})),
      gateway_shim_(std::make_unique<IngressShim>(
          ctx_, IngressShimOptions{options_.honour_cert_manager_annotations},
          GatewayShimSource())) {}

Manager::~Manager() { Stop(); }

Manager::Controller& Manager::Add(std::string name, const kube::ResourceRef& resource,
                                  std::function<SyncResult(const std::string&)> sync) {
  auto c = std::make_unique<Controller>();
  c->name = std::move(name);
  c->resource = &resource;
  c->queue = std::make_unique<kube::WorkQueue>(
      kube::WorkQueueOptions{.clock = ctx_.clock,
                             .backoff_base = std::chrono::seconds(1),
                             .backoff_cap = std::chrono::minutes(5)});
  c->sync = std::move(sync);
  controllers_.push_back(std::move(c));
  return *controllers_.back();
}

kube::Informer& Manager::Watch(const kube::ResourceRef& res, std::string ns, std::string selector,
                               std::function<void(Json&)> transform, bool optional) {
  kube::InformerOptions o;
  o.resource = res;
  o.ns = res.namespaced ? ns : "";
  o.label_selector = selector;
  o.transform = std::move(transform);
  auto& list = optional ? optional_informers_ : informers_;
  list.push_back(std::make_unique<kube::Informer>(api_, std::move(o)));
  kube::Informer& inf = *list.back();
  cache_->Serve(res, inf.store(), res.namespaced ? ns : "", selector.empty(),
                [&inf] { return inf.HasSynced(); });
  kube::CachedClient* cache = cache_.get();
  inf.AddHandlers(
      {.on_add = [cache, res](const Json& o) { cache->Observed(res, o, false); },
       .on_update = [cache, res](const Json&, const Json& o) { cache->Observed(res, o, false); },
       .on_delete = [cache, res](const Json& o) { cache->Observed(res, o, true); }});
  return inf;
}

void Manager::EnqueueOwner(Controller& target, const Json& obj, const std::string& kind) {
  for (const Json& ref : obj["metadata"].value("ownerReferences", Json::array())) {
    if (ref.value("kind", "") == kind) {
      target.queue->Add(kube::GetNamespace(obj) + "/" + ref.value("name", ""));
    }
  }
}

void Manager::EnqueueCertificatesOf(const std::string& kind, const Json& issuer) {
  if (certificate_informer_ == nullptr) return;
  const std::string ns = kube::GetNamespace(issuer);
  const std::string name = issuer["metadata"].value("name", "");
  for (const kube::ObjectPtr& cert : certificate_informer_->store().List()) {
    const Json ref = cert->value("spec", Json::object()).value("issuerRef", Json::object());
    if (!ref.is_object() || ref.value("name", "") != name) continue;
    const bool cluster = ref.value("kind", "") == "ClusterIssuer";
    if (cluster != (kind == "ClusterIssuer")) continue;
    if (!cluster && kube::GetNamespace(*cert) != ns) continue;
    controllers_[2]->queue->Add(kube::ObjectKey(*cert));
  }
}

void Manager::StartInformers() {
  Controller& issuers =
      Add("issuers", api::kIssuers, [this](const std::string& k) { return issuers_->Sync(k); });
  Controller& cluster_issuers =
      Add("clusterissuers", api::kClusterIssuers,
          [this](const std::string& k) { return cluster_issuers_->Sync(k); });
  Controller& certs = Add("certificates", api::kCertificates,
                          [this](const std::string& k) { return certificates_->Sync(k); });
  Controller& orders =
      Add("orders", api::kOrders, [this](const std::string& k) { return orders_->Sync(k); });
  Controller& challenges = Add("challenges", api::kChallenges,
                               [this](const std::string& k) { return challenges_->Sync(k); });
  const std::string ns = options_.watch_namespace;

  auto issuer_handlers = [this](Controller& q, const std::string& kind) {
    return kube::ResourceEventHandlers{
        .on_add = [&q](const Json& o) { q.queue->Add(kube::ObjectKey(o)); },
        .on_update =
            [this, &q, kind](const Json& old_obj, const Json& o) {
              if (SpecOrDeletionChanged(old_obj, o) ||
                  AnnotationChanged(old_obj, o, api::kAccountKeyRolloverAnnotation)) {
                q.queue->Add(kube::ObjectKey(o));
              }
              // A Certificate waits for its issuer to be Ready and to allow it (no Order
              // before): wake the ones that name it as soon as its status or spec changes.
              if (old_obj.value("status", Json()) != o.value("status", Json()) ||
                  SpecOrDeletionChanged(old_obj, o)) {
                EnqueueCertificatesOf(kind, o);
              }
            },
        .on_delete =
            [this, &q, kind](const Json& o) {
              q.queue->Add(kube::ObjectKey(o));
              if (ctx_.metrics) {
                ctx_.metrics->RemoveIssuer(kind, kube::GetNamespace(o),
                                           o["metadata"].value("name", ""));
              }
            }};
  };
  Watch(api::kIssuers, ns, "").AddHandlers(issuer_handlers(issuers, api::kIssuers.kind));
  Watch(api::kClusterIssuers, "", "")
      .AddHandlers(issuer_handlers(cluster_issuers, api::kClusterIssuers.kind));

  kube::Informer& ci = Watch(api::kCertificates, ns, "");
  certificate_informer_ = &ci;
  ci.AddHandlers({.on_add = [&certs](const Json& o) { certs.queue->Add(kube::ObjectKey(o)); },
                  .on_update =
                      [&certs](const Json& old_obj, const Json& o) {
                        if (SpecOrDeletionChanged(old_obj, o) ||
                            AnnotationChanged(old_obj, o, api::kRenewRevisionAnnotation)) {
                          certs.queue->Add(kube::ObjectKey(o));
                        }
                      },
                  .on_delete = nullptr});
  WatchIngresses(ci);
  order_informer_ = &Watch(api::kOrders, ns, "");
  order_informer_->AddHandlers(
      {.on_add = [&orders](const Json& o) { orders.queue->Add(kube::ObjectKey(o)); },
       .on_update =
           [this, &orders, &certs](const Json& old_obj, const Json& o) {
             if (SpecOrDeletionChanged(old_obj, o)) {
               orders.queue->Add(kube::ObjectKey(o));
             }
             if (OrderOutcomeChanged(old_obj, o)) {
               EnqueueOwner(certs, o, "Certificate");
             }
           },
       .on_delete =
           [this, &orders, &certs](const Json& o) {
             // Its pending authorizations are deactivated at the CA by the next sync of its key.
             orders_->Deleted(o);
             orders.queue->Add(kube::ObjectKey(o));
             EnqueueOwner(certs, o, "Certificate");
           }});
  challenge_informer_ = &Watch(api::kChallenges, ns, "");
  challenge_informer_->AddHandlers(
      {.on_add = [&challenges](const Json& o) { challenges.queue->Add(kube::ObjectKey(o)); },
       .on_update =
           [this, &challenges, &orders](const Json& old_obj, const Json& o) {
             if (SpecOrDeletionChanged(old_obj, o)) {
               challenges.queue->Add(kube::ObjectKey(o));
             }
             // Only a Challenge's state and a problem that needs a person matter to its Order
             // (each Order sync asks the CA); its other status writes (reasons, presented,
             // processing, propagation rounds) do not.
             if (ChallengeStateChanged(old_obj, o)) EnqueueOwner(orders, o, "Order");
           },
       .on_delete = [this, &orders](const Json& o) { EnqueueOwner(orders, o, "Order"); }});
  // After a restart, Orders and Challenges wait for their issuer's account to be registered
  // again: once it is, every one of them goes on at once instead of at its next poll.
  if (ctx_.accounts != nullptr) {
    ctx_.accounts->OnRegistered([this, &orders, &challenges](const std::string&) {
      for (const std::string& key : order_informer_->store().Keys()) orders.queue->Add(key);
      for (const std::string& key : challenge_informer_->store().Keys()) {
        challenges.queue->Add(key);
      }
    });
  }
  // Only the Secrets certsmith manages are cached (ARCHITECTURE.md "Scale and operation"), with
  // their data (the Certificate reconciler reads keys and certificates from the cache); a
  // Secret outside the selector (a user's, not yet managed) is read from the API server.
  // With --secret-namespaces, one informer per namespace: RBAC that grants Secrets in some
  // namespaces only allows no list or watch across all of them.
  std::vector<std::string> secret_namespaces = options_.secret_namespaces;
  if (secret_namespaces.empty()) secret_namespaces.push_back(ns);
  for (const std::string& secret_ns : secret_namespaces) {
    auto& secrets = Watch(kube::kSecrets, secret_ns,
                          std::string(api::kManagedByLabel) + "=" + api::kManagedByValue,
                          StripOnlyManagedFields);
    secrets.AddHandlers(
        {.on_add = nullptr,
         .on_update =
             [&certs](const Json& old_obj, const Json& o) {
               if (old_obj.value("data", Json()) == o.value("data", Json()) &&
                   old_obj["metadata"].value("annotations", Json()) ==
                       o["metadata"].value("annotations", Json())) {
                 return;
               }
               auto labels = o["metadata"].value("labels", Json::object());
               auto it = labels.find(api::kCertificateNameLabel);
               if (it != labels.end() && it->is_string()) {
                 certs.queue->Add(kube::GetNamespace(o) + "/" + it->get<std::string>());
               }
             },
         .on_delete =
             [&certs](const Json& o) {
               auto labels = o["metadata"].value("labels", Json::object());
               auto it = labels.find(api::kCertificateNameLabel);
               if (it != labels.end() && it->is_string()) {
                 certs.queue->Add(kube::GetNamespace(o) + "/" + it->get<std::string>());
               }
             }});
  }
  if (ctx_.metrics) {
    // A deleted Certificate's series go with it (its sync is not run: nothing is left to do).
    certificate_informer_->AddHandlers(
        {.on_add = nullptr, .on_update = nullptr, .on_delete = [this](const Json& o) {
           ctx_.metrics->RemoveCertificate(kube::GetNamespace(o), o["metadata"].value("name", ""));
         }});
    metrics_collector_ = ctx_.metrics->registry().AddCollector([this](metrics::Registry&) {
      for (const auto& c : controllers_) {
        ctx_.metrics->SetWorkqueueDepth(c->name, static_cast<double>(c->queue->Len()));
      }
      ctx_.metrics->SetChallengesInFlight(static_cast<double>(challenges_->Presented()));
    });
  }
  // The http-01 solvers' Pods and Services (by their label): read from the cache, and
  // a solver Pod turning Ready wakes its Challenge at once instead of at its next poll.
  const std::string solver_selector = std::string(solvers::http01::kSolverLabel) + "=true";
  Watch(kube::kPods, ns, solver_selector).AddHandlers(WakeOwningChallenge(challenges));
  Watch(kube::kServices, ns, solver_selector);
  // Ingresses: WatchIngresses above caches them all (the shim needs every one).
  if (options_.enable_gateway_api) WatchGatewayApi(ci, challenges);
  for (auto& inf : informers_) inf->Start();
  if (gateway_api_) {
    probe_thread_ = std::thread([this] {
      if (gateway_api_->Run() && !stopped_.load()) {
        for (auto& inf : optional_informers_) inf->Start();
      }
    });
  }
}

kube::ResourceEventHandlers Manager::WakeOwningChallenge(Controller& challenges) {
  return {.on_add = nullptr,
          .on_update =
              [this, &challenges](const Json& old_obj, const Json& o) {
                // Its status (a Pod turning Ready, a Gateway accepting a route) or its spec
                // (someone edited the route: the Challenge puts it back).
                if (old_obj.value("status", Json()) != o.value("status", Json()) ||
                    old_obj["metadata"].value("generation", Json()) !=
                        o["metadata"].value("generation", Json())) {
                  EnqueueOwner(challenges, o, "Challenge");
                }
              },
          .on_delete = [this, &challenges](const Json& o) {
            EnqueueOwner(challenges, o, "Challenge");
          }};
}

void Manager::WatchGatewayApi(kube::Informer& certificates, Controller& challenges) {
  const std::string ns = options_.watch_namespace;
  // The solver HTTPRoutes: a parent Gateway accepting or refusing one wakes its Challenge.
  Watch(kube::kHTTPRoutes, ns, std::string(solvers::http01::kSolverLabel) + "=true",
        kube::StripManagedFields, /*optional=*/true)
      .AddHandlers(WakeOwningChallenge(challenges));
  Controller& shim = Add("gateways", kube::kGateways,
                         [this](const std::string& k) { return gateway_shim_->Sync(k); });
  kube::Informer& gateways =
      Watch(kube::kGateways, ns, "", StripOnlyManagedFields, /*optional=*/true);
  WatchShim(shim, gateways, certificates, GatewayShimSource());
  gateway_api_ = std::make_unique<OptionalApi>(
      api_, probe_sleeper_,
      OptionalApiOptions{
          .probe = kube::kHTTPRoutes,
          .ns = ns,
          .what = "Gateway API (gateway.networking.k8s.io/v1 HTTPRoute, Gateway)",
          .missing_hint = "install the Gateway API CRDs; until then gatewayHTTPRoute solvers "
                          "wait and Gateways get no Certificates",
          .on_available = nullptr});
}

void Manager::WatchIngresses(kube::Informer& certificates) {
  Controller& shim = Add("ingresses", kube::kIngresses,
                         [this](const std::string& k) { return ingress_shim_->Sync(k); });
  kube::Informer& ingresses =
      Watch(kube::kIngresses, options_.watch_namespace, "", StripOnlyManagedFields);
  WatchShim(shim, ingresses, certificates, IngressShimSource());
}

void Manager::WatchShim(Controller& shim, kube::Informer& objects, kube::Informer& certificates,
                        const ShimSource& source) {
  const IngressShimOptions options{options_.honour_cert_manager_annotations};
  // Status writes (an ingress or gateway controller's addresses, listener status) are not the
  // shim's business.
  objects.AddHandlers(
      {.on_add =
           [&shim, options](const Json& o) {
             if (IngressShimRelevant(o, options)) shim.queue->Add(kube::ObjectKey(o));
           },
       .on_update =
           [&shim, options](const Json& old_obj, const Json& o) {
             if ((IngressShimRelevant(old_obj, options) || IngressShimRelevant(o, options)) &&
                 (SpecOrDeletionChanged(old_obj, o) ||
                  MetadataChanged(old_obj, o, "annotations"))) {
               shim.queue->Add(kube::ObjectKey(o));
             }
           },
       .on_delete = nullptr});  // garbage collection removes the Certificates it owned
  // A shim Certificate that changed or vanished goes back to its owner; any Certificate that
  // vanished may free a name a shim object was refused (CertificateNotOwned).
  auto to_owner = [&shim, source](const Json& o) {
    if (auto key = ShimOwnerKey(o, source)) shim.queue->Add(*key);
  };
  certificates.AddHandlers({.on_add = to_owner,
                            .on_update =
                                [to_owner](const Json& old_obj, const Json& o) {
                                  if (SpecOrDeletionChanged(old_obj, o) ||
                                      MetadataChanged(old_obj, o, "labels") ||
                                      MetadataChanged(old_obj, o, "ownerReferences")) {
                                    to_owner(old_obj);
                                    to_owner(o);
                                  }
                                },
                            .on_delete =
                                [&shim, &objects, options, to_owner](const Json& o) {
                                  to_owner(o);
                                  for (const auto& obj : objects.store().ByIndex(
                                           kube::kNamespaceIndex, kube::GetNamespace(o))) {
                                    if (IngressShimRelevant(*obj, options))
                                      shim.queue->Add(kube::ObjectKey(*obj));
                                  }
                                }});
}

bool Manager::WaitForSync(std::chrono::milliseconds timeout) {
  for (auto& inf : informers_) {
    if (!inf->WaitForSync(timeout)) return false;
  }
  return true;
}

bool Manager::Synced() const {
  for (const auto& inf : informers_) {
    if (!inf->HasSynced()) return false;
  }
  return !informers_.empty();
}

bool Manager::Idle() const {
  if (!Synced()) return false;
  for (const auto& c : controllers_) {
    if (!c->queue->Idle()) return false;
  }
  return true;
}

void Manager::StartWorkers() {
  for (auto& c : controllers_) {
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this, ctl = c.get()] { Work(*ctl); });
    }
  }
  log::Info("controller workers started", {{"workers", std::to_string(options_.workers)}});
}

void Manager::Work(Controller& c) {
  while (auto key = c.queue->Get()) {
    const auto started = std::chrono::steady_clock::now();  // a duration: not the wall clock
    SyncResult r = c.sync(*key);
    if (ctx_.metrics) {
      ctx_.metrics->ObserveSync(
          c.name, r.status.ok(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    if (log::GetLevel() == log::Level::kDebug) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      log::Debug(
          "synced",
          {{"controller", c.name},
           {"key", *key},
           {"ms", std::to_string(ms.count())},
           {"ok", r.status.ok() ? "true" : "false"},
           {"requeueMs", r.requeue_after
                             ? std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  *r.requeue_after)
                                                  .count())
                             : std::string("-")}});
    }
    if (!r.status.ok() && kube::IsConflict(r.status)) {
      // A write built from a cached object older than the server's: the informer is usually
      // milliseconds behind, so look again soon (backing off if it keeps happening).
      log::Debug("sync conflict, retrying",
                 {{"controller", c.name}, {"key", *key}, {"error", r.status.ToString()}});
      c.queue->AddRateLimited(*key, kConflictRetryBase);
    } else if (!r.status.ok()) {
      log::Warn("sync failed",
                {{"controller", c.name}, {"key", *key}, {"error", r.status.ToString()}});
      // Retrying will not help until someone grants the permission: say which one, where it
      // is seen (an event and a condition), and back off as for any error.
      if (kube::IsForbidden(r.status)) ReportForbidden(ctx_, *c.resource, *key, r.status);
      if (r.status.retry_after()) {
        c.queue->AddAfter(*key, *r.status.retry_after());
      } else {
        c.queue->AddRateLimited(*key);
      }
    } else {
      c.queue->Forget(*key);
      if (r.requeue_after) {
        c.queue->AddAfter(*key, std::max(Duration::zero(), *r.requeue_after));
      }
    }
    c.queue->Done(*key);
  }
}

void Manager::Stop() {
  if (stopped_.exchange(true)) return;
  if (ctx_.accounts != nullptr) ctx_.accounts->OnRegistered(nullptr);
  if (metrics_collector_ >= 0) ctx_.metrics->registry().RemoveCollector(metrics_collector_);
  probe_sleeper_.Interrupt();
  if (probe_thread_.joinable()) probe_thread_.join();
  for (auto& c : controllers_) c->queue->ShutDown();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  for (auto& inf : informers_) inf->Stop();
  for (auto& inf : optional_informers_) inf->Stop();
}

}  // namespace certsmith::reconcilers
