// The metrics certsmith records, named and described in one place (the list is in README.md).
// Labels are bounded on purpose: resource names, controllers, CA hosts, ACME endpoint kinds,
// HTTP methods and status codes, ACME problem types; never a token, an order ID or a URL path.
#pragma once

#include <optional>
#include <string>

#include "metrics/registry.h"

namespace certsmith::metrics {

class ControllerMetrics {
 public:
  // Describes every family on the registry.
  explicit ControllerMetrics(Registry& registry);
  // Over Registry::Default(): what the controller serves.
  static ControllerMetrics& Default();
  Registry& registry() { return registry_; }

  struct CertificateSample {
    std::string ns{}, name{}, issuer_kind{}, issuer_name{};
    std::optional<double> not_after{};     // seconds since the epoch; absent before issuance
    std::optional<double> renewal_time{};  // seconds since the epoch
    std::string ready = "Unknown";         // the Ready condition's status: True, False, Unknown
  };
  // Sets the Certificate's series and drops those it no longer has (another issuer, no
  // notAfter yet).
  void SetCertificate(const CertificateSample& c);
  void RemoveCertificate(const std::string& ns, const std::string& name);

  // kind: Issuer or ClusterIssuer (ns empty); ready: True, False or Unknown.
  void SetIssuerReady(const std::string& kind, const std::string& ns, const std::string& name,
                      const std::string& ready);
  void RemoveIssuer(const std::string& kind, const std::string& ns, const std::string& name);

  // status: the HTTP status code, or "error" when no response came (connection, TLS, timeout).
  void ObserveAcmeRequest(const std::string& host, const std::string& endpoint,
                          const std::string& method, const std::string& status, double seconds);
  void CountAcmeProblem(const std::string& host, const std::string& type);

  void ObserveSync(const std::string& controller, bool ok, double seconds);
  void SetWorkqueueDepth(const std::string& controller, double depth);
  // state: valid, invalid or errored.
  void CountOrderFinished(const std::string& state);
  void CountChallengeFinished(const std::string& state);
  void SetChallengesInFlight(double n);
  void SetLeader(bool leader);
  // The Kubernetes client's limiter (client: "reconcilers" or "events"), read at each scrape;
  // waited_seconds and throttled are the client's running totals.
  void SetKubeClient(const std::string& client, double qps, double waited_seconds,
                     double throttled);

 private:
  // 1 on the series whose condition label is `status`, 0 on the other two.
  void SetConditionSeries(const char* family, const Labels& labels, const std::string& status);
  Registry& registry_;
};

}  // namespace certsmith::metrics
