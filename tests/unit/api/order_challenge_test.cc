#include <gtest/gtest.h>

#include "api/challenge.h"
#include "api/order.h"
#include "api/resources.h"
#include "test_objects.h"

namespace certsmith::api {
namespace {

using testing::ExpectFieldError;

Json ValidOrder() {
  return Json::parse(R"({
    "apiVersion": "acme.certsmith.io/v1", "kind": "Order",
    "metadata": {"name": "web-1-0123456789", "namespace": "shop"},
    "spec": {"request": "LS0tLS1CRUdJTi...", "issuerRef": {"name": "le"},
             "dnsNames": ["www.example.org"], "duration": "2160h"},
    "status": {"url": "https://ca/order/1", "finalizeURL": "https://ca/order/1/finalize",
               "state": "processing", "pollAttempts": 3,
               "nextPollTime": "2026-01-01T00:00:30Z",
               "authorizations": [{"url": "https://ca/authz/1", "identifier": "www.example.org",
                 "initialState": "valid",
                 "challenges": [{"url": "https://ca/chall/1", "type": "http-01",
                                 "token": "tok_-1"}]}]}
  })");
}

Json ValidChallenge() {
  return Json::parse(R"({
    "apiVersion": "acme.certsmith.io/v1", "kind": "Challenge",
    "metadata": {"name": "web-1-0123456789-abcdef0123", "namespace": "shop"},
    "spec": {"url": "https://ca/chall/1", "authorizationURL": "https://ca/authz/1",
             "dnsName": "www.example.org", "type": "http-01", "token": "tok_-1",
             "key": "tok_-1.thumb", "issuerRef": {"name": "le"},
             "solver": {"http01": {"ingress": {"ingressClassName": "nginx"}}}},
    "status": {"processing": true, "presented": false, "state": "pending"}
  })");
}

TEST(OrderTest, ParsesAndRoundTrips) {
  Result<Order> o = Order::FromJson(ValidOrder());
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->status.state, OrderState::kProcessing);
  EXPECT_FALSE(IsFinalOrderState(o->status.state));
  EXPECT_EQ(o->status.poll_attempts, 3);
  ASSERT_EQ(o->status.authorizations.size(), 1u);
  EXPECT_EQ(o->status.authorizations[0].initial_state, "valid");
  EXPECT_EQ(o->status.authorizations[0].challenges[0].token, "tok_-1");
  Json j = o->ToJson();
  EXPECT_EQ(j["spec"]["duration"], "2160h0m0s");
  Result<Order> again = Order::FromJson(j);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->ToJson(), j);
}

TEST(OrderTest, Rules) {
  Json j = ValidOrder();
  j["spec"].erase("request");
  j["spec"]["dnsNames"] = {"ok.example.org", "x..y"};
  j["status"]["state"] = "done";
  Status s = Order::FromJson(j).status();
  ExpectFieldError(s, "spec.request", "required");
  ExpectFieldError(s, "spec.dnsNames[1]", "\"x..y\" is not a valid DNS name");
  ExpectFieldError(s, "status.state", "\"done\" is not an ACME state");
}

TEST(OrderTest, StateNames) {
  for (OrderState s :
       {OrderState::kPending, OrderState::kReady, OrderState::kProcessing, OrderState::kValid,
        OrderState::kInvalid, OrderState::kExpired, OrderState::kErrored}) {
    EXPECT_EQ(ParseOrderState(OrderStateName(s)), s);
  }
  EXPECT_TRUE(IsFinalOrderState(OrderState::kErrored));
  EXPECT_FALSE(IsFinalOrderState(OrderState::kReady));
}

TEST(ChallengeTest, ParsesAndRoundTrips) {
  Result<Challenge> c = Challenge::FromJson(ValidChallenge());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->status.processing);
  EXPECT_EQ(c->spec.solver.http01->ingress->ingress_class_name, "nginx");
  Result<Challenge> again = Challenge::FromJson(c->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->ToJson(), c->ToJson());
}

TEST(ChallengeTest, Rules) {
  Json j = ValidChallenge();
  j["spec"]["token"] = "../../etc/passwd";
  j["spec"]["type"] = "tls-alpn-01";
  j["spec"]["key"] = "";
  Status s = Challenge::FromJson(j).status();
  ExpectFieldError(s, "spec.token", "must be base64url characters");
  ExpectFieldError(s, "spec.type", "\"tls-alpn-01\" is not one of http-01, dns-01");
  ExpectFieldError(s, "spec.key", "required");
  j = ValidChallenge();
  j["spec"]["type"] = "dns-01";
  ExpectFieldError(Challenge::FromJson(j).status(), "spec.solver.dns01",
                   "required for a dns-01 challenge");
}

TEST(ResourcesTest, RefsMatchTheCrds) {
  EXPECT_EQ(kCertificates.ApiVersion(), "certsmith.io/v1");
  EXPECT_EQ(kOrders.ApiVersion(), "acme.certsmith.io/v1");
  EXPECT_FALSE(kClusterIssuers.namespaced);
  EXPECT_EQ(kChallenges.resource, "challenges");
}

}  // namespace
}  // namespace certsmith::api
