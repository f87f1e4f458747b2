#include "kube/leader_election.h"

#include <gtest/gtest.h>

#include "kube/testing/fake_client.h"

namespace certsmith::kube {
namespace {

using std::chrono::seconds;
using testing::FakeClient;

class LeaderElectionTest : public ::testing::Test {
 protected:
  LeaderElectionConfig Config(const std::string& id) {
    LeaderElectionConfig c;
    c.lease_namespace = "certsmith";
    c.lease_name = "certsmith-controller";
    c.identity = id;
    c.lease_duration = seconds(15);
    c.renew_deadline = seconds(10);
    c.retry_period = seconds(2);
    c.clock = &clock_;
    c.sleeper = &sleeper_;
    return c;
  }
  Json Lease() { return *client_.Peek(kLeases, "certsmith", "certsmith-controller"); }
  FakeClock clock_;
  FakeSleeper sleeper_{&clock_};
  FakeClient client_{&clock_};
};

TEST_F(LeaderElectionTest, FirstCandidateCreatesLease) {
  LeaderElector a(client_, Config("a"));
  EXPECT_TRUE(a.TryAcquireOrRenew());
  Json spec = Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["acquireTime"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(spec["renewTime"], spec["acquireTime"]);
}

TEST_F(LeaderElectionTest, OtherCandidateWaitsUntilLeaseExpiresOnItsClock) {
  LeaderElector a(client_, Config("a"));
  LeaderElector b(client_, Config("b"));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  EXPECT_EQ(b.ObservedLeader(), "a");
  clock_.Advance(seconds(5));
  ASSERT_TRUE(a.TryAcquireOrRenew());  // renews: b sees a changed record
  clock_.Advance(seconds(10));
  EXPECT_FALSE(b.TryAcquireOrRenew());  // 15s since b first saw it, but a renewed 10s ago
  clock_.Advance(seconds(14));
  EXPECT_FALSE(b.TryAcquireOrRenew());  // b saw the renewal only at +15s
  clock_.Advance(seconds(1));
  EXPECT_TRUE(b.TryAcquireOrRenew());
  Json spec = Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  EXPECT_FALSE(a.TryAcquireOrRenew());  // a lost it
}

TEST_F(LeaderElectionTest, NewLeaderCallbackSeesEachHolderOnce) {
  LeaderElector a(client_, Config("a"));
  auto cfg = Config("b");
  std::vector<std::string> seen;
  LeaderElector* self = nullptr;
  cfg.on_new_leader = [&](const std::string& id) {
    seen.push_back(id + "/" + self->ObservedLeader());  // must not deadlock
  };
  LeaderElector b(client_, cfg);
  self = &b;
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock_.Advance(seconds(1));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/a"}));
}

TEST_F(LeaderElectionTest, ReleaseLetsAnotherTakeOverAtOnce) {
  LeaderElector a(client_, Config("a"));
  LeaderElector b(client_, Config("b"));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  ASSERT_TRUE(a.Release().ok());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "");
  EXPECT_TRUE(b.TryAcquireOrRenew());
  EXPECT_EQ(b.Release().code(), ErrorCode::kOk);
  EXPECT_EQ(a.Release().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(LeaderElectionTest, ConflictingUpdateMeansNotLeader) {
  LeaderElector a(client_, Config("a"));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  client_.FailNext("update", "leases", MakeError(ErrorCode::kConflict, "modified"));
  EXPECT_FALSE(a.TryAcquireOrRenew());
}

TEST_F(LeaderElectionTest, RunCallsBackAndStopsWhenRenewalFailsPastDeadline) {
  auto cfg = Config("a");
  int started = 0, stopped = 0;
  cfg.on_started_leading = [&] { ++started; };
  cfg.on_stopped_leading = [&] { ++stopped; };
  LeaderElector a(client_, cfg);
  int renewals = 0;
  client_.PrependReactor("update", "leases",
                         [&](const testing::Action&) -> std::optional<testing::ReactorResult> {
                           // Renewals succeed three times, then the API server is unreachable.
                           if (++renewals <= 3) return std::nullopt;
                           return testing::ReactorResult{
                               MakeError(ErrorCode::kUnavailable, "down"), std::nullopt};
                         });
  auto start = clock_.Now();
  a.Run();
  EXPECT_EQ(started, 1);
  EXPECT_EQ(stopped, 1);
  EXPECT_FALSE(a.IsLeader());
  // Acquired at 0, renewed at 2, 4, 6; failures from 8 on; gives up at 6 + 10 = 16.
  EXPECT_EQ(clock_.Now() - start, seconds(16));
}

TEST_F(LeaderElectionTest, RunWaitsForLeaseThenLeadsAndReleasesOnStop) {
  LeaderElector holder(client_, Config("holder"));
  ASSERT_TRUE(holder.TryAcquireOrRenew());
  auto cfg = Config("b");
  LeaderElector* self = nullptr;
  Clock::TimePoint started_at;
  cfg.on_started_leading = [&] {
    started_at = clock_.Now();
    self->Stop();
  };
  LeaderElector b(client_, cfg);
  self = &b;
  auto start = clock_.Now();
  b.Run();
  EXPECT_EQ(started_at - start, seconds(16));  // first retry at or after 15s expiry
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "");  // released on stop
}

}  // namespace
}  // namespace certsmith::kube
