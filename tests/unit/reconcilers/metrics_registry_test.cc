#include "metrics/registry.h"

#include <gtest/gtest.h>

#include "metrics/metrics_server.h"

namespace certsmith::metrics {
namespace {

TEST(MetricsRegistryTest, RendersTheTextExpositionFormat) {
  Registry r;
  r.Describe("certsmith_sync_total", "counter", "Syncs per controller.");
  r.Add("certsmith_sync_total", {{"controller", "orders"}}, 1);
  r.Add("certsmith_sync_total", {{"controller", "orders"}}, 2);
  r.Set("certsmith_up", {{"note", "a\"b\\c\nd"}}, 1);
  EXPECT_EQ(r.Render(),
            "# HELP certsmith_sync_total Syncs per controller.\n"
            "# TYPE certsmith_sync_total counter\n"
            "certsmith_sync_total{controller=\"orders\"} 3\n"
            "# TYPE certsmith_up untyped\n"
            "certsmith_up{note=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsRegistryTest, RendersHistogramsCumulatively) {
  Registry r;
  r.DescribeHistogram("certsmith_d_seconds", "Durations.", {1, 0.1});  // sorted on describe
  r.Observe("certsmith_d_seconds", {{"c", "x"}}, 0.05);
  r.Observe("certsmith_d_seconds", {{"c", "x"}}, 0.5);
  r.Observe("certsmith_d_seconds", {{"c", "x"}}, 7);
  EXPECT_EQ(r.Render(),
            "# HELP certsmith_d_seconds Durations.\n"
            "# TYPE certsmith_d_seconds histogram\n"
            "certsmith_d_seconds_bucket{c=\"x\",le=\"0.1\"} 1\n"
            "certsmith_d_seconds_bucket{c=\"x\",le=\"1\"} 2\n"
            "certsmith_d_seconds_bucket{c=\"x\",le=\"+Inf\"} 3\n"
            "certsmith_d_seconds_sum{c=\"x\"} 7.55\n"
            "certsmith_d_seconds_count{c=\"x\"} 3\n");
  EXPECT_EQ(r.Value("certsmith_d_seconds", {{"c", "x"}}), 3);
}

TEST(MetricsRegistryTest, RemoveMatchingDropsOnlyTheMatchingSeriesOfOneFamily) {
  Registry r;
  r.Set("certsmith_a", {{"namespace", "n"}, {"name", "web"}, {"condition", "True"}}, 1);
  r.Set("certsmith_a", {{"namespace", "n"}, {"name", "web"}, {"condition", "False"}}, 0);
  r.Set("certsmith_a", {{"namespace", "n"}, {"name", "api"}, {"condition", "True"}}, 1);
  r.Set("certsmith_b", {{"namespace", "n"}, {"name", "web"}}, 1);
  r.RemoveMatching("certsmith_a", {{"namespace", "n"}, {"name", "web"}});
  EXPECT_EQ(r.SeriesCount("certsmith_a"), 1u);
  EXPECT_EQ(r.SeriesCount("certsmith_b"), 1u);
  EXPECT_EQ(r.Render().find("name=\"web\",condition"), std::string::npos);
}

TEST(MetricsRegistryTest, CollectorsRunAtEachRenderUntilRemoved) {
  Registry r;
  int depth = 3;
  int id = r.AddCollector([&depth](Registry& reg) { reg.Set("certsmith_depth", {}, depth); });
  EXPECT_NE(r.Render().find("certsmith_depth 3\n"), std::string::npos);
  depth = 5;
  EXPECT_NE(r.Render().find("certsmith_depth 5\n"), std::string::npos);
  r.RemoveCollector(id);
  depth = 9;
  EXPECT_NE(r.Render().find("certsmith_depth 5\n"), std::string::npos);
}

TEST(MetricsServerTest, ReadyzFollowsTheReadinessFunction) {
  bool ready = false;
  MetricsServer server("127.0.0.1:0", [&ready] { return ready; });
  EXPECT_EQ(server.Handle("/healthz").status, 200);
  EXPECT_EQ(server.Handle("/readyz").status, 503);
  ready = true;
  EXPECT_EQ(server.Handle("/readyz").status, 200);
  EXPECT_EQ(server.Handle("/nope").status, 404);
}

}  // namespace
}  // namespace certsmith::metrics
