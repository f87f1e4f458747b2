// certsmith::kube against the project's test API server (tests/apiserver): real HTTPS, real
// watches, fault injection. Each test starts its own server on port 0 in a temp dir.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include "kube/errors.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/rest_client.h"
#include "test_apiserver.h"

namespace certsmith::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TestApiServer;
using Steady = std::chrono::steady_clock;

const ResourceRef kWidgets{"test.certsmith.io", "v1", "widgets", "Widget", true};

Json ConfigMap(const std::string& name, Json labels = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
          {"data", {{"k", "v"}}}};
}

// Waits (real time) for pred, polling.
bool Eventually(const std::function<bool()>& pred, milliseconds timeout) {
  auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return pred();
}

class KubeIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer({}); }
  void StartServer(const std::vector<std::string>& args) {
    server_ = std::make_unique<TestApiServer>(testing::SourceDir());
    Status st = server_->Start(args);
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto c = server_->NewClient();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }
  void SetFaults(const Json& faults) {
    auto r = server_->Admin("POST", "faults", faults);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // Names and resourceVersions: what the store must converge to.
  static std::map<std::string, std::string> Snapshot(const std::vector<ObjectPtr>& objs) {
    std::map<std::string, std::string> out;
    for (auto& o : objs) out[ObjectKey(*o)] = GetResourceVersion(*o);
    return out;
  }
  std::map<std::string, std::string> ServerSnapshot(const ResourceRef& res) {
    auto all = ListAll(*client_, res, "default", ListOptions{});
    std::map<std::string, std::string> out;
    if (!all.ok()) return out;
    for (auto& o : (*all)["items"]) out[ObjectKey(o)] = GetResourceVersion(o);
    return out;
  }
  InformerOptions ConfigMapInformer() {
    InformerOptions o;
    o.resource = kConfigMaps;
    o.ns = "default";
    o.backoff_base = milliseconds(50);
    o.backoff_cap = milliseconds(500);
    o.page_size = 50;
    return o;
  }

  std::unique_ptr<TestApiServer> server_;
  std::unique_ptr<RestClient> client_;
};

TEST_F(KubeIntegrationTest, CrudSelectorsPaginationAndErrors) {
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(client_->Create(kConfigMaps, "default",
                                ConfigMap("cm-" + std::to_string(i),
                                          {{"parity", i % 2 ? "odd" : "even"}}))
                    .ok());
  auto dup = client_->Create(kConfigMaps, "default", ConfigMap("cm-0"));
  EXPECT_EQ(dup.status().code(), ErrorCode::kAlreadyExists) << dup.status().ToString();
  EXPECT_FALSE(dup.status().payload().empty());
  auto missing = client_->Get(kConfigMaps, "default", "nope");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  ListOptions odd;
  odd.label_selector = "parity=odd";
  auto odds = client_->List(kConfigMaps, "default", odd);
  ASSERT_TRUE(odds.ok()) << odds.status().ToString();
  EXPECT_EQ((*odds)["items"].size(), 3u);
  ListOptions field;
  field.field_selector = "metadata.name=cm-3";
  EXPECT_EQ((*client_->List(kConfigMaps, "default", field))["items"].size(), 1u);
  ListOptions page;
  page.limit = 2;
  auto first = client_->List(kConfigMaps, "default", page);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)["items"].size(), 2u);
  EXPECT_FALSE((*first)["metadata"].value("continue", "").empty());
  auto all = ListAll(*client_, kConfigMaps, "default", page);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_GE((*all)["items"].size(), 7u);
  // Invalid object: the server's message comes through.
  auto invalid = client_->Create(kConfigMaps, "default", Json{{"metadata", {{"name", "Bad_Name"}}}});
  EXPECT_EQ(invalid.status().code(), ErrorCode::kInvalidArgument) << invalid.status().ToString();
  // Patches.
  auto merged = client_->Patch(kConfigMaps, "default", "cm-0", PatchType::kMerge,
                               {{"data", {{"m", "1"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["data"]["m"], "1");
  auto jsonp = client_->Patch(kConfigMaps, "default", "cm-0", PatchType::kJson,
                              Json::parse(R"([{"op":"replace","path":"/data/k","value":"w"}])"));
  ASSERT_TRUE(jsonp.ok()) << jsonp.status().ToString();
  EXPECT_EQ((*jsonp)["data"]["k"], "w");
  auto smp = client_->Patch(kConfigMaps, "default", "cm-0", PatchType::kStrategicMerge,
                            {{"data", {{"s", "2"}}}});
  ASSERT_TRUE(smp.ok()) << smp.status().ToString();
  // Delete with a wrong precondition, then properly.
  DeleteOptions wrong;
  wrong.precondition_uid = "not-the-uid";
  EXPECT_EQ(client_->Delete(kConfigMaps, "default", "cm-1", wrong).code(), ErrorCode::kConflict);
  DeleteOptions right;
  right.precondition_uid = GetUid(*client_->Get(kConfigMaps, "default", "cm-1"));
  right.propagation_policy = "Background";
  EXPECT_TRUE(client_->Delete(kConfigMaps, "default", "cm-1", right).ok());
  EXPECT_EQ(client_->Get(kConfigMaps, "default", "cm-1").status().code(), ErrorCode::kNotFound);
}

TEST_F(KubeIntegrationTest, ConflictRetryRereadsAndWins) {
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("counter")).ok());
  Json stale = *client_->Get(kConfigMaps, "default", "counter");
  // Another writer moves the object on.
  Json other = stale;
  other["data"]["n"] = "1";
  ASSERT_TRUE(client_->Update(kConfigMaps, "default", other).ok());
  stale["data"]["n"] = "2";
  EXPECT_EQ(client_->Update(kConfigMaps, "default", stale).status().code(), ErrorCode::kConflict);
  // Eight concurrent incrementers: every increment lands.
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 8; ++w)
    writers.emplace_back([&] {
      Status st = RetryOnConflict(
          [&]() -> Status {
            ASSIGN_OR_RETURN(Json cur, client_->Get(kConfigMaps, "default", "counter"));
            int n = std::stoi(cur["data"].value("n", "0"));
            cur["data"]["n"] = std::to_string(n + 1);
            return client_->Update(kConfigMaps, "default", cur).status();
          },
          50);
      if (!st.ok()) failures++;
    });
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*client_->Get(kConfigMaps, "default", "counter"))["data"]["n"], "9");
}

TEST_F(KubeIntegrationTest, StatusSubresourceOfACustomResource) {
  Json crd = Json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.certsmith.io"},
    "spec": {"group": "test.certsmith.io", "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})");
  const ResourceRef kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                          "CustomResourceDefinition", false};
  auto made = client_->Create(kCrds, "", crd);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Json w = {{"apiVersion", "test.certsmith.io/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "w1"}, {"namespace", "default"}}},
            {"spec", {{"size", 1}}},
            {"status", {{"ready", true}}}};
  Result<Json> created = MakeError(ErrorCode::kUnavailable, "not yet");
  ASSERT_TRUE(Eventually([&] {
    created = client_->Create(kWidgets, "default", w);
    return created.ok();
  }, seconds(10))) << created.status().ToString();
  EXPECT_FALSE(created->contains("status"));  // status is ignored on create
  Json obj = *created;
  obj["status"] = {{"ready", true}};
  obj["spec"]["size"] = 2;
  Json after_update = *client_->Update(kWidgets, "default", obj);
  EXPECT_FALSE(after_update.contains("status"));
  EXPECT_EQ(after_update["spec"]["size"], 2);
  after_update["status"] = {{"ready", true}};
  after_update["spec"]["size"] = 3;
  auto st = client_->UpdateStatus(kWidgets, "default", after_update);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ((*st)["status"]["ready"], true);
  EXPECT_EQ((*st)["spec"]["size"], 2);  // spec ignored on /status
  auto patched = client_->Patch(kWidgets, "default", "w1", PatchType::kMerge,
                                {{"status", {{"ready", false}}}}, true);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["status"]["ready"], false);
}

TEST_F(KubeIntegrationTest, InformerResumesAfterDroppedWatchesWithoutRelisting) {
  // The server fixes a watch's drop time when the watch starts: set the fault first.
  SetFaults({{"dropWatchSeconds", 0.5}});
  Informer inf(*client_, ConfigMapInformer());
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(seconds(10)));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("r" + std::to_string(i))).ok());
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(Eventually([&] { return Snapshot(inf.store().List()) == ServerSnapshot(kConfigMaps); },
                         seconds(15)));
  auto stats = inf.stats();
  EXPECT_GE(stats.watches, 3);               // the watch was dropped and resumed
  EXPECT_EQ(stats.lists, 1);                 // ... from its resourceVersion, without relisting
  EXPECT_EQ(stats.relists_after_gone, 0);
  inf.Stop();
}

TEST_F(KubeIntegrationTest, RelistAfterGoneOnCompactedHistory) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("g" + std::to_string(i))).ok());
  Informer inf(*client_, ConfigMapInformer());
  std::vector<std::string> deleted;
  inf.AddHandlers({nullptr, nullptr, [&](const Json& o) { deleted.push_back(GetName(o)); }});
  ASSERT_TRUE(inf.ListOnce().ok());
  // Changes the informer has not watched, then the server compacts its history past them.
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "g0").ok());
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("g9")).ok());
  auto compacted = server_->Admin("POST", "compact");
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  Status watched = inf.WatchOnce();
  EXPECT_EQ(watched.code(), ErrorCode::kGone) << watched.ToString();
  ASSERT_TRUE(inf.ListOnce().ok());
  EXPECT_EQ(deleted, (std::vector<std::string>{"g0"}));
  EXPECT_EQ(Snapshot(inf.store().List()), ServerSnapshot(kConfigMaps));

  // The same through Run(): a dropped watch resumes from a compacted resourceVersion.
  SetFaults({{"dropWatchSeconds", 0.3}});
  Informer live(*client_, ConfigMapInformer());
  live.Start();
  ASSERT_TRUE(live.WaitForSync(seconds(10)));
  for (int round = 0; round < 20 && live.stats().relists_after_gone == 0; ++round) {
    ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("x" + std::to_string(round))).ok());
    ASSERT_TRUE(server_->Admin("POST", "compact").ok());
    std::this_thread::sleep_for(milliseconds(200));
  }
  SetFaults({{"dropWatchSeconds", 0}});
  EXPECT_GE(live.stats().relists_after_gone, 1);
  ASSERT_TRUE(Eventually([&] { return Snapshot(live.store().List()) == ServerSnapshot(kConfigMaps); },
                         seconds(15)));
  live.Stop();
}

TEST_F(KubeIntegrationTest, GarbageCollectionObservedThroughInformer) {
  auto owner = client_->Create(kConfigMaps, "default", ConfigMap("owner"));
  ASSERT_TRUE(owner.ok());
  for (int i = 0; i < 3; ++i) {
    Json child = ConfigMap("child-" + std::to_string(i));
    child["metadata"]["ownerReferences"] = Json::array(
        {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", GetUid(*owner)}}});
    ASSERT_TRUE(client_->Create(kConfigMaps, "default", child).ok());
  }
  Informer inf(*client_, ConfigMapInformer());
  std::mutex mu;
  std::vector<std::string> deleted;
  inf.AddHandlers({nullptr, nullptr, [&](const Json& o) {
                     std::lock_guard<std::mutex> l(mu);
                     deleted.push_back(GetName(o));
                   }});
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(seconds(10)));
  EXPECT_EQ(inf.store().ByIndex(kOwnerUidIndex, GetUid(*owner)).size(), 3u);
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "owner").ok());
  EXPECT_TRUE(Eventually([&] { return inf.store().ByIndex(kOwnerUidIndex, GetUid(*owner)).empty(); },
                         seconds(15)));
  // Handlers run after the store has changed: the last deletion may not have been told yet.
  // (Holding mu across Stop() deadlocked with a handler still waiting for it.)
  EXPECT_TRUE(Eventually(
      [&] {
        std::lock_guard<std::mutex> l(mu);
        return deleted.size() == 4u;
      },
      seconds(15)));
  inf.Stop();
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(deleted.size(), 4u);
}

TEST_F(KubeIntegrationTest, EventsAreAggregated) {
  auto cm = client_->Create(kConfigMaps, "default", ConfigMap("about"));
  ASSERT_TRUE(cm.ok());
  EventRecorder rec(*client_);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(rec.Record(*cm, kEventWarning, "Failing", "something went wrong").ok());
  auto events = client_->List(kEvents, "default", ListOptions{});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ((*events)["items"].size(), 1u);
  EXPECT_EQ((*events)["items"][0]["count"], 3);
  EXPECT_EQ((*events)["items"][0]["involvedObject"]["name"], "about");
}

// --- leader election between two processes -------------------------------------------------

class Candidate {
 public:
  Candidate(const std::string& kubeconfig, const std::string& id, int lease_seconds) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      std::string lease = std::to_string(lease_seconds);
      execl(KUBE_LEASE_CANDIDATE, KUBE_LEASE_CANDIDATE, kubeconfig.c_str(), id.c_str(),
            lease.c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Candidate() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  // The next line of output within timeout, or "".
  std::string ReadLine(milliseconds timeout) {
    auto deadline = Steady::now() + timeout;
    for (;;) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now()).count();
      if (left <= 0) return "";
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char tmp[256];
      ssize_t n = read(fd_, tmp, sizeof tmp);
      if (n <= 0) return "";
      buf_.append(tmp, n);
    }
  }
  void Signal(int sig) { kill(pid_, sig); }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  int pid_ = -1;
  int fd_ = -1;
  std::string buf_;
};

TEST_F(KubeIntegrationTest, LeaderElectionHandsOverBetweenProcesses) {
  const int kLease = 6;  // generous: the test machine is shared with parallel builds
  Candidate a(server_->kubeconfig(), "replica-a", kLease);
  ASSERT_EQ(a.ReadLine(seconds(15)), "LEADING replica-a");
  Candidate b(server_->kubeconfig(), "replica-b", kLease);
  EXPECT_EQ(b.ReadLine(seconds(kLease + 2)), "");  // a keeps renewing: b must not lead
  auto lease = client_->Get(kLeases, "default", "kube-it-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "replica-a");
  // Graceful stop: a releases, b takes over well within the lease duration.
  auto stop = Steady::now();
  a.Signal(SIGTERM);
  EXPECT_EQ(a.ReadLine(seconds(5)), "STOPPED replica-a");
  EXPECT_EQ(a.Wait(), 0);
  ASSERT_EQ(b.ReadLine(seconds(kLease)), "LEADING replica-b");
  auto handover = Steady::now() - stop;
  EXPECT_LT(handover, seconds(kLease));
  std::printf("graceful handover took %lld ms (lease %d s)\n",
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(handover).count()),
              kLease);
  lease = client_->Get(kLeases, "default", "kube-it-leader");
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "replica-b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  // Crash: b is killed without releasing; c takes over after the lease expires.
  Candidate c(server_->kubeconfig(), "replica-c", kLease);
  std::this_thread::sleep_for(milliseconds(500));
  auto crash = Steady::now();
  b.Signal(SIGKILL);
  b.Wait();
  ASSERT_EQ(c.ReadLine(seconds(3 * kLease)), "LEADING replica-c");
  auto takeover = Steady::now() - crash;
  EXPECT_LT(takeover, seconds(2 * kLease));
}

// --- rate limiting and retries ---------------------------------------------------------------

TEST_F(KubeIntegrationTest, ClientSideRateLimitSpacesRequests) {
  auto limited = server_->NewClient(/*qps=*/10, /*burst=*/2);
  ASSERT_TRUE(limited.ok());
  auto start = Steady::now();
  for (int i = 0; i < 22; ++i) ASSERT_TRUE((*limited)->Get(kNamespaces, "", "default").ok());
  auto took = Steady::now() - start;
  EXPECT_GE(took, milliseconds(1900));  // 20 requests beyond the burst at 10/s
  EXPECT_LT(took, seconds(15));  // loose: a loaded machine only slows it down
}

TEST_F(KubeIntegrationTest, ServerTooManyRequestsIsRetriedAfterRetryAfter) {
  SetFaults({{"errorPercent", 100}, {"errorCode", 429}, {"retryAfterSeconds", 1}});
  RestClientOptions o;
  o.max_attempts = 2;
  auto c = server_->NewClient(0, 1, o);
  ASSERT_TRUE(c.ok());
  auto start = Steady::now();
  auto got = (*c)->Get(kNamespaces, "", "default");
  EXPECT_EQ(got.status().code(), ErrorCode::kResourceExhausted) << got.status().ToString();
  EXPECT_EQ(got.status().retry_after(), seconds(1));
  EXPECT_GE(Steady::now() - start, milliseconds(950));  // waited Retry-After once
  SetFaults({{"errorPercent", 50}, {"errorCode", 503}, {"retryAfterSeconds", 0}});
  RestClientOptions many;
  // Half the requests fail at random: with 10 attempts one of the 20 GETs ran out about once in
  // 50 runs; with 30 the chance is 2e-8, and the test still needs the retries to pass.
  many.max_attempts = 30;
  many.backoff_base = milliseconds(10);
  auto patient = server_->NewClient(0, 1, many);
  for (int i = 0; i < 20; ++i) {
    auto r = (*patient)->Get(kNamespaces, "", "default");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
}

TEST_F(KubeIntegrationTest, TooManyRequestsPausesEveryCallerAndHalvesAnAdaptiveRate) {
  auto cfg = server_->Config();
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  cfg->qps = 40;
  cfg->burst = 40;
  cfg->max_qps = 160;
  RestClientOptions o;
  o.max_attempts = 1;
  auto c = RestClient::Make(*cfg, o);
  ASSERT_TRUE(c.ok());
  SetFaults({{"errorPercent", 100}, {"errorCode", 429}, {"retryAfterSeconds", 1}});
  auto refused = (*c)->Get(kNamespaces, "", "default");
  EXPECT_EQ(refused.status().code(), ErrorCode::kResourceExhausted);
  auto refused_at = Steady::now();
  SetFaults({{"errorPercent", 0}});
  // The next call, from any caller, is held until the server's Retry-After has passed.
  auto got = (*c)->Get(kNamespaces, "", "default");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_GE(Steady::now() - refused_at, milliseconds(950));
  RateLimiterStats stats = (*c)->LimiterStats();
  EXPECT_EQ(stats.throttled, 1u);
  EXPECT_EQ(stats.qps, 20);
}

TEST_F(KubeIntegrationTest, InformerConvergesUnderFailuresAndDroppedWatches) {
  SetFaults({{"errorPercent", 20}, {"errorCode", 500}, {"dropWatchSeconds", 0.4}});
  Informer inf(*client_, ConfigMapInformer());
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(seconds(20)));
  RestClientOptions o;
  o.max_attempts = 8;
  o.backoff_base = milliseconds(20);
  auto writer = server_->NewClient(0, 1, o);
  ASSERT_TRUE(writer.ok());
  int done = 0;
  for (int i = 0; i < 60; ++i) {
    std::string name = "conv-" + std::to_string(i % 25);
    Status st;
    if (i % 3 == 2) {
      st = (*writer)->Delete(kConfigMaps, "default", name);
      if (st.code() == ErrorCode::kNotFound) st = Status::Ok();
    } else {
      st = RetryOnConflict([&]() -> Status {
        auto cur = (*writer)->Get(kConfigMaps, "default", name);
        if (cur.status().code() == ErrorCode::kNotFound)
          return (*writer)->Create(kConfigMaps, "default", ConfigMap(name)).status();
        if (!cur.ok()) return cur.status();
        (*cur)["data"]["i"] = std::to_string(i);
        return (*writer)->Update(kConfigMaps, "default", *cur).status();
      });
      if (st.code() == ErrorCode::kAlreadyExists) st = Status::Ok();  // create retried
    }
    if (st.ok()) done++;
    std::this_thread::sleep_for(milliseconds(30));  // spread the writes over several watches
  }
  EXPECT_GE(done, 55);  // the client's retries absorb nearly all injected failures
  SetFaults({{"errorPercent", 0}, {"dropWatchSeconds", 0}});
  ASSERT_TRUE(Eventually([&] { return Snapshot(inf.store().List()) == ServerSnapshot(kConfigMaps); },
                         seconds(30)));
  auto stats = inf.stats();
  std::printf("informer under faults: lists=%d watches=%d errors=%d relists_after_gone=%d\n",
              stats.lists, stats.watches, stats.errors, stats.relists_after_gone);
  EXPECT_GE(stats.watches, 2);
  inf.Stop();
}

// --- bad input -------------------------------------------------------------------------------

TEST_F(KubeIntegrationTest, BadInputGivesClearErrors) {
  // Malformed kubeconfig.
  std::string bad = server_->workdir() + "/bad-kubeconfig";
  std::ofstream(bad) << "apiVersion: v1\nclusters: [\n";
  auto parsed = LoadKubeconfig(bad);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("kubeconfig " + bad + ": not valid YAML"),
            std::string::npos)
      << parsed.status().message();

  // Wrong token.
  auto cfg = server_->Config();
  ASSERT_TRUE(cfg.ok());
  RestConfig wrong_token = *cfg;
  wrong_token.token = std::make_shared<TokenSource>("not-the-token");
  auto c1 = RestClient::Make(wrong_token);
  auto r1 = (*c1)->Get(kNamespaces, "", "default");
  EXPECT_EQ(r1.status().code(), ErrorCode::kUnauthenticated) << r1.status().ToString();
  EXPECT_EQ(r1.status().message().find("not-the-token"), std::string::npos);

  // Wrong CA: a fresh self-signed certificate the server's was not issued by.
  std::string dir = server_->workdir();
  ASSERT_EQ(system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-keyout " + dir + "/other.key -out " + dir + "/other.crt -days 1 "
                    "-subj /CN=other >/dev/null 2>&1").c_str()), 0);
  std::ifstream in(dir + "/other.crt");
  RestConfig wrong_ca = *cfg;
  wrong_ca.tls.ca_pem.assign(std::istreambuf_iterator<char>(in), {});
  auto c2 = RestClient::Make(wrong_ca);
  ASSERT_TRUE(c2.ok()) << c2.status().ToString();
  auto r2 = (*c2)->Get(kNamespaces, "", "default");
  EXPECT_EQ(r2.status().code(), ErrorCode::kTls) << r2.status().ToString();

  // Unreachable server: stopped, so its port refuses connections.
  RestClientOptions o;
  o.max_attempts = 2;
  o.backoff_base = milliseconds(10);
  auto c3 = RestClient::Make(*cfg, o);
  server_->Stop();
  auto start = Steady::now();
  auto r3 = (*c3)->Get(kNamespaces, "", "default");
  EXPECT_EQ(r3.status().code(), ErrorCode::kUnavailable) << r3.status().ToString();
  EXPECT_NE(r3.status().message().find("GET /api/v1/namespaces/default"), std::string::npos);
  EXPECT_LT(Steady::now() - start, seconds(15));
}

}  // namespace
}  // namespace certsmith::kube

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string missing =
      certsmith::kube::testing::TestApiServer::MissingPrerequisite(certsmith::kube::testing::SourceDir());
  if (!missing.empty()) {
    std::fprintf(stderr, "SKIP: kube integration tests need the test API server: %s\n",
                 missing.c_str());
    return 77;
  }
  return RUN_ALL_TESTS();
}
