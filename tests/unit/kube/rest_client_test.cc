#include "kube/rest_client.h"

#include <gtest/gtest.h>

#include "kube/errors.h"
#include "unit/kube/fake_transport.h"

namespace certsmith::kube {
namespace {

using testing::FakeStream;
using testing::FakeTransport;
using testing::Response;

const ResourceRef kCertificates{"certsmith.io", "v1", "certificates", "Certificate", true};

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"reason", reason}, {"message", message}, {"code", code}}
      .dump();
}

class RestClientTest : public ::testing::Test {
 protected:
  RestClientTest() : sleeper_(&clock_) {
    config_.server = "https://api.test:6443";
    config_.token = std::make_shared<TokenSource>("tkn");
    config_.qps = 0;  // limiting tested separately
    transport_ = std::make_shared<FakeTransport>();
    RestClientOptions o;
    o.clock = &clock_;
    o.sleeper = &sleeper_;
    o.max_attempts = 3;
    client_ = std::make_unique<RestClient>(config_, transport_, o);
  }
  FakeClock clock_;
  FakeSleeper sleeper_;
  RestConfig config_;
  std::shared_ptr<FakeTransport> transport_;
  std::unique_ptr<RestClient> client_;
};

TEST(ResourcePathTest, CoreGroupNamespacedClusterScopedAndSubresource) {
  EXPECT_EQ(RestClient::ResourcePath(kSecrets, "ns1", "s"), "/api/v1/namespaces/ns1/secrets/s");
  EXPECT_EQ(RestClient::ResourcePath(kSecrets, "", ""), "/api/v1/secrets");
  EXPECT_EQ(RestClient::ResourcePath(kLeases, "kube-system", "l"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l");
  EXPECT_EQ(RestClient::ResourcePath(kNamespaces, "ignored", "team"), "/api/v1/namespaces/team");
  EXPECT_EQ(RestClient::ResourcePath(kCertificates, "a", "c", "status"),
            "/apis/certsmith.io/v1/namespaces/a/certificates/c/status");
  EXPECT_EQ(kCertificates.ApiVersion(), "certsmith.io/v1");
  EXPECT_EQ(kSecrets.ApiVersion(), "v1");
}

TEST(ResourcePathTest, ListAndWatchQueriesAreEncoded) {
  ListOptions o;
  o.label_selector = "app=x,env in (a,b)";
  o.field_selector = "metadata.name=n";
  o.limit = 50;
  o.continue_token = "abc=";
  EXPECT_EQ(RestClient::ListQuery(o, false),
            "?labelSelector=app%3Dx%2Cenv%20in%20%28a%2Cb%29&fieldSelector=metadata.name%3Dn"
            "&limit=50&continue=abc%3D");
  ListOptions w;
  w.resource_version = "42";
  w.allow_watch_bookmarks = true;
  w.timeout_seconds = 300;
  EXPECT_EQ(RestClient::ListQuery(w, true),
            "?resourceVersion=42&watch=true&allowWatchBookmarks=true&timeoutSeconds=300");
  EXPECT_EQ(RestClient::ListQuery(ListOptions{}, false), "");
}

TEST_F(RestClientTest, GetSendsBearerTokenAndParsesBody) {
  transport_->Push(Response(200, R"({"kind":"Secret","metadata":{"name":"s"}})"));
  auto got = client_->Get(kSecrets, "ns", "s");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(GetName(*got), "s");
  auto reqs = transport_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].url, "https://api.test:6443/api/v1/namespaces/ns/secrets/s");
  EXPECT_EQ(FakeTransport::HeaderOf(reqs[0], "Authorization"), "Bearer tkn");
}

struct ErrorCase {
  int http;
  std::string reason;
  ErrorCode want;
};

TEST_F(RestClientTest, ErrorMapping) {
  std::vector<ErrorCase> cases = {
      {404, "NotFound", ErrorCode::kNotFound},
      {409, "AlreadyExists", ErrorCode::kAlreadyExists},
      {409, "Conflict", ErrorCode::kConflict},
      {410, "Expired", ErrorCode::kGone},
      {422, "Invalid", ErrorCode::kInvalidArgument},
      {400, "BadRequest", ErrorCode::kInvalidArgument},
      {401, "Unauthorized", ErrorCode::kUnauthenticated},
      {403, "Forbidden", ErrorCode::kPermissionDenied},
  };
  for (const ErrorCase& c : cases) {
    transport_->Push(Response(c.http, StatusBody(c.http, c.reason, "server says " + c.reason)));
    auto got = client_->Get(kSecrets, "ns", "s");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), c.want) << c.http << " " << c.reason;
    EXPECT_EQ(got.status().http_status(), c.http);
    EXPECT_NE(got.status().message().find("server says " + c.reason), std::string::npos);
    Json payload = Json::parse(got.status().payload());
    EXPECT_EQ(payload["reason"], c.reason);
  }
  EXPECT_TRUE(sleeper_.Sleeps().empty());  // none of these is retried
}

TEST_F(RestClientTest, RetriesTooManyRequestsHonouringRetryAfter) {
  transport_->Push(Response(429, StatusBody(429, "TooManyRequests", "slow down"),
                            {{"retry-after", "7"}}));
  transport_->Push(Response(200, "{}"));
  auto got = client_->Get(kSecrets, "ns", "s");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(transport_->requests().size(), 2u);
  ASSERT_EQ(sleeper_.Sleeps().size(), 1u);
  EXPECT_EQ(sleeper_.Sleeps()[0], std::chrono::seconds(7));
}

TEST_F(RestClientTest, RetriesServerErrorsAndGivesUpAfterMaxAttempts) {
  for (int i = 0; i < 5; ++i)
    transport_->Push(Response(503, StatusBody(503, "ServiceUnavailable", "busy"),
                              {{"retry-after", "1"}}));
  auto got = client_->Get(kSecrets, "ns", "s");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(transport_->requests().size(), 3u);  // max_attempts
  EXPECT_EQ(sleeper_.Sleeps().size(), 2u);
}

TEST_F(RestClientTest, FinalTooManyRequestsCarriesRetryAfter) {
  for (int i = 0; i < 3; ++i)
    transport_->Push(Response(429, StatusBody(429, "TooManyRequests", "x"), {{"retry-after", "3"}}));
  auto got = client_->Get(kSecrets, "ns", "s");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(got.status().retry_after(), std::chrono::seconds(3));
}

TEST_F(RestClientTest, ServerErrorWithoutRetryAfterBacksOffExponentially) {
  transport_->Push(Response(500, "oops"));
  transport_->Push(Response(502, "oops"));
  transport_->Push(Response(200, "{}"));
  ASSERT_TRUE(client_->Get(kSecrets, "ns", "s").ok());
  auto sleeps = sleeper_.Sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_GE(sleeps[0], std::chrono::milliseconds(500));
  EXPECT_LE(sleeps[0], std::chrono::milliseconds(600));
  EXPECT_GE(sleeps[1], std::chrono::milliseconds(1000));
  EXPECT_LE(sleeps[1], std::chrono::milliseconds(1200));
}

TEST_F(RestClientTest, TransportFailureRetriedForGetNotForCreate) {
  transport_->Push(MakeError(ErrorCode::kUnavailable, "connection refused"));
  transport_->Push(Response(200, "{}"));
  EXPECT_TRUE(client_->Get(kSecrets, "ns", "s").ok());
  transport_->Push(MakeError(ErrorCode::kUnavailable, "connection refused"));
  auto created = client_->Create(kSecrets, "ns", Json{{"metadata", {{"name", "s"}}}});
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("POST /api/v1/namespaces/ns/secrets"),
            std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 3u);
}

TEST_F(RestClientTest, WritesUseRightMethodsPathsAndContentTypes) {
  Json obj = {{"metadata", {{"name", "c1"}, {"namespace", "ns"}, {"resourceVersion", "5"}}}};
  ASSERT_TRUE(client_->Create(kCertificates, "", obj).ok());
  ASSERT_TRUE(client_->Update(kCertificates, "ns", obj).ok());
  ASSERT_TRUE(client_->UpdateStatus(kCertificates, "ns", obj).ok());
  ASSERT_TRUE(client_->Patch(kCertificates, "ns", "c1", PatchType::kJson, Json::array()).ok());
  ASSERT_TRUE(client_->Patch(kCertificates, "ns", "c1", PatchType::kMerge, Json::object(), true).ok());
  ASSERT_TRUE(client_->Patch(kSecrets, "ns", "c1", PatchType::kStrategicMerge, Json::object()).ok());
  DeleteOptions d;
  d.precondition_uid = "u1";
  d.propagation_policy = "Foreground";
  ASSERT_TRUE(client_->Delete(kCertificates, "ns", "c1", d).ok());
  ASSERT_TRUE(client_->PostPath("/apis/x.io/v1/reviews", Json{{"a", 1}}).ok());
  auto r = transport_->requests();
  ASSERT_EQ(r.size(), 8u);
  const std::string base = "https://api.test:6443/apis/certsmith.io/v1/namespaces/ns/certificates";
  EXPECT_EQ(r[0].method + " " + r[0].url, "POST " + base);
  EXPECT_EQ(r[1].method + " " + r[1].url, "PUT " + base + "/c1");
  EXPECT_EQ(r[2].method + " " + r[2].url, "PUT " + base + "/c1/status");
  EXPECT_EQ(FakeTransport::HeaderOf(r[3], "Content-Type"), "application/json-patch+json");
  EXPECT_EQ(r[4].url, base + "/c1/status");
  EXPECT_EQ(FakeTransport::HeaderOf(r[4], "Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(FakeTransport::HeaderOf(r[5], "Content-Type"),
            "application/strategic-merge-patch+json");
  EXPECT_EQ(r[6].method, "DELETE");
  Json del = Json::parse(r[6].body);
  EXPECT_EQ(del["preconditions"]["uid"], "u1");
  EXPECT_EQ(del["propagationPolicy"], "Foreground");
  EXPECT_EQ(r[7].url, "https://api.test:6443/apis/x.io/v1/reviews");
  EXPECT_FALSE(client_->PostPath("relative", Json{}).ok());
}

TEST_F(RestClientTest, WatchParsesEventsAndReportsErrors) {
  transport_->PushStream(std::make_unique<FakeStream>(
      200, std::vector<std::string>{
               R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"2"}}})", "",
               R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})"}));
  ListOptions o;
  o.resource_version = "1";
  auto w = client_->StartWatch(kSecrets, "ns", o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto e1 = (*w)->Next();
  ASSERT_TRUE(e1.ok() && *e1);
  EXPECT_EQ((*e1)->type, "ADDED");
  EXPECT_EQ(GetName((*e1)->object), "a");
  auto e2 = (*w)->Next();
  ASSERT_TRUE(e2.ok() && *e2);
  EXPECT_EQ((*e2)->type, "BOOKMARK");
  auto end = (*w)->Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
  EXPECT_NE(transport_->requests()[0].url.find("watch=true"), std::string::npos);

  transport_->PushStream(std::make_unique<FakeStream>(
      410, std::vector<std::string>{StatusBody(410, "Expired", "too old resource version")}));
  auto gone = client_->StartWatch(kSecrets, "ns", o);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), ErrorCode::kGone);

  transport_->PushStream(
      std::make_unique<FakeStream>(200, std::vector<std::string>{"not json"}));
  auto bad = client_->StartWatch(kSecrets, "ns", o);
  ASSERT_TRUE(bad.ok());
  auto e = (*bad)->Next();
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), ErrorCode::kProtocol);
}

TEST(RetryOnConflictTest, RetriesConflictsOnlyAndBounded) {
  int calls = 0;
  Status st = RetryOnConflict([&] {
    ++calls;
    return calls < 3 ? MakeError(ErrorCode::kConflict, "stale") : Status::Ok();
  });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(calls, 3);
  calls = 0;
  st = RetryOnConflict([&] {
    ++calls;
    return MakeError(ErrorCode::kNotFound, "gone");
  });
  EXPECT_EQ(st.code(), ErrorCode::kNotFound);
  EXPECT_EQ(calls, 1);
  calls = 0;
  st = RetryOnConflict([&] {
    ++calls;
    return MakeError(ErrorCode::kConflict, "stale");
  }, 4);
  EXPECT_EQ(st.code(), ErrorCode::kConflict);
  EXPECT_EQ(calls, 4);
}

}  // namespace
}  // namespace certsmith::kube
