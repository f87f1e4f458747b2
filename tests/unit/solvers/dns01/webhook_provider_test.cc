// The webhook provider: cert-manager's ChallengePayload field by field, both transports, and
// the provider's own words when it says no.
#include "solvers/dns01/webhook_provider.h"

#include <gtest/gtest.h>

#include "kube/testing/fake_client.h"

namespace certsmith::solvers::dns01 {
namespace {

ChallengeRecord Rec() {
  return {"0b9a-uid",    "example.org", "_acme-challenge.example.org",
          "example.org", "txt-value",   "certsmith"};
}

TEST(ChallengePayloadTest, IsCertManagersShape) {
  Json config = {{"apiKeySecretRef", {{"name", "creds"}, {"key", "token"}}}};
  Json got = ChallengePayload("Present", Rec(), config);
  Json want = R"({
    "apiVersion": "webhook.acme.cert-manager.io/v1alpha1",
    "kind": "ChallengePayload",
    "request": {
      "uid": "0b9a-uid", "action": "Present", "type": "dns-01", "dnsName": "example.org",
      "key": "txt-value", "resourceNamespace": "certsmith",
      "resolvedFQDN": "_acme-challenge.example.org.", "resolvedZone": "example.org.",
      "allowAmbientCredentials": false,
      "config": {"apiKeySecretRef": {"name": "creds", "key": "token"}}
    }
  })"_json;
  EXPECT_EQ(got, want) << got.dump(2);
  EXPECT_FALSE(ChallengePayload("CleanUp", Rec(), Json())["request"].contains("config"));
}

Json Answer(bool success, const std::string& message = "") {
  Json response = {{"uid", "0b9a-uid"}, {"success", success}};
  if (!message.empty()) response["status"] = {{"message", message}, {"reason", "Forbidden"}};
  return {{"apiVersion", kWebhookApiVersion}, {"kind", "ChallengePayload"}, {"response", response}};
}

TEST(AggregatedWebhookTest, PostsToTheGroupsSolverResourceThroughTheApiServer) {
  kube::testing::FakeClient kube;
  std::vector<std::pair<std::string, Json>> posts;
  kube.SetPostHandler([&](std::string_view path, const Json& body) -> Result<Json> {
    posts.push_back({std::string(path), body});
    return Answer(true);
  });
  WebhookProvider p(std::make_unique<AggregatedWebhookTransport>(kube, "acme.example.com", "mydns"),
                    Json{{"zoneId", "z1"}});
  ASSERT_TRUE(p.Present(Rec()).ok());
  ASSERT_TRUE(p.CleanUp(Rec()).ok());
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0].first, "/apis/acme.example.com/v1alpha1/mydns");
  EXPECT_EQ(posts[0].second["request"]["action"], "Present");
  EXPECT_EQ(posts[1].second["request"]["action"], "CleanUp");
  EXPECT_EQ(posts[1].second["request"]["config"]["zoneId"], "z1");
  EXPECT_EQ(p.Describe(), "webhook /apis/acme.example.com/v1alpha1/mydns");
}

TEST(AggregatedWebhookTest, SuccessFalseAndApiErrorsCarryTheirWords) {
  kube::testing::FakeClient kube;
  kube.SetPostHandler([](std::string_view, const Json&) -> Result<Json> {
    return Answer(false, "zone example.org is not managed by this account");
  });
  WebhookProvider p(std::make_unique<AggregatedWebhookTransport>(kube, "acme.example.com", "mydns"),
                    Json());
  Status s = p.Present(Rec());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Present of TXT _acme-challenge.example.org.: the provider answered "
                             "success: false: zone example.org is not managed by this account"),
            std::string::npos)
      << s.message();

  kube.SetPostHandler([](std::string_view, const Json&) -> Result<Json> {
    return MakeError(ErrorCode::kUnavailable,
                     "POST /apis/acme.example.com/v1alpha1/mydns: service unavailable");
  });
  Status down = p.CleanUp(Rec());
  EXPECT_EQ(down.code(), ErrorCode::kUnavailable);
  EXPECT_NE(down.message().find("service unavailable"), std::string::npos);

  kube.SetPostHandler([](std::string_view, const Json& body) -> Result<Json> { return body; });
  Status echo = p.Present(Rec());  // a server that answers with the request: no response
  EXPECT_EQ(echo.code(), ErrorCode::kProtocol);
}

class FakeHttp final : public HttpTransport {
 public:
  HttpResponse next;
  std::vector<HttpRequest> sent;
  Result<HttpResponse> Send(const HttpRequest& request) override {
    sent.push_back(request);
    return next;
  }
  Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest&) override {
    return MakeError(ErrorCode::kInternal, "no streams");
  }
};

TEST(HttpsWebhookTest, PostsThePayloadToTheUrl) {
  auto http = std::make_shared<FakeHttp>();
  http->next = {200, {}, Answer(true).dump()};
  WebhookProvider p(std::make_unique<HttpsWebhookTransport>(http, "https://dns.internal/present"),
                    Json());
  ASSERT_TRUE(p.Present(Rec()).ok());
  ASSERT_EQ(http->sent.size(), 1u);
  EXPECT_EQ(http->sent[0].method, "POST");
  EXPECT_EQ(http->sent[0].url, "https://dns.internal/present");
  EXPECT_EQ(Json::parse(http->sent[0].body)["kind"], "ChallengePayload");
}

TEST(HttpsWebhookTest, HttpErrorsAndOddAnswersAreClear) {
  auto http = std::make_shared<FakeHttp>();
  WebhookProvider p(std::make_unique<HttpsWebhookTransport>(http, "https://dns.internal/x"),
                    Json());
  http->next = {500, {}, "database locked\n"};
  Status s = p.Present(Rec());
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("HTTP 500: database locked"), std::string::npos) << s.message();

  http->next = {403, {}, Answer(false, "token expired").dump()};
  Status forbidden = p.Present(Rec());
  EXPECT_NE(forbidden.message().find("HTTP 403: token expired (reason Forbidden)"),
            std::string::npos)
      << forbidden.message();

  http->next = {200, {}, "<html>not json</html>"};
  EXPECT_EQ(p.Present(Rec()).code(), ErrorCode::kProtocol);

  Json other = Answer(true);
  other["response"]["uid"] = "someone-else";
  http->next = {200, {}, other.dump()};
  EXPECT_NE(p.Present(Rec()).message().find("another request uid"), std::string::npos);
}

}  // namespace
}  // namespace certsmith::solvers::dns01
