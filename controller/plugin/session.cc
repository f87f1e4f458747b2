#include "plugin/session.h"

#include <cstdlib>
#include <filesystem>

#include "kube/rest_client.h"

namespace certsmith::plugin {
namespace {

std::optional<std::string> Getenv(const Environment& env, const std::string& name) {
  if (env.getenv) return env.getenv(name);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::vector<std::string> SplitPathList(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t colon = list.find(':', start);
    if (colon == std::string::npos) colon = list.size();
    if (colon > start) out.push_back(list.substr(start, colon - start));
    start = colon + 1;
  }
  return out;
}

}  // namespace

Result<kube::RestConfig> ResolveConfig(const Options& options, const Environment& env) {
  if (!options.kubeconfig.empty()) return kube::LoadKubeconfig(options.kubeconfig, options.context);
  if (auto list = Getenv(env, "KUBECONFIG"); list && !list->empty()) {
    return kube::LoadKubeconfigList(SplitPathList(*list), options.context);
  }
  if (auto home = Getenv(env, "HOME"); home && !home->empty()) {
    const std::string path = *home + "/.kube/config";
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return kube::LoadKubeconfig(path, options.context);
  }
  if (auto host = Getenv(env, "KUBERNETES_SERVICE_HOST"); host && !host->empty()) {
    kube::InClusterOptions in_cluster;
    in_cluster.getenv = [&env](const std::string& name) { return Getenv(env, name); };
    return kube::InClusterConfig(in_cluster);
  }
  return Status(ErrorCode::kFailedPrecondition,
                "no kubeconfig: set KUBECONFIG, give --kubeconfig, or create ~/.kube/config");
}

Result<Connection> Connect(const Options& options, const Environment& env) {
  ASSIGN_OR_RETURN(kube::RestConfig config, ResolveConfig(options, env));
  Connection c;
  c.ns = !options.ns.empty() ? options.ns : config.default_namespace;
  if (c.ns.empty()) c.ns = "default";
  kube::RestClientOptions rest;
  rest.user_agent = "kubectl-certsmith";
  rest.max_attempts = 3;
  ASSIGN_OR_RETURN(std::unique_ptr<kube::RestClient> client, kube::RestClient::Make(config, rest));
  c.client = std::move(client);
  c.config = std::move(config);
  return c;
}

}  // namespace certsmith::plugin
