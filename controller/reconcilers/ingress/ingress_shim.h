// The Ingress shim: developers annotate an Ingress (`certsmith.io/cluster-issuer: NAME` or
// `certsmith.io/issuer: NAME`) and get one Certificate per distinct spec.tls[].secretName, named
// after the Secret, for that entry's hosts, owned by the Ingress (controller ownerReference, so
// garbage collection removes it with the Ingress) and labelled `certsmith.io/ingress-shim=true`.
//
// Where cert-manager's ingress-shim fails its users, this one:
//  - never stays silent: a TLS entry without hosts or secretName, an unknown `certsmith.io/`
//    annotation (a typo), an invalid value, or a same-named Certificate it does not own each give
//    a Warning event on the Ingress that says what is wrong;
//  - never guesses: an unknown or invalid annotation stops every write for that Ingress (nothing
//    created, changed or deleted) until it is fixed, so a typo never deletes a Certificate;
//  - never fights: it writes only the fields it derives from the Ingress (secretName, issuerRef,
//    dnsNames, commonName, duration, renewBefore, privateKey.algorithm/size, usages), leaves every
//    other field a user sets alone, writes only when those differ, and never touches a
//    Certificate that lacks its label or its controller ownerReference (remove either to take a
//    Certificate over);
//  - cleans up: removing a TLS entry or the issuer annotation deletes the Certificates it made
//    (the TLS Secrets stay, so the Ingress keeps serving until someone deletes them).
// With honour_cert_manager_annotations it also reads `cert-manager.io/issuer`,
// `cert-manager.io/cluster-issuer` (and `cert-manager.io/issuer-kind`, `-group`) and the
// cert-manager.io/ forms of the optional annotations; a certsmith.io/ annotation wins, and other
// cert-manager.io/ annotations are named in a Warning event (they would otherwise be dropped).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/certificate.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

inline constexpr char kIngressShimLabel[] = "certsmith.io/ingress-shim";
inline constexpr char kIngressShimLabelValue[] = "true";

struct IngressShimOptions {
  bool honour_cert_manager_annotations = false;
};

// One Certificate the shim wants: only the fields it manages (see above). Empty/unset optional
// fields are removed from the Certificate, so deleting an annotation resets its field.
struct ShimCertificate {
  std::string name;  // = secret_name
  std::string namespace_;
  std::string secret_name;
  api::IssuerRef issuer_ref;
  std::vector<std::string> dns_names;
  std::string common_name;
  std::optional<api::Duration> duration;
  std::optional<api::Duration> renew_before;
  std::string key_algorithm;  // "" unset
  int key_size = 0;           // 0 unset
  std::vector<std::string> usages;
};

// What an Ingress asks for.
struct IngressPlan {
  // The issuer annotation (certsmith.io, or cert-manager.io when honoured), when valid.
  std::optional<api::IssuerRef> issuer;
  // Problems that stop every write for the Ingress (annotation errors), and problems with one
  // TLS entry (that entry is skipped, the others proceed). Each is one Warning event.
  std::vector<std::string> blocking;
  std::vector<std::string> entry_problems;
  // Annotations accepted but without effect (Warning events, not blocking).
  std::vector<std::string> ignored;
  std::vector<ShimCertificate> certificates;
  // Every secretName named by a TLS entry, valid or not: Certificates for these are never
  // deleted (an entry with a mistake is skipped, not treated as removed).
  std::vector<std::string> named_secrets;
};

// Pure: reads the Ingress's annotations and spec.tls.
IngressPlan PlanIngressCertificates(const Json& ingress, const IngressShimOptions& options);

// Where one Certificate's names come from: an Ingress spec.tls entry, a Gateway listener.
struct TlsEntry {
  std::string path;    // "spec.tls[0]", "spec.listeners[1]", for messages
  std::string secret;  // the Secret (= Certificate) name
  std::vector<std::string> hosts;
  std::vector<std::string> host_paths;  // per host; default "<path>.hosts[j]"
  std::string host_path(size_t j) const {
    return j < host_paths.size() ? host_paths[j] : api::IndexPath(path + ".hosts", j);
  }
};

// The annotation reading and entry checks the Ingress shim and the Gateway shim share:
// read_entries lists obj's entries (adding problems of its own to the plan); entries naming
// one Secret become one Certificate.
IngressPlan PlanShimCertificates(
    const Json& obj, const IngressShimOptions& options,
    const std::function<std::vector<TlsEntry>(IngressPlan*)>& read_entries);

// What kind of object a shim watches: its resource, the label on the Certificates it makes,
// the Warning event reason of a problem with one entry, and how it plans.
struct ShimSource {
  kube::ResourceRef resource;
  std::string label;
  std::string entry_problem_reason;
  std::function<IngressPlan(const Json&, const IngressShimOptions&)> plan;
};
ShimSource IngressShimSource();
// "namespace/name" of the source object that controls a Certificate this shim made, or nullopt.
std::optional<std::string> ShimOwnerKey(const Json& certificate, const ShimSource& source);

// True when the Ingress carries an annotation the shim reads (certsmith.io/..., or
// cert-manager.io/... when honoured): the manager enqueues only those.
bool IngressShimRelevant(const Json& ingress, const IngressShimOptions& options);

// Whether the shim reads certsmith.io/<name> (name without the prefix: "cluster-issuer",
// "renew-before", ...), so `kubectl certsmith convert` maps cert-manager.io/<name> onto it.
bool IngressShimReadsAnnotation(std::string_view name);

// "namespace/name" of the Ingress that controls a shim-made Certificate, or nullopt.
std::optional<std::string> IngressShimOwnerKey(const Json& certificate);

// spec with the fields the shim manages set (or removed) from want; every other field kept.
Json MergeManagedSpec(const Json& spec, const ShimCertificate& want);

class IngressShim {
 public:
  IngressShim(Context& ctx, IngressShimOptions options, ShimSource source = IngressShimSource())
      : ctx_(ctx), options_(options), source_(std::move(source)) {}
  // key: "namespace/name" of an Ingress.
  SyncResult Sync(const std::string& key);

 private:
  // Creates or updates one wanted Certificate; a Certificate of that name that the shim does
  // not own is left alone, with a Warning event.
  Status Apply(const Json& ingress, const ShimCertificate& want);
  // Deletes the shim's Certificates of this Ingress whose name is not in keep.
  Status DeleteUnwanted(const Json& ingress, const std::vector<std::string>& keep);
  void WarnIfIssuerMissing(const Json& ingress, const api::IssuerRef& ref);

  Context& ctx_;
  IngressShimOptions options_;
  ShimSource source_;
};

}  // namespace certsmith::reconcilers
