// Issuer and ClusterIssuer (certsmith.io/v1): an ACME account and how to solve its challenges.
// Field names and meanings follow cert-manager's v1 `spec.acme` so a cert-manager user moves
// over by changing apiVersion; fields marked "certsmith extra" exist because cert-manager lacks
// them (see /work/shared/design/CONTEXT.md).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/condition.h"
#include "api/duration.h"
#include "api/meta.h"

namespace certsmith::api {

// RFC 8555 §7.3.4 External Account Binding. keyAlgorithm is honoured (cert-manager always signs
// with HS256 whatever it says).
struct ExternalAccountBinding {
  std::string key_id;
  SecretKeySelector key_secret_ref;     // key defaults to "secret"
  std::string key_algorithm = "HS256";  // HS256 | HS384 | HS512
  Json ToJson() const;
};

// certsmith extra: the account key algorithm. cert-manager always makes RSA-2048 account keys;
// ECDSA P-256 signs every ACME request thousands of times faster and every public ACME CA
// accepts it (RFC 8555 §6.2 requires ES256 support).
struct AccountKey {
  std::string algorithm = "ECDSA";  // RSA | ECDSA
  int size = 256;                   // RSA 2048/3072/4096, ECDSA 256/384
  Json ToJson() const;
};

struct SolverSelector {
  std::vector<std::string> dns_names;
  std::vector<std::string> dns_zones;
  StringMap match_labels;
  Json ToJson() const;
};

struct Http01Ingress {
  std::string ingress_class_name;  // spec.ingressClassName of the solver Ingress
  std::string class_;              // legacy kubernetes.io/ingress.class annotation
  std::string name;                // edit this existing Ingress instead of creating one
  std::string service_type;        // "" (ClusterIP) | ClusterIP | NodePort
  Json pod_template;               // {metadata, spec} merged into the solver Pod
  Json ingress_template;           // {metadata} merged into the solver Ingress
  Json ToJson() const;
};

// A Gateway API ParentReference (gateway.networking.k8s.io/v1): the Gateway (and optionally
// its listener, by sectionName or port) the solver's HTTPRoute attaches to.
struct GatewayParentRef {
  std::string group;         // "" means gateway.networking.k8s.io
  std::string kind;          // "" means Gateway
  std::string namespace_;    // "" means the Challenge's namespace
  std::string name;          // required
  std::string section_name;  // a listener name; "" means every listener that allows the route
  std::optional<int64_t> port;
  Json ToJson() const;
};

// cert-manager's http01.gatewayHTTPRoute: the same solver Pod and Service as the Ingress
// solver, routed by an HTTPRoute attached to parentRefs (requires --enable-gateway-api).
struct Http01GatewayHTTPRoute {
  std::vector<GatewayParentRef> parent_refs;
  std::string service_type;  // "" (ClusterIP) | ClusterIP | NodePort
  StringMap labels;          // added to the HTTPRoute (a Gateway's allowedRoutes may select them)
  Json pod_template;         // {metadata, spec} merged into the solver Pod
  Json ToJson() const;
};

struct Http01Solver {
  std::optional<Http01Ingress> ingress;
  std::optional<Http01GatewayHTTPRoute> gateway_http_route;
  // certsmith extra: skip the controller's own GET of the challenge URL before telling the CA
  // to validate. cert-manager cannot, which blocks users behind NAT without hairpinning or with
  // split-horizon DNS: the CA can reach the solver but the cluster cannot.
  bool skip_self_check = false;
  Json ToJson() const;
};

// RFC 2136 dynamic updates signed with TSIG (cert-manager's fields, plus protocol).
struct Rfc2136Solver {
  std::string nameserver;  // host, host:port, [IPv6] or [IPv6]:port (default port 53)
  std::string tsig_key_name;
  // HMACMD5 | HMACSHA1 | HMACSHA224 | HMACSHA256 | HMACSHA384 | HMACSHA512; "" is HMACSHA256
  // (cert-manager defaults to HMACMD5, which RFC 8945 §6 no longer recommends).
  std::string tsig_algorithm;
  SecretKeySelector tsig_secret_secret_ref;  // the base64 TSIG secret; key defaults to "secret"
  std::string protocol;                      // "" (UDP) | UDP | TCP
  Json ToJson() const;
};

// cert-manager's dns01 webhook contract (ChallengePayload), through the aggregation layer
// (POST /apis/<groupName>/v1alpha1/<solverName>) or, certsmith extra, straight to url.
struct WebhookSolver {
  std::string group_name;
  std::string solver_name;
  Json config;            // opaque, passed to the webhook
  std::string url;        // certsmith extra: https URL the payload is POSTed to (no APIService)
  std::string ca_bundle;  // certsmith extra: base64 PEM CAs trusted for url
  Json ToJson() const;
};

struct Dns01Solver {
  std::string cname_strategy;  // "" | None | Follow
  // certsmith extra: the only servers asked, to find the zone and CNAMEs and to check the
  // record before the CA validates ("host:port"; locked-down egress). Empty: the controller's
  // --dns01-recursive-nameservers, then the zone's authoritative servers.
  std::vector<std::string> nameservers;
  std::optional<Rfc2136Solver> rfc2136;
  std::optional<WebhookSolver> webhook;
  // cert-manager's built-in provider blocks (route53, cloudflare, ...), kept as written: the
  // schema accepts them so cert-manager Issuers apply, and Validate() refuses each with what to
  // use instead (a DNS webhook for that provider, or rfc2136).
  std::map<std::string, Json> builtin_providers;
  Json ToJson() const;
};

// cert-manager's built-in dns01 providers, which certsmith reaches through webhooks instead.
inline constexpr const char* kCertManagerDnsProviders[] = {
    "acmeDNS", "akamai", "azureDNS", "cloudDNS", "cloudflare", "digitalocean", "route53"};

struct AcmeSolver {
  std::optional<SolverSelector> selector;
  std::optional<Http01Solver> http01;
  std::optional<Dns01Solver> dns01;

  static AcmeSolver FromJson(const Json& j, std::string_view path, FieldErrors* errors);
  Json ToJson() const;
};

struct AcmeIssuer {
  std::string server;
  std::string email;
  SecretKeySelector private_key_secret_ref;  // key defaults to "tls.key"
  std::optional<ExternalAccountBinding> external_account_binding;
  std::string preferred_chain;
  std::string ca_bundle;  // base64 of PEM CA certificates for the ACME server's TLS
  bool skip_tls_verify = false;
  bool disable_account_key_generation = false;
  std::vector<AcmeSolver> solvers;        // may be empty: pre-validated domains (Sectigo)
  std::optional<AccountKey> account_key;  // certsmith extra, see AccountKey
  // certsmith extra: the longest wait between polls of a `processing` order. Sectigo and ZeroSSL
  // can take minutes to issue; the controller backs off up to this cap and never gives up on an
  // order that the CA still reports as processing (cert-manager timed out and stopped polling).
  std::optional<Duration> max_poll_interval;
  // Send the Certificate's duration as notBefore/notAfter in newOrder (cert-manager's flag:
  // off by default because Let's Encrypt refuses orders that carry them).
  bool enable_duration_feature = false;
  // draft-aaron-acme-profiles: the profile to order under; must be in the directory's
  // meta.profiles (checked by the Issuer reconciler).
  std::string profile;
  Json ToJson() const;
};

struct IssuerSpec {
  AcmeIssuer acme;
  // certsmith extra, ClusterIssuer only: namespaces whose Certificates may use it (empty: all).
  // cert-manager cannot restrict a ClusterIssuer, so one EAB account (which can issue for every
  // name under the CA's validated domains) is open to every namespace.
  std::vector<std::string> allowed_namespaces;
  // certsmith extra: DNS zones the names of a Certificate must lie in (empty: any).
  std::vector<std::string> allowed_dns_zones;
  // certsmith extra: the default of Certificate spec.revokeOnDelete for this issuer's
  // Certificates.
  bool revoke_on_delete = false;
  Json ToJson() const;
};

// status.acme.renewalInfo: whether the directory offered renewalInfo (RFC 9773).
inline constexpr char kRenewalInfoOffered[] = "Offered";
inline constexpr char kRenewalInfoNotOffered[] = "NotOffered";

struct AcmeIssuerStatus {
  std::string uri;  // the account URL
  std::string last_registered_email;
  std::string last_private_key_hash;
  // kRenewalInfoOffered / kRenewalInfoNotOffered when the account was last registered or found;
  // empty: not recorded (an Issuer registered by an older controller).
  std::string renewal_info;
  Json ToJson() const;
};

struct IssuerStatus {
  std::vector<Condition> conditions;
  AcmeIssuerStatus acme;
  Json ToJson() const;
};

// One type for both kinds: kind is "Issuer" or "ClusterIssuer".
struct Issuer {
  std::string kind = "Issuer";
  ObjectMeta metadata;
  IssuerSpec spec;
  IssuerStatus status;

  bool IsClusterIssuer() const { return kind == "ClusterIssuer"; }
  // Parses and validates; the error lists every problem with its field path.
  static Result<Issuer> FromJson(const Json& object);
  // Semantic rules, also run by FromJson.
  FieldErrors Validate() const;
  Json ToJson() const;
  Json StatusToJson() const { return status.ToJson(); }

  // allowedNamespaces / allowedDNSZones checks for a requesting Certificate.
  bool AllowsNamespace(std::string_view ns) const;
  bool AllowsDnsName(std::string_view name) const;
};

}  // namespace certsmith::api
