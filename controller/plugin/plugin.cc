#include "plugin/plugin.h"

#include <functional>
#include <istream>
#include <ostream>
#include <thread>

#include "plugin/commands.h"

namespace certsmith::plugin {
namespace {

struct Command {
  std::string_view word;      // "status"
  std::string_view resource;  // the word that must follow ("certificate"), "" for none
  std::string_view usage;     // "status certificate NAME"
  std::string_view summary;
  unsigned flags;      // options.h Flag mask
  bool needs_cluster;  // false: convert without --from-cluster
  int (*run)(Session&, Io&);
  // How many arguments after the resource word: exactly `args`, or at least when `at_least`.
  size_t args;
  bool at_least;
};

constexpr Command kCommands[] = {
    {"status", "certificate", "status certificate NAME",
     "the Certificate, its Secret, current Order, Challenges, the CA's last words and Events",
     kOutput, true, RunStatus, 1, false},
    {"renew", "", "renew NAME... | --all | -l SELECTOR",
     "issue a new certificate now (once), through the controller",
     kAll | kSelector | kAllNamespaces, true, RunRenew, 0, true},
    {"inspect", "secret", "inspect secret NAME",
     "the certificates and key type in a TLS Secret (never the key)", kOutput, true, RunInspect, 1,
     false},
    {"check", "api", "check api", "the CRDs are served and a controller holds a fresh leader Lease",
     kOutput | kControllerNamespace | kWait, true, RunCheckApi, 0, false},
    {"account", "rollover", "account rollover [issuer/|clusterissuer/]NAME",
     "a new ACME account key through the CA's keyChange (RFC 8555 §7.3.5)", kTimeout, true,
     RunAccountRollover, 1, false},
    {"convert", "", "convert -f FILE... | --from-cluster",
     "cert-manager Issuers, ClusterIssuers, Certificates and Ingress annotations to certsmith",
     kOutput | kFilename | kFromCluster | kAllNamespaces | kControllerNamespace |
         kCertManagerNamespace | kStrict,
     false, RunConvert, 0, true},
};

// kubectl's resource words: singular, plural, short name, kind.group.
bool ResourceWordMatches(std::string_view want, std::string_view got) {
  if (want == got) return true;
  if (want == "certificate") {
    return got == "certificates" || got == "cert" || got == "certs" ||
           got == "certificates.certsmith.io" || got == "certificate.certsmith.io";
  }
  if (want == "secret") return got == "secrets";
  return false;
}

void PrintUsage(std::ostream& out) {
  out << "usage: kubectl certsmith <command> [flags]\n\ncommands:\n";
  for (const Command& c : kCommands) {
    std::string usage(c.usage);
    usage.resize(std::max<size_t>(usage.size() + 2, 50), ' ');
    out << "  " << usage << c.summary << "\n";
  }
  out << "\nflags of every command: --kubeconfig PATH, --context NAME, -n/--namespace NS\n"
         "Run 'kubectl certsmith <command> --help' for a command's flags.\n";
}

void PrintCommandUsage(const Command& c, std::ostream& out) {
  out << "usage: kubectl certsmith " << c.usage << " [flags]\n  " << c.summary << "\n\nflags:\n"
      << cli::FormatFlagHelp(FlagSpecs(c.flags));
}

}  // namespace

bool InvokedAsKubectlPlugin(std::string_view argv0) {
  const size_t slash = argv0.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  return base == kPluginBinaryName;
}

int RunKubectlPlugin(const std::vector<std::string>& args, Io io, const Environment& env) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    PrintUsage(args.empty() ? io.err : io.out);
    return args.empty() ? 2 : 0;
  }
  const Command* command = nullptr;
  for (const Command& c : kCommands) {
    if (c.word == args[0]) command = &c;
  }
  if (command == nullptr) {
    io.err << "error: unknown command \"" << args[0] << "\"\n\n";
    PrintUsage(io.err);
    return 2;
  }
  auto options = ParseOptions({args.begin() + 1, args.end()}, command->flags);
  if (!options.ok()) {
    io.err << "error: " << options.status().message() << "\n\n";
    PrintCommandUsage(*command, io.err);
    return 2;
  }
  if (options->help) {
    PrintCommandUsage(*command, io.out);
    return 0;
  }
  // The resource word, then the arguments.
  std::string usage_error;
  const std::vector<std::string> positional = options->args;
  const size_t first = command->resource.empty() ? 0 : 1;
  if (first == 1 &&
      (positional.empty() || !ResourceWordMatches(command->resource, positional[0]))) {
    // kubectl's "certificate/NAME" form.
    if (!positional.empty() && positional[0].find('/') != std::string::npos &&
        ResourceWordMatches(command->resource, positional[0].substr(0, positional[0].find('/')))) {
      const std::string name = positional[0].substr(positional[0].find('/') + 1);
      options->args = {std::string(command->resource), name};
      for (size_t i = 1; i < positional.size(); ++i) options->args.push_back(positional[i]);
    } else {
      usage_error = "expected \"" + std::string(command->resource) + "\" after \"" +
                    std::string(command->word) + "\"";
    }
  }
  const size_t count = options->args.size() - std::min(first, options->args.size());
  if (usage_error.empty()) {
    if (!command->at_least && count != command->args) {
      usage_error = count < command->args ? "missing argument" : "too many arguments";
    }
  }
  if (usage_error.empty() && command->word == "renew") {
    const int ways = (count > 0) + options->all + !options->selector.empty();
    if (ways != 1) usage_error = "give Certificate names, --all or -l SELECTOR (one of them)";
  }
  if (usage_error.empty() && command->word == "convert") {
    if (options->filenames.empty() == !options->from_cluster) {
      usage_error = "give -f FILE (or -f - for stdin) or --from-cluster";
    } else if (count > 0) {
      usage_error = "convert takes no arguments";
    }
  }
  if (!usage_error.empty()) {
    io.err << "error: " << usage_error << "\n\n";
    PrintCommandUsage(*command, io.err);
    return 2;
  }

  Session session;
  session.options = *options;
  session.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  Connection connection;
  if (command->needs_cluster || options->from_cluster) {
    auto connected = Connect(*options, env);
    if (!connected.ok()) {
      io.err << "error: " << connected.status().message() << "\n";
      return 1;
    }
    connection = std::move(connected).value();
    session.client = connection.client.get();
    session.ns = connection.ns;
  }
  return command->run(session, io);
}

}  // namespace certsmith::plugin
