// What every reconciler shares: the API client, events, the clock, options, and the registry of
// ACME clients the Issuer reconciler keeps. A sync returns a SyncResult that the manager turns
// into workqueue calls: an error is retried with capped per-key backoff, requeue_after is a
// delayed add (how waiting happens; reconcilers never sleep).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "acme/client.h"
#include "api/issuer.h"
#include "certsmith/clock.h"
#include "certsmith/http_transport.h"
#include "certsmith/status.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "metrics/controller_metrics.h"

namespace certsmith::solvers::dns01 {
class DnsClient;
}  // namespace certsmith::solvers::dns01

namespace certsmith::reconcilers {

using Json = nlohmann::json;
using Duration = std::chrono::nanoseconds;

struct SyncResult {
  Status status;                           // not OK: retried with backoff (the manager's)
  std::optional<Duration> requeue_after;   // OK: look again after this long

  static SyncResult Done() { return {}; }
  static SyncResult After(Duration d) { return {Status::Ok(), d}; }
  static SyncResult Error(Status s) { return {std::move(s), std::nullopt}; }
};

struct ControllerOptions {
  // Where ClusterIssuer Secrets (account key, EAB key) live.
  std::string cluster_resource_namespace = "certsmith";
  std::string solver_image = "certsmith:latest";
  // At most this many http-01 solvers presented at once (each is a Pod, Service, Ingress).
  int max_concurrent_challenges = 60;
  // Failed issuance backoff: base * 2^(attempts-1), capped (cert-manager uses 1h..32h; a
  // commercial CA with a transient outage should not leave a Certificate idle that long).
  Duration issuance_backoff_base = std::chrono::minutes(1);
  Duration issuance_backoff_cap = std::chrono::hours(1);
  // Default cap between polls of a processing order (spec.acme.maxPollInterval overrides).
  Duration max_poll_interval = std::chrono::minutes(5);
  // Timeout of the http-01 self check GET.
  std::chrono::milliseconds self_check_timeout{5000};
  // spec.secretDeletionPolicy of Certificates that leave it unset (--default-secret-deletion-
  // policy): "Retain" keeps the TLS Secret when its Certificate is deleted, "Delete" makes the
  // Certificate an owner of the Secret so the garbage collector removes it.
  std::string default_secret_deletion_policy = "Retain";
  // How long a deleted Certificate with revokeOnDelete waits for its revocation to succeed
  // (retrying with backoff) before it lets the deletion go on without it.
  Duration revocation_timeout = std::chrono::minutes(5);
  // dns-01 (controller/solvers/dns01/README.md): --dns01-recursive-nameservers ("host:port")
  // find zones and follow CNAMEs; with --dns01-recursive-nameservers-only they are also where
  // the record is checked, instead of the zone's authoritative servers. A solver's
  // dns01.nameservers overrides both. Empty: the system's resolvers (Context::dns01_system_...).
  std::vector<std::string> dns01_recursive_nameservers;
  bool dns01_recursive_nameservers_only = false;
  // A deleted Challenge whose TXT record cannot be removed (the DNS server is gone, its secret
  // deleted) keeps its finalizer this long, then lets the deletion finish with a Warning that
  // names the record to remove by hand.
  Duration dns01_cleanup_deadline = std::chrono::minutes(10);
  // --enable-gateway-api: http-01 through Gateway API HTTPRoutes (http01.gatewayHTTPRoute) and
  // Certificates for annotated Gateways. Off: a gatewayHTTPRoute Challenge waits with condition
  // SolverReady=False, reason GatewayAPIDisabled.
  bool enable_gateway_api = false;
};

// Builds the ACME client for an issuer and its account key signer. Production wiring uses the
// cpprestsdk transport with the issuer's caBundle / skipTLSVerify; tests return fakes.
using AcmeClientFactory = std::function<Result<std::shared_ptr<acme::AcmeClient>>(
    const api::Issuer& issuer, std::shared_ptr<const acme::Signer> signer)>;

// "Issuer/ns/name" or "ClusterIssuer/name".
std::string IssuerKey(const api::IssuerRef& ref, std::string_view certificate_namespace);

// ACME clients with a registered account, one per issuer, keyed by server + account key hash so
// a sync that finds the same pair does not look the account up again.
class AccountRegistry {
 public:
  struct Entry {
    std::string hash;  // server + "|" + account key fingerprint
    std::string account_url;
    std::shared_ptr<acme::AcmeClient> client;
  };
  std::optional<Entry> Find(const std::string& issuer_key) const;
  // Calls the listener (outside the lock) when the issuer's account is new or changed.
  void Put(const std::string& issuer_key, Entry entry);
  void Remove(const std::string& issuer_key);
  // Work waiting for an account (Orders, Challenges after a restart) can go on at once.
  void OnRegistered(std::function<void(const std::string& issuer_key)> listener);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::function<void(const std::string&)> listener_;
};

// The HTTPS transport a dns-01 webhook with a url is called through (tls.ca_pem: its caBundle).
using HttpsTransportFactory =
    std::function<Result<std::shared_ptr<HttpTransport>>(const TlsOptions& tls)>;

// Performs an HTTP GET for the http-01 self check; returns the body.
using HttpGetter = std::function<Result<std::string>(const std::string& url)>;

struct Context {
  kube::Client* client = nullptr;
  // The API server without the informer caches `client` may read from, for the one check made
  // before a step that costs something outside the cluster (a new key, an ACME order): a cache
  // can still hold an object the garbage collector has just deleted. Null: `client`.
  kube::Client* live = nullptr;
  kube::EventRecorder* events = nullptr;
  const Clock* clock = &SystemClock::Instance();
  ControllerOptions options;
  AcmeClientFactory acme_factory;
  AccountRegistry* accounts = nullptr;
  HttpGetter http_get;  // null: self checks are skipped
  // Uniform random numbers in [0, 1), for the point in an ARI renewal window (RFC 9773 §4.2);
  // null: a process-wide generator seeded from std::random_device. Tests pass a fixed value.
  std::function<double()> random;
  // dns-01: the DNS (LdnsDnsClient in production, a fake in tests; null: dns-01 challenges wait
  // with a message), the transport for webhooks with a url, and the resolvers of
  // /etc/resolv.conf ("host:port"), asked when no nameserver is configured.
  solvers::dns01::DnsClient* dns = nullptr;
  HttpsTransportFactory https_transport;
  std::vector<std::string> dns01_system_nameservers;
  // Where status writes and syncs are recorded (controller/metrics/README.md); null: nowhere.
  metrics::ControllerMetrics* metrics = &metrics::ControllerMetrics::Default();
};

}  // namespace certsmith::reconcilers
