// Turns a failed Status into what a person can act on: the message, the CA's problem document
// (type, detail, CA-specific codes such as Certigna's DOMAIN_NOT_FOUND verbatim, every
// subproblem), Retry-After, and a hint naming the flag to fix. Never contains secrets: the
// Status never held any (see acme/problem.h).
#pragma once

#include <string>

#include "certsmith/status.h"

namespace certsmith::cli {

// Lines for stderr, each ending in '\n', the first "certsmith acme: error: ...".
std::string DescribeError(const Status& status);

}  // namespace certsmith::cli
