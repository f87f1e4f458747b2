// A replica for the leader-election integration test: campaigns for a Lease and prints
// "LEADING <id>" / "STOPPED <id>" lines; SIGTERM makes it stop and release the lease.
//   kube_lease_candidate KUBECONFIG IDENTITY LEASE_SECONDS
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "kube/leader_election.h"
#include "kube/rest_client.h"

namespace {
std::atomic<bool> g_term{false};
void OnTerm(int) { g_term = true; }
}  // namespace

int main(int argc, char** argv) {
  using namespace certsmith::kube;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s KUBECONFIG IDENTITY LEASE_SECONDS\n", argv[0]);
    return 2;
  }
  signal(SIGTERM, OnTerm);
  auto cfg = LoadKubeconfig(argv[1]);
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", cfg.status().ToString().c_str());
    return 1;
  }
  auto client = RestClient::Make(*cfg);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  std::string id = argv[2];
  int lease = std::stoi(argv[3]);
  LeaderElectionConfig le;
  le.lease_namespace = "default";
  le.lease_name = "kube-it-leader";
  le.identity = id;
  le.lease_duration = std::chrono::seconds(lease);
  le.renew_deadline = std::chrono::milliseconds(lease * 1000 * 2 / 3);
  le.retry_period = std::chrono::milliseconds(lease * 1000 / 10);
  le.on_started_leading = [&] {
    std::printf("LEADING %s\n", id.c_str());
    std::fflush(stdout);
  };
  le.on_stopped_leading = [&] {
    std::printf("STOPPED %s\n", id.c_str());
    std::fflush(stdout);
  };
  LeaderElector elector(**client, le);
  std::thread watcher([&] {
    while (!g_term) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    elector.Stop();
  });
  elector.Run();
  g_term = true;
  watcher.join();
  return 0;
}
