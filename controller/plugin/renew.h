// `kubectl certsmith renew`: asks the controller for a new certificate now, through the
// certsmith.io/renew-revision annotation (api/resources.h): "a certificate newer than revision
// N", N being the revision the Certificate has when asked. The controller honours it exactly once
// (one Order, one new revision), however often the command is repeated before it is done.
#pragma once

#include <string>
#include <vector>

#include "kube/client.h"

namespace certsmith::plugin {

struct RenewResult {
  std::vector<std::string> requested;  // "shop/www (newer than revision 2)"
  std::vector<std::string> errors;
};

// names: in ns; else every Certificate in ns ("" with all_namespaces) matching selector.
RenewResult RequestRenewals(kube::Client& client, const std::string& ns,
                            const std::vector<std::string>& names, const std::string& selector,
                            bool all_namespaces);
// One Certificate; the revision it asked to replace.
Result<int64_t> RequestRenewal(kube::Client& client, const std::string& ns,
                               const std::string& name);

}  // namespace certsmith::plugin
