// The dns-01 provider conformance suite (cert-manager's idea): every provider presents a record,
// the record is visible at the zone's authoritative server, two values on one name survive
// removing one of them, cleaning up twice is harmless, and the record is gone at the end.
// Visibility is checked twice: with certsmith's propagation check (LdnsDnsClient, the NS walk)
// and independently with `dig`.
//
// run_conformance.sh starts, inside a network namespace of its own: BIND 9 on port 53 with a key
// per TSIG algorithm, the example webhook provider (tests/support/dns01_webhook.py), and a real
// Kubernetes API server whose aggregation layer routes to that provider through an APIService.
// It passes their addresses in the environment; a provider whose part is missing is skipped
// with the reason (and CI=true makes the wrapper fail instead).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "certsmith/base64.h"
#include "certsmith/http_transport.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "solvers/dns01/ldns_client.h"
#include "solvers/dns01/propagation.h"
#include "solvers/dns01/rfc2136_provider.h"
#include "solvers/dns01/webhook_provider.h"
#include "solvers/dns01/zone_lookup.h"

namespace certsmith::solvers::dns01 {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// name -> {algorithm, secret}, from TESTBED_TSIG_KEYS ("alg:name:secret ...").
struct KeySpec {
  std::string algorithm;
  std::string name;
  std::string secret_b64;
};
std::vector<KeySpec> Keys() {
  std::vector<KeySpec> out;
  std::istringstream words(Env("TESTBED_TSIG_KEYS"));
  std::string w;
  while (words >> w) {
    size_t a = w.find(':'), b = w.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.push_back({w.substr(0, a), w.substr(a + 1, b - a - 1), w.substr(b + 1)});
  }
  return out;
}

Nameserver Bind() { return ParseNameserver(Env("DNS01_BIND")).value(); }
std::string Zone() { return Fqdn(Env("DNS01_ZONE")); }

LdnsDnsClient& Dns() {
  static LdnsDnsClient dns;
  return dns;
}

TsigKey KeyFor(const std::string& algorithm) {
  for (const KeySpec& k : Keys()) {
    if (k.algorithm == algorithm) {
      auto algorithm = ParseTsigAlgorithm(k.algorithm);
      EXPECT_TRUE(algorithm.ok()) << algorithm.status().ToString();
      if (!algorithm.ok()) return {};
      return MakeTsigKey(k.name, *algorithm, k.secret_b64).value();
    }
  }
  ADD_FAILURE() << "no key for " << algorithm;
  return {};
}

// The TXT values of name at BIND, asked by dig (not by certsmith's code).
std::vector<std::string> DigTxt(const std::string& name) {
  const Nameserver ns = Bind();
  std::string cmd = "dig +short +norecurse @" + ns.host + " -p " + std::to_string(ns.port) +
                    " TXT " + name + " 2>&1";
  std::vector<std::string> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char line[1024];
  while (fgets(line, sizeof(line), p) != nullptr) {
    std::string l(line);
    while (!l.empty() && (l.back() == '\n' || l.back() == '"')) l.pop_back();
    if (!l.empty() && l.front() == '"') l.erase(0, 1);
    if (!l.empty()) out.push_back(l);
  }
  pclose(p);
  std::sort(out.begin(), out.end());
  return out;
}

// What the zone's authoritative servers show, by certsmith's own propagation check (the
// default: NS records of the zone, each server asked without recursion on port 53).
Result<PropagationResult> Check(const std::string& fqdn, const std::string& value) {
  PropagationConfig config;
  config.lookup = {{Bind()}, true};
  return CheckPropagation(Dns(), config, fqdn, Zone(), value);
}

// Polls (integration tests may wait; BIND applies updates at once) until dig shows want.
bool Eventually(const std::string& name, const std::vector<std::string>& want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (DigTxt(name) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

struct ProviderCase {
  std::string name;
  // Builds the provider, or says why it cannot run here.
  std::function<Result<std::unique_ptr<Provider>>()> make;
};

void PrintTo(const ProviderCase& c, std::ostream* os) { *os << c.name; }

std::shared_ptr<HttpTransport> WebhookHttp() {
  TransportOptions o;
  o.tls.ca_pem = ReadFile(Env("DNS01_WEBHOOK_CA"));
  o.tls.ca_only = true;
  return std::shared_ptr<HttpTransport>(MakeCpprestTransport(o));
}

kube::Client* ApiServer() {
  static std::unique_ptr<kube::RestClient> client = [] {
    std::unique_ptr<kube::RestClient> c;
    auto config = kube::LoadKubeconfig(Env("KUBECONFIG"));
    if (config.ok()) {
      auto made = kube::RestClient::Make(*config);
      if (made.ok()) c = std::move(made).value();
    }
    return c;
  }();
  return client.get();
}

std::vector<ProviderCase> Cases() {
  std::vector<ProviderCase> cases;
  for (const char* alg :
       {"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}) {
    cases.push_back(
        {std::string("rfc2136_udp_") + alg, [alg]() -> Result<std::unique_ptr<Provider>> {
           return std::unique_ptr<Provider>(std::make_unique<Rfc2136Provider>(
               Dns(), Rfc2136Config{Bind(), Transport::kUdp, KeyFor(alg), 60}));
         }});
  }
  cases.push_back({"rfc2136_tcp_hmac-sha256", []() -> Result<std::unique_ptr<Provider>> {
                     return std::unique_ptr<Provider>(std::make_unique<Rfc2136Provider>(
                         Dns(), Rfc2136Config{Bind(), Transport::kTcp, KeyFor("hmac-sha256"), 60}));
                   }});
  cases.push_back(
      {"webhook_url", []() -> Result<std::unique_ptr<Provider>> {
         if (Env("DNS01_WEBHOOK_URL").empty()) {
           return MakeError(ErrorCode::kFailedPrecondition, "no DNS01_WEBHOOK_URL");
         }
         return std::unique_ptr<Provider>(std::make_unique<WebhookProvider>(
             std::make_unique<HttpsWebhookTransport>(WebhookHttp(), Env("DNS01_WEBHOOK_URL")),
             Json::object()));
       }});
  cases.push_back({"webhook_aggregated", []() -> Result<std::unique_ptr<Provider>> {
                     if (Env("DNS01_WEBHOOK_GROUP").empty() || ApiServer() == nullptr) {
                       return MakeError(ErrorCode::kFailedPrecondition,
                                        "no API server with the webhook's APIService: " +
                                            Env("DNS01_AGGREGATION_UNAVAILABLE"));
                     }
                     return std::unique_ptr<Provider>(std::make_unique<WebhookProvider>(
                         std::make_unique<AggregatedWebhookTransport>(
                             *ApiServer(), Env("DNS01_WEBHOOK_GROUP"), Env("DNS01_WEBHOOK_SOLVER")),
                         Json::object()));
                   }});
  return cases;
}

class ConformanceTest : public ::testing::TestWithParam<ProviderCase> {
 protected:
  void SetUp() override {
    if (Env("DNS01_BIND").empty()) GTEST_SKIP() << "run through run_conformance.sh";
    auto made = GetParam().make();
    if (!made.ok()) GTEST_SKIP() << made.status().message();
    provider_ = std::move(made).value();
    std::string label = GetParam().name;
    for (char& c : label) {
      if (c == '_') c = '-';
    }
    fqdn_ = "_acme-challenge." + label + "." + Zone();
  }
  ChallengeRecord Rec(const std::string& value) {
    return {"uid-" + value, fqdn_.substr(16), fqdn_, Zone(), value, "default"};
  }

  std::unique_ptr<Provider> provider_;
  std::string fqdn_;
};

TEST_P(ConformanceTest, PresentsTwoValuesCleansUpOneThenTheOtherAndTheRecordIsGone) {
  // Present, and present again (a restarted controller does): one value at the server.
  ASSERT_TRUE(provider_->Present(Rec("value-one")).ok());
  ASSERT_TRUE(provider_->Present(Rec("value-one")).ok());
  ASSERT_TRUE(Eventually(fqdn_, {"value-one"})) << ::testing::PrintToString(DigTxt(fqdn_));
  auto seen = Check(fqdn_, "value-one");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_TRUE(seen->propagated) << seen->Summary();
  ASSERT_FALSE(seen->servers.empty());
  EXPECT_EQ(seen->servers[0].values, std::vector<std::string>{"value-one"});

  // A second value on the same name (a wildcard and its apex) keeps the first.
  ASSERT_TRUE(provider_->Present(Rec("value-two")).ok());
  ASSERT_TRUE(Eventually(fqdn_, {"value-one", "value-two"}));
  EXPECT_TRUE(Check(fqdn_, "value-two")->propagated);

  // Cleaning one up leaves the other; twice is harmless.
  ASSERT_TRUE(provider_->CleanUp(Rec("value-one")).ok());
  ASSERT_TRUE(provider_->CleanUp(Rec("value-one")).ok());
  ASSERT_TRUE(Eventually(fqdn_, {"value-two"})) << ::testing::PrintToString(DigTxt(fqdn_));
  auto after = Check(fqdn_, "value-one");
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->propagated);
  EXPECT_EQ(after->servers[0].values, std::vector<std::string>{"value-two"});

  // The last one goes: no TXT record at the name.
  ASSERT_TRUE(provider_->CleanUp(Rec("value-two")).ok());
  ASSERT_TRUE(Eventually(fqdn_, {}));
  auto gone = Check(fqdn_, "value-two");
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->servers[0].values.empty());
  EXPECT_TRUE(gone->servers[0].error.empty()) << gone->servers[0].error;
}

INSTANTIATE_TEST_SUITE_P(Providers, ConformanceTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<ProviderCase>& i) {
                           std::string n = i.param.name;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

// --- what each provider says when it cannot, against the real servers -------------------------

class ProviderErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("DNS01_BIND").empty()) GTEST_SKIP() << "run through run_conformance.sh";
  }
  static ChallengeRecord Rec() {
    return {"uid-e", "errors." + Zone(), "_acme-challenge.errors." + Zone(), Zone(), "v", "ns"};
  }
};

TEST_F(ProviderErrorsTest, BindSaysBadSigForAWrongSecretAndTheSecretIsNowhere) {
  TsigKey key = KeyFor("hmac-sha256");
  const std::string real = key.secret;
  key.secret = "not the secret BIND has";
  Status s = Rfc2136Provider(Dns(), {Bind(), Transport::kUdp, key, 60}).Present(Rec());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("the server answered NOTAUTH with TSIG error BADSIG"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find(key.secret), std::string::npos);
  EXPECT_EQ(s.message().find(Base64Encode(real)), std::string::npos);
  EXPECT_TRUE(DigTxt(Rec().fqdn).empty());
}

TEST_F(ProviderErrorsTest, BindSaysBadKeyForAnUnknownKey) {
  TsigKey key = KeyFor("hmac-sha256");
  key.name = "nobody-knows-this-key.";
  Status s = Rfc2136Provider(Dns(), {Bind(), Transport::kTcp, key, 60}).Present(Rec());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TSIG error BADKEY"), std::string::npos) << s.message();
}

TEST_F(ProviderErrorsTest, BindRefusesAnUnsignedUpdateAndAZoneItDoesNotServe) {
  Status unsigned_update = Rfc2136Provider(Dns(), {Bind(), Transport::kUdp, {}, 60}).Present(Rec());
  ASSERT_FALSE(unsigned_update.ok());
  EXPECT_NE(unsigned_update.message().find("answered REFUSED"), std::string::npos)
      << unsigned_update.message();
  ChallengeRecord other = Rec();
  other.zone = "not-served.test.";
  other.fqdn = "_acme-challenge.not-served.test.";
  Status s =
      Rfc2136Provider(Dns(), {Bind(), Transport::kUdp, KeyFor("hmac-sha256"), 60}).Present(other);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("NOTAUTH"), std::string::npos) << s.message();
}

TEST_F(ProviderErrorsTest, AnUnreachableServerIsNamed) {
  // Nothing listens on port 9 (discard) in the test's network namespace.
  Nameserver nowhere{"127.0.0.1", 9};
  LdnsDnsClient quick({.timeout = std::chrono::milliseconds(300), .udp_attempts = 1});
  Status s =
      Rfc2136Provider(quick, {nowhere, Transport::kTcp, KeyFor("hmac-sha256"), 60}).Present(Rec());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("no answer from 127.0.0.1:9 over TCP"), std::string::npos)
      << s.message();
}

TEST_F(ProviderErrorsTest, ZoneFindingAndCnameFollowingAgainstBind) {
  LookupServers lookup{{Bind()}, true};
  EXPECT_EQ(FindZone(Dns(), lookup, "_acme-challenge.deep.www." + Zone()).value(), Zone());
  // An alias into a subdomain, as seed 001 recommends, written by nsupdate (certsmith itself
  // only ever writes TXT records).
  const std::string script = "server " + Bind().host + " " + std::to_string(Bind().port) +
                             "\nzone " + Zone() + "\nupdate add _acme-challenge.alias." + Zone() +
                             " 60 CNAME target.delegated." + Zone() + "\nsend\n";
  std::string key;
  for (const KeySpec& k : Keys()) {
    if (k.algorithm == "hmac-sha256") key = k.algorithm + ":" + k.name + ":" + k.secret_b64;
  }
  FILE* ns = popen(("nsupdate -y '" + key + "'").c_str(), "w");
  ASSERT_NE(ns, nullptr);
  fputs(script.c_str(), ns);
  ASSERT_EQ(pclose(ns), 0);
  auto end = FollowCnames(Dns(), lookup, "_acme-challenge.alias." + Zone());
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(*end, "target.delegated." + Zone());
  auto zone = FindZone(Dns(), lookup, "_acme-challenge.nothing-here.invalid");
  EXPECT_EQ(zone.status().code(), ErrorCode::kNotFound) << zone.status().ToString();
}

TEST_F(ProviderErrorsTest, AWebhookSaysNoThroughBothPaths) {
  ChallengeRecord r = Rec();
  Json config = {{"fail", "zone is locked by the registrar"}};
  if (!Env("DNS01_WEBHOOK_URL").empty()) {
    WebhookProvider direct(
        std::make_unique<HttpsWebhookTransport>(WebhookHttp(), Env("DNS01_WEBHOOK_URL")), config);
    Status s = direct.Present(r);
    EXPECT_NE(s.message().find("success: false: zone is locked by the registrar"),
              std::string::npos)
        << s.message();
    // A certificate the caBundle does not vouch for is refused.
    TransportOptions o;
    o.tls.ca_only = true;
    o.tls.ca_pem = ReadFile(Env("DNS01_WEBHOOK_OTHER_CA"));
    WebhookProvider untrusted(
        std::make_unique<HttpsWebhookTransport>(
            std::shared_ptr<HttpTransport>(MakeCpprestTransport(o)), Env("DNS01_WEBHOOK_URL")),
        Json::object());
    Status tls = untrusted.Present(r);
    EXPECT_FALSE(tls.ok());
    EXPECT_TRUE(DigTxt(r.fqdn).empty()) << "nothing may reach the provider";
  }
  if (ApiServer() != nullptr && !Env("DNS01_WEBHOOK_GROUP").empty()) {
    WebhookProvider aggregated(
        std::make_unique<AggregatedWebhookTransport>(*ApiServer(), Env("DNS01_WEBHOOK_GROUP"),
                                                     Env("DNS01_WEBHOOK_SOLVER")),
        config);
    Status s = aggregated.Present(r);
    EXPECT_NE(s.message().find("success: false: zone is locked by the registrar"),
              std::string::npos)
        << s.message();
  }
}

// The API server authorizes the caller before it forwards: a controller without `create` on
// the provider's resource gets a 403 naming it (what a provider's chart must grant, see
// controller/solvers/dns01/README.md), and with the rule it goes through.
TEST_F(ProviderErrorsTest, TheAggregationLayerNeedsCreateOnTheSolverResource) {
  if (Env("DNS01_UNPRIVILEGED_KUBECONFIG").empty()) GTEST_SKIP() << "no API server";
  auto config = kube::LoadKubeconfig(Env("DNS01_UNPRIVILEGED_KUBECONFIG"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto client = kube::RestClient::Make(*config);
  ASSERT_TRUE(client.ok());
  WebhookProvider p(std::make_unique<AggregatedWebhookTransport>(
                        **client, Env("DNS01_WEBHOOK_GROUP"), Env("DNS01_WEBHOOK_SOLVER")),
                    Json::object());
  Status s = p.Present(Rec());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("cannot create resource \"" + Env("DNS01_WEBHOOK_SOLVER") + "\""),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("in API group \"" + Env("DNS01_WEBHOOK_GROUP") + "\""),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace certsmith::solvers::dns01
