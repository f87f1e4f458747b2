#include "plugin/options.h"

#include "api/duration.h"
#include "plugin/output.h"

namespace certsmith::plugin {

std::vector<cli::FlagSpec> FlagSpecs(unsigned flags) {
  std::vector<cli::FlagSpec> specs = {
      {"kubeconfig", 0, true, false,
       "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)", "PATH"},
      {"context", 0, true, false, "the kubeconfig context to use", "NAME"},
      {"namespace", 'n', true, false, "the namespace (default: the context's)", "NS"},
  };
  auto add = [&](unsigned f, cli::FlagSpec spec) {
    if (flags & f) specs.push_back(std::move(spec));
  };
  add(kOutput, {"output", 'o', true, false, "yaml or json instead of the human view", "FORMAT"});
  add(kAllNamespaces, {"all-namespaces", 'A', false, false, "every namespace", ""});
  add(kSelector, {"selector", 'l', true, false, "label selector (app=web,tier!=db)", "SELECTOR"});
  add(kAll, {"all", 0, false, false, "every Certificate in the namespace", ""});
  add(kFilename,
      {"filename", 'f', true, true, "a YAML or JSON file, a directory, or - for stdin", "FILE"});
  add(kFromCluster,
      {"from-cluster", 0, false, false, "read cert-manager's objects from the cluster", ""});
  add(kTimeout,
      {"timeout", 0, true, false, "how long to wait for the controller (default 2m)", "DURATION"});
  add(kWait,
      {"wait", 0, true, false, "keep checking this long until everything is fine", "DURATION"});
  add(kControllerNamespace, {"controller-namespace", 0, true, false,
                             "where certsmith's controller runs (default certsmith)", "NS"});
  add(kCertManagerNamespace,
      {"cert-manager-namespace", 0, true, false,
       "cert-manager's cluster resource namespace (default cert-manager)", "NS"});
  add(kStrict, {"strict", 0, false, false, "exit 3 when anything could not be converted", ""});
  return specs;
}

Result<std::chrono::seconds> ParseTimeout(const std::string& text) {
  auto d = api::ParseDuration(text);
  if (!d.ok() || *d <= std::chrono::nanoseconds::zero()) {
    return Status(ErrorCode::kInvalidArgument,
                  "\"" + text + "\" is not a positive duration (for example 90s, 2m, 1h)");
  }
  return std::chrono::ceil<std::chrono::seconds>(*d);
}

Result<Options> ParseOptions(const std::vector<std::string>& args, unsigned flags) {
  ASSIGN_OR_RETURN(cli::ParsedFlags parsed, cli::ParseFlags(FlagSpecs(flags), args));
  Options o;
  o.help = parsed.Has("help");
  o.kubeconfig = parsed.GetOr("kubeconfig", "");
  o.context = parsed.GetOr("context", "");
  o.ns = parsed.GetOr("namespace", "");
  o.all_namespaces = parsed.Has("all-namespaces");
  o.output = parsed.GetOr("output", "");
  RETURN_IF_ERROR(CheckOutputFormat(o.output));
  o.selector = parsed.GetOr("selector", "");
  o.all = parsed.Has("all");
  o.filenames = parsed.GetAll("filename");
  o.from_cluster = parsed.Has("from-cluster");
  if (auto t = parsed.Get("timeout")) {
    ASSIGN_OR_RETURN(o.timeout, ParseTimeout(*t));
  }
  if (auto w = parsed.Get("wait")) {
    ASSIGN_OR_RETURN(o.wait, ParseTimeout(*w));
  }
  o.controller_namespace = parsed.GetOr("controller-namespace", o.controller_namespace);
  o.cert_manager_namespace = parsed.GetOr("cert-manager-namespace", o.cert_manager_namespace);
  o.strict = parsed.Has("strict");
  o.args = parsed.positional();
  if (!o.ns.empty() && o.all_namespaces) {
    return Status(ErrorCode::kInvalidArgument, "give either -n/--namespace or -A, not both");
  }
  return o;
}

}  // namespace certsmith::plugin
