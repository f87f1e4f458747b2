#include "challenges/challenge_reconciler.h"

#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

constexpr char kAuthz[] = "https://ca.test/acme/authz/1";
constexpr char kChallengeUrl[] = "https://ca.test/chall/1";

class ChallengeReconcilerTest : public ReconcilerTest {
 protected:
  ChallengeReconcilerTest() : reconciler(ctx) { AddReadyIssuer(); }
  SyncResult Sync(const std::string& name = "ch-1") { return reconciler.Sync("default/" + name); }
  Json Status(const std::string& name = "ch-1") {
    return kube.Peek(api::kChallenges, "default", name)->value("status", Json());
  }
  void AddChallenge(const std::string& name = "ch-1", const std::string& type = "http-01") {
    Json solver = type == "http-01"
                      ? Json{{"http01", {{"ingress", {{"ingressClassName", "testbed"}}}}}}
                      : Json{{"dns01", {{"webhook", {{"groupName", "x.example"},
                                                     {"solverName", "s"}}}}}};
    kube.Add(api::kChallenges,
             {{"apiVersion", "acme.certsmith.io/v1"},
              {"kind", "Challenge"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec",
               {{"url", kChallengeUrl},
                {"authorizationURL", kAuthz},
                {"dnsName", "a.example"},
                {"type", type},
                {"token", "tok_1"},
                {"key", "tok_1.thumbprint"},
                {"solver", solver},
                {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}}});
  }
  void Authorization(acme::AuthorizationStatus st, acme::ChallengeStatus cs) {
    acme::Authorization a;
    a.url = kAuthz;
    a.identifier = acme::DnsIdentifier("a.example");
    a.status = st;
    acme::Challenge c;
    c.url = kChallengeUrl;
    c.type = "http-01";
    c.status = cs;
    c.token = "tok_1";
    if (cs == acme::ChallengeStatus::kInvalid) {
      acme::Problem p;
      p.type = "urn:ietf:params:acme:error:unauthorized";
      p.detail = "The key authorization file from the server did not match";
      c.error = p;
    }
    a.challenges = {c};
    a.next_poll = clock.Now() + std::chrono::seconds(2);
    acme->authorizations[kAuthz] = a;
  }
  // What the kubelet does once the solver container listens.
  void MarkSolverPodsReady() {
    for (Json pod : kube.All(kube::kPods)) {
      pod["status"] = {{"phase", "Running"},
                       {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}};
      ASSERT_TRUE(kube.UpdateStatus(kube::kPods, "default", pod).ok());
    }
  }
  // Presents the solver, lets its Pod become Ready, and syncs again (which accepts).
  SyncResult PresentAndAccept(const std::string& name = "ch-1") {
    SyncResult first = Sync(name);
    EXPECT_TRUE(acme->calls.empty()) << "the CA was asked before the solver Pod was Ready";
    MarkSolverPodsReady();
    return Sync(name);
  }
  size_t SolverObjects() {
    return kube.All(kube::kPods).size() + kube.All(kube::kServices).size() +
           kube.All(kube::kIngresses).size();
  }

  ChallengeReconciler reconciler;
};

TEST_F(ChallengeReconcilerTest, WaitsForTheSolverPodBeforeTellingTheCa) {
  AddChallenge();
  SyncResult r = Sync();
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_TRUE(acme->calls.empty());
  // Not Ready at the next looks while a Pod normally starts: nothing is written.
  clock.Advance(std::chrono::seconds(4));
  r = Sync();
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_FALSE(HasWrite("update challenges/status")) << ::testing::PrintToString(Writes());
  // Still not Ready 5 s after it was created: the wait is written.
  clock.Advance(std::chrono::seconds(1));
  r = Sync();
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_TRUE(acme->calls.empty());
  EXPECT_NE(Status()["reason"].get<std::string>().find("to be Ready"), std::string::npos);
  EXPECT_EQ(Status()["presented"], true);
  MarkSolverPodsReady();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls.size(), 1u);
}

// The sync that creates the solver objects writes no status; the one after the Pod is Ready
// tells the CA and writes presented and processing at once: one Challenge status write for
// both steps, and no second round of creates.
TEST_F(ChallengeReconcilerTest, CreatingTheSolverAndAnsweringTheCaWriteTheStatusOnce) {
  AddChallenge();
  ASSERT_TRUE(Sync().requeue_after.has_value());
  EXPECT_FALSE(HasWrite("update challenges/status")) << ::testing::PrintToString(Writes());
  EXPECT_EQ(SolverObjects(), 3u);
  MarkSolverPodsReady();
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls, (std::vector<std::string>{std::string("RespondToChallenge ") +
                                                   kChallengeUrl}));
  EXPECT_EQ(Writes(), (std::vector<std::string>{"update challenges/status default/ch-1"}));
  EXPECT_EQ(Status()["presented"], true);
  EXPECT_EQ(Status()["processing"], true);
}

// Only a missing Pod means "not Ready yet"; an API error reading it is an error (retried with
// the queue's backoff and logged), not a silent wait.
TEST_F(ChallengeReconcilerTest, AnErrorReadingTheSolverPodIsNotAWait) {
  AddChallenge();
  ASSERT_TRUE(Sync().requeue_after.has_value());
  MarkSolverPodsReady();
  // Twice: Present() reads the Pod first (an error there is taken as "create it").
  kube.FailNext("get", "pods", MakeError(ErrorCode::kUnavailable, "apiserver down"), 2);
  SyncResult r = Sync();
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.ToString().find("apiserver down"), std::string::npos);
  EXPECT_TRUE(acme->calls.empty());
}

// The testbed kubelet's and a real kubelet's words for a solver that exited at once.
void SetSolverPodStatus(kube::testing::FakeClient& kube, const Json& status) {
  for (Json pod : kube.All(kube::kPods)) {
    pod["status"] = status;
    ASSERT_TRUE(kube.UpdateStatus(kube::kPods, "default", pod).ok());
  }
}

const Json kExitedPod = {{"phase", "Failed"},
                         {"reason", "Error"},
                         {"message", "process exited with code 3: boom"},
                         {"conditions", Json::array({{{"type", "Ready"}, {"status", "False"}}})}};

// A solver Pod that exits at once is shown on the Challenge (condition, reason, a Warning event
// in the Pod's words), deleted, and replaced after 5 s, then 10 s; a replacement that runs is
// used as usual.
TEST_F(ChallengeReconcilerTest, AFailedSolverPodIsReportedAndReplacedWithBackoff) {
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(kube.All(kube::kPods).size(), 1u);
  SetSolverPodStatus(kube, kExitedPod);
  SyncResult r = Sync();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.requeue_after, std::chrono::seconds(5));
  EXPECT_TRUE(kube.All(kube::kPods).empty()) << "the failed Pod is deleted";
  const api::Challenge ch =
      api::Challenge::FromJson(*kube.Peek(api::kChallenges, "default", "ch-1")).value();
  const api::Condition* solver = api::FindCondition(ch.status.conditions, "SolverReady");
  ASSERT_NE(solver, nullptr);
  EXPECT_EQ(solver->status, api::ConditionStatus::kFalse);
  EXPECT_EQ(solver->reason, "Error");
  EXPECT_NE(solver->message.find("failed (Error): process exited with code 3: boom"),
            std::string::npos)
      << solver->message;
  EXPECT_NE(ch.status.reason.find("replacing it in 5s"), std::string::npos) << ch.status.reason;
  EXPECT_EQ(ch.status.solver_pod_failures, 1);
  auto events = EventsWithReason("SolverPodFailed");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "Warning");
  EXPECT_EQ(events[0]["message"], solver->message);
  EXPECT_TRUE(acme->calls.empty());

  // Woken by the Pod's deletion: still backing off, no new Pod.
  r = Sync();
  EXPECT_TRUE(kube.All(kube::kPods).empty());
  EXPECT_EQ(r.requeue_after, std::chrono::seconds(5));
  clock.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_EQ(kube.All(kube::kPods).size(), 1u) << "a new solver Pod after the backoff";

  // It fails again: twice the wait, the same event counted twice (Kubernetes aggregates equal
  // events).
  SetSolverPodStatus(kube, kExitedPod);
  r = Sync();
  EXPECT_EQ(r.requeue_after, std::chrono::seconds(10));
  events = EventsWithReason("SolverPodFailed");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].value("count", 0), 2);
  clock.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(Sync().status.ok());
  MarkSolverPodsReady();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls.size(), 1u) << "the working replacement is answered";
  const api::Challenge done =
      api::Challenge::FromJson(*kube.Peek(api::kChallenges, "default", "ch-1")).value();
  EXPECT_TRUE(api::IsConditionTrue(done.status.conditions, "SolverReady"));
}

// A container the kubelet keeps retrying (image pull, crash loop) is reported, once per reason,
// and left to the kubelet.
TEST_F(ChallengeReconcilerTest, AWaitingSolverContainerIsReportedOncePerReason) {
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  auto waiting = [](const std::string& reason, const std::string& message) {
    return Json{
        {"phase", "Pending"},
        {"containerStatuses",
         Json::array({{{"name", "acmesolver"},
                       {"ready", false},
                       {"state", {{"waiting", {{"reason", reason}, {"message", message}}}}}}})}};
  };
  SetSolverPodStatus(kube, waiting("ErrImagePull", "pull access denied for certsmith"));
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(kube.All(kube::kPods).size(), 1u) << "the kubelet retries the pull itself";
  auto events = EventsWithReason("SolverPodFailed");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0]["message"].get<std::string>().find(
                "cannot run (ErrImagePull): pull access denied for certsmith"),
            std::string::npos)
      << events[0]["message"];
  SetSolverPodStatus(kube, waiting("ImagePullBackOff", "Back-off pulling image"));
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(EventsWithReason("SolverPodFailed").size(), 2u);
  EXPECT_NE(Status()["reason"].get<std::string>().find("ImagePullBackOff"), std::string::npos);
  EXPECT_TRUE(acme->calls.empty());
}

TEST(SolverPodStateTest, ReadsWhatARealKubeletWrites) {
  using solvers::http01::ReadSolverPod;
  EXPECT_FALSE(ReadSolverPod(Json::object()).ready);
  EXPECT_TRUE(ReadSolverPod(Json::object()).reason.empty());
  auto crash = ReadSolverPod(
      {{"status",
        {{"phase", "Running"},
         {"containerStatuses", Json::array({{{"state",
                                              {{"waiting",
                                                {{"reason", "CrashLoopBackOff"},
                                                 {"message", "back-off 40s restarting"}}}}}}})}}}});
  EXPECT_FALSE(crash.failed);
  EXPECT_EQ(crash.reason, "CrashLoopBackOff");
  EXPECT_EQ(crash.message, "back-off 40s restarting");
  // Phase Failed with the outcome on the container only (no Pod reason).
  auto exited = ReadSolverPod(
      {{"status",
        {{"phase", "Failed"},
         {"containerStatuses",
          Json::array({{{"state", {{"terminated", {{"exitCode", 2}, {"reason", "Error"}}}}}}})}}}});
  EXPECT_TRUE(exited.failed);
  EXPECT_EQ(exited.reason, "Error");
  EXPECT_EQ(exited.message, "the solver exited with code 2");
  auto creating = ReadSolverPod(
      {{"status",
        {{"phase", "Pending"},
         {"containerStatuses",
          Json::array({{{"state", {{"waiting", {{"reason", "ContainerCreating"}}}}}}})}}}});
  EXPECT_TRUE(creating.reason.empty()) << "starting normally is not a failure";
  auto odd = ReadSolverPod({{"status", {{"phase", 3}, {"containerStatuses", "x"}}}});
  EXPECT_TRUE(odd.reason.empty());
}

TEST_F(ChallengeReconcilerTest, TheRouteIsCreatedBeforeTheSolverPod) {
  // A Pod can be Ready before the ingress controller routes a path created after it; created
  // last, the Pod's start-up is the route's head start.
  AddChallenge();
  Sync();
  std::vector<std::string> creates;
  for (const std::string& w : Writes())
    if (w.rfind("create ", 0) == 0) creates.push_back(w.substr(0, w.find(' ', 7)));
  EXPECT_EQ(creates, (std::vector<std::string>{"create ingresses", "create services",
                                               "create pods"}));
}

TEST_F(ChallengeReconcilerTest, AFirstPresentationCreatesWithoutReadingAndALaterOneReadsFirst) {
  AddChallenge();
  Sync();
  std::vector<std::string> reads;
  for (const std::string& a : kube.ActionStrings()) {
    if (a.rfind("get pods", 0) == 0 || a.rfind("get services", 0) == 0 ||
        a.rfind("get ingresses", 0) == 0) {
      reads.push_back(a);
    }
  }
  // Only the readiness check reads the Pod; no read before each create.
  EXPECT_EQ(reads.size(), 1u) << ::testing::PrintToString(reads);
  // Presented already (status says so) and the Pod deleted behind our back: read, re-create.
  ASSERT_TRUE(kube.Delete(kube::kPods, "default", kube.All(kube::kPods)[0]["metadata"]["name"]
                                                      .get<std::string>()).ok());
  kube.ClearActions();
  Sync();
  EXPECT_EQ(kube.All(kube::kPods).size(), 1u);
  EXPECT_TRUE(HasWrite("create pods"));
  EXPECT_FALSE(HasWrite("create services"));
}

TEST_F(ChallengeReconcilerTest, PresentsSolverThenCleansUpWhenValid) {
  AddChallenge();
  SyncResult r = PresentAndAccept();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(kube.All(kube::kPods).size(), 1u);
  ASSERT_EQ(kube.All(kube::kServices).size(), 1u);
  ASSERT_EQ(kube.All(kube::kIngresses).size(), 1u);
  Json pod = kube.All(kube::kPods)[0];
  Json container = pod["spec"]["containers"][0];
  EXPECT_EQ(container["args"], Json::array({"solver", "--listen", ":8089", "--domain", "a.example",
                                            "--token", "tok_1", "--key", "tok_1.thumbprint"}));
  EXPECT_EQ(container["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(container["securityContext"]["capabilities"]["drop"], Json::array({"ALL"}));
  EXPECT_EQ(pod["spec"]["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["spec"]["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_TRUE(container["resources"].contains("limits"));
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["kind"], "Challenge");
  Json ingress = kube.All(kube::kIngresses)[0];
  EXPECT_EQ(ingress["spec"]["ingressClassName"], "testbed");
  EXPECT_EQ(ingress["spec"]["rules"][0]["host"], "a.example");
  EXPECT_EQ(ingress["spec"]["rules"][0]["http"]["paths"][0]["path"],
            "/.well-known/acme-challenge/tok_1");
  EXPECT_EQ(acme->calls, (std::vector<std::string>{std::string("RespondToChallenge ") +
                                                   kChallengeUrl}));
  EXPECT_EQ(Status()["processing"], true);
  EXPECT_EQ(Status()["presented"], true);
  auto fins = kube.Peek(api::kChallenges, "default", "ch-1")->at("metadata").at("finalizers");
  EXPECT_EQ(fins, Json::array({kChallengeFinalizer}));

  Authorization(acme::AuthorizationStatus::kPending, acme::ChallengeStatus::kProcessing);
  r = Sync();
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, std::chrono::seconds(2));
  EXPECT_EQ(SolverObjects(), 3u);

  Authorization(acme::AuthorizationStatus::kValid, acme::ChallengeStatus::kValid);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["state"], "valid");
  EXPECT_EQ(SolverObjects(), 0u);
  EXPECT_EQ(reconciler.Presented(), 0u);
}

// An IP address identifier (RFC 8738): a real API server refuses an Ingress rule whose host is an
// IP ("must be a DNS name, not an IP address"), so the rule has no host; cleanup finds it still.
TEST_F(ChallengeReconcilerTest, AnIpAddressChallengeGetsARuleWithoutHost) {
  AddChallenge();
  Json ch = *kube.Peek(api::kChallenges, "default", "ch-1");
  ch["spec"]["dnsName"] = "192.0.2.7";
  ASSERT_TRUE(kube.Update(api::kChallenges, "default", ch).ok());
  ASSERT_TRUE(PresentAndAccept().status.ok());
  ASSERT_EQ(kube.All(kube::kIngresses).size(), 1u);
  Json rule = kube.All(kube::kIngresses)[0]["spec"]["rules"][0];
  EXPECT_FALSE(rule.contains("host")) << rule.dump();
  EXPECT_EQ(rule["http"]["paths"][0]["path"], "/.well-known/acme-challenge/tok_1");
  EXPECT_EQ(kube.All(kube::kPods)[0]["spec"]["containers"][0]["args"][4], "192.0.2.7");
  Authorization(acme::AuthorizationStatus::kValid, acme::ChallengeStatus::kValid);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(SolverObjects(), 0u);
}

TEST_F(ChallengeReconcilerTest, InvalidChallengeCleansUpAndKeepsTheCasWords) {
  AddChallenge();
  ASSERT_TRUE(PresentAndAccept().status.ok());
  Authorization(acme::AuthorizationStatus::kInvalid, acme::ChallengeStatus::kInvalid);
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(Status()["state"], "invalid");
  EXPECT_NE(Status()["reason"].get<std::string>().find("did not match"), std::string::npos);
  EXPECT_EQ(SolverObjects(), 0u);
}

TEST_F(ChallengeReconcilerTest, DeletionCleansUpAndRemovesTheFinalizer) {
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(kube.Delete(api::kChallenges, "default", "ch-1").ok());  // finalizer holds it
  ASSERT_TRUE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(SolverObjects(), 0u);
  EXPECT_FALSE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
}

TEST_F(ChallengeReconcilerTest, FinalizerRemovalSurvivesAConcurrentWriter) {
  AddChallenge();
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(kube.Delete(api::kChallenges, "default", "ch-1").ok());
  // The garbage collector writes the Challenge between this sync's read and its update (as in
  // a foreground deletion): the first update is refused as stale, twice.
  int refused = 0;
  kube.PrependReactor("update", "challenges", [&refused](const kube::testing::Action&)
                                                  -> std::optional<kube::testing::ReactorResult> {
    if (refused >= 2) return std::nullopt;
    ++refused;
    return kube::testing::ReactorResult{MakeError(ErrorCode::kConflict, "object was modified"),
                                        std::nullopt};
  });
  SyncResult r = Sync();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();  // no failed sync, no warning logged
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(SolverObjects(), 0u);
  EXPECT_FALSE(kube.Peek(api::kChallenges, "default", "ch-1").has_value());
}

TEST_F(ChallengeReconcilerTest, AtMostMaxConcurrentChallengesArePresented) {
  ctx.options.max_concurrent_challenges = 1;
  AddChallenge("ch-1");
  AddChallenge("ch-2");
  ASSERT_TRUE(Sync("ch-1").status.ok());
  SyncResult r = Sync("ch-2");
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(kube.All(kube::kPods).size(), 1u);
  EXPECT_NE(Status("ch-2")["reason"].get<std::string>().find("max-concurrent-challenges"),
            std::string::npos);
}

TEST_F(ChallengeReconcilerTest, FailedSelfCheckWaitsWithoutTellingTheCa) {
  ctx.http_get = [](const std::string&) -> Result<std::string> {
    return MakeError(ErrorCode::kUnavailable, "connection refused");
  };
  AddChallenge();
  ASSERT_TRUE(Sync().requeue_after.has_value());
  MarkSolverPodsReady();
  SyncResult r = Sync();
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_TRUE(acme->calls.empty());
  EXPECT_NE(Status()["reason"].get<std::string>().find("self check"), std::string::npos);
  ctx.http_get = [](const std::string&) -> Result<std::string> {
    return std::string("tok_1.thumbprint\n");
  };
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(acme->calls.size(), 1u);
}

// A controller killed after the CA accepted the challenge but before status.processing was
// written restarts with a Challenge that says "presented, not answered yet". The CA refuses a
// second answer (malformed: "Cannot update challenge with status ..."); that refusal must not
// fail the Challenge (which fails the Order, and the Certificate then places a second one): the
// CA's own record decides. A refusal of a challenge still pending at the CA stays a failure.
struct UnrecordedAnswer {
  std::string name;
  acme::AuthorizationStatus authz;  // at the CA when the restarted controller answers again
  acme::ChallengeStatus challenge;
  bool refused_while_pending;  // the CA refuses even though the challenge is pending
  std::string state;           // the Challenge's state once the CA's record is read
  std::string reason;          // part of status.reason then
};

void PrintTo(const UnrecordedAnswer& c, std::ostream* os) { *os << c.name; }

class ChallengeRestartTest : public ChallengeReconcilerTest,
                             public ::testing::WithParamInterface<UnrecordedAnswer> {};

TEST_P(ChallengeRestartTest, FollowsTheCasRecordOfTheChallenge) {
  const UnrecordedAnswer& c = GetParam();
  AddChallenge();
  ASSERT_TRUE(Sync().requeue_after.has_value());  // solver presented, its Pod not Ready yet
  MarkSolverPodsReady();
  // The first controller answered and died before writing it down: only the CA moved on.
  Authorization(c.authz, c.challenge);
  if (c.refused_while_pending) {
    acme->respond_error = CaProblem("urn:ietf:params:acme:error:unauthorized",
                                    "account may not answer this challenge", 403);
  }

  ChallengeReconciler restarted(ctx);
  SyncResult r = restarted.Sync("default/ch-1");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(acme->calls.at(0), std::string("RespondToChallenge ") + kChallengeUrl);
  if (!c.refused_while_pending) {
    EXPECT_EQ(Status()["processing"], true) << "the CA's acceptance is recorded";
    EXPECT_EQ(Status()["state"], "pending");
    r = restarted.Sync("default/ch-1");  // polls the authorization like any accepted challenge
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  }
  EXPECT_EQ(Status()["state"], c.state);
  const std::string reason = Status().value("reason", "");
  EXPECT_NE(reason.find(c.reason), std::string::npos) << reason;
  EXPECT_EQ(reason.find("Cannot update challenge"), std::string::npos) << reason;
  if (c.state == "pending") {
    ASSERT_TRUE(r.requeue_after.has_value());
    EXPECT_EQ(SolverObjects(), 3u) << "the solver must keep answering while the CA validates";
    EXPECT_EQ(restarted.Presented(), 1u);
  } else {
    EXPECT_EQ(SolverObjects(), 0u);
    EXPECT_EQ(restarted.Presented(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Restart, ChallengeRestartTest,
    ::testing::Values(
        UnrecordedAnswer{"StillValidating", acme::AuthorizationStatus::kPending,
                         acme::ChallengeStatus::kProcessing, false, "pending", "Waiting for http-01"},
        UnrecordedAnswer{"Validated", acme::AuthorizationStatus::kValid,
                         acme::ChallengeStatus::kValid, false, "valid", "Successfully authorized"},
        UnrecordedAnswer{"FailedAtTheCa", acme::AuthorizationStatus::kInvalid,
                         acme::ChallengeStatus::kInvalid, false, "invalid", "did not match"},
        UnrecordedAnswer{"PendingAndRefused", acme::AuthorizationStatus::kPending,
                         acme::ChallengeStatus::kPending, true, "invalid", "may not answer"}),
    [](const ::testing::TestParamInfo<UnrecordedAnswer>& info) { return info.param.name; });

// A controller killed between creating the solver Pod and its Service/Ingress restarts with the
// Pod already Ready. Creating the rest and telling the CA in the same sync sent the CA to a route
// the ingress controller did not know yet (testbed: 503 "service not found"; the CA failed the
// Order and the Certificate placed a second one). Whatever the restart had to create, the CA is
// asked only on a later sync, one readiness poll after the last object appeared.
struct LeftBehind {
  std::string name;
  std::vector<kube::ResourceRef> missing;  // solver objects the killed controller had not created
};

void PrintTo(const LeftBehind& c, std::ostream* os) { *os << c.name; }

class SolverRestartTest : public ChallengeReconcilerTest,
                          public ::testing::WithParamInterface<LeftBehind> {};

TEST_P(SolverRestartTest, TellsTheCaOnlyAfterTheRouteHadAPollToAppear) {
  AddChallenge();
  ASSERT_TRUE(Sync().requeue_after.has_value());
  MarkSolverPodsReady();
  const std::string solver = kube.All(kube::kPods).at(0)["metadata"]["name"];
  for (const kube::ResourceRef& res : GetParam().missing) {
    ASSERT_TRUE(kube.Delete(res, "default", solver).ok());
  }

  ChallengeReconciler restarted(ctx);
  SyncResult r = restarted.Sync("default/ch-1");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(SolverObjects(), 3u);
  if (GetParam().missing.empty()) {
    EXPECT_EQ(acme->calls.size(), 1u) << "nothing was created: the CA is told at once";
    return;
  }
  EXPECT_TRUE(acme->calls.empty()) << "the CA was told in the sync that created the route";
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, std::chrono::milliseconds(500));
  EXPECT_NE(Status()["reason"].get<std::string>().find("ingress controller"), std::string::npos);
  ASSERT_TRUE(restarted.Sync("default/ch-1").status.ok());
  EXPECT_EQ(acme->calls, (std::vector<std::string>{std::string("RespondToChallenge ") +
                                                   kChallengeUrl}));
  EXPECT_EQ(Status()["processing"], true);
}

INSTANTIATE_TEST_SUITE_P(
    Restart, SolverRestartTest,
    ::testing::Values(LeftBehind{"PodOnly", {kube::kServices, kube::kIngresses}},
                      LeftBehind{"PodAndService", {kube::kIngresses}},
                      LeftBehind{"ServiceMissing", {kube::kServices}},
                      LeftBehind{"Everything", {}}),
    [](const ::testing::TestParamInfo<LeftBehind>& info) { return info.param.name; });

}  // namespace
}  // namespace certsmith::reconcilers::testing
