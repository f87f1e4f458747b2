// Exit codes of `certsmith acme`, distinct so scripts can react without parsing messages.
#pragma once

#include "certsmith/status.h"

namespace certsmith::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // anything not below (files, CA refused, ...)
inline constexpr int kExitUsage = 2;        // bad command line or input (malformed or missing EAB)
inline constexpr int kExitUnreachable = 3;  // connection refused, DNS, TLS verification
inline constexpr int kExitAuth = 4;  // the CA refused our credentials (wrong EAB, unauthorized)
inline constexpr int kExitRateLimited = 5;  // rateLimited: retry after the time printed
inline constexpr int kExitTimeout = 6;      // --timeout passed while waiting for the CA

int ExitCodeFor(const Status& status);

}  // namespace certsmith::cli
