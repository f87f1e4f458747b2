// JSON -> ACME resources (RFC 8555 §7.1). Untrusted input is checked here, where it enters:
// identifiers normalised, challenge tokens restricted to base64url, timestamps parsed.
#pragma once

#include <string_view>

#include "acme/types.h"
#include "certsmith/status.h"

namespace certsmith::acme {

Result<Directory> ParseDirectory(std::string_view text);
Result<Account> ParseAccount(std::string_view text);
Result<Order> ParseOrder(std::string_view text);
Result<Authorization> ParseAuthorization(std::string_view text);
Result<Challenge> ParseChallenge(std::string_view text);
// RFC 9773 §4.2
Result<RenewalInfo> ParseRenewalInfo(std::string_view text);

}  // namespace certsmith::acme
