#include "metrics/controller_metrics.h"

namespace certsmith::metrics {
namespace {

constexpr char kCertExpiry[] = "certsmith_certificate_expiration_timestamp_seconds";
constexpr char kCertRenewal[] = "certsmith_certificate_renewal_timestamp_seconds";
constexpr char kCertReady[] = "certsmith_certificate_ready_status";
constexpr char kIssuerReady[] = "certsmith_issuer_ready_status";
constexpr char kAcmeRequests[] = "certsmith_acme_client_requests_total";
constexpr char kAcmeDuration[] = "certsmith_acme_client_request_duration_seconds";
constexpr char kAcmeProblems[] = "certsmith_acme_client_problems_total";
constexpr char kSyncs[] = "certsmith_controller_syncs_total";
constexpr char kSyncDuration[] = "certsmith_controller_sync_duration_seconds";
constexpr char kQueueDepth[] = "certsmith_workqueue_depth";
constexpr char kOrders[] = "certsmith_acme_orders_finished_total";
constexpr char kChallenges[] = "certsmith_acme_challenges_finished_total";
constexpr char kInFlight[] = "certsmith_acme_challenges_in_flight";
constexpr char kLeader[] = "certsmith_leader";
constexpr char kKubeQps[] = "certsmith_kube_client_rate_limit_qps";
constexpr char kKubeWaited[] = "certsmith_kube_client_rate_limited_seconds_total";
constexpr char kKubeThrottled[] = "certsmith_kube_client_throttled_total";

// A condition status as one of three bounded values.
std::string ConditionValue(const std::string& s) {
  return s == "True" || s == "False" ? s : "Unknown";
}

std::string LabelValue(const Labels& labels, std::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return "";
}

}  // namespace

ControllerMetrics::ControllerMetrics(Registry& registry) : registry_(registry) {
  Registry& r = registry_;
  r.Describe(kCertExpiry, "gauge",
             "The notAfter of the Certificate's current certificate, in seconds since the epoch.");
  r.Describe(kCertRenewal, "gauge",
             "When certsmith will renew the Certificate, in seconds since the epoch.");
  r.Describe(kCertReady, "gauge",
             "The Certificate's Ready condition: 1 on the series of its current status.");
  r.Describe(kIssuerReady, "gauge",
             "The Issuer's or ClusterIssuer's Ready condition: 1 on the series of its current "
             "status.");
  r.Describe(kAcmeRequests, "counter",
             "HTTP requests sent to ACME servers, by CA host, endpoint kind, method and status "
             "code (\"error\": no response).");
  r.DescribeHistogram(kAcmeDuration, "Time taken by HTTP requests to ACME servers.",
                      {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  r.Describe(kAcmeProblems, "counter",
             "ACME problem documents received, by CA host and problem type (RFC 8555 section "
             "6.7; \"other\" for types outside the ACME namespace).");
  r.Describe(kSyncs, "counter", "Syncs run by each controller, by result (success, error).");
  r.DescribeHistogram(kSyncDuration, "Time taken by one sync of each controller.",
                      {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30});
  r.Describe(kQueueDepth, "gauge", "Keys waiting for a worker in each controller's workqueue.");
  r.Describe(kOrders, "counter", "Orders that reached a final state (valid, invalid, errored).");
  r.Describe(kChallenges, "counter",
             "Challenges that reached a final state (valid, invalid, errored).");
  r.Describe(kInFlight, "gauge",
             "http-01 challenges presented now (bounded by --max-concurrent-challenges).");
  r.Describe(kLeader, "gauge",
             "1 when this replica holds the leader lease and runs the reconcilers, 0 on a "
             "standby.");
  r.Describe(kKubeQps, "gauge",
             "The Kubernetes client's own rate limit now, in requests per second (it adapts "
             "between --kube-api-qps and --kube-api-qps-max).");
  r.Describe(kKubeWaited, "counter",
             "Time requests to the Kubernetes API waited for the client's own rate limit.");
  r.Describe(kKubeThrottled, "counter",
             "429 Too Many Requests answers from the Kubernetes API server (API Priority and "
             "Fairness): each pauses the client for its Retry-After and halves its rate.");
}

ControllerMetrics& ControllerMetrics::Default() {
  static ControllerMetrics metrics(Registry::Default());
  return metrics;
}

void ControllerMetrics::SetConditionSeries(const char* family, const Labels& labels,
                                           const std::string& status) {
  const std::string value = ConditionValue(status);
  for (const char* condition : {"True", "False", "Unknown"}) {
    Labels l = labels;
    l.emplace_back("condition", condition);
    registry_.Set(family, l, value == condition ? 1 : 0);
  }
}

// The new series are set before the old ones (another issuer, a cleared notAfter) go, so a
// scrape never finds the Certificate missing.
void ControllerMetrics::SetCertificate(const CertificateSample& c) {
  const Labels labels = {{"namespace", c.ns},
                         {"name", c.name},
                         {"issuer_kind", c.issuer_kind},
                         {"issuer_name", c.issuer_name}};
  // Only this Certificate's series are looked at (its labels begin with namespace and name):
  // a scan of the family per sync made a restart over n Certificates cost O(n^2).
  const Labels self = {{"namespace", c.ns}, {"name", c.name}};
  auto stale = [&c](const Labels& l) {
    return LabelValue(l, "issuer_kind") != c.issuer_kind ||
           LabelValue(l, "issuer_name") != c.issuer_name;
  };
  auto all = [](const Labels&) { return true; };
  for (const auto& [family, value] :
       {std::pair{kCertExpiry, c.not_after}, std::pair{kCertRenewal, c.renewal_time}}) {
    if (value) {
      registry_.Set(family, labels, *value);
      registry_.RemoveIf(family, self, stale);
    } else {
      registry_.RemoveIf(family, self, all);
    }
  }
  SetConditionSeries(kCertReady, labels, c.ready);
  registry_.RemoveIf(kCertReady, self, stale);
}

void ControllerMetrics::RemoveCertificate(const std::string& ns, const std::string& name) {
  for (const char* family : {kCertExpiry, kCertRenewal, kCertReady}) {
    registry_.RemoveIf(family, {{"namespace", ns}, {"name", name}},
                       [](const Labels&) { return true; });
  }
}

void ControllerMetrics::SetIssuerReady(const std::string& kind, const std::string& ns,
                                       const std::string& name, const std::string& ready) {
  SetConditionSeries(kIssuerReady, {{"kind", kind}, {"namespace", ns}, {"name", name}}, ready);
}

void ControllerMetrics::RemoveIssuer(const std::string& kind, const std::string& ns,
                                     const std::string& name) {
  registry_.RemoveMatching(kIssuerReady, {{"kind", kind}, {"namespace", ns}, {"name", name}});
}

void ControllerMetrics::ObserveAcmeRequest(const std::string& host, const std::string& endpoint,
                                           const std::string& method, const std::string& status,
                                           double seconds) {
  registry_.Add(kAcmeRequests,
                {{"host", host}, {"endpoint", endpoint}, {"method", method}, {"status", status}},
                1);
  registry_.Observe(kAcmeDuration, {{"host", host}, {"endpoint", endpoint}, {"method", method}},
                    seconds);
}

void ControllerMetrics::CountAcmeProblem(const std::string& host, const std::string& type) {
  registry_.Add(kAcmeProblems, {{"host", host}, {"type", type}}, 1);
}

void ControllerMetrics::ObserveSync(const std::string& controller, bool ok, double seconds) {
  registry_.Add(kSyncs, {{"controller", controller}, {"result", ok ? "success" : "error"}}, 1);
  registry_.Observe(kSyncDuration, {{"controller", controller}}, seconds);
}

void ControllerMetrics::SetWorkqueueDepth(const std::string& controller, double depth) {
  registry_.Set(kQueueDepth, {{"controller", controller}}, depth);
}

void ControllerMetrics::SetKubeClient(const std::string& client, double qps,
                                      double waited_seconds, double throttled) {
  const Labels labels{{"client", client}};
  registry_.Set(kKubeQps, labels, qps);
  registry_.Set(kKubeWaited, labels, waited_seconds);
  registry_.Set(kKubeThrottled, labels, throttled);
}

void ControllerMetrics::CountOrderFinished(const std::string& state) {
  registry_.Add(kOrders, {{"state", state}}, 1);
}

void ControllerMetrics::CountChallengeFinished(const std::string& state) {
  registry_.Add(kChallenges, {{"state", state}}, 1);
}

void ControllerMetrics::SetChallengesInFlight(double n) { registry_.Set(kInFlight, {}, n); }

void ControllerMetrics::SetLeader(bool leader) { registry_.Set(kLeader, {}, leader ? 1 : 0); }

}  // namespace certsmith::metrics
