// kubectl's flag conventions for `kubectl certsmith`: kubeconfig (--kubeconfig, $KUBECONFIG,
// ~/.kube/config, in-cluster), --context, -n/--namespace (else the context's namespace), -A,
// -o yaml|json, -l SELECTOR. Flags may come before or after the arguments, as with kubectl.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "certsmith/status.h"
#include "cli/flag_parser.h"

namespace certsmith::plugin {

// Which flags a subcommand takes besides the connection flags every one has.
enum Flag : unsigned {
  kOutput = 1u << 0,                // -o, --output yaml|json
  kAllNamespaces = 1u << 1,         // -A, --all-namespaces
  kSelector = 1u << 2,              // -l, --selector
  kAll = 1u << 3,                   // --all
  kFilename = 1u << 4,              // -f, --filename (repeatable; "-" is stdin)
  kFromCluster = 1u << 5,           // --from-cluster
  kTimeout = 1u << 6,               // --timeout DURATION
  kControllerNamespace = 1u << 7,   // --controller-namespace NS
  kCertManagerNamespace = 1u << 8,  // --cert-manager-namespace NS
  kStrict = 1u << 9,                // --strict
  kWait = 1u << 10,                 // --wait DURATION
};

struct Options {
  // Connection.
  std::string kubeconfig;
  std::string context;
  std::string ns;  // -n; empty: the context's namespace
  // Per command.
  bool all_namespaces = false;
  std::string output;  // "", "yaml", "json"
  std::string selector;
  bool all = false;
  std::vector<std::string> filenames;
  bool from_cluster = false;
  std::chrono::seconds timeout{120};
  std::chrono::seconds wait{0};
  // Where certsmith's controller runs (its leader Lease, ClusterIssuer Secrets): the Helm
  // chart's namespace, the controller's --cluster-resource-namespace.
  std::string controller_namespace = "certsmith";
  // cert-manager's --cluster-resource-namespace (ClusterIssuer Secrets), for convert's advice.
  std::string cert_manager_namespace = "cert-manager";
  bool strict = false;
  bool help = false;
  std::vector<std::string> args;  // positional arguments
};

// The flag table for a subcommand taking `flags` (a Flag mask).
std::vector<cli::FlagSpec> FlagSpecs(unsigned flags);
// Parses a subcommand's arguments (after its name). Usage errors are kInvalidArgument.
Result<Options> ParseOptions(const std::vector<std::string>& args, unsigned flags);
// Go-style "90s", "2m", "1h30m" (whole seconds), as kubectl's --timeout.
Result<std::chrono::seconds> ParseTimeout(const std::string& text);

}  // namespace certsmith::plugin
