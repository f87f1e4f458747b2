// The one certsmith binary; one image serves every role through subcommands.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "certsmith/http_threads.h"
#include "certsmith/malloc_arenas.h"

#ifdef CERTSMITH_HAVE_ACME_CLI
#include "cli/acme_command.h"
#endif
#ifdef CERTSMITH_HAVE_SOLVER
#include "solvers/http01/solver_command.h"
#endif
#ifdef CERTSMITH_HAVE_CONTROLLER
#include "controller_command.h"
#endif
#ifdef CERTSMITH_HAVE_KUBECTL_PLUGIN
#include <iostream>
#include <string>
#include <vector>

#include "plugin/plugin.h"
#endif

namespace {

void PrintUsage(FILE* out) {
  std::fputs(
      "usage: certsmith <command> [options]\n"
      "\n"
      "commands:\n"
      "  controller   run the Kubernetes controller\n"
      "  solver       serve http-01 challenge responses (inside a solver Pod)\n"
      "  acme         one-shot ACME client: register, issue, revoke, account\n"
      "  version      print the version\n"
      "\n"
      "Linked or installed as kubectl-certsmith, it is the kubectl plugin `kubectl certsmith`\n"
      "(status, renew, inspect, check api, account rollover, convert).\n"
      "\n"
      "Run 'certsmith <command> --help' for a command's options.\n",
      out);
}

// Process-wide settings that must come before any thread starts (bench/README.md, "Idle
// footprint", measured what each one saves).
bool SetUpProcess() {
  auto threads = certsmith::HttpThreadsFromEnv(std::getenv("CERTSMITH_HTTP_THREADS"));
  if (!threads.ok()) {
    std::fprintf(stderr, "certsmith: %s\n", threads.status().message().c_str());
    return false;
  }
  certsmith::InitHttpThreadPool(*threads);
  certsmith::LimitMallocArenas();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (!SetUpProcess()) return 2;
#ifdef CERTSMITH_HAVE_KUBECTL_PLUGIN
  // Installed or linked as kubectl-certsmith: `kubectl certsmith ...` (argv[0] dispatch).
  if (argc > 0 && certsmith::plugin::InvokedAsKubectlPlugin(argv[0])) {
    return certsmith::plugin::RunKubectlPlugin(std::vector<std::string>(argv + 1, argv + argc),
                                               {std::cin, std::cout, std::cerr});
  }
#endif
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  std::string_view command = argv[1];
  if (command == "version" || command == "--version") {
    std::printf("certsmith %s\n", CERTSMITH_VERSION);
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    PrintUsage(stdout);
    return 0;
  }
#ifdef CERTSMITH_HAVE_ACME_CLI
  if (command == "acme") return certsmith::cli::RunAcmeCommand(argc - 1, argv + 1);
#endif
#ifdef CERTSMITH_HAVE_SOLVER
  if (command == "solver") return certsmith::solvers::RunSolverCommand(argc - 1, argv + 1);
#endif
#ifdef CERTSMITH_HAVE_CONTROLLER
  if (command == "controller") return certsmith::RunControllerCommand(argc - 1, argv + 1);
#endif
  std::fprintf(stderr, "certsmith: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
