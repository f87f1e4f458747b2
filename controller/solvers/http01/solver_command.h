// `certsmith solver`: the process inside an http-01 solver Pod (RFC 8555 §8.3). It serves
// GET /.well-known/acme-challenge/<token> with the key authorization, one challenge per Pod as
// cert-manager does (the flags may be repeated to serve several), and exits on SIGTERM.
//
//   certsmith solver --listen :8089 --domain D --token T --key KEYAUTH [--domain ... --token ...]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "certsmith/status.h"

namespace certsmith::solvers {

struct SolverChallenge {
  std::string domain;  // normalised: lower case, no trailing dot
  std::string token;
  std::string key_authorization;
};

struct SolverOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8089;
  std::vector<SolverChallenge> challenges;
  std::string log_format = "text";
  bool help = false;
};

// Parses the arguments after "solver". Every --domain needs a --token and a --key (in any order
// within its group); tokens must be base64url and each key authorization must be
// "<token>.<thumbprint>" (RFC 8555 §8.1), which catches swapped flags before the CA does.
Result<SolverOptions> ParseSolverArgs(const std::vector<std::string>& args);

// "[host]:port", "host:port" or ":port" (all addresses). Port 0 picks a free port.
Status ParseListenAddress(std::string_view text, std::string* host, uint16_t* port);

// True when an HTTP Host header names domain: case-insensitive, port and trailing dot ignored.
bool HostMatches(std::string_view host_header, std::string_view domain);

// The subcommand: argv[0] is "solver". Returns the process exit code.
int RunSolverCommand(int argc, char** argv);

}  // namespace certsmith::solvers
