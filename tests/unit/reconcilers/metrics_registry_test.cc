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
