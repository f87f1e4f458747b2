#include "controller_command.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "acme/client.h"
#include "api/duration.h"
#include "api/resources.h"
#include "certsmith/base64.h"
#include "certsmith/http_transport.h"
#include "certsmith/log.h"
#include "certsmith/malloc_arenas.h"
#include "kube/config.h"
#include "kube/event_recorder.h"
#include "kube/leader_election.h"
#include "kube/rest_client.h"
#include "manager/manager.h"
#include "metrics/acme_transport_metrics.h"
#include "metrics/controller_metrics.h"
#include "metrics/metrics_server.h"
#include "reconcilers/context.h"
#include "solvers/dns01/ldns_client.h"
#include "solvers/http01/self_check.h"

namespace certsmith {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

struct Flags {
  std::string kubeconfig;
  std::string context;
  std::string ns;
  std::vector<std::string> secret_namespaces;
  std::optional<bool> leader_elect;
  std::string leader_election_namespace;
  int max_concurrent_challenges = 60;
  int workers = 5;
  double kube_api_qps = 50;
  int kube_api_burst = 100;
  std::optional<double> kube_api_qps_max;  // default: 4 x kube_api_qps
  std::string metrics_listen;
  std::string cluster_resource_namespace = "certsmith";
  std::string solver_image = "certsmith:latest";
  std::string log_level = "info";
  std::string log_format = "text";
  bool honour_cert_manager_annotations = false;
  bool enable_gateway_api = false;  // --enable-gateway-api (cert-manager's name)
  std::string default_secret_deletion_policy;  // "" until set: Retain
  std::optional<bool> certificate_owner_ref;   // --enable-certificate-owner-ref (cert-manager's)
  std::chrono::seconds ari_min_recheck{60};
  std::optional<api::Duration> revocation_timeout;
  std::vector<std::string> dns01_recursive_nameservers;
  bool dns01_recursive_nameservers_only = false;
  std::vector<solvers::http01::SelfCheckNameserver> self_check_nameservers;
  int self_check_port = 80;
};

void Usage(FILE* out) {
  std::fputs(
      "usage: certsmith controller [options]\n"
      "  --kubeconfig PATH                 kubeconfig (default: in-cluster, else $KUBECONFIG)\n"
      "  --context NAME                    kubeconfig context\n"
      "  --namespace NS                    watch only this namespace (default: all)\n"
      "  --secret-namespaces NS,NS...      watch Secrets in these namespaces only, one watch\n"
      "                                    each (for RBAC granting Secrets there alone; the\n"
      "                                    chart's rbac.secretNamespaces; default: --namespace)\n"
      "  --leader-elect[=true|false]       Lease leader election (default: true in-cluster)\n"
      "  --leader-election-namespace NS    where the Lease lives (default: cluster resource ns)\n"
      "  --max-concurrent-challenges N     http-01 solvers presented at once (default 60)\n"
      "  --workers N                       workers per reconciler (default 5)\n"
      "  --kube-api-qps N, --kube-api-burst N  client-side API rate limit (default 50, 100);\n"
      "                                    Events have their own limit of the same size\n"
      "  --kube-api-qps-max N              the limit grows up to N while requests queue and\n"
      "                                    the API server neither refuses (429) nor slows; each\n"
      "                                    429 halves it (default 4 x --kube-api-qps; equal to\n"
      "                                    --kube-api-qps: a fixed limit)\n"
      "  --metrics-listen HOST:PORT        serve /metrics, /healthz, /readyz (default: off)\n"
      "  --cluster-resource-namespace NS   ClusterIssuer Secrets (default certsmith)\n"
      "  --solver-image IMAGE              image of http-01 solver Pods\n"
      "  --log-level debug|info|warning|error, --log-format text|json\n"
      "  --honour-cert-manager-annotations[=true|false]\n"
      "                                    the Ingress shim also reads cert-manager.io/issuer,\n"
      "                                    cert-manager.io/cluster-issuer, ... (default: false)\n"
      "  --enable-gateway-api[=true|false] http-01 through Gateway API HTTPRoutes\n"
      "                                    (http01.gatewayHTTPRoute) and Certificates for\n"
      "                                    annotated Gateways; waits for the Gateway API CRDs\n"
      "                                    when they are not installed (default: false)\n"
      "  --default-secret-deletion-policy Retain|Delete\n"
      "                                    TLS Secret of a deleted Certificate that does not set\n"
      "                                    spec.secretDeletionPolicy: kept (Retain, default) or\n"
      "                                    garbage-collected with it (Delete)\n"
      "  --enable-certificate-owner-ref[=true|false]\n"
      "                                    cert-manager's name: true is the same as\n"
      "                                    --default-secret-deletion-policy=Delete\n"
      "  --revocation-timeout DURATION     how long a deleted Certificate with revokeOnDelete\n"
      "                                    retries its revocation before it goes without (5m)\n"
      "  --ari-min-recheck-interval DURATION\n"
      "                                    shortest wait before asking a CA's renewalInfo again,\n"
      "                                    whatever its Retry-After (default 1m, RFC 9773)\n"
      "  --dns01-recursive-nameservers HOST:PORT[,HOST:PORT...]\n"
      "                                    dns-01: servers that find zones and CNAMEs\n"
      "                                    (default: /etc/resolv.conf; [IPv6]:port)\n"
      "  --dns01-recursive-nameservers-only[=true|false]\n"
      "                                    dns-01: check records at those servers only, not at\n"
      "                                    the zone's authoritative servers (locked-down egress)\n"
      "  --acme-http01-solver-nameservers IP[:PORT][,...]\n"
      "                                    DNS servers that resolve names for the http-01 self\n"
      "                                    check (default: the system resolver), e.g. public\n"
      "                                    ones where the cluster's DNS is split-horizon\n"
      "  --acme-http01-self-check-port N   port the self check connects to (default 80, where\n"
      "                                    CAs validate; for test CAs on another port)\n",
      out);
}

bool ParseDouble(const std::string& s, double* out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0) || v > 100000) return false;
  *out = v;
  return true;
}

bool ParseInt(const std::string& s, int* out) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v <= 0 || v > 100000) return false;
  *out = static_cast<int>(v);
  return true;
}

// 0 ok, 1 help, 2 error.
int ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= argc) return false;
      value = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") return 1;
    if (arg == "--leader-elect") {
      f->leader_elect = !has_value || value == "true";
      continue;
    }
    if (arg == "--honour-cert-manager-annotations") {
      f->honour_cert_manager_annotations = !has_value || value == "true";
      continue;
    }
    if (arg == "--enable-gateway-api") {
      if (has_value && value != "true" && value != "false") {
        std::fprintf(stderr, "certsmith controller: %s must be true or false\n", arg.c_str());
        return 2;
      }
      f->enable_gateway_api = !has_value || value == "true";
      continue;
    }
    if (arg == "--dns01-recursive-nameservers-only") {
      if (has_value && value != "true" && value != "false") {
        std::fprintf(stderr, "certsmith controller: %s must be true or false\n", arg.c_str());
        return 2;
      }
      f->dns01_recursive_nameservers_only = !has_value || value == "true";
      continue;
    }
    if (arg == "--enable-certificate-owner-ref") {
      if (has_value && value != "true" && value != "false") {
        std::fprintf(stderr, "certsmith controller: %s must be true or false\n", arg.c_str());
        return 2;
      }
      f->certificate_owner_ref = !has_value || value == "true";
      continue;
    }
    if (!next()) {
      std::fprintf(stderr, "certsmith controller: %s needs a value\n", arg.c_str());
      return 2;
    }
    if (arg == "--kubeconfig") f->kubeconfig = value;
    else if (arg == "--context") f->context = value;
    else if (arg == "--namespace") f->ns = value;
    else if (arg == "--secret-namespaces") {
      f->secret_namespaces.clear();
      for (size_t start = 0; start <= value.size();) {
        size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        if (comma > start) f->secret_namespaces.push_back(value.substr(start, comma - start));
        start = comma + 1;
      }
      if (f->secret_namespaces.empty()) {
        std::fprintf(stderr, "certsmith controller: %s needs at least one namespace\n",
                     arg.c_str());
        return 2;
      }
    }
    else if (arg == "--leader-election-namespace") f->leader_election_namespace = value;
    else if (arg == "--metrics-listen") f->metrics_listen = value;
    else if (arg == "--cluster-resource-namespace") f->cluster_resource_namespace = value;
    else if (arg == "--solver-image") f->solver_image = value;
    else if (arg == "--log-level") f->log_level = value;
    else if (arg == "--log-format") f->log_format = value;
    else if (arg == "--dns01-recursive-nameservers") {
      // cert-manager's syntax: comma-separated host:port (a bare IPv6 address needs brackets).
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        std::string item =
            value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) {
          auto ns = solvers::dns01::ParseNameserver(item);
          if (!ns.ok()) {
            std::fprintf(stderr, "certsmith controller: %s: %s\n", arg.c_str(),
                         ns.status().message().c_str());
            return 2;
          }
          f->dns01_recursive_nameservers.push_back(ns->ToString());
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (arg == "--acme-http01-solver-nameservers") {
      auto servers = solvers::http01::ParseSelfCheckNameservers(value);
      if (!servers.ok()) {
        std::fprintf(stderr, "certsmith controller: %s\n", servers.status().message().c_str());
        return 2;
      }
      f->self_check_nameservers = *servers;
    } else if (arg == "--acme-http01-self-check-port") {
      if (!ParseInt(value, &f->self_check_port) || f->self_check_port > 65535) {
        std::fprintf(stderr, "certsmith controller: %s must be a port number\n", arg.c_str());
        return 2;
      }
    } else if (arg == "--default-secret-deletion-policy") {
      if (value != "Retain" && value != "Delete") {
        std::fprintf(stderr, "certsmith controller: %s must be Retain or Delete, not \"%s\"\n",
                     arg.c_str(), value.c_str());
        return 2;
      }
      f->default_secret_deletion_policy = value;
    } else if (arg == "--revocation-timeout" || arg == "--ari-min-recheck-interval") {
      auto d = api::ParseDuration(value);
      if (!d.ok() || *d < std::chrono::seconds(1)) {
        std::fprintf(stderr, "certsmith controller: %s must be a duration of at least 1s\n",
                     arg.c_str());
        return 2;
      }
      if (arg == "--revocation-timeout") {
        f->revocation_timeout = *d;
      } else {
        f->ari_min_recheck = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
    } else if (arg == "--kube-api-qps" || arg == "--kube-api-qps-max") {
      double parsed = 0;
      if (!ParseDouble(value, &parsed)) {
        std::fprintf(stderr, "certsmith controller: %s must be a positive number\n", arg.c_str());
        return 2;
      }
      if (arg == "--kube-api-qps") {
        f->kube_api_qps = parsed;
      } else {
        f->kube_api_qps_max = parsed;
      }
    } else if (arg == "--max-concurrent-challenges" || arg == "--workers" ||
               arg == "--kube-api-burst") {
      int* target = arg == "--workers"          ? &f->workers
                    : arg == "--kube-api-burst" ? &f->kube_api_burst
                                                : &f->max_concurrent_challenges;
      if (!ParseInt(value, target)) {
        std::fprintf(stderr, "certsmith controller: %s must be a positive number\n", arg.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "certsmith controller: unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  // Both spellings may be given (a chart value plus cert-manager-style extraArgs), but not with
  // opposite meanings: which one should win is the user's call, not ours.
  if (f->certificate_owner_ref) {
    const std::string implied = *f->certificate_owner_ref ? "Delete" : "Retain";
    if (!f->default_secret_deletion_policy.empty() &&
        f->default_secret_deletion_policy != implied) {
      std::fprintf(stderr,
                   "certsmith controller: --enable-certificate-owner-ref=%s contradicts "
                   "--default-secret-deletion-policy=%s\n",
                   *f->certificate_owner_ref ? "true" : "false",
                   f->default_secret_deletion_policy.c_str());
      return 2;
    }
    f->default_secret_deletion_policy = implied;
  }
  return 0;
}

Result<std::shared_ptr<acme::AcmeClient>> MakeAcmeClient(const api::Issuer& issuer,
                                                         std::shared_ptr<const acme::Signer> signer,
                                                         std::chrono::seconds ari_min_poll) {
  TransportOptions options;
  if (!issuer.spec.acme.ca_bundle.empty()) {
    ASSIGN_OR_RETURN(options.tls.ca_pem, Base64DecodeLenient(issuer.spec.acme.ca_bundle));
  }
  options.tls.insecure_skip_verify = issuer.spec.acme.skip_tls_verify;
  std::shared_ptr<HttpTransport> transport = MakeCpprestTransport(options);
  if (!transport) return MakeError(ErrorCode::kInternal, "no HTTP transport available");
  // Every CA request is counted and timed (controller/metrics/README.md).
  transport = std::make_shared<metrics::AcmeTransportMetrics>(
      std::move(transport), issuer.spec.acme.server, metrics::ControllerMetrics::Default());
  return std::shared_ptr<acme::AcmeClient>(std::make_shared<acme::Client>(
      acme::ClientOptions{.directory_url = issuer.spec.acme.server, .ari_min_poll = ari_min_poll},
      std::move(transport), SystemClock::Instance(), std::move(signer)));
}

// The http-01 self check's GET (solvers/http01/self_check.h): resolved with the given nameservers
// when there are any, else by the transport (the system resolver).
reconcilers::HttpGetter MakeSelfChecker(std::chrono::milliseconds timeout,
                                        std::vector<solvers::http01::SelfCheckNameserver> servers,
                                        uint16_t port) {
  std::shared_ptr<HttpTransport> transport = MakeCpprestTransport({});
  if (!transport) return nullptr;
  return [transport, timeout, servers, port](const std::string& url) -> Result<std::string> {
    std::string address;
    if (!servers.empty()) {
      ASSIGN_OR_RETURN(std::string host, solvers::http01::SelfCheckHost(url));
      ASSIGN_OR_RETURN(address, solvers::http01::ResolveWith(servers, host, timeout));
    }
    ASSIGN_OR_RETURN(HttpRequest req,
                     solvers::http01::SelfCheckRequest(url, address, port, timeout));
    ASSIGN_OR_RETURN(HttpResponse resp, transport->Send(req));
    if (resp.status != 200) {
      return MakeError(ErrorCode::kUnavailable, "HTTP status " + std::to_string(resp.status));
    }
    return resp.body;
  };
}

std::string Identity() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  std::random_device rd;
  return std::string(host) + "_" + std::to_string(rd() % 1000000);
}

}  // namespace

int RunControllerCommand(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();  // a duration: not the wall clock
  Flags flags;
  int parsed = ParseFlags(argc, argv, &flags);
  if (parsed == 1) {
    Usage(stdout);
    return 0;
  }
  if (parsed != 0) {
    Usage(stderr);
    return 2;
  }
  log::SetFormat(flags.log_format);
  if (flags.log_level == "debug")
    log::SetLevel(log::Level::kDebug);
  else if (flags.log_level == "warning")
    log::SetLevel(log::Level::kWarning);
  else if (flags.log_level == "error")
    log::SetLevel(log::Level::kError);

  const bool in_cluster = flags.kubeconfig.empty() && std::getenv("KUBERNETES_SERVICE_HOST");
  auto config = flags.kubeconfig.empty() ? kube::DefaultConfig("", flags.context)
                                         : kube::LoadKubeconfig(flags.kubeconfig, flags.context);
  if (!config.ok()) {
    std::fprintf(stderr, "certsmith controller: %s\n", config.status().message().c_str());
    return 1;
  }
  config->qps = flags.kube_api_qps;
  config->burst = flags.kube_api_burst;
  config->max_qps = flags.kube_api_qps_max.value_or(4 * flags.kube_api_qps);
  auto client = kube::RestClient::Make(*config);
  // Events get their own client (connection and rate limit) and are written by the recorder's
  // thread: an issuance records several, and they must not delay the reconcilers' writes.
  auto event_client = kube::RestClient::Make(*config);
  if (!client.ok() || !event_client.ok()) {
    const Status& s = client.ok() ? event_client.status() : client.status();
    std::fprintf(stderr, "certsmith controller: %s\n", s.message().c_str());
    return 1;
  }
  kube::EventRecorderOptions event_options;
  event_options.component = "certsmith";
  event_options.async = true;
  kube::EventRecorder events(**event_client, event_options);
  reconcilers::AccountRegistry accounts;
  reconcilers::Context ctx;
  ctx.client = client->get();
  ctx.events = &events;
  ctx.options.cluster_resource_namespace = flags.cluster_resource_namespace;
  ctx.options.solver_image = flags.solver_image;
  ctx.options.enable_gateway_api = flags.enable_gateway_api;
  ctx.options.max_concurrent_challenges = flags.max_concurrent_challenges;
  if (!flags.default_secret_deletion_policy.empty()) {
    ctx.options.default_secret_deletion_policy = flags.default_secret_deletion_policy;
  }
  if (flags.revocation_timeout) ctx.options.revocation_timeout = *flags.revocation_timeout;
  ctx.acme_factory = [ari = flags.ari_min_recheck](const api::Issuer& issuer,
                                                   std::shared_ptr<const acme::Signer> signer) {
    return MakeAcmeClient(issuer, std::move(signer), ari);
  };
  ctx.options.dns01_recursive_nameservers = flags.dns01_recursive_nameservers;
  ctx.options.dns01_recursive_nameservers_only = flags.dns01_recursive_nameservers_only;
  solvers::dns01::LdnsDnsClient dns;
  ctx.dns = &dns;
  for (const solvers::dns01::Nameserver& ns : solvers::dns01::SystemNameservers()) {
    ctx.dns01_system_nameservers.push_back(ns.ToString());
  }
  ctx.https_transport = [](const TlsOptions& tls) -> Result<std::shared_ptr<HttpTransport>> {
    TransportOptions options;
    options.tls = tls;
    std::shared_ptr<HttpTransport> transport = MakeCpprestTransport(options);
    if (!transport) return MakeError(ErrorCode::kInternal, "no HTTP transport available");
    return transport;
  };
  ctx.accounts = &accounts;
  ctx.http_get = MakeSelfChecker(ctx.options.self_check_timeout, flags.self_check_nameservers,
                                 static_cast<uint16_t>(flags.self_check_port));

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  reconcilers::Manager manager(
      ctx, {.watch_namespace = flags.ns,
            .secret_namespaces = flags.secret_namespaces,
            .workers = flags.workers,
            .honour_cert_manager_annotations = flags.honour_cert_manager_annotations,
            .enable_gateway_api = flags.enable_gateway_api});
  int limiter_collector = metrics::Registry::Default().AddCollector(
      [reconcilers_client = client->get(), events_client = event_client->get()](
          metrics::Registry&) {
        for (auto [name, c] : {std::pair{"reconcilers", reconcilers_client},
                               std::pair{"events", events_client}}) {
          kube::RateLimiterStats s = c->LimiterStats();
          metrics::ControllerMetrics::Default().SetKubeClient(
              name, s.qps, s.waited_seconds, static_cast<double>(s.throttled));
        }
      });
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (!flags.metrics_listen.empty()) {
    metrics_server = std::make_unique<metrics::MetricsServer>(
        flags.metrics_listen, [&manager] { return manager.Synced(); });
    Status s = metrics_server->Start();
    if (!s.ok()) {
      std::fprintf(stderr, "certsmith controller: metrics: %s\n", s.message().c_str());
      return 1;
    }
  }
  // /readyz is about this replica, not about the lease: a standby whose caches are synced is
  // ready (it can take over at once); certsmith_leader says which replica works.
  metrics::ControllerMetrics::Default().SetLeader(false);
  manager.StartInformers();
  if (!manager.WaitForSync(std::chrono::seconds(60))) {
    log::Warn("caches did not sync within 60s; starting anyway");
  }
  log::Info("certsmith controller started",
            {{"server", (*config).server},
             {"namespace", flags.ns.empty() ? "*" : flags.ns},
             {"defaultSecretDeletionPolicy", ctx.options.default_secret_deletion_policy},
             {"gatewayAPI", flags.enable_gateway_api ? "true" : "false"},
             {"dns01RecursiveNameservers",
              [&ctx] {
                const auto& list = ctx.options.dns01_recursive_nameservers.empty()
                                       ? ctx.dns01_system_nameservers
                                       : ctx.options.dns01_recursive_nameservers;
                std::string out;
                for (const std::string& s : list) out += (out.empty() ? "" : ",") + s;
                return out;
              }()},
             {"dns01RecursiveNameserversOnly",
              ctx.options.dns01_recursive_nameservers_only ? "true" : "false"}});

  const bool leader_elect = flags.leader_elect.value_or(in_cluster);
  std::unique_ptr<kube::LeaderElector> elector;
  std::thread election;
  if (leader_elect) {
    kube::LeaderElectionConfig le;
    le.lease_namespace = flags.leader_election_namespace.empty() ? flags.cluster_resource_namespace
                                                                 : flags.leader_election_namespace;
    le.lease_name = api::kLeaderLeaseName;
    le.identity = Identity();
    le.on_started_leading = [&manager] {
      metrics::ControllerMetrics::Default().SetLeader(true);
      manager.StartWorkers();
    };
    // As client-go's users do: a replica that lost the lease stops, and is restarted clean.
    le.on_stopped_leading = [] { g_stop = true; };
    elector = std::make_unique<kube::LeaderElector>(**client, le);
    election = std::thread([&elector] { elector->Run(); });
  } else {
    metrics::ControllerMetrics::Default().SetLeader(true);
    manager.StartWorkers();
  }
  // Once, when the start-up work is done (bench/controller/scale measures a restart by it).
  bool idle_logged = false;
  while (!g_stop) {
    if (!idle_logged && manager.Idle()) {
      idle_logged = true;
      // The start-up lists and first syncs freed most of what they parsed; give those pages
      // back (with 10,000 Certificates, tens of MiB).
      ReleaseFreeHeap();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      log::Info("caches synced, work queues empty", {{"ms", std::to_string(ms.count())}});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(idle_logged ? 200 : 20));
  }
  log::Info("certsmith controller stopping");
  if (elector) {
    elector->Stop();
    election.join();
  }
  manager.Stop();
  if (metrics_server) metrics_server->Stop();
  metrics::Registry::Default().RemoveCollector(limiter_collector);
  return 0;
}

}  // namespace certsmith
