#include "test_apiserver.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace certsmith::kube::testing {

std::string SourceDir() {
  if (const char* d = std::getenv("CERTSMITH_SOURCE_DIR"); d && *d) return d;
#ifdef CERTSMITH_SOURCE_DIR_DEFAULT
  return CERTSMITH_SOURCE_DIR_DEFAULT;
#else
  return ".";
#endif
}

TestApiServer::TestApiServer(std::string source_dir) : source_dir_(std::move(source_dir)) {}

TestApiServer::~TestApiServer() {
  Stop();
  if (!workdir_.empty()) std::filesystem::remove_all(workdir_);
}

std::string TestApiServer::MissingPrerequisite(const std::string& source_dir) {
  if (access("/usr/bin/python3", X_OK) != 0) return "/usr/bin/python3 is not installed";
  if (system("command -v openssl >/dev/null 2>&1") != 0) return "openssl is not installed";
  if (access((source_dir + "/tests/apiserver/run").c_str(), X_OK) != 0)
    return source_dir + "/tests/apiserver/run is missing";
  return "";
}

Status TestApiServer::Start(const std::vector<std::string>& extra_args) {
  char tmpl[] = "/tmp/certsmith-kube-it-XXXXXX";
  if (!mkdtemp(tmpl)) return MakeError(ErrorCode::kInternal, "mkdtemp failed");
  workdir_ = tmpl;
  std::vector<std::string> args = {"/usr/bin/python3", source_dir_ + "/tests/apiserver/run",
                                   "--workdir", workdir_, "--port", "0", "--max-lifetime", "900"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ < 0) return MakeError(ErrorCode::kInternal, "fork failed");
  if (pid_ == 0) {
    setpgid(0, 0);
    std::string log = workdir_ + "/stdout.log";
    if (!freopen(log.c_str(), "w", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid_, pid_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  struct stat st;
  while (stat((workdir_ + "/ready").c_str(), &st) != 0) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return MakeError(ErrorCode::kUnavailable, "test API server exited early; see " + workdir_);
    }
    if (std::chrono::steady_clock::now() > deadline)
      return MakeError(ErrorCode::kDeadlineExceeded, "test API server not ready after 60s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto client = NewClient();
  if (!client.ok()) return client.status();
  admin_ = std::move(*client);
  return Status::Ok();
}

void TestApiServer::Stop() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Result<std::unique_ptr<RestClient>> TestApiServer::NewClient(double qps, int burst,
                                                             RestClientOptions options) const {
  ASSIGN_OR_RETURN(RestConfig cfg, Config());
  cfg.qps = qps;
  cfg.burst = burst;
  return RestClient::Make(std::move(cfg), std::move(options));
}

Result<Json> TestApiServer::Admin(const std::string& method, const std::string& path,
                                  const Json& body) {
  if (!admin_) return MakeError(ErrorCode::kFailedPrecondition, "server not started");
  return admin_->Call(method, "/_admin/" + path, method == "GET" ? nullptr : &body);
}

}  // namespace certsmith::kube::testing
