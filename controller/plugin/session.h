// What every `kubectl certsmith` command works with: an API client built the way kubectl finds
// its cluster, the namespace, the clock, the streams, and how to wait between polls.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "certsmith/clock.h"
#include "kube/client.h"
#include "kube/config.h"
#include "plugin/options.h"

namespace certsmith::plugin {

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

struct Session {
  kube::Client* client = nullptr;
  std::string ns;  // -n, else the context's namespace, else "default"
  Options options;
  const Clock* clock = &SystemClock::Instance();
  // Waiting between polls (rollover, check api --wait); tests advance a FakeClock instead.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// The environment, injectable for tests.
struct Environment {
  std::function<std::optional<std::string>(const std::string&)> getenv;  // null: ::getenv
};

// kubectl's order: --kubeconfig; else $KUBECONFIG (a ':'-separated list, merged); else
// ~/.kube/config when it exists; else the in-cluster service account. --context applies to the
// kubeconfig ones.
Result<kube::RestConfig> ResolveConfig(const Options& options, const Environment& env = {});

// A RestClient for the resolved config, and the namespace.
struct Connection {
  kube::RestConfig config;
  std::unique_ptr<kube::Client> client;
  std::string ns;
};
Result<Connection> Connect(const Options& options, const Environment& env = {});

}  // namespace certsmith::plugin
