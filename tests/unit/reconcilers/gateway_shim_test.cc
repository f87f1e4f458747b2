#include "gateway/gateway_shim.h"

#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

Json Listener(const std::string& name, const std::string& hostname, Json refs,
              const std::string& mode = "") {
  Json l = {{"name", name}, {"port", 443}, {"protocol", "HTTPS"}};
  if (!hostname.empty()) l["hostname"] = hostname;
  if (!refs.is_null()) {
    l["tls"] = {{"certificateRefs", refs}};
    if (!mode.empty()) l["tls"]["mode"] = mode;
  }
  return l;
}
Json SecretRef(const std::string& name, const std::string& ns = "") {
  Json r = {{"kind", "Secret"}, {"group", ""}, {"name", name}};
  if (!ns.empty()) r["namespace"] = ns;
  return r;
}

Json Gateway(Json annotations, Json listeners) {
  return {{"apiVersion", "gateway.networking.k8s.io/v1"},
          {"kind", "Gateway"},
          {"metadata", {{"name", "gw"}, {"namespace", "default"}, {"annotations", annotations}}},
          {"spec", {{"gatewayClassName", "testbed"}, {"listeners", listeners}}}};
}

const Json kClusterIssuer = {{"certsmith.io/cluster-issuer", "ca"}};

// The listener-to-Certificate mapping, without the API.
TEST(GatewayPlanTest, OneCertificatePerSecretWithTheHostnamesOfItsListeners) {
  const Json gw = Gateway(
      kClusterIssuer,
      Json::array({Listener("http", "a.example", nullptr),  // no TLS: not counted
                   Listener("a", "a.example", Json::array({SecretRef("shared")})),
                   Listener("www", "www.a.example", Json::array({SecretRef("shared", "default")})),
                   Listener("b", "b.example", Json::array({SecretRef("b-tls")})),
                   Listener("pass", "p.example", Json::array({SecretRef("p-tls")}), "Passthrough"),
                   Listener("other", "o.example",
                            Json::array({Json{
                                {"group", "example.net"}, {"kind", "Vault"}, {"name", "v"}}}))}));
  IngressPlan plan = PlanGatewayCertificates(gw, {});
  EXPECT_TRUE(plan.blocking.empty());
  EXPECT_TRUE(plan.entry_problems.empty()) << plan.entry_problems[0];
  ASSERT_EQ(plan.certificates.size(), 2u);
  EXPECT_EQ(plan.certificates[0].name, "shared");
  EXPECT_EQ(plan.certificates[0].secret_name, "shared");
  EXPECT_EQ(plan.certificates[0].namespace_, "default");
  EXPECT_EQ(plan.certificates[0].dns_names,
            (std::vector<std::string>{"a.example", "www.a.example"}));
  EXPECT_EQ(plan.certificates[0].issuer_ref.kind, "ClusterIssuer");
  EXPECT_EQ(plan.certificates[1].name, "b-tls");
  EXPECT_EQ(plan.certificates[1].dns_names, (std::vector<std::string>{"b.example"}));
}

TEST(GatewayPlanTest, MistakesAreProblemsAndKeepTheSecretNamed) {
  const Json gw =
      Gateway(kClusterIssuer,
              Json::array({Listener("nohost", "", Json::array({SecretRef("a-tls")})),
                           Listener("far", "f.example", Json::array({SecretRef("f-tls", "other")})),
                           Listener("ok", "b.example", Json::array({SecretRef("b-tls")}))}));
  IngressPlan plan = PlanGatewayCertificates(gw, {});
  ASSERT_EQ(plan.entry_problems.size(), 2u);
  EXPECT_NE(plan.entry_problems[0].find("listener nohost (spec.listeners[0]) has no hostname"),
            std::string::npos)
      << plan.entry_problems[0];
  EXPECT_NE(plan.entry_problems[1].find("Secret other/f-tls in another namespace"),
            std::string::npos)
      << plan.entry_problems[1];
  ASSERT_EQ(plan.certificates.size(), 1u);
  EXPECT_EQ(plan.certificates[0].name, "b-tls");
  EXPECT_EQ(plan.named_secrets, (std::vector<std::string>{"a-tls", "f-tls", "b-tls"}));
}

TEST(GatewayPlanTest, AnnotationsAsOnIngresses) {
  Json annotations = {{"cert-manager.io/issuer", "le"},
                      {"cert-manager.io/duration", "2160h"},
                      {"cert-manager.io/private-key-algorithm", "ECDSA"}};
  const Json listeners = Json::array({Listener("a", "a.example", Json::array({SecretRef("a")}))});
  EXPECT_FALSE(PlanGatewayCertificates(Gateway(annotations, listeners), {}).issuer.has_value());
  IngressPlan plan = PlanGatewayCertificates(Gateway(annotations, listeners),
                                             {.honour_cert_manager_annotations = true});
  ASSERT_EQ(plan.certificates.size(), 1u);
  EXPECT_EQ(plan.certificates[0].issuer_ref.kind, "Issuer");
  EXPECT_EQ(plan.certificates[0].issuer_ref.name, "le");
  EXPECT_EQ(plan.certificates[0].duration, std::chrono::hours(2160));
  EXPECT_EQ(plan.certificates[0].key_algorithm, "ECDSA");
  // A typo blocks everything, as on an Ingress.
  plan = PlanGatewayCertificates(
      Gateway({{"certsmith.io/cluster-issuer", "ca"}, {"certsmith.io/duraton", "1h"}}, listeners),
      {});
  EXPECT_EQ(plan.blocking.size(), 1u);
  EXPECT_TRUE(plan.certificates.empty());
}

class GatewayShimTest : public ReconcilerTest {
 protected:
  SyncResult Sync() { return IngressShim(ctx, {}, GatewayShimSource()).Sync("default/gw"); }
  std::optional<Json> Cert(const std::string& name) {
    return kube.Peek(api::kCertificates, "default", name);
  }
  void SetAnnotations(Json annotations) {
    Json gw = *kube.Peek(kube::kGateways, "default", "gw");
    gw["metadata"]["annotations"] = annotations;
    ASSERT_TRUE(kube.Update(kube::kGateways, "default", gw).ok());
  }
  std::vector<std::string> CertWrites() {
    std::vector<std::string> out;
    for (const std::string& w : Writes()) {
      if (w.find(" certificates ") != std::string::npos) out.push_back(w);
    }
    return out;
  }
};

// Two HTTPS listeners sharing one Secret: one Certificate with both names, owned by the
// Gateway; a second sync writes nothing; removing the annotation deletes the Certificate and
// keeps the Secret.
TEST_F(GatewayShimTest, OwnedCertificateForSharedSecretAndCleanupOnAnnotationRemoval) {
  AddReadyIssuer();
  kube.Add(kube::kGateways,
           Gateway(kClusterIssuer,
                   Json::array({Listener("a", "a.example", Json::array({SecretRef("web-tls")})),
                                Listener("b", "b.example", Json::array({SecretRef("web-tls")}))})));
  kube.Add(kube::kSecrets, Secret("default", "web-tls", {{"tls.crt", "x"}}));
  ASSERT_TRUE(Sync().status.ok());
  Json cert = *Cert("web-tls");
  EXPECT_EQ(cert["spec"]["dnsNames"], Json::array({"a.example", "b.example"}));
  EXPECT_EQ(cert["spec"]["secretName"], "web-tls");
  EXPECT_EQ(cert["metadata"]["labels"][kGatewayShimLabel], "true");
  const Json& owner = cert["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "Gateway");
  EXPECT_EQ(owner["apiVersion"], "gateway.networking.k8s.io/v1");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(ShimOwnerKey(cert, GatewayShimSource()), "default/gw");
  EXPECT_FALSE(IngressShimOwnerKey(cert).has_value());
  EXPECT_EQ(EventsWithReason("CertificateCreated").size(), 1u);

  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty()) << "no update loop";

  SetAnnotations(Json::object());
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_EQ(CertWrites(), (std::vector<std::string>{"delete certificates default/web-tls"}));
  EXPECT_FALSE(Cert("web-tls").has_value());
  EXPECT_TRUE(kube.Peek(kube::kSecrets, "default", "web-tls").has_value());
}

// Mistakes are Warning events on the Gateway and delete nothing: a Certificate of that name it
// does not own stays as it is, and one it made stays when its listener loses its hostname.
TEST_F(GatewayShimTest, MistakesWarnAndNeverDelete) {
  AddReadyIssuer();
  Json theirs = Certificate({"x.example"});
  theirs["metadata"]["name"] = "b-tls";
  theirs["spec"]["secretName"] = "b-tls";
  kube.Add(api::kCertificates, theirs);
  kube.Add(kube::kGateways,
           Gateway(kClusterIssuer,
                   Json::array({Listener("a", "a.example", Json::array({SecretRef("a-tls")})),
                                Listener("b", "b.example", Json::array({SecretRef("b-tls")})),
                                Listener("far", "f.example",
                                         Json::array({SecretRef("f-tls", "elsewhere")}))})));
  ASSERT_TRUE(Sync().status.ok());
  ASSERT_TRUE(Cert("a-tls").has_value());
  EXPECT_EQ((*Cert("b-tls"))["spec"]["dnsNames"], Json::array({"x.example"}));
  ASSERT_EQ(EventsWithReason("CertificateNotOwned").size(), 1u);
  EXPECT_NE(EventsWithReason("CertificateNotOwned")[0]["message"].get<std::string>().find(
                "was not made by this Gateway"),
            std::string::npos);
  ASSERT_EQ(EventsWithReason("InvalidListener").size(), 1u);
  EXPECT_EQ(EventsWithReason("InvalidListener")[0]["type"], "Warning");

  Json gw = *kube.Peek(kube::kGateways, "default", "gw");
  gw["spec"]["listeners"][0].erase("hostname");
  ASSERT_TRUE(kube.Update(kube::kGateways, "default", gw).ok());
  kube.ClearActions();
  ASSERT_TRUE(Sync().status.ok());
  EXPECT_TRUE(CertWrites().empty());
  EXPECT_TRUE(Cert("a-tls").has_value()) << "a listener mistake deletes nothing";
  EXPECT_TRUE(Cert("b-tls").has_value());
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
