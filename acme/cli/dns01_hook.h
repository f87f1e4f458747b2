// Runs the user's dns-01 hook, like certbot's manual hooks but with arguments:
//   CMD present <record-name> <txt-value>     e.g. present _acme-challenge.a.example <value>
//   CMD cleanup <record-name> <txt-value>
// with CERTSMITH_HOOK_ACTION, CERTSMITH_DOMAIN (the name being validated), CERTSMITH_RECORD_NAME
// and CERTSMITH_TXT_VALUE in its environment. CMD is run by /bin/sh, so it may carry arguments
// ("python3 /etc/dns-hook.py --zone x"). The hook's output goes to stderr. CERTSMITH_EAB_HMAC_KEY
// is removed from its environment: a hook never needs the CA credentials.
#pragma once

#include <string>
#include <vector>

#include "certsmith/status.h"

namespace certsmith::cli {

struct HookCall {
  std::string command;
  std::string action;  // "present" | "cleanup"
  std::string domain;
  std::string record_name;
  std::string txt_value;
};

// The argv and environment the hook runs with (separate for tests).
std::vector<std::string> HookArgv(const HookCall& call);
std::vector<std::string> HookEnvironment(const HookCall& call, char** base_environ);

// Runs the hook and waits for it. Non-zero exit or death by signal is kFailedPrecondition
// naming the action and the exit status.
Status RunHook(const HookCall& call);

}  // namespace certsmith::cli
