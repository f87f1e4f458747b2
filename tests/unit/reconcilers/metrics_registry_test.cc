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

// A Certificate's sync looks at its own series only: with a scan of the family, a restart over
// n Certificates cost O(n^2) (bench/controller/scale).
TEST(MetricsRegistryTest, RemoveIfWithLeadingLabelsLooksAtThoseSeriesOnly) {
  Registry r;
  r.Set("certsmith_a", {{"namespace", "n"}, {"name", "web"}, {"condition", "True"}}, 1);
  r.Set("certsmith_a", {{"namespace", "n"}, {"name", "web"}, {"condition", "False"}}, 0);
  r.Set("certsmith_a", {{"namespace", "n"}, {"name", "web"}}, 0);
  r.Set("certsmith_a", {{"namespace", "n"}, {"name", "web2"}, {"condition", "False"}}, 0);
  r.Set("certsmith_a", {{"namespace", "n"}, {"name", "we"}, {"condition", "False"}}, 0);
  r.Set("certsmith_a", {{"namespace", "n2"}, {"name", "web"}, {"condition", "False"}}, 0);
  for (int i = 0; i < 1000; ++i) {
    r.Set("certsmith_a", {{"namespace", "n"}, {"name", "x" + std::to_string(i)}}, 0);
  }
  int looked = 0;
  r.RemoveIf("certsmith_a", {{"namespace", "n"}, {"name", "web"}}, [&looked](const Labels& l) {
    ++looked;
    return l.size() == 3 && l[2].second == "False";
  });
  EXPECT_EQ(looked, 3);
  EXPECT_EQ(r.SeriesCount("certsmith_a"), 1005u);
  EXPECT_EQ(r.Value("certsmith_a", {{"namespace", "n"}, {"name", "web"}, {"condition", "False"}}),
            std::nullopt);
  EXPECT_TRUE(
      r.Value("certsmith_a", {{"namespace", "n"}, {"name", "web2"}, {"condition", "False"}}));
  EXPECT_TRUE(
      r.Value("certsmith_a", {{"namespace", "n2"}, {"name", "web"}, {"condition", "False"}}));
  r.RemoveIf("certsmith_a", {{"namespace", "n"}, {"name", "web"}},
             [](const Labels&) { return true; });
  EXPECT_EQ(r.SeriesCount("certsmith_a"), 1003u);
}

// Series are kept under their rendered labels only; RemoveIf hands the predicate the labels as
// they were set, quotes, backslashes, newlines, commas and braces in values included.
TEST(MetricsRegistryTest, RemoveIfSeesTheLabelsAsTheyWereSet) {
  Registry r;
  const Labels odd = {{"namespace", "n"}, {"name", "a\"b\\c\nd,e}f"}, {"empty", ""}};
  r.Set("certsmith_a", odd, 1);
  r.Set("certsmith_a", {}, 2);
  std::vector<Labels> seen;
  r.RemoveIf("certsmith_a", [&seen](const Labels& l) {
    seen.push_back(l);
    return false;
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], Labels{});
  EXPECT_EQ(seen[1], odd);
  r.RemoveIf("certsmith_a", {{"namespace", "n"}}, [&odd](const Labels& l) { return l == odd; });
  EXPECT_EQ(r.SeriesCount("certsmith_a"), 1u);
  EXPECT_EQ(r.Value("certsmith_a", {}), 2);
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
