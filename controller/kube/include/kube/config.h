// Where the API server is and how to authenticate: from a kubeconfig file (as kubectl reads it)
// or from the in-cluster service account. Errors name the file, context, cluster or user and the
// broken field, e.g. `kubeconfig /x: context "foo" not found`. Secrets (tokens, keys) never
// appear in errors.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "certsmith/clock.h"
#include "certsmith/http_transport.h"
#include "certsmith/status.h"

namespace certsmith::kube {

// Supplies the bearer token for each request. A token file is re-read when it may have rotated
// (projected service-account tokens are refreshed by the kubelet about every hour).
class TokenSource {
 public:
  // A fixed token.
  explicit TokenSource(std::string token);
  // A token read from path, cached for refresh_every on clock.
  TokenSource(std::string path, const Clock* clock,
              std::chrono::seconds refresh_every = std::chrono::seconds(60));
  Result<std::string> Token();

 private:
  std::mutex mu_;
  std::string token_;
  std::string path_;
  const Clock* clock_ = nullptr;
  std::chrono::seconds refresh_every_{60};
  std::optional<Clock::TimePoint> read_at_;
};

struct RestConfig {
  std::string server;  // "https://127.0.0.1:6443" (no trailing slash)
  TlsOptions tls;      // CA, client certificate and key, insecure-skip-tls-verify
  std::shared_ptr<TokenSource> token;  // null: no bearer token
  std::string username, password;      // basic auth, rarely used
  std::string default_namespace = "default";
  std::string origin;  // "kubeconfig /path context ctx" or "in-cluster": for error messages
  double qps = 20;
  int burst = 40;
  // Above qps: the client-side limit adapts (kube::AdaptiveRate), from qps up to this while work
  // queues behind it and the server neither pushes back (429) nor slows down.
  double max_qps = 0;
};

// Reads the kubeconfig at path. context empty = current-context.
Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");
// Parses kubeconfig text; origin names it in errors ("kubeconfig /path"); relative file
// references are resolved against base_dir.
Result<RestConfig> ParseKubeconfig(const std::string& text, const std::string& origin,
                                   const std::string& context = "",
                                   const std::string& base_dir = "");

// kubectl's $KUBECONFIG: several files merged, the first to name a cluster, user or context (or
// to set current-context) wins; relative file references resolve against their own file's
// directory. Files that do not exist are skipped; none existing is an error.
Result<RestConfig> LoadKubeconfigList(const std::vector<std::string>& paths,
                                      const std::string& context = "");

// In-cluster configuration: KUBERNETES_SERVICE_HOST/PORT from getenv, token, CA and namespace
// from sa_dir (default /var/run/secrets/kubernetes.io/serviceaccount).
struct InClusterOptions {
  std::function<std::optional<std::string>(const std::string&)> getenv;  // null = ::getenv
  std::string sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  const Clock* clock = &SystemClock::Instance();
};
Result<RestConfig> InClusterConfig(const InClusterOptions& options = {});

// In-cluster when KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG, else ~/.kube/config.
Result<RestConfig> DefaultConfig(const std::string& kubeconfig_path = "",
                                 const std::string& context = "");

}  // namespace certsmith::kube
