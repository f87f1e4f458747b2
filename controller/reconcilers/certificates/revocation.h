// Revocation on delete (opt-in: Certificate spec.revokeOnDelete, or its issuer's
// spec.revokeOnDelete as the default). While it is on, the Certificate carries the finalizer
// certsmith.io/revoke-on-delete; when the Certificate is deleted, its current certificate is
// revoked at the CA with reason cessationOfOperation (RFC 5280 §5.3.1) BEFORE the TLS Secret
// goes: with secretDeletionPolicy Delete the Secret then carries no ownerReference and this
// finalizer deletes it after the revocation (the garbage collector would not wait for it under
// foreground deletion). A failed revocation is shown (Warning event RevocationFailed, Ready=False
// RevocationFailed) and retried every 15 s for at most ControllerOptions::revocation_timeout
// (5 minutes) after deletion was asked for; then the deletion goes on without it (Warning
// RevocationAbandoned). Deletion is never blocked for longer.
#pragma once

#include "api/certificate.h"
#include "api/issuer.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

inline constexpr char kRevocationFinalizer[] = "certsmith.io/revoke-on-delete";

// spec.revokeOnDelete, else the issuer's default (false when the issuer is unknown).
bool RevokeOnDelete(const api::Certificate& cert, const api::Issuer* issuer);
bool HasRevocationFinalizer(const Json& obj);

// Adds or removes the finalizer to match `wanted`; *obj becomes the stored object.
Status EnsureRevocationFinalizer(Context& ctx, bool wanted, Json* obj);

// For a Certificate being deleted that carries the finalizer: revokes, deletes the Secret when
// its policy says Delete, removes the finalizer; or retries later (see above).
SyncResult FinalizeRevocation(Context& ctx, const Json& obj);

}  // namespace certsmith::reconcilers
