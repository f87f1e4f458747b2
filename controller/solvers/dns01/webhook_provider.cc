#include "solvers/dns01/webhook_provider.h"

#include "certsmith/log.h"
#include "solvers/dns01/dns_client.h"

namespace certsmith::solvers::dns01 {
namespace {

// What a provider said, from a ChallengePayload response or a Kubernetes Status.
std::string ProviderWords(const Json& status) {
  if (!status.is_object()) return "";
  std::string words = status.value("message", "");
  const std::string reason = status.value("reason", "");
  if (!reason.empty())
    words += (words.empty() ? "" : " (reason ") + reason + (words.empty() ? "" : ")");
  return log::Sanitize(words, 1024);
}

}  // namespace

Json ChallengePayload(const std::string& action, const ChallengeRecord& record,
                      const Json& config) {
  Json request = {{"uid", record.uid},
                  {"action", action},
                  {"type", "dns-01"},
                  {"dnsName", record.dns_name},
                  {"key", record.value},
                  {"resourceNamespace", record.resource_namespace},
                  {"resolvedFQDN", Fqdn(record.fqdn)},
                  {"resolvedZone", Fqdn(record.zone)},
                  // certsmith never lends its own cloud identity to a provider.
                  {"allowAmbientCredentials", false}};
  if (!config.is_null()) request["config"] = config;
  return {{"apiVersion", kWebhookApiVersion}, {"kind", "ChallengePayload"}, {"request", request}};
}

AggregatedWebhookTransport::AggregatedWebhookTransport(kube::Client& client, std::string group_name,
                                                       std::string solver_name)
    : client_(client), path_("/apis/" + group_name + "/v1alpha1/" + solver_name) {}

Result<Json> AggregatedWebhookTransport::Post(const Json& payload) {
  // The API server's Status message (403 forbidden, 503 service unavailable, the provider's own
  // Status) is already in the error.
  return client_.PostPath(path_, payload);
}

std::string AggregatedWebhookTransport::Describe() const { return "webhook " + path_; }

HttpsWebhookTransport::HttpsWebhookTransport(std::shared_ptr<HttpTransport> http, std::string url,
                                             std::chrono::milliseconds timeout)
    : http_(std::move(http)), url_(std::move(url)), timeout_(timeout) {}

std::string HttpsWebhookTransport::Describe() const { return "webhook " + url_; }

Result<Json> HttpsWebhookTransport::Post(const Json& payload) {
  HttpRequest req;
  req.method = "POST";
  req.url = url_;
  req.timeout = timeout_;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  req.body = payload.dump();
  auto resp = http_->Send(req);
  if (!resp.ok()) return resp.status().WithContext("POST " + url_);
  Json body = Json::parse(resp->body, nullptr, false);
  if (resp->status / 100 != 2) {
    std::string words;
    if (body.is_object()) {
      words = body.contains("response") ? ProviderWords(body["response"].value("status", Json()))
                                        : ProviderWords(body);
    }
    if (words.empty()) words = log::Sanitize(resp->body, 512);
    Status st(resp->status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kFailedPrecondition,
              "POST " + url_ + ": HTTP " + std::to_string(resp->status) +
                  (words.empty() ? "" : ": " + words));
    st.set_http_status(resp->status);
    return st;
  }
  if (body.is_discarded()) {
    return MakeError(ErrorCode::kProtocol, "POST " + url_ + ": the answer is not JSON: " +
                                               log::Sanitize(resp->body, 200));
  }
  return body;
}

Status WebhookProvider::Present(const ChallengeRecord& record) { return Call("Present", record); }

Status WebhookProvider::CleanUp(const ChallengeRecord& record) { return Call("CleanUp", record); }

Status WebhookProvider::Call(const std::string& action, const ChallengeRecord& record) {
  const std::string what = Describe() + " " + action + " of TXT " + Fqdn(record.fqdn);
  auto answer = transport_->Post(ChallengePayload(action, record, config_));
  if (!answer.ok()) return answer.status().WithContext(what);
  const Json response = answer->is_object() ? answer->value("response", Json()) : Json();
  if (!response.is_object() || !response.contains("success")) {
    return MakeError(ErrorCode::kProtocol,
                     what + ": the answer is not a ChallengePayload with a response");
  }
  if (response.value("uid", record.uid) != record.uid) {
    return MakeError(ErrorCode::kProtocol, what + ": the answer is for another request uid");
  }
  if (response["success"] == true) return Status::Ok();
  std::string words = ProviderWords(response.value("status", Json()));
  return MakeError(ErrorCode::kFailedPrecondition,
                   what + ": the provider answered success: false" +
                       (words.empty() ? " without a message" : ": " + words));
}

}  // namespace certsmith::solvers::dns01
