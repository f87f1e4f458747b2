#include "api/issuer.h"

#include <gtest/gtest.h>

#include "certsmith/base64.h"
#include "test_objects.h"

namespace certsmith::api {
namespace {

using testing::ExpectFieldError;
using testing::ValidIssuer;

Status ParseWith(const std::string& pointer, const Json& value) {
  return Issuer::FromJson(testing::With(ValidIssuer(), pointer, value)).status();
}

TEST(IssuerTest, ParsesAValidClusterIssuer) {
  Result<Issuer> i = Issuer::FromJson(ValidIssuer());
  ASSERT_TRUE(i.ok()) << i.status().message();
  EXPECT_TRUE(i->IsClusterIssuer());
  const AcmeIssuer& a = i->spec.acme;
  EXPECT_EQ(a.external_account_binding->key_algorithm, "HS512");
  EXPECT_EQ(a.account_key->size, 384);
  EXPECT_EQ(a.max_poll_interval, std::chrono::minutes(2));
  ASSERT_EQ(a.solvers.size(), 3u);
  EXPECT_EQ(a.solvers[0].dns01->rfc2136->tsig_secret_secret_ref.name, "tsig");
  EXPECT_TRUE(a.solvers[1].http01->skip_self_check);
  EXPECT_EQ(a.solvers[2].dns01->webhook->config["zone"], "x");
}

TEST(IssuerTest, SolversMayBeEmptyForPreValidatedDomains) {
  Json j = ValidIssuer("Issuer");
  j["spec"]["acme"].erase("solvers");
  Result<Issuer> i = Issuer::FromJson(j);
  ASSERT_TRUE(i.ok()) << i.status().message();
  EXPECT_TRUE(i->spec.acme.solvers.empty());
  EXPECT_EQ(i->spec.acme.external_account_binding->key_id, "kid-1");
}

TEST(IssuerTest, EabAlgorithmDefaultsToHs256) {
  Json j = ValidIssuer();
  j["spec"]["acme"]["externalAccountBinding"].erase("keyAlgorithm");
  Result<Issuer> i = Issuer::FromJson(j);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->spec.acme.external_account_binding->key_algorithm, "HS256");
}

TEST(IssuerTest, AcmeFieldRules) {
  ExpectFieldError(ParseWith("/spec/acme", nullptr), "spec.acme", "required");
  ExpectFieldError(ParseWith("/spec/acme/server", nullptr), "spec.acme.server", "required");
  ExpectFieldError(ParseWith("/spec/acme/server", "http://acme.example/dir"), "spec.acme.server",
                   "must be an https:// URL");
  ExpectFieldError(ParseWith("/spec/acme/email", "pki at example.org"), "spec.acme.email",
                   "\"pki at example.org\" is not an email address");
  ExpectFieldError(ParseWith("/spec/acme/privateKeySecretRef", nullptr),
                   "spec.acme.privateKeySecretRef.name", "required");
}

TEST(IssuerTest, EabRules) {
  ExpectFieldError(ParseWith("/spec/acme/externalAccountBinding/keyID", nullptr),
                   "spec.acme.externalAccountBinding.keyID", "required");
  ExpectFieldError(ParseWith("/spec/acme/externalAccountBinding/keySecretRef", nullptr),
                   "spec.acme.externalAccountBinding.keySecretRef.name", "required");
  ExpectFieldError(ParseWith("/spec/acme/externalAccountBinding/keyAlgorithm", "HS1"),
                   "spec.acme.externalAccountBinding.keyAlgorithm",
                   "\"HS1\" is not one of HS256, HS384, HS512");
}

TEST(IssuerTest, CaBundleAndSkipTlsVerify) {
  ExpectFieldError(ParseWith("/spec/acme/caBundle", "!!!"), "spec.acme.caBundle",
                   "must be base64 of PEM certificates");
  ExpectFieldError(ParseWith("/spec/acme/caBundle", Base64Encode("hello")), "spec.acme.caBundle",
                   "must be base64 of PEM certificates (no BEGIN CERTIFICATE block found)");
  Json j = ValidIssuer();
  j["spec"]["acme"]["caBundle"] =
      Base64Encode("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  ASSERT_TRUE(Issuer::FromJson(j).ok());
  j["spec"]["acme"]["skipTLSVerify"] = true;
  ExpectFieldError(Issuer::FromJson(j).status(), "spec.acme.skipTLSVerify",
                   "cannot be set together with caBundle");
}

TEST(IssuerTest, AccountKeyAndPolling) {
  ExpectFieldError(ParseWith("/spec/acme/accountKey/size", 2048), "spec.acme.accountKey.size",
                   "ECDSA keys must be 256 or 384 bits");
  ExpectFieldError(ParseWith("/spec/acme/accountKey/algorithm", "DSA"),
                   "spec.acme.accountKey.algorithm", "\"DSA\" is not one of RSA, ECDSA");
  ExpectFieldError(ParseWith("/spec/acme/maxPollInterval", "100ms"), "spec.acme.maxPollInterval",
                   "must be at least 1s");
}

TEST(IssuerTest, SolverRules) {
  ExpectFieldError(ParseWith("/spec/acme/solvers/1/dns01",
                             Json{{"webhook", {{"groupName", "a.b"}, {"solverName", "x"}}}}),
                   "spec.acme.solvers[1]", "exactly one of http01 or dns01 is required");
  ExpectFieldError(ParseWith("/spec/acme/solvers/2", Json::object()), "spec.acme.solvers[2]",
                   "exactly one of http01 or dns01 is required");
  ExpectFieldError(ParseWith("/spec/acme/solvers/1/http01/ingress/class", "nginx"),
                   "spec.acme.solvers[1].http01.ingress",
                   "set at most one of ingressClassName, class and name");
  ExpectFieldError(ParseWith("/spec/acme/solvers/1/http01/ingress/serviceType", "LoadBalancer"),
                   "spec.acme.solvers[1].http01.ingress.serviceType",
                   "\"LoadBalancer\" is not one of ClusterIP, NodePort");
  ExpectFieldError(ParseWith("/spec/acme/solvers/1/http01/ingress", nullptr),
                   "spec.acme.solvers[1].http01.ingress", "required");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/webhook",
                             Json{{"groupName", "a.b"}, {"solverName", "x"}}),
                   "spec.acme.solvers[0].dns01", "exactly one of rfc2136 or webhook is required");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/rfc2136/nameserver", nullptr),
                   "spec.acme.solvers[0].dns01.rfc2136.nameserver", "required");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/rfc2136/tsigAlgorithm", "SHA256"),
                   "spec.acme.solvers[0].dns01.rfc2136.tsigAlgorithm", "\"SHA256\" is not one of");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/rfc2136/tsigSecretSecretRef", nullptr),
                   "spec.acme.solvers[0].dns01.rfc2136.tsigSecretSecretRef.name",
                   "required when tsigKeyName is set");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/cnameStrategy", "Always"),
                   "spec.acme.solvers[0].dns01.cnameStrategy",
                   "\"Always\" is not one of None, Follow");
  ExpectFieldError(ParseWith("/spec/acme/solvers/2/dns01/webhook/solverName", nullptr),
                   "spec.acme.solvers[2].dns01.webhook.solverName", "required");
  ExpectFieldError(
      ParseWith("/spec/acme/solvers/0/selector/dnsNames", Json{"ok.example.org", "bad..name"}),
      "spec.acme.solvers[0].selector.dnsNames[1]", "\"bad..name\" is not a valid DNS name");
  ExpectFieldError(ParseWith("/spec/acme/solvers", "all"), "spec.acme.solvers", "must be a list");
}

TEST(IssuerTest, GatewayHTTPRouteRules) {
  const std::string p = "spec.acme.solvers[1].http01";
  auto with_route = [](const Json& route) {
    return ParseWith("/spec/acme/solvers/1/http01", Json{{"gatewayHTTPRoute", route}});
  };
  EXPECT_TRUE(with_route(Json{{"parentRefs", Json::array({Json{{"name", "gw"}}})}}).ok());
  ExpectFieldError(with_route(Json::object()), p + ".gatewayHTTPRoute.parentRefs", "required");
  ExpectFieldError(with_route(Json{{"parentRefs", Json::array({Json{{"namespace", "infra"}}})}}),
                   p + ".gatewayHTTPRoute.parentRefs[0].name", "required");
  ExpectFieldError(
      with_route(Json{{"parentRefs", Json::array({Json{{"name", "gw"}}, Json{{"name", "Bad_"}}})}}),
      p + ".gatewayHTTPRoute.parentRefs[1].name", "\"Bad_\" is not a valid object name");
  ExpectFieldError(
      with_route(Json{{"parentRefs", Json::array({Json{{"name", "gw"}, {"port", 70000}}})}}),
      p + ".gatewayHTTPRoute.parentRefs[0].port", "must be between 1 and 65535");
  ExpectFieldError(
      with_route(
          Json{{"parentRefs", Json::array({Json{{"name", "gw"}, {"namespace", "a.b"}}})}}),
      p + ".gatewayHTTPRoute.parentRefs[0].namespace", "\"a.b\" is not a namespace name");
  ExpectFieldError(with_route(Json{{"parentRefs", Json::array({Json{{"name", "gw"}}})},
                                   {"serviceType", "LoadBalancer"}}),
                   p + ".gatewayHTTPRoute.serviceType", "\"LoadBalancer\" is not one of");
  ExpectFieldError(with_route(Json{{"parentRefs", "gw"}}), p + ".gatewayHTTPRoute.parentRefs",
                   "must be a list");
  ExpectFieldError(
      ParseWith("/spec/acme/solvers/1/http01/gatewayHTTPRoute",
                Json{{"parentRefs", Json::array({Json{{"name", "gw"}}})}}),
      p, "set only one of ingress and gatewayHTTPRoute");
}

TEST(IssuerTest, Dns01FieldsParseAndRoundTrip) {
  Json j = ValidIssuer();
  j["spec"]["acme"]["solvers"][0]["dns01"]["nameservers"] = {"10.0.0.53", "[2001:db8::53]:5353"};
  j["spec"]["acme"]["solvers"][0]["dns01"]["cnameStrategy"] = "Follow";
  j["spec"]["acme"]["solvers"][0]["dns01"]["rfc2136"]["protocol"] = "TCP";
  j["spec"]["acme"]["solvers"][0]["dns01"]["rfc2136"]["nameserver"] = "[2001:db8::1]:53";
  j["spec"]["acme"]["solvers"][2]["dns01"]["webhook"] = {
      {"url", "https://hook.internal/x"},
      {"caBundle", Base64Encode("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")},
      {"config", {{"zone", "x"}}}};
  Result<Issuer> i = Issuer::FromJson(j);
  ASSERT_TRUE(i.ok()) << i.status().message();
  const Dns01Solver& d = *i->spec.acme.solvers[0].dns01;
  EXPECT_EQ(d.nameservers, (std::vector<std::string>{"10.0.0.53", "[2001:db8::53]:5353"}));
  EXPECT_EQ(d.rfc2136->protocol, "TCP");
  const WebhookSolver& w = *i->spec.acme.solvers[2].dns01->webhook;
  EXPECT_EQ(w.url, "https://hook.internal/x");
  EXPECT_TRUE(w.group_name.empty());
  Result<Issuer> again = Issuer::FromJson(i->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->ToJson(), i->ToJson());
}

TEST(IssuerTest, Dns01Rules) {
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/rfc2136/nameserver", "10.0.0.53:0"),
                   "spec.acme.solvers[0].dns01.rfc2136.nameserver",
                   "\"10.0.0.53:0\": the port must be a number from 1 to 65535");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/rfc2136/nameserver", "[10.0.0.53]"),
                   "spec.acme.solvers[0].dns01.rfc2136.nameserver",
                   "\"[10.0.0.53]\": brackets are for IPv6 addresses");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/nameservers", Json{"ok:53", "a b"}),
                   "spec.acme.solvers[0].dns01.nameservers[1]",
                   "\"a b\" is not host, host:port, [IPv6] or [IPv6]:port");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/rfc2136/protocol", "udp"),
                   "spec.acme.solvers[0].dns01.rfc2136.protocol", "\"udp\" is not one of");
  ExpectFieldError(ParseWith("/spec/acme/solvers/2/dns01/webhook/url", "http://hook/x"),
                   "spec.acme.solvers[2].dns01.webhook.url", "must be an https:// URL");
  ExpectFieldError(ParseWith("/spec/acme/solvers/2/dns01/webhook/caBundle", "bm90IGEgY2VydA=="),
                   "spec.acme.solvers[2].dns01.webhook.caBundle", "only used with url");
  ExpectFieldError(ParseWith("/spec/acme/solvers/2/dns01/webhook", Json{{"config", {}}}),
                   "spec.acme.solvers[2].dns01.webhook.groupName", "required (unless url is set)");
  ExpectFieldError(ParseWith("/spec/acme/solvers/0/dns01/rfc2136/tsigKeyName", nullptr),
                   "spec.acme.solvers[0].dns01.rfc2136.tsigKeyName",
                   "required when tsigSecretSecretRef is set");
}

TEST(IssuerTest, Restrictions) {
  Json j = ValidIssuer();
  j["spec"]["allowedNamespaces"] = {"shop", "web"};
  j["spec"]["allowedDNSZones"] = {"example.org"};
  Result<Issuer> i = Issuer::FromJson(j);
  ASSERT_TRUE(i.ok()) << i.status().message();
  EXPECT_TRUE(i->AllowsNamespace("shop"));
  EXPECT_FALSE(i->AllowsNamespace("other"));
  EXPECT_TRUE(i->AllowsDnsName("a.b.example.org"));
  EXPECT_TRUE(i->AllowsDnsName("*.example.org"));
  EXPECT_FALSE(i->AllowsDnsName("example.com"));
  j["kind"] = "Issuer";
  ExpectFieldError(Issuer::FromJson(j).status(), "spec.allowedNamespaces",
                   "only a ClusterIssuer can restrict namespaces");
  j["kind"] = "ClusterIssuer";
  j["spec"]["allowedNamespaces"][1] = "Web";
  ExpectFieldError(Issuer::FromJson(j).status(), "spec.allowedNamespaces[1]",
                   "\"Web\" is not a namespace name");
}

TEST(IssuerTest, ToJsonRoundTripsSpecAndStatus) {
  Result<Issuer> i = Issuer::FromJson(ValidIssuer());
  ASSERT_TRUE(i.ok());
  i->status.acme.uri = "https://acme.example/acct/1";
  i->status.acme.last_registered_email = "pki@example.org";
  Json j = i->ToJson();
  EXPECT_EQ(j["kind"], "ClusterIssuer");
  EXPECT_EQ(j["status"]["acme"]["uri"], "https://acme.example/acct/1");
  Result<Issuer> again = Issuer::FromJson(j);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->ToJson(), j);
}

}  // namespace
}  // namespace certsmith::api
