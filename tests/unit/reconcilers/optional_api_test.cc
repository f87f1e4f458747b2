// OptionalApi: the controller starts without the Gateway API, says so once, and starts watching
// when the CRDs appear, without a restart.
#include "manager/optional_api.h"

#include <gtest/gtest.h>

#include "kube/testing/fake_client.h"

namespace certsmith::reconcilers {
namespace {

TEST(OptionalApiTest, ReportsAMissingApiOnceAndFindsItWhenItAppears) {
  FakeClock clock;
  kube::testing::FakeClient kube(&clock);
  kube::FakeSleeper sleeper(&clock);
  // The API server answers 404 for a resource no CRD defines: three times, then the CRDs are in.
  kube.FailNext("list", "httproutes",
                MakeError(ErrorCode::kNotFound, "the server could not find the requested resource"),
                3);
  int available = 0;
  OptionalApi api(kube, sleeper,
                  {.probe = kube::kHTTPRoutes,
                   .ns = "",
                   .what = "Gateway API",
                   .missing_hint = "install it",
                   .backoff_base = std::chrono::seconds(2),
                   .backoff_cap = std::chrono::seconds(5),
                   .on_available = [&available] { ++available; }});
  ASSERT_TRUE(api.Run());
  EXPECT_EQ(available, 1);
  EXPECT_EQ(api.probes(), 4);
  EXPECT_EQ(api.missing_logged(), 1) << "said once, not at every probe";
  // Backoff, capped; no hot loop.
  EXPECT_EQ(sleeper.Sleeps(),
            (std::vector<kube::Duration>{std::chrono::seconds(2), std::chrono::seconds(4),
                                         std::chrono::seconds(5)}));
}

// Stop() interrupts the sleeper: the wait ends without the API.
TEST(OptionalApiTest, StopsWhenTheSleeperIsInterrupted) {
  FakeClock clock;
  kube::testing::FakeClient kube(&clock);
  kube::RealSleeper sleeper;
  sleeper.Interrupt();
  kube.FailNext("list", "httproutes", MakeError(ErrorCode::kNotFound, "no such resource"), 100);
  int available = 0;
  OptionalApi api(kube, sleeper,
                  {.probe = kube::kHTTPRoutes,
                   .ns = "",
                   .what = "Gateway API",
                   .missing_hint = "",
                   .on_available = [&available] { ++available; }});
  EXPECT_FALSE(api.Run());
  EXPECT_EQ(available, 0);
  EXPECT_EQ(api.probes(), 1);
}

}  // namespace
}  // namespace certsmith::reconcilers
