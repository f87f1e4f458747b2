// Starts tests/apiserver/run on port 0 in a private temp dir and stops it (process group kill),
// for the kube integration tests and benchmark.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certsmith/status.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace certsmith::kube::testing {

class TestApiServer {
 public:
  // source_dir: the repository (for tests/apiserver/run).
  explicit TestApiServer(std::string source_dir);
  ~TestApiServer();

  // Returns why the server cannot run here (missing python3/openssl/run), or "" if it can.
  static std::string MissingPrerequisite(const std::string& source_dir);

  Status Start(const std::vector<std::string>& extra_args = {});
  void Stop();

  const std::string& workdir() const { return workdir_; }
  std::string kubeconfig() const { return workdir_ + "/kubeconfig"; }
  Result<RestConfig> Config() const { return LoadKubeconfig(kubeconfig()); }
  // A RestClient over the real transport; qps 0 (unlimited) unless given.
  Result<std::unique_ptr<RestClient>> NewClient(double qps = 0, int burst = 1,
                                                RestClientOptions options = {}) const;
  // POST/GET/DELETE on /_admin/... (fault injection, compaction, stats).
  Result<Json> Admin(const std::string& method, const std::string& path,
                     const Json& body = Json::object());

 private:
  std::string source_dir_;
  std::string workdir_;
  int pid_ = -1;
  std::unique_ptr<RestClient> admin_;
};

// The repository root: $CERTSMITH_SOURCE_DIR, else the compile-time default.
std::string SourceDir();

}  // namespace certsmith::kube::testing
