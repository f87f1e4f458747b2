// What the reconcilers' status writes leave in the metrics: run real syncs against the FakeClient
// and the fake ACME client, then read the registry.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "certificates/certificate_reconciler.h"
#include "issuers/issuer_reconciler.h"
#include "kube/time_format.h"
#include "orders/order_reconciler.h"
#include "reconcilers/util.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

using metrics::Labels;

const Labels kWeb = {{"namespace", "default"},
                     {"name", "web"},
                     {"issuer_kind", "ClusterIssuer"},
                     {"issuer_name", "ca"}};

Labels With(Labels l, const std::string& k, const std::string& v) {
  l.emplace_back(k, v);
  return l;
}

double EpochSeconds(Clock::TimePoint t) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

class ReconcilerMetricsTest : public ReconcilerTest {
 protected:
  ReconcilerMetricsTest() { ctx.metrics = &metrics; }

  std::optional<double> Value(const std::string& name, const Labels& labels) {
    return registry.Value(name, labels);
  }
  void AddValidSecret(std::chrono::hours lifetime) {
    auto key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
    kube.Add(kube::kSecrets, Secret("default", "web-tls",
                                    {{"tls.crt", IssueChain(key, {"a.example"}, lifetime)},
                                     {"tls.key", key.ToPem(acme::PemEncoding::kPkcs1).value()}},
                    {{api::kIssuerNameAnnotation, "ca"},
                     {api::kIssuerKindAnnotation, "ClusterIssuer"}}));
  }
  void AddOrder(Json status) {
    kube.Add(api::kOrders, {{"apiVersion", "acme.certsmith.io/v1"},
                            {"kind", "Order"},
                            {"metadata", {{"name", "web-1"}, {"namespace", "default"}}},
                            {"spec",
                             {{"request", Base64Encode("csr-der")},
                              {"dnsNames", {"a.example"}},
                              {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}},
                            {"status", status}});
  }

  metrics::Registry registry;
  metrics::ControllerMetrics metrics{registry};
};

TEST_F(ReconcilerMetricsTest, UpToDateCertificateExportsExpiryRenewalAndReady) {
  AddReadyIssuer();
  AddValidSecret(std::chrono::hours(24 * 90));
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(CertificateReconciler(ctx).Sync("default/web").status.ok());

  const Json status = (*kube.Peek(api::kCertificates, "default", "web"))["status"];
  const auto not_after = clock.Now() - std::chrono::hours(1) + std::chrono::hours(24 * 90);
  EXPECT_EQ(Value("certsmith_certificate_expiration_timestamp_seconds", kWeb),
            EpochSeconds(not_after));
  EXPECT_EQ(Value("certsmith_certificate_renewal_timestamp_seconds", kWeb),
            EpochSeconds(*kube::ParseTime(status["renewalTime"].get<std::string>())));
  EXPECT_EQ(Value("certsmith_certificate_ready_status", With(kWeb, "condition", "True")), 1);
  EXPECT_EQ(Value("certsmith_certificate_ready_status", With(kWeb, "condition", "False")), 0);
  EXPECT_EQ(Value("certsmith_certificate_ready_status", With(kWeb, "condition", "Unknown")), 0);
}

TEST_F(ReconcilerMetricsTest, ARestartedControllerExportsAnUnchangedCertificateAgain) {
  AddReadyIssuer();
  AddValidSecret(std::chrono::hours(24 * 90));
  kube.Add(api::kCertificates, Certificate());
  ASSERT_TRUE(CertificateReconciler(ctx).Sync("default/web").status.ok());
  // A new process: empty registry, status already up to date (no status write happens).
  metrics::Registry fresh;
  metrics::ControllerMetrics fresh_metrics(fresh);
  ctx.metrics = &fresh_metrics;
  ASSERT_TRUE(CertificateReconciler(ctx).Sync("default/web").status.ok());
  EXPECT_TRUE(fresh.Value("certsmith_certificate_expiration_timestamp_seconds", kWeb));
  EXPECT_EQ(fresh.Value("certsmith_certificate_ready_status", With(kWeb, "condition", "True")), 1);
}

TEST_F(ReconcilerMetricsTest, CertificateWithoutIssuerIsNotReadyAndHasNoExpiry) {
  kube.Add(api::kCertificates, Certificate());  // no ClusterIssuer "ca"
  ASSERT_TRUE(CertificateReconciler(ctx).Sync("default/web").status.ok());
  EXPECT_FALSE(Value("certsmith_certificate_expiration_timestamp_seconds", kWeb));
  EXPECT_EQ(Value("certsmith_certificate_ready_status", With(kWeb, "condition", "True")), 0);
}

TEST_F(ReconcilerMetricsTest, IssuerReadinessFollowsItsCondition) {
  kube.Add(api::kClusterIssuers, ClusterIssuer(/*eab=*/true));  // the EAB Secret is missing
  (void)IssuerReconciler(ctx, api::kClusterIssuers).Sync("ca");
  const Labels ca = {{"kind", "ClusterIssuer"}, {"namespace", ""}, {"name", "ca"}};
  EXPECT_EQ(Value("certsmith_issuer_ready_status", With(ca, "condition", "True")), 0);
  kube.Add(kube::kSecrets, Secret("certsmith", "ca-eab", {{"secret", "aG1hYy1rZXktYnl0ZXM"}}));
  ctx.options.cluster_resource_namespace = "certsmith";
  ASSERT_TRUE(IssuerReconciler(ctx, api::kClusterIssuers).Sync("ca").status.ok());
  EXPECT_EQ(Value("certsmith_issuer_ready_status", With(ca, "condition", "True")), 1);
  EXPECT_EQ(Value("certsmith_issuer_ready_status", With(ca, "condition", "False")), 0);

  metrics.RemoveIssuer("ClusterIssuer", "", "ca");
  EXPECT_EQ(registry.SeriesCount("certsmith_issuer_ready_status"), 0u);
}

TEST_F(ReconcilerMetricsTest, AnOrderCountsOnceWhenItBecomesValid) {
  AddReadyIssuer();
  AddOrder({{"url", FakeAcmeClient::kOrderUrl}, {"state", "processing"}});
  acme->order.status = acme::OrderStatus::kValid;
  acme->order.certificate = "https://ca.test/cert/1";
  acme->chain_pem = "-----BEGIN CERTIFICATE-----\n...\n";
  OrderReconciler orders(ctx);
  ASSERT_TRUE(orders.Sync("default/web-1").status.ok());
  ASSERT_TRUE(orders.Sync("default/web-1").status.ok());  // final: nothing new
  EXPECT_EQ(Value("certsmith_acme_orders_finished_total", {{"state", "valid"}}), 1);
  EXPECT_FALSE(Value("certsmith_acme_orders_finished_total", {{"state", "invalid"}}));
}

TEST_F(ReconcilerMetricsTest, ARejectedOrderCountsAsInvalid) {
  AddReadyIssuer();
  AddOrder(Json::object());
  acme->new_order_error = CaProblem("urn:ietf:params:acme:error:rejectedIdentifier", "", 400);
  ASSERT_TRUE(OrderReconciler(ctx).Sync("default/web-1").status.ok());
  EXPECT_EQ(Value("certsmith_acme_orders_finished_total", {{"state", "invalid"}}), 1);
}

TEST_F(ReconcilerMetricsTest, DeletingACertificateRemovesOnlyItsSeries) {
  for (const char* name : {"web", "api"}) {
    metrics.SetCertificate({.ns = "default",
                            .name = name,
                            .issuer_kind = "ClusterIssuer",
                            .issuer_name = "ca",
                            .not_after = 1.9e9,
                            .renewal_time = 1.8e9,
                            .ready = "True"});
  }
  metrics.SetIssuerReady("Issuer", "default", "web", "True");  // same name, other kind
  metrics.RemoveCertificate("default", "web");
  EXPECT_EQ(registry.SeriesCount("certsmith_certificate_expiration_timestamp_seconds"), 1u);
  EXPECT_EQ(registry.SeriesCount("certsmith_certificate_renewal_timestamp_seconds"), 1u);
  EXPECT_EQ(registry.SeriesCount("certsmith_certificate_ready_status"), 3u);
  EXPECT_EQ(registry.SeriesCount("certsmith_issuer_ready_status"), 3u);
  EXPECT_EQ(registry.Render().find("name=\"web\",issuer_kind"), std::string::npos);
}

TEST_F(ReconcilerMetricsTest, AStatusWriteRefusedForADeletedObjectRecordsNothing) {
  kube.Add(api::kCertificates, Certificate());
  const Json read = *kube.Peek(api::kCertificates, "default", "web");
  ASSERT_TRUE(kube.Delete(api::kCertificates, "default", "web").ok());  // while the sync ran
  const Json status = {{"notAfter", "2030-01-01T00:00:00Z"},
                       {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}};
  EXPECT_FALSE(WriteStatus(ctx, api::kCertificates, read, status).ok());
  EXPECT_EQ(registry.SeriesCount("certsmith_certificate_expiration_timestamp_seconds"), 0u);
  EXPECT_EQ(registry.SeriesCount("certsmith_certificate_ready_status"), 0u);
}

TEST_F(ReconcilerMetricsTest, ChangingTheIssuerDoesNotLeaveTheOldSeries) {
  metrics.SetCertificate({.ns = "default",
                          .name = "web",
                          .issuer_kind = "Issuer",
                          .issuer_name = "old",
                          .not_after = 1.9e9});
  metrics.SetCertificate({.ns = "default",
                          .name = "web",
                          .issuer_kind = "ClusterIssuer",
                          .issuer_name = "ca",
                          .not_after = 1.9e9});
  EXPECT_EQ(registry.SeriesCount("certsmith_certificate_expiration_timestamp_seconds"), 1u);
  EXPECT_TRUE(Value("certsmith_certificate_expiration_timestamp_seconds", kWeb));
  EXPECT_EQ(registry.SeriesCount("certsmith_certificate_ready_status"), 3u);
  // A status without notAfter (the Secret is being re-issued from scratch): no expiry series.
  metrics.SetCertificate({.ns = "default", .name = "web", .issuer_kind = "ClusterIssuer",
                          .issuer_name = "ca", .ready = "False"});
  EXPECT_EQ(registry.SeriesCount("certsmith_certificate_expiration_timestamp_seconds"), 0u);
  EXPECT_EQ(Value("certsmith_certificate_ready_status", With(kWeb, "condition", "False")), 1);
}

// Every line is a comment or `name{labels} value`, every family has HELP and TYPE, and the
// names follow the Prometheus conventions (certsmith_ prefix, counters end in _total).
TEST_F(ReconcilerMetricsTest, ExpositionIsValidPrometheusText) {
  metrics.SetCertificate({.ns = "default",
                          .name = "web",
                          .issuer_kind = "ClusterIssuer",
                          .issuer_name = "ca",
                          .not_after = 1.9e9,
                          .renewal_time = 1.8e9,
                          .ready = "True"});
  metrics.SetIssuerReady("ClusterIssuer", "", "ca", "True");
  metrics.ObserveAcmeRequest("ca.test", "newOrder", "POST", "201", 0.2);
  metrics.CountAcmeProblem("ca.test", "badNonce");
  metrics.ObserveSync("certificates", true, 0.01);
  metrics.SetWorkqueueDepth("certificates", 0);
  metrics.CountOrderFinished("valid");
  metrics.CountChallengeFinished("valid");
  metrics.SetChallengesInFlight(0);
  metrics.SetLeader(true);
  const std::regex sample(
      R"(^([a-z_]+)(\{([a-z_]+="([^"\\]|\\.)*")(,[a-z_]+="([^"\\]|\\.)*")*\})? (-?[0-9.e+]+|\+Inf|NaN)$)");
  const std::regex help(R"(^# HELP (certsmith_[a-z_]+) .+$)");
  const std::regex type(R"(^# TYPE (certsmith_[a-z_]+) (counter|gauge|histogram)$)");
  std::set<std::string> helped, typed;
  std::istringstream text(registry.Render());
  std::string line;
  int samples = 0;
  std::smatch m;
  while (std::getline(text, line)) {
    if (std::regex_match(line, m, help)) {
      helped.insert(m[1]);
    } else if (std::regex_match(line, m, type)) {
      typed.insert(m[1]);
      if (m[2] == "counter") {
        EXPECT_TRUE(m[1].str().ends_with("_total")) << line;
      }
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
      ++samples;
    }
  }
  EXPECT_EQ(helped, typed);
  EXPECT_EQ(typed.size(), 17u);  // every family ControllerMetrics describes
  EXPECT_GT(samples, 20);
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
