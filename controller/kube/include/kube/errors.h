// Maps API server responses to certsmith Status codes (the table is in kube/client.h).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "certsmith/http_transport.h"
#include "certsmith/status.h"

namespace certsmith::kube {

// An error Status for a non-2xx response; `what` says which call ("GET /api/v1/..."). The
// message is the server's Status.message when it sent one; the payload is its Status JSON.
Status StatusFromResponse(const HttpResponse& response, std::string_view what);

// Retry-After as delta-seconds (RFC 9110 section 10.2.3); HTTP-dates are not used by
// kube-apiserver and read as absent.
std::optional<std::chrono::seconds> ParseRetryAfter(const HttpResponse& response);

bool IsNotFound(const Status& s);
bool IsConflict(const Status& s);
bool IsAlreadyExists(const Status& s);
bool IsGone(const Status& s);
bool IsForbidden(const Status& s);

// The permission a 403 says is missing, when the refusal is the RBAC authorizer's (`User "U"
// cannot VERB resource "R" in API group "G" in the namespace "N"`, or `at the cluster scope`):
// `create secrets in API group "" in namespace "shop" (user
// system:serviceaccount:certsmith:certsmith)`. nullopt for any other refusal (an admission
// plugin's, such as a Pod naming a ServiceAccount that does not exist).
std::optional<std::string> MissingPermission(const Status& s);

}  // namespace certsmith::kube
