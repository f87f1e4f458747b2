// `certsmith acme ...`: the one-shot ACME client (register, issue, revoke, account).
#pragma once

namespace certsmith::cli {

// argv[0] is "acme". Returns the process exit code (see exit_codes.h).
int RunAcmeCommand(int argc, char** argv);

}  // namespace certsmith::cli
