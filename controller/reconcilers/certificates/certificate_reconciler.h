// Certificate: decides whether a certificate must be issued (Secret missing or invalid, key and
// certificate mismatched, names or issuer changed, or due for renewal), makes the private key
// and stores it in the `<name>-next-key-<hash>` Secret BEFORE it creates the Order (so a crash
// never loses a key the CA signed), creates one deterministically named Order per attempt, and
// when the Order is valid writes the kubernetes.io/tls Secret and schedules the renewal
// (ARCHITECTURE.md "Flow of one certificate", steps 2 and 5).
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "acme/certificate.h"
#include "acme/key.h"
#include "api/certificate.h"
#include "api/order.h"
#include "certificates/key_generator.h"
#include "certificates/secret_facts.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

// On the TLS Secret: RequestDigest() of the spec it was issued for.
inline constexpr char kRequestDigestAnnotation[] = "certsmith.io/request-digest";
// What the CSR asks beyond the names an ACME order carries (literalSubject, uris,
// emailAddresses, otherNames: a CA may leave these out of the certificate, so they are compared
// with what was asked, recorded on the Secret): "" when none.
std::string RequestDigest(const api::Certificate& cert);

// Why a Certificate needs issuing, or nullopt-reason when it does not.
struct IssuanceCheck {
  bool needed = false;
  std::string reason;          // DoesNotExist, InvalidSecret, SecretMismatch, SpecChanged, ...
  std::string message;         // for the Issuing/Ready condition
  bool current_valid = false;  // the Secret holds a certificate that is still usable
  bool adopt = false;          // the Secret is cert-manager's, to take over (adoption.h)
  std::optional<acme::CertificateInfo> info;
  std::optional<Clock::TimePoint> renewal_time;
  // ARI (certificates/ari_schedule.h): renewal_time is the CA's; look at the window again then;
  // the certID a renewal order replaces.
  bool from_ari = false;
  bool ari_moved = false;  // the CA's window changed status.renewalTime in this sync
  std::optional<Clock::TimePoint> recheck_at;
  std::string replaces;
};

// renewBefore when set and shorter than the lifetime, else at 2/3 of the lifetime; whole seconds
// (rounded down).
Clock::TimePoint RenewalTime(const api::Certificate& cert, const acme::CertificateInfo& info);
// Looks at the target Secret (nullptr when it does not exist), whose content facts says
// (ReadSecretFacts(*secret): decoded once per version of the Secret, secret_facts.h); what
// depends on the spec or the time is decided here, at every call.
IssuanceCheck CheckIssuance(const api::Certificate& cert, const Json* secret,
                            const SecretFacts& facts, Clock::TimePoint now);
// The same, decoding the Secret now.
IssuanceCheck CheckIssuance(const api::Certificate& cert, const Json* secret, Clock::TimePoint now);
// Whether `kubectl certsmith renew` asked for a certificate newer than the current revision
// (api::kRenewRevisionAnnotation).
bool RenewalRequested(const api::Certificate& cert);
// Deterministic name of the Secret holding the next private key.
std::string NextKeySecretName(const api::Certificate& cert);
// Whether the TLS Secret goes when the Certificate is deleted: spec.secretDeletionPolicy, else
// the controller's default.
bool DeletesSecretWithCertificate(const api::Certificate& cert, const ControllerOptions& options);
// Adds (owned) or removes (!owned) cert_obj's ownerReference on secret, leaving every other
// owner alone; true when secret changed.
bool SetSecretOwnership(const Json& cert_obj, bool owned, Json* secret);

// An issuance is in progress that began because the API server had no TLS Secret (Issuing=True,
// DoesNotExist, at the current generation).
bool IssuingForMissingSecret(const api::Certificate& cert);

class CertificateReconciler {
 public:
  explicit CertificateReconciler(Context& ctx) : ctx_(ctx) {}
  SyncResult Sync(const std::string& key);
  // Private keys being generated for Certificates (none for deleted ones).
  size_t KeysGenerating() const { return keys_.Pending(); }
  // The decoded TLS Secrets, per Certificate.
  const SecretFactsCache& SecretFactsCached() const { return secret_facts_; }

 private:
  // The key for the next issuance: from the next-key Secret, else generated and stored there.
  // nullopt while an RSA key is being generated. *asked_server is set when it confirmed with
  // the API server itself that the Certificate is still wanted (StillWanted).
  Result<std::optional<acme::PrivateKey>> EnsureNextKey(const api::Certificate& cert,
                                                        const Json& obj, const Json* secret,
                                                        bool* asked_server);
  // Brings the TLS Secret's ownerReference in line with the deletion policy (on Secrets written
  // before the policy changed too); *secret becomes the stored object.
  Status EnsureSecretOwnership(const Json& obj, const api::Certificate& cert, Json* secret);
  SyncResult Issue(const Json& obj, api::Certificate cert, const Json* secret,
                   const IssuanceCheck& check);
  SyncResult Complete(const Json& obj, api::Certificate cert, const Json* secret,
                      const acme::PrivateKey& key, const api::Order& order);
  Status DeleteSupersededOrders(const Json& obj, const api::Certificate& cert,
                                const std::string& current);
  SyncResult Failed(const Json& obj, api::Certificate cert, const std::string& message);
  SyncResult UpToDate(const Json& obj, api::Certificate cert, const IssuanceCheck& check,
                      const Json* secret);
  // Keystores, extra output formats and annotations of an existing Secret (secret_outputs.h)
  // whose leaf is info.
  Status RefreshSecretOutputs(const api::Certificate& cert, const Json* secret,
                              const acme::CertificateInfo& info);
  // Whether the Secret carries the Certificate's ownerReference (garbage-collected with it).
  bool OwnsSecret(const Json& obj, const api::Certificate& cert) const;
  // Adds or removes the revokeOnDelete finalizer (revocation.h); *obj becomes the stored object.
  Status SyncRevocationFinalizer(const api::Certificate& cert, Json* obj);
  // Takes over cert-manager's Secret (adoption.cc): writes certsmith's labels and annotations
  // and records the revision; *secret becomes the stored object.
  Status Adopt(const Json& obj, api::Certificate* cert, const IssuanceCheck& check, Json* secret);

  // The next sync of key reads the TLS Secret from the API server (see Sync()); Take: whether
  // it was asked, forgetting it.
  void AskServerForSecret(const std::string& key);
  bool TakeSecretServerRead(const std::string& key);

  Context& ctx_;
  KeyGenerator keys_;
  std::mutex mu_;
  std::set<std::string> secret_server_reads_;  // Certificate keys
  SecretFactsCache secret_facts_;
};

}  // namespace certsmith::reconcilers
