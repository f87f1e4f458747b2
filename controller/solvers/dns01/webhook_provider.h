// cert-manager's DNS webhook protocol: a ChallengePayload (webhook.acme.cert-manager.io/v1alpha1)
// with request {uid, action Present|CleanUp, type dns-01, dnsName, key, resourceNamespace,
// resolvedFQDN, resolvedZone, allowAmbientCredentials, config} is POSTed, and the provider answers
// the same kind with response {uid, success, status {message, reason, code}}.
//
// Two ways to reach a provider:
// - AggregatedWebhookTransport: POST /apis/<groupName>/v1alpha1/<solverName> on the API server,
//   which forwards it through the aggregation layer to the provider's APIService (cert-manager's
//   way: every existing webhook provider works unchanged). The API server authorizes the
//   controller for `create` on <solverName> in <groupName>.
// - HttpsWebhookTransport: the same payload over HTTPS straight to webhook.url, trusting
//   webhook.caBundle (certsmith's own mode: a provider needs no APIService).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "certsmith/http_transport.h"
#include "kube/client.h"
#include "solvers/dns01/provider.h"

namespace certsmith::solvers::dns01 {

using Json = nlohmann::json;

inline constexpr char kWebhookApiVersion[] = "webhook.acme.cert-manager.io/v1alpha1";

// The payload for action "Present" or "CleanUp".
Json ChallengePayload(const std::string& action, const ChallengeRecord& record, const Json& config);

class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  // The provider's answer body; an HTTP error is an error whose message holds the provider's
  // (or the API server's) words.
  virtual Result<Json> Post(const Json& payload) = 0;
  virtual std::string Describe() const = 0;
};

class AggregatedWebhookTransport final : public WebhookTransport {
 public:
  AggregatedWebhookTransport(kube::Client& client, std::string group_name, std::string solver_name);
  Result<Json> Post(const Json& payload) override;
  std::string Describe() const override;  // "webhook /apis/acme.example.com/v1alpha1/x"
  const std::string& path() const { return path_; }

 private:
  kube::Client& client_;
  std::string path_;
};

class HttpsWebhookTransport final : public WebhookTransport {
 public:
  HttpsWebhookTransport(std::shared_ptr<HttpTransport> http, std::string url,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));
  Result<Json> Post(const Json& payload) override;
  std::string Describe() const override;  // "webhook https://..."

 private:
  std::shared_ptr<HttpTransport> http_;
  std::string url_;
  std::chrono::milliseconds timeout_;
};

class WebhookProvider final : public Provider {
 public:
  WebhookProvider(std::unique_ptr<WebhookTransport> transport, Json config)
      : transport_(std::move(transport)), config_(std::move(config)) {}

  Status Present(const ChallengeRecord& record) override;
  Status CleanUp(const ChallengeRecord& record) override;
  std::string Describe() const override { return transport_->Describe(); }

 private:
  Status Call(const std::string& action, const ChallengeRecord& record);

  std::unique_ptr<WebhookTransport> transport_;
  Json config_;
};

}  // namespace certsmith::solvers::dns01
