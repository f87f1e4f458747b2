#include "solvers/http01/solver_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>

#include "api/names.h"
#include "certsmith/base64.h"
#include "certsmith/http01_server.h"
#include "certsmith/log.h"

namespace certsmith::solvers {

namespace {

constexpr char kUsage[] =
    "usage: certsmith solver --domain D --token T --key KEYAUTH [--domain ... --token ... --key "
    "...]\n"
    "                        [--listen [HOST]:PORT] [--log-format text|json]\n"
    "\n"
    "Serves ACME http-01 key authorizations at /.well-known/acme-challenge/<token> until SIGTERM.\n"
    "  --listen      address to listen on (default :8089; port 0 picks a free port)\n"
    "  --domain      the name being validated\n"
    "  --token       the challenge token (base64url)\n"
    "  --key         the key authorization, <token>.<account key thumbprint>\n";

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

// Fills the challenge under construction; starts a new one when the field is already set.
Status AddField(std::vector<SolverChallenge>* list, std::string SolverChallenge::*field,
                const std::string& value) {
  if (list->empty() || !((list->back().*field).empty())) list->emplace_back();
  list->back().*field = value;
  return Status::Ok();
}

Status CheckChallenge(const SolverChallenge& c, size_t index) {
  std::string which = "challenge " + std::to_string(index + 1);
  if (c.domain.empty() || c.token.empty() || c.key_authorization.empty()) {
    return Invalid(which + ": --domain, --token and --key are all required");
  }
  if (!api::IsValidDnsName(c.domain, false)) {
    return Invalid(which + ": \"" + log::Sanitize(c.domain) + "\" is not a valid DNS name");
  }
  if (!IsBase64UrlToken(c.token)) {
    return Invalid(which + ": --token must be base64url (RFC 8555 §8.3)");
  }
  if (c.key_authorization.rfind(c.token + ".", 0) != 0 ||
      c.key_authorization.size() == c.token.size() + 1) {
    return Invalid(which + ": --key must be \"<token>.<thumbprint>\" (RFC 8555 §8.1)");
  }
  return Status::Ok();
}

}  // namespace

Status ParseListenAddress(std::string_view text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Invalid("--listen must be [HOST]:PORT");
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoi(std::string(p)) > 65535) {
    return Invalid("--listen: \"" + std::string(p) + "\" is not a port number");
  }
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = static_cast<uint16_t>(std::stoi(std::string(p)));
  return Status::Ok();
}

Result<SolverOptions> ParseSolverArgs(const std::vector<std::string>& args) {
  SolverOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      return options;
    }
    if (i + 1 >= args.size()) return Invalid(flag + ": missing value or unknown flag");
    const std::string& value = args[++i];
    if (flag == "--listen") {
      RETURN_IF_ERROR(ParseListenAddress(value, &options.host, &options.port));
    } else if (flag == "--domain") {
      RETURN_IF_ERROR(
          AddField(&options.challenges, &SolverChallenge::domain, api::NormalizeDnsName(value)));
    } else if (flag == "--token") {
      RETURN_IF_ERROR(AddField(&options.challenges, &SolverChallenge::token, value));
    } else if (flag == "--key") {
      RETURN_IF_ERROR(AddField(&options.challenges, &SolverChallenge::key_authorization, value));
    } else if (flag == "--log-format") {
      if (value != "text" && value != "json") return Invalid("--log-format must be text or json");
      options.log_format = value;
    } else {
      return Invalid("unknown flag " + log::Sanitize(flag));
    }
  }
  if (options.challenges.empty()) return Invalid("at least one --domain/--token/--key is required");
  for (size_t i = 0; i < options.challenges.size(); ++i) {
    RETURN_IF_ERROR(CheckChallenge(options.challenges[i], i));
  }
  return options;
}

bool HostMatches(std::string_view host_header, std::string_view domain) {
  return Http01HostMatches(host_header, domain);
}

int RunSolverCommand(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<SolverOptions> options = ParseSolverArgs(args);
  if (!options.ok()) {
    std::fprintf(stderr, "certsmith solver: %s\n\n%s", options.status().message().c_str(), kUsage);
    return 2;
  }
  if (options->help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  log::SetFormat(options->log_format);

  // Block the stop signals before the listener starts its threads, so they inherit the mask
  // and only sigwait below receives SIGTERM (the kubelet's stop) or SIGINT.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  Http01Server server;
  for (const SolverChallenge& c : options->challenges) {
    Status s = server.SetResponse(c.token, c.key_authorization, c.domain);
    if (!s.ok()) {
      log::Error("cannot serve challenge", {{"domain", c.domain}, {"error", s.message()}});
      return 1;
    }
  }
  if (Status s = server.Start(options->host, options->port); !s.ok()) {
    log::Error("cannot listen", {{"error", s.message()}});
    return 1;
  }
  // Neither the key authorization nor the token is logged (the house rule keeps tokens out of
  // logs); the domain is enough to match this Pod to its Challenge.
  for (const SolverChallenge& c : options->challenges) {
    log::Info("serving http-01 challenge", {{"domain", c.domain}});
  }
  log::Info("listening", {{"host", options->host}, {"port", std::to_string(server.port())}});
  int sig = 0;
  sigwait(&stop, &sig);
  log::Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                         {"served", std::to_string(server.served_count())}});
  server.Stop();
  return 0;
}

}  // namespace certsmith::solvers
