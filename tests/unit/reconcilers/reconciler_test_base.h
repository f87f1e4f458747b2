// Shared fixture of the reconciler tests: FakeClient + FakeAcmeClient + FakeClock, and builders
// for the objects the tables start from.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acme/key.h"
#include "acme/problem.h"
#include "api/resources.h"
#include "certsmith/base64.h"
#include "certsmith/clock.h"
#include "kube/event_recorder.h"
#include "kube/testing/fake_client.h"
#include "reconcilers/context.h"
#include "unit/acme/crypto_test_util.h"
#include "unit/reconcilers/fake_acme_client.h"

namespace certsmith::reconcilers::testing {

using Json = nlohmann::json;

// The event recorder names Events by time; a clock that moves on every read keeps two Events of
// one frozen-clock test from colliding (kube::EventRecorder would answer AlreadyExists).
class TickingClock final : public Clock {
 public:
  TimePoint Now() const override { return TimePoint(std::chrono::seconds(2'000'000'000 + ++ticks_)); }

 private:
  mutable std::atomic<int64_t> ticks_{0};
};

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() {
    ctx.client = &kube;
    ctx.events = &events;
    ctx.clock = &clock;
    ctx.accounts = &accounts;
    ctx.acme_factory = [this](const api::Issuer&, std::shared_ptr<const acme::Signer>)
        -> Result<std::shared_ptr<acme::AcmeClient>> {
      ++clients_made;
      return std::shared_ptr<acme::AcmeClient>(acme);
    };
  }

  // What the ACME client returns when the CA answers with a problem document.
  static Status CaProblem(const std::string& type, const std::string& detail, int http_status,
                          std::optional<std::chrono::seconds> retry_after = std::nullopt) {
    acme::Problem p;
    p.type = type;
    p.detail = detail;
    p.raw = {{"type", type}};
    if (!detail.empty()) p.raw["detail"] = detail;
    return acme::StatusFromProblem(p, http_status, retry_after);
  }

  static Json ClusterIssuer(bool eab = true) {
    Json spec = {{"server", "https://ca.test/dir"},
                 {"email", "ops@example.org"},
                 {"privateKeySecretRef", {{"name", "ca-account"}}},
                 {"solvers", {{{"http01", {{"ingress", {{"ingressClassName", "testbed"}}}}}}}}};
    if (eab) {
      spec["externalAccountBinding"] = {{"keyID", "kid-1"},
                                        {"keySecretRef", {{"name", "ca-eab"}, {"key", "secret"}}}};
    }
    return {{"apiVersion", "certsmith.io/v1"},
            {"kind", "ClusterIssuer"},
            {"metadata", {{"name", "ca"}, {"generation", 1}}},
            {"spec", {{"acme", spec}}}};
  }

  static Json Secret(const std::string& ns, const std::string& name,
                     const std::map<std::string, std::string>& data, Json annotations = nullptr) {
    Json d = Json::object();
    for (const auto& [k, v] : data) d[k] = Base64Encode(v);
    Json s = {{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"data", d}};
    if (!annotations.is_null()) s["metadata"]["annotations"] = annotations;
    return s;
  }

  static Json Certificate(std::vector<std::string> dns = {"a.example"}) {
    return {{"apiVersion", "certsmith.io/v1"},
            {"kind", "Certificate"},
            {"metadata", {{"name", "web"}, {"namespace", "default"}, {"generation", 1}}},
            {"spec",
             {{"secretName", "web-tls"},
              {"dnsNames", dns},
              {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}}};
  }

  // A Ready ClusterIssuer whose account the registry already holds.
  void AddReadyIssuer() {
    Json issuer = ClusterIssuer();
    issuer["status"] = {{"conditions", {{{"type", "Ready"}, {"status", "True"},
                                         {"reason", "ACMEAccountRegistered"}}}},
                        {"acme", {{"uri", FakeAcmeClient::kAccountUrl}}}};
    kube.Add(api::kClusterIssuers, issuer);
    accounts.Put("ClusterIssuer/ca", {"x", FakeAcmeClient::kAccountUrl, acme});
  }

  // A chain "leaf + CA" for key, valid [now - 1h, now + lifetime).
  std::string IssueChain(const acme::PrivateKey& key, std::vector<std::string> dns,
                         std::chrono::seconds lifetime = std::chrono::hours(24 * 90)) {
    static const acme::PrivateKey ca_key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
    acme::testing::CertSpec ca{.common_name = "Test CA", .organization = "", .dns_names = {},
                               .ip_addresses = {}, .not_before = clock.Now() - std::chrono::hours(1),
                               .not_after = clock.Now() + std::chrono::hours(24 * 365),
                               .serial = 1, .is_ca = true, .subject = nullptr};
    auto ca_cert = acme::testing::MakeCertificate(ca, ca_key.get(), ca_key.get());
    acme::testing::CertSpec leaf{.common_name = "", .organization = "", .dns_names = dns,
                                 .ip_addresses = {}, .not_before = clock.Now() - std::chrono::hours(1),
                                 .not_after = clock.Now() - std::chrono::hours(1) + lifetime,
                                 .serial = 2, .is_ca = false, .subject = nullptr};
    auto leaf_cert = acme::testing::MakeCertificate(leaf, key.get(), ca_key.get(), ca_cert.get());
    return acme::testing::CertificateToPem(leaf_cert.get()) +
           acme::testing::CertificateToPem(ca_cert.get());
  }

  static kube::EventRecorderOptions EventOptions(const Clock* clock) {
    kube::EventRecorderOptions o;
    o.clock = clock;
    return o;
  }

  // Writes (not reads) the controller made, as "verb resource ns/name" lines.
  std::vector<std::string> Writes() { return kube.ActionStrings({"get", "list", "watch"}); }
  bool HasWrite(const std::string& prefix) {
    for (const std::string& w : Writes()) {
      if (w.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
  size_t IndexOf(const std::string& prefix) {
    auto w = Writes();
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i].rfind(prefix, 0) == 0) return i;
    }
    return w.size();
  }
  std::vector<Json> EventsWithReason(const std::string& reason) {
    std::vector<Json> out;
    for (const Json& e : kube.All(kube::kEvents)) {
      if (e.value("reason", "") == reason) out.push_back(e);
    }
    return out;
  }

  FakeClock clock;
  kube::testing::FakeClient kube{&clock};
  TickingClock event_clock;
  kube::EventRecorder events{kube, EventOptions(&event_clock)};
  AccountRegistry accounts;
  std::shared_ptr<FakeAcmeClient> acme = std::make_shared<FakeAcmeClient>();
  int clients_made = 0;
  Context ctx;
};

}  // namespace certsmith::reconcilers::testing
