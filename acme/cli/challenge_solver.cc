#include "cli/challenge_solver.h"

#include <cstdio>

#include "acme/jws.h"
#include "certsmith/http01_server.h"
#include "cli/atomic_file.h"
#include "cli/dns01_hook.h"

namespace certsmith::cli {

namespace {

constexpr char kChallengeDir[] = "/.well-known/acme-challenge/";

class Http01ListenSolver final : public ChallengeSolver {
 public:
  Http01ListenSolver(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}
  std::string ChallengeType() const override { return "http-01"; }

  Status Present(const acme::Identifier&, const acme::Challenge& challenge,
                 const std::string& key_authorization) override {
    RETURN_IF_ERROR(server_.SetResponse(challenge.token, key_authorization));
    if (!started_) {
      RETURN_IF_ERROR(server_.Start(host_, port_));
      started_ = true;
    }
    return Status::Ok();
  }
  Status CleanUp(const acme::Identifier&, const acme::Challenge& challenge,
                 const std::string&) override {
    server_.Remove(challenge.token);
    return Status::Ok();
  }

 private:
  std::string host_;
  uint16_t port_;
  bool started_ = false;
  Http01Server server_;
};

class Http01WebrootSolver final : public ChallengeSolver {
 public:
  explicit Http01WebrootSolver(std::string root) : root_(std::move(root)) {}
  std::string ChallengeType() const override { return "http-01"; }

  Status Present(const acme::Identifier&, const acme::Challenge& challenge,
                 const std::string& key_authorization) override {
    RETURN_IF_ERROR(MakeDirectories(root_ + kChallengeDir, 0755));
    return WriteFileAtomic(PathFor(challenge), key_authorization, 0644);
  }
  Status CleanUp(const acme::Identifier&, const acme::Challenge& challenge,
                 const std::string&) override {
    if (std::remove(PathFor(challenge).c_str()) != 0) {
      return Status(ErrorCode::kFailedPrecondition, "cannot remove " + PathFor(challenge));
    }
    return Status::Ok();
  }

 private:
  // The token was checked to be base64url by the library: it cannot climb out of the directory.
  std::string PathFor(const acme::Challenge& c) const { return root_ + kChallengeDir + c.token; }
  std::string root_;
};

class Dns01HookSolver final : public ChallengeSolver {
 public:
  explicit Dns01HookSolver(std::string command) : command_(std::move(command)) {}
  std::string ChallengeType() const override { return "dns-01"; }

  Status Present(const acme::Identifier& id, const acme::Challenge&,
                 const std::string& key_authorization) override {
    return RunHook(Call("present", id, key_authorization));
  }
  Status CleanUp(const acme::Identifier& id, const acme::Challenge&,
                 const std::string& key_authorization) override {
    return RunHook(Call("cleanup", id, key_authorization));
  }

 private:
  HookCall Call(std::string action, const acme::Identifier& id, const std::string& keyauth) {
    return {command_, std::move(action), id.value, Dns01RecordName(id),
            acme::Dns01TxtValue(keyauth)};
  }
  std::string command_;
};

}  // namespace

std::string Dns01RecordName(const acme::Identifier& id) {
  std::string_view base = id.value;
  if (base.substr(0, 2) == "*.") base.remove_prefix(2);
  return "_acme-challenge." + std::string(base);
}

std::unique_ptr<ChallengeSolver> MakeHttp01ListenSolver(std::string host, uint16_t port) {
  return std::make_unique<Http01ListenSolver>(std::move(host), port);
}
std::unique_ptr<ChallengeSolver> MakeHttp01WebrootSolver(std::string webroot) {
  return std::make_unique<Http01WebrootSolver>(std::move(webroot));
}
std::unique_ptr<ChallengeSolver> MakeDns01HookSolver(std::string command) {
  return std::make_unique<Dns01HookSolver>(std::move(command));
}

}  // namespace certsmith::cli
