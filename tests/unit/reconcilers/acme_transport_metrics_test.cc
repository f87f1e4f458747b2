#include "metrics/acme_transport_metrics.h"

#include <gtest/gtest.h>

#include <deque>

namespace certsmith::metrics {
namespace {

constexpr char kDirectory[] = "https://ca.test:14000/dir";

// Answers from a script; each request takes 250ms of fake time.
class ScriptedTransport final : public HttpTransport {
 public:
  explicit ScriptedTransport(FakeClock& clock) : clock_(clock) {}
  Result<HttpResponse> Send(const HttpRequest&) override {
    clock_.Advance(std::chrono::milliseconds(250));
    if (script.empty()) return HttpResponse{200, {}, "{}"};
    Result<HttpResponse> r = script.front();
    script.pop_front();
    return r;
  }
  Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest&) override {
    return MakeError(ErrorCode::kUnavailable, "no streams");
  }
  std::deque<Result<HttpResponse>> script;

 private:
  FakeClock& clock_;
};

class AcmeTransportMetricsTest : public ::testing::Test {
 protected:
  AcmeTransportMetricsTest()
      : inner(std::make_shared<ScriptedTransport>(clock)),
        transport(inner, kDirectory, metrics, clock) {}

  void Send(const std::string& method, const std::string& url, HttpResponse answer) {
    inner->script.push_back(std::move(answer));
    HttpRequest req;
    req.method = method;
    req.url = url;
    ASSERT_TRUE(transport.Send(req).ok());
  }
  double Requests(const std::string& endpoint, const std::string& method,
                  const std::string& status) {
    return registry
        .Value("certsmith_acme_client_requests_total", {{"host", "ca.test:14000"},
                                                        {"endpoint", endpoint},
                                                        {"method", method},
                                                        {"status", status}})
        .value_or(0);
  }
  // Directory, nonce, account, order, authorization: the CA names every URL on the way.
  void WalkAnOrder() {
    Send("GET", kDirectory, {200, {}, R"({"newNonce":"https://ca.test:14000/nonce-plz",
                        "newAccount":"https://ca.test:14000/sign-me-up",
                        "newOrder":"https://ca.test:14000/order-plz",
                        "revokeCert":"https://ca.test:14000/revoke-cert",
                        "renewalInfo":"https://ca.test:14000/draft-ari/"})"});
    Send("HEAD", "https://ca.test:14000/nonce-plz", {200, {}, ""});
    Send("POST", "https://ca.test:14000/sign-me-up",
         {201, {{"location", "https://ca.test:14000/my-account/1"}}, "{}"});
    Send("POST", "https://ca.test:14000/order-plz",
         {201,
          {{"location", "https://ca.test:14000/o/77"}},
          R"({"status":"pending","authorizations":["https://ca.test:14000/a/9"],
              "finalize":"https://ca.test:14000/f/77"})"});
    Send("POST", "https://ca.test:14000/a/9",
         {200, {}, R"({"status":"pending","challenges":[{"type":"http-01",
              "url":"https://ca.test:14000/c/5","token":"t"}]})"});
    Send("POST", "https://ca.test:14000/c/5", {200, {}, R"({"status":"processing"})"});
    Send("POST", "https://ca.test:14000/f/77",
         {200, {}, R"({"status":"valid","certificate":"https://ca.test:14000/z/1"})"});
    Send("POST", "https://ca.test:14000/o/77", {200, {}, R"({"status":"valid"})"});
    Send("POST", "https://ca.test:14000/z/1", {200, {}, "-----BEGIN CERTIFICATE-----"});
  }

  FakeClock clock;
  Registry registry;
  ControllerMetrics metrics{registry};
  std::shared_ptr<ScriptedTransport> inner;
  AcmeTransportMetrics transport;
};

TEST_F(AcmeTransportMetricsTest, CountsEachRequestUnderTheEndpointTheCaNamed) {
  WalkAnOrder();
  EXPECT_EQ(Requests("directory", "GET", "200"), 1);
  EXPECT_EQ(Requests("newNonce", "HEAD", "200"), 1);
  EXPECT_EQ(Requests("newAccount", "POST", "201"), 1);
  EXPECT_EQ(Requests("newOrder", "POST", "201"), 1);
  EXPECT_EQ(Requests("authz", "POST", "200"), 1);
  EXPECT_EQ(Requests("challenge", "POST", "200"), 1);
  EXPECT_EQ(Requests("finalize", "POST", "200"), 1);
  EXPECT_EQ(Requests("order", "POST", "200"), 1);
  EXPECT_EQ(Requests("cert", "POST", "200"), 1);
  EXPECT_EQ(transport.EndpointOf("https://ca.test:14000/my-account/1"), "account");
  EXPECT_EQ(transport.EndpointOf("https://ca.test:14000/revoke-cert"), "revokeCert");
  EXPECT_EQ(transport.EndpointOf("https://ca.test:14000/draft-ari/abc.def"), "renewalInfo");
  EXPECT_EQ(registry.SeriesCount("certsmith_acme_client_problems_total"), 0u);
}

TEST_F(AcmeTransportMetricsTest, TimesRequestsWithTheInjectedClock) {
  WalkAnOrder();
  std::string text = registry.Render();
  // 250ms each: in the 0.25 bucket and every one above, not in 0.1.
  EXPECT_NE(
      text.find("certsmith_acme_client_request_duration_seconds_bucket{host=\"ca.test:14000\","
                "endpoint=\"directory\",method=\"GET\",le=\"0.25\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("certsmith_acme_client_request_duration_seconds_bucket{host=\"ca.test:14000\","
                "endpoint=\"directory\",method=\"GET\",le=\"0.1\"} 0\n"),
      std::string::npos);
  EXPECT_NE(text.find("certsmith_acme_client_request_duration_seconds_sum{host=\"ca.test:14000\","
                      "endpoint=\"directory\",method=\"GET\"} 0.25\n"),
            std::string::npos);
}

TEST_F(AcmeTransportMetricsTest, UnlearnedUrlsAreClassifiedByTheirPath) {
  // After a restart the controller polls orders it never saw created.
  EXPECT_EQ(transport.EndpointOf("https://acme-v02.example/acme/order/1/2"), "order");
  EXPECT_EQ(transport.EndpointOf("https://acme-v02.example/acme/finalize/1/2"), "finalize");
  EXPECT_EQ(transport.EndpointOf("https://p.test/finalize-order/x"), "finalize");
  EXPECT_EQ(transport.EndpointOf("https://acme-v02.example/acme/authz-v3/3"), "authz");
  EXPECT_EQ(transport.EndpointOf("https://p.test/chalZ/x"), "challenge");
  EXPECT_EQ(transport.EndpointOf("https://p.test/certZ/x"), "cert");
  EXPECT_EQ(transport.EndpointOf("https://p.test/something/else"), "other");
}

TEST_F(AcmeTransportMetricsTest, ProblemTypesAreCountedWithBoundedLabels) {
  auto problem = [](const std::string& type) {
    return HttpResponse{400,
                        {{"content-type", "application/problem+json"}},
                        R"({"type":")" + type + R"(","detail":"secret-ish detail"})"};
  };
  Send("POST", "https://ca.test:14000/my-order/1", problem("urn:ietf:params:acme:error:badNonce"));
  Send("POST", "https://ca.test:14000/my-order/1", problem("urn:ietf:params:acme:error:badNonce"));
  Send("POST", "https://ca.test:14000/my-order/1", problem("urn:ietf:params:acme:error:rateLimited"));
  Send("POST", "https://ca.test:14000/my-order/1", problem("https://ca.example/errors/OUT_OF_CREDIT"));
  Send("POST", "https://ca.test:14000/my-order/1", problem("urn:ietf:params:acme:error:a/b?c=1"));
  Send("POST", "https://ca.test:14000/my-order/1", {502, {}, "<html>bad gateway</html>"});
  auto count = [this](const std::string& type) {
    return registry
        .Value("certsmith_acme_client_problems_total", {{"host", "ca.test:14000"}, {"type", type}})
        .value_or(0);
  };
  EXPECT_EQ(count("badNonce"), 2);
  EXPECT_EQ(count("rateLimited"), 1);
  EXPECT_EQ(count("other"), 2);
  EXPECT_EQ(registry.SeriesCount("certsmith_acme_client_problems_total"), 3u);
  EXPECT_EQ(Requests("order", "POST", "400"), 5);
  EXPECT_EQ(Requests("order", "POST", "502"), 1);
  EXPECT_EQ(registry.Render().find("secret-ish"), std::string::npos);
}

TEST_F(AcmeTransportMetricsTest, TransportFailuresCountAsError) {
  inner->script.push_back(MakeError(ErrorCode::kTls, "handshake failed"));
  HttpRequest req;
  req.url = kDirectory;
  EXPECT_FALSE(transport.Send(req).ok());
  EXPECT_EQ(Requests("directory", "GET", "error"), 1);
}

TEST_F(AcmeTransportMetricsTest, ManyOrdersDoNotGrowTheLabelSets) {
  WalkAnOrder();
  const size_t series = registry.SeriesCount("certsmith_acme_client_requests_total");
  for (int i = 0; i < 3 * static_cast<int>(AcmeTransportMetrics::kMaxLearnedUrls); ++i) {
    const std::string id = std::to_string(i);
    Send("POST", "https://ca.test:14000/order-plz",
         {201,
          {{"location", "https://ca.test:14000/o/x" + id}},
          R"({"authorizations":["https://ca.test:14000/a/x)" + id +
              R"("],"finalize":"https://ca.test:14000/f/x)" + id + R"("})"});
    Send("POST", "https://ca.test:14000/o/x" + id, {200, {}, R"({"status":"pending"})"});
  }
  EXPECT_EQ(registry.SeriesCount("certsmith_acme_client_requests_total"), series);
  EXPECT_EQ(transport.EndpointOf("https://ca.test:14000/a/x12287"), "authz");  // recent: kept
}

TEST(AcmeTransportMetricsHostTest, HostIsTheAuthorityWithoutCredentials) {
  EXPECT_EQ(AcmeTransportMetrics::HostOf("https://user:pw@CA.Example:8443/dir?x"),
            "ca.example:8443");
  EXPECT_EQ(AcmeTransportMetrics::HostOf("https://acme-v02.api.example/directory"),
            "acme-v02.api.example");
}

}  // namespace
}  // namespace certsmith::metrics
