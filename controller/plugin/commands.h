// The subcommands of `kubectl certsmith`. Each returns the exit code: 0 done, 1 failed (the
// reason is on stderr), 3 `convert --strict` left something out. Usage errors (2) are caught by
// the dispatcher before a command runs.
#pragma once

#include "plugin/session.h"

namespace certsmith::plugin {

int RunStatus(Session& s, Io& io);           // status certificate NAME
int RunRenew(Session& s, Io& io);            // renew NAME... | --all | -l SELECTOR
int RunInspect(Session& s, Io& io);          // inspect secret NAME
int RunCheckApi(Session& s, Io& io);         // check api
int RunAccountRollover(Session& s, Io& io);  // account rollover [issuer/|clusterissuer/]NAME
int RunConvert(Session& s, Io& io);          // convert -f FILE... | --from-cluster

}  // namespace certsmith::plugin
