// How `certsmith acme issue` answers a challenge: one solver per run, chosen by flag.
// Present makes the answer visible; CleanUp removes it and runs on every path (success, failure,
// timeout) for every Present that was attempted.
#pragma once

#include <memory>
#include <string>

#include "acme/identifier.h"
#include "acme/types.h"
#include "certsmith/status.h"

namespace certsmith::cli {

class ChallengeSolver {
 public:
  virtual ~ChallengeSolver() = default;
  virtual std::string ChallengeType() const = 0;  // "http-01" or "dns-01"
  virtual Status Present(const acme::Identifier& id, const acme::Challenge& challenge,
                         const std::string& key_authorization) = 0;
  // Best effort; failures are reported (on stderr) but do not change the command's result.
  virtual Status CleanUp(const acme::Identifier& id, const acme::Challenge& challenge,
                         const std::string& key_authorization) = 0;
};

// http-01 through the built-in server on host:port, started on the first Present (so a run whose
// authorizations are all valid already never binds the port) and stopped with the solver.
std::unique_ptr<ChallengeSolver> MakeHttp01ListenSolver(std::string host, uint16_t port);
// http-01 by writing <webroot>/.well-known/acme-challenge/<token> (mode 0644).
std::unique_ptr<ChallengeSolver> MakeHttp01WebrootSolver(std::string webroot);
// dns-01 through a user command: `CMD present <record-name> <txt-value>` then
// `CMD cleanup <record-name> <txt-value>` (see dns01_hook.h).
std::unique_ptr<ChallengeSolver> MakeDns01HookSolver(std::string command);

// "_acme-challenge.<name>" (§8.4), for the base name of a wildcard too.
std::string Dns01RecordName(const acme::Identifier& id);

}  // namespace certsmith::cli
