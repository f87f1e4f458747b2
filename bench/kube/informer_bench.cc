// Lists and watches N ConfigMaps on the test API server (or, with --kubeconfig, on any API server,
// such as the real one of ../shared/tools/kube): time until the informer has synced and
// resident memory per cached object (RSS delta / N), compared with `kubectl get --raw` listing
// the same objects (time and kubectl's peak RSS). See README.md.
//   kube_informer_bench [--objects 10000] [--runs 3] [--kubeconfig PATH]
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "kube/informer.h"
#include "kube/rest_client.h"
#include "test_apiserver.h"

namespace {

using namespace certsmith::kube;
using Steady = std::chrono::steady_clock;

double HeapInUse() { return static_cast<double>(mallinfo2().uordblks); }

long RssKb() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

bool CreateObjects(RestClient& client, int n) {
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        Json cm = {
            {"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata",
             {{"name", "bench-" + std::to_string(i)},
              {"namespace", "bench"},
              {"labels",
               {{"app.kubernetes.io/managed-by", "certsmith"}, {"i", std::to_string(i % 10)}}}}},
            {"data", {{"tls.hint", "example-" + std::to_string(i) + ".test"}}}};
        if (!client.Create(kConfigMaps, "bench", cm).ok()) failed++;
      }
    });
  for (auto& t : workers) t.join();
  return failed == 0;
}

// Runs a command, returns (seconds, peak RSS of the child in KiB).
std::pair<double, long> RunPeer(const std::vector<std::string>& args) {
  auto start = Steady::now();
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (!freopen("/dev/null", "w", stdout)) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  double secs = Seconds(Steady::now() - start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {-1, 0};
  return {secs, ru.ru_maxrss};
}

}  // namespace

int main(int argc, char** argv) {
  int objects = 10000, runs = 3;
  std::string kubeconfig;  // empty: start the test API server
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--objects")) objects = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--runs")) runs = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--kubeconfig")) kubeconfig = argv[i + 1];
  }
  const bool external = !kubeconfig.empty();
  std::string src = certsmith::kube::testing::SourceDir();
  certsmith::kube::testing::TestApiServer server(src);
  certsmith::Result<std::unique_ptr<RestClient>> client =
      certsmith::MakeError(certsmith::ErrorCode::kInternal, "no client");
  if (kubeconfig.empty()) {
    std::string missing = certsmith::kube::testing::TestApiServer::MissingPrerequisite(src);
    if (!missing.empty()) {
      std::fprintf(stderr, "SKIP: %s\n", missing.c_str());
      return 77;
    }
    if (auto st = server.Start(); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    kubeconfig = server.kubeconfig();
    client = server.NewClient();
  } else {
    auto config = LoadKubeconfig(kubeconfig);
    if (!config.ok()) {
      std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
      return 1;
    }
    config->qps = 0;  // unlimited, as the test server's client
    client = RestClient::Make(*config);
  }
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  auto version = (*client)->Call("GET", "/version", nullptr);
  std::printf("API server: %s %s\n", kubeconfig.c_str(),
              version.ok() ? version->value("gitVersion", "").c_str() : "(no /version)");
  (void)(*client)->Create(kNamespaces, "", Json{{"metadata", {{"name", "bench"}}}});
  auto t0 = Steady::now();
  if (!CreateObjects(**client, objects)) {
    std::fprintf(stderr, "creating objects failed\n");
    return 1;
  }
  std::printf("created %d ConfigMaps in %.1f s\n", objects, Seconds(Steady::now() - t0));

  std::vector<double> heap_per_obj_v, parsed_heap_per_obj, parsed_bytes_per_obj, cpu_s, sync_s,
      bytes_per_obj, list_s, paged_s, peer_s, peer_rss;
  for (int r = 0; r < runs; ++r) {
    for (bool compact : {true, false}) {
      malloc_trim(0);
      long before = RssKb();
      double heap_before = HeapInUse();
      InformerOptions o;
      o.resource = kConfigMaps;
      o.ns = "bench";
      o.label_selector = "app.kubernetes.io/managed-by=certsmith";
      o.transform = StripManagedFields;
      o.compact_store = compact;
      auto start = Steady::now();
      double cpu0 = CpuSeconds();
      Informer inf(**client, o);
      inf.Start();
      if (!inf.WaitForSync(std::chrono::minutes(5)) || inf.store().Size() != size_t(objects)) {
        std::fprintf(stderr, "informer did not sync %d objects\n", objects);
        return 1;
      }
      double wall = Seconds(Steady::now() - start);
      double cpu = CpuSeconds() - cpu0;
      malloc_trim(0);
      double per_obj = (RssKb() - before) * 1024.0 / objects;
      double heap_per_obj = (HeapInUse() - heap_before) / objects;
      inf.Stop();
      if (compact) {
        sync_s.push_back(wall);
        cpu_s.push_back(cpu);
        bytes_per_obj.push_back(per_obj);
        heap_per_obj_v.push_back(heap_per_obj);
      } else {
        parsed_bytes_per_obj.push_back(per_obj);
        parsed_heap_per_obj.push_back(heap_per_obj);
      }
    }
    // One unpaginated list through RestClient, the same request kubectl makes below.
    auto ls = Steady::now();
    auto list = (*client)->List(kConfigMaps, "bench", ListOptions{});
    // >=: a real cluster also publishes kube-root-ca.crt (and more) in every namespace.
    if (!list.ok() || (*list)["items"].size() < size_t(objects)) {
      std::fprintf(stderr, "list: %s\n",
                   list.ok() ? "too few items" : list.status().ToString().c_str());
      return 1;
    }
    list_s.push_back(Seconds(Steady::now() - ls));
    ListOptions paged;
    paged.limit = 500;
    auto ps0 = Steady::now();
    auto all = ListAll(**client, kConfigMaps, "bench", paged);
    if (!all.ok() || (*all)["items"].size() < size_t(objects)) {
      std::fprintf(stderr, "paged list: %s\n",
                   all.ok() ? "too few items" : all.status().ToString().c_str());
      return 1;
    }
    paged_s.push_back(Seconds(Steady::now() - ps0));
    auto [ps, prss] = RunPeer({"kubectl", "--kubeconfig", kubeconfig, "get", "--raw",
                               "/api/v1/namespaces/bench/configmaps"});
    if (ps > 0) {
      peer_s.push_back(ps);
      peer_rss.push_back(prss);
    }
  }
  std::printf("command: %s --objects %d --runs %d%s%s\n", argv[0], objects, runs,
              external ? " --kubeconfig " : "", external ? kubeconfig.c_str() : "");
  std::printf("informer sync (list %d ConfigMaps in pages of 500, then watch): median %.2f s\n",
              objects, Median(sync_s));
  std::printf("certsmith CPU during sync (parse + store; the rest is the server): median %.2f s\n",
              Median(cpu_s));
  std::printf(
      "informer resident memory per cached object: median %.0f bytes (compact store, "
      "the default); %.0f bytes with compact_store=false\n",
      Median(bytes_per_obj), Median(parsed_bytes_per_obj));
  std::printf(
      "informer live heap per cached object (mallinfo2): median %.0f bytes (compact); "
      "%.0f bytes (compact_store=false)\n",
      Median(heap_per_obj_v), Median(parsed_heap_per_obj));
  std::printf("RestClient single list: median %.2f s; ListAll in pages of 500: median %.2f s\n",
              Median(list_s), Median(paged_s));
  if (!peer_s.empty()) {
    std::printf(
        "peer: kubectl --kubeconfig KUBECONFIG get --raw /api/v1/namespaces/bench/configmaps:"
        " median %.2f s, peak RSS %.0f MiB\n",
        Median(peer_s), Median(peer_rss) / 1024);
    std::printf("ratio list time certsmith/kubectl: %.2f\n", Median(list_s) / Median(peer_s));
    std::printf("ratio informer sync / kubectl list: %.2f\n", Median(sync_s) / Median(peer_s));
  } else {
    std::printf("peer: kubectl not available, no ratio\n");
  }
  return 0;
}
