// Small helpers every reconciler uses: keys, owner references, status writes that happen only
// when something changed, backoff, and turning an ACME error into the CA's words.
#pragma once

#include <string>
#include <utility>

#include "api/certificate.h"
#include "api/issuer.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

// "ns/name" -> {"ns", "name"}; "name" -> {"", "name"}.
std::pair<std::string, std::string> SplitKey(const std::string& key);

// An ownerReference (controller, blockOwnerDeletion) to owner, so deleting the owner deletes
// what it made (garbage collection).
Json OwnerReference(const Json& owner);
// True when obj has an ownerReference with the owner's uid.
bool IsOwnedBy(const Json& obj, const Json& owner);

// Asks the API server itself (Context::live) whether obj still exists, is the same object (uid)
// and is not being deleted; false also when an owner of the given kind named in its
// ownerReferences is gone. For the moment before a costly step, when a cached read could be late.
Result<bool> StillWanted(Context& ctx, const kube::ResourceRef& res, const Json& obj,
                         const kube::ResourceRef* owner = nullptr);

// For an object whose spec does not parse: Ready=False, reason InvalidSpec, with the parser's
// message; the rest of its status (revision, notAfter, backoff, account URI) is kept as it was.
Status WriteInvalidSpec(Context& ctx, const kube::ResourceRef& res, const Json& obj,
                        const Status& why);

// What a person can act on when the API server refused the controller (403): the missing
// permission first when the refusal is RBAC's, then the server's words.
std::string ForbiddenMessage(const Status& why);
// After a sync of res/key was refused (403): a Warning event "Forbidden" with ForbiddenMessage on
// the object, and the same message in a condition with reason Forbidden where a person looks:
// Ready=False on an Issuer, or on a Certificate without a usable certificate (Issuing=False when
// it still serves a valid one); an Order's or Challenge's own Certificate gets the condition and
// an event too. An Ingress (not certsmith's object) gets the event only. A condition already so
// is not written again; failures to report are logged, not returned.
void ReportForbidden(Context& ctx, const kube::ResourceRef& res, const std::string& key,
                     const Status& why);

// Writes status through the status subresource unless it is unchanged. Returns the new object.
Result<Json> WriteStatus(Context& ctx, const kube::ResourceRef& res, const Json& object,
                         const Json& status);

// The Issuer or ClusterIssuer object a reference names, parsed.
Result<api::Issuer> GetIssuer(Context& ctx, const api::IssuerRef& ref, std::string_view ns);
// Where the issuer's Secrets live.
std::string IssuerSecretNamespace(const Context& ctx, const api::Issuer& issuer);
// The registered ACME client for an issuer, or kFailedPrecondition when the Issuer reconciler
// has not registered the account yet.
Result<std::shared_ptr<acme::AcmeClient>> AcmeClientFor(Context& ctx, const api::IssuerRef& ref,
                                                        std::string_view ns);

// base * 2^(attempts-1), capped; attempts <= 0 -> 0.
Duration Backoff(int64_t attempts, Duration base, Duration cap);

// The CA's words for an ACME error (the problem summary when there is one, else the message).
std::string ErrorText(const Status& status);

// Records an event, logging (not failing) when the API refuses it.
void Event(Context& ctx, const Json& object, std::string_view type, std::string_view reason,
           std::string_view message);

// Sets a condition with the object's generation as observedGeneration.
bool SetCondition(Context& ctx, std::vector<api::Condition>* conditions, std::string_view type,
                  api::ConditionStatus status, std::string reason, std::string message,
                  int64_t generation);

}  // namespace certsmith::reconcilers
