// `kubectl certsmith convert`: cert-manager's objects in, certsmith's out; every field certsmith
// has no equivalent for listed, never dropped in silence.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api/certificate.h"
#include "api/issuer.h"
#include "plugin/convert/converter.h"
#include "plugin/convert/crd_schemas.h"
#include "kube/manifests.h"

namespace certsmith::plugin {
namespace {

using Json = nlohmann::json;

std::vector<Json> Load(const std::string& file) {
  std::ifstream in(std::string(CERTSMITH_PLUGIN_TESTDATA) + "/" + file);
  std::stringstream text;
  text << in.rdbuf();
  auto docs = kube::ParseManifests(text.str(), file);
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  return docs.ok() ? *docs : std::vector<Json>{};
}

ConversionResult ConvertFiles(std::initializer_list<const char*> files) {
  std::vector<Json> inputs;
  for (const char* f : files) {
    auto docs = Load(f);
    inputs.insert(inputs.end(), docs.begin(), docs.end());
  }
  return Convert(inputs, {});
}

const ConvertedObject* Find(const ConversionResult& r, const std::string& kind,
                            const std::string& name) {
  for (const ConvertedObject& o : r.objects) {
    if (o.object.value("kind", "") == kind && o.object["metadata"].value("name", "") == name) {
      return &o;
    }
  }
  return nullptr;
}

std::vector<const Note*> NotesAbout(const ConversionResult& r, const std::string& object,
                                    Note::Kind kind) {
  std::vector<const Note*> out;
  for (const Note& n : r.notes) {
    if (n.object == object && n.kind == kind) out.push_back(&n);
  }
  return out;
}

bool Listed(const ConversionResult& r, const std::string& object, const std::string& path,
            Note::Kind kind = Note::Kind::kDropped) {
  for (const Note* n : NotesAbout(r, object, kind)) {
    if (n->path == path) return true;
  }
  return false;
}

// Every leaf of in's spec is in out's spec at the same path, or under a path listed as
// dropped (or rewritten on purpose, in allowed).
void ExpectNothingLostSilently(const Json& in, const Json& out, const std::string& path,
                               const std::vector<std::string>& dropped,
                               const std::vector<std::string>& allowed) {
  for (const std::string& d : dropped) {
    if (path == d || path.rfind(d + ".", 0) == 0 || path.rfind(d + "[", 0) == 0) return;
  }
  for (const std::string& a : allowed) {
    if (path == a) return;
  }
  if (in.is_object()) {
    ASSERT_TRUE(out.is_object()) << path << " lost";
    for (auto it = in.begin(); it != in.end(); ++it) {
      const std::string child = path + "." + it.key();
      if (std::find(allowed.begin(), allowed.end(), child) != allowed.end()) continue;
      bool listed = false;
      for (const std::string& d : dropped) listed |= child == d || child.rfind(d + ".", 0) == 0;
      if (listed) continue;
      ASSERT_TRUE(out.contains(it.key())) << child << " dropped in silence";
      ExpectNothingLostSilently(it.value(), out[it.key()], child, dropped, allowed);
    }
  } else if (in.is_array()) {
    ASSERT_TRUE(out.is_array() && out.size() == in.size()) << path << " lost items";
    for (size_t i = 0; i < in.size(); ++i) {
      ExpectNothingLostSilently(in[i], out[i], path + "[" + std::to_string(i) + "]", dropped,
                                allowed);
    }
  } else {
    EXPECT_EQ(in, out) << path << " changed";
  }
}

std::vector<std::string> DroppedPaths(const ConversionResult& r, const std::string& object) {
  std::vector<std::string> out;
  for (const Note* n : NotesAbout(r, object, Note::Kind::kDropped)) out.push_back(n->path);
  return out;
}

TEST(CrdSchemaTest, EveryConvertedKindHasItsEmbeddedSchema) {
  for (const char* kind : {"Certificate", "Issuer", "ClusterIssuer"}) {
    const Json& schema = CertsmithSpecSchema(kind);
    ASSERT_TRUE(schema.is_object()) << kind;
    EXPECT_TRUE(schema.contains("properties")) << kind;
  }
  EXPECT_TRUE(CertsmithSpecSchema("Certificate")["properties"].contains("secretName"));
  EXPECT_TRUE(CertsmithSpecSchema("Order").is_null());
}

TEST(ConvertTest, ACertificateKeepsEveryFieldCertsmithHasAndListsTheRest) {
  const Json in = Load("cert-manager-certificate.yaml")[0];
  ConversionResult r = Convert({in}, {});
  const ConvertedObject* www = Find(r, "Certificate", "www");
  ASSERT_NE(www, nullptr);
  const Json& out = www->object;
  EXPECT_EQ(out["apiVersion"], "certsmith.io/v1");
  EXPECT_EQ(out["metadata"],
            (Json{{"name", "www"}, {"namespace", "shop"}, {"labels", {{"app", "shop"}}}}));
  const Json& spec = out["spec"];
  // Same names, same meaning: copied as they are.
  EXPECT_EQ(spec["secretName"], "www-tls");
  EXPECT_EQ(spec["dnsNames"], Json::array({"www.example.org", "example.org"}));
  EXPECT_EQ(spec["subject"]["organizations"], Json::array({"Example Shop"}));
  EXPECT_EQ(spec["privateKey"]["algorithm"], "RSA");
  EXPECT_EQ(spec["renewBefore"], "360h");
  EXPECT_EQ(spec["secretTemplate"]["labels"]["tier"], "web");
  // issuerRef.group cert-manager.io means certsmith.io here: written as certsmith's default.
  EXPECT_EQ(spec["issuerRef"], (Json{{"name", "letsencrypt-prod"}, {"kind", "ClusterIssuer"}}));
  // What certsmith lacks is listed and taken out.
  EXPECT_TRUE(Listed(r, "Certificate shop/www", "spec.futureField"));
  EXPECT_FALSE(spec.contains("futureField"));
  // What certsmith has but refuses (ACME CAs never honour name constraints) is kept, and the
  // object is listed as one certsmith would refuse as it stands.
  EXPECT_TRUE(spec.contains("nameConstraints"));
  EXPECT_FALSE(NotesAbout(r, "Certificate shop/www", Note::Kind::kInvalid).empty());
  EXPECT_TRUE(Listed(r, "Certificate shop/www",
                     "metadata.annotations[cert-manager.io/issue-temporary-certificate]"));
  // Whatever certsmith's schema has today, nothing else went missing.
  Json in_spec = in["spec"];
  ExpectNothingLostSilently(in_spec, spec, "spec", DroppedPaths(r, "Certificate shop/www"),
                            {"spec.issuerRef.group"});
  // Each listed field is really absent from certsmith's schema (not dropped by mistake).
  for (const std::string& path : DroppedPaths(r, "Certificate shop/www")) {
    if (path.rfind("spec.", 0) != 0) continue;
    const std::string top = path.substr(5, path.find_first_of(".[", 5) - 5);
    const Json& props = CertsmithSpecSchema("Certificate")["properties"];
    if (path.find_first_of(".[", 5) == std::string::npos) {
      EXPECT_FALSE(props.contains(top)) << path;
    }
  }
}

TEST(ConvertTest, CertManagersDefaultKeyIsWrittenOutSoTheSecretIsAdopted) {
  ConversionResult r = ConvertFiles({"cert-manager-misc.yaml"});
  const ConvertedObject* c = Find(r, "Certificate", "defaults");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->object["spec"]["privateKey"], (Json{{"algorithm", "RSA"}}));
  EXPECT_TRUE(
      Listed(r, "Certificate shop/defaults", "spec.privateKey.algorithm", Note::Kind::kChanged));
  EXPECT_TRUE(api::Certificate::FromJson(c->object).ok());
  EXPECT_TRUE(NotesAbout(r, "Certificate shop/defaults", Note::Kind::kInvalid).empty());
}

TEST(ConvertTest, WhatCertsmithCannotServeIsSkippedWithTheReason) {
  ConversionResult r = ConvertFiles({"cert-manager-misc.yaml"});
  // A CA issuer and the Certificate that uses it.
  EXPECT_EQ(Find(r, "Issuer", "internal-ca"), nullptr);
  EXPECT_TRUE(Listed(r, "Issuer shop/internal-ca", "spec.ca", Note::Kind::kSkipped));
  EXPECT_EQ(Find(r, "Certificate", "internal"), nullptr);
  EXPECT_TRUE(Listed(r, "Certificate shop/internal", "spec.issuerRef", Note::Kind::kSkipped));
  // An external issuer.
  EXPECT_EQ(Find(r, "Certificate", "pca"), nullptr);
  EXPECT_TRUE(Listed(r, "Certificate shop/pca", "spec.issuerRef.group", Note::Kind::kSkipped));
  // The ingress-shim's own: certsmith's shim makes it from the Ingress.
  EXPECT_EQ(Find(r, "Certificate", "shop-tls"), nullptr);
  ASSERT_EQ(NotesAbout(r, "Certificate shop/shop-tls", Note::Kind::kSkipped).size(), 1u);
  EXPECT_NE(NotesAbout(r, "Certificate shop/shop-tls", Note::Kind::kSkipped)[0]->text.find(
                "Ingress shop"),
            std::string::npos);
  // A runtime object.
  EXPECT_FALSE(NotesAbout(r, "CertificateRequest shop/www-1", Note::Kind::kSkipped).empty());
  // A value certsmith's validation refuses is converted and said to be refused.
  const ConvertedObject* edwards = Find(r, "Certificate", "edwards");
  ASSERT_NE(edwards, nullptr);
  auto invalid = NotesAbout(r, "Certificate shop/edwards", Note::Kind::kInvalid);
  ASSERT_EQ(invalid.size(), 1u);
  EXPECT_NE(invalid[0]->text.find("spec.privateKey"), std::string::npos);
  // Not cert-manager's: passed through as it is, nothing said.
  const ConvertedObject* cm = Find(r, "ConfigMap", "settings");
  ASSERT_NE(cm, nullptr);
  EXPECT_TRUE(cm->from.empty());
  EXPECT_EQ(cm->object["data"]["mode"], "on");
  EXPECT_FALSE(r.Lossless());
}

TEST(ConvertTest, AClusterIssuerLosesOnlyTheDnsProviderCertsmithLacks) {
  const Json in = Load("cert-manager-clusterissuer.yaml")[0];
  ConversionResult r = Convert({in}, {});
  const ConvertedObject* ci = Find(r, "ClusterIssuer", "letsencrypt-prod");
  ASSERT_NE(ci, nullptr);
  const Json& out = ci->object;
  EXPECT_EQ(out["apiVersion"], "certsmith.io/v1");
  EXPECT_FALSE(out.contains("status"));
  EXPECT_EQ(out["metadata"],
            (Json{{"name", "letsencrypt-prod"}, {"annotations", {{"team", "platform"}}}}));
  const Json& acme = out["spec"]["acme"];
  EXPECT_EQ(acme["server"], in["spec"]["acme"]["server"]);
  EXPECT_EQ(acme["privateKeySecretRef"]["name"], "letsencrypt-prod-account");
  EXPECT_EQ(acme["preferredChain"], "ISRG Root X1");
  // The Route 53 solver is gone, listed with what to do; the others stay, in order.
  ASSERT_EQ(acme["solvers"].size(), 2u);
  EXPECT_TRUE(acme["solvers"][0].contains("http01"));
  EXPECT_EQ(acme["solvers"][1]["dns01"]["rfc2136"]["tsigKeyName"], "acme-update");
  const std::string who = "ClusterIssuer letsencrypt-prod";
  ASSERT_TRUE(Listed(r, who, "spec.acme.solvers[1].dns01.route53"));
  for (const Note* n : NotesAbout(r, who, Note::Kind::kDropped)) {
    if (n->path == "spec.acme.solvers[1].dns01.route53") {
      EXPECT_NE(n->text.find("dns01.webhook"), std::string::npos) << n->text;
    }
  }
  EXPECT_TRUE(Listed(r, who, "spec.acme.solvers[1]"));
  // Its Secrets live in cert-manager's namespace: to copy, named.
  auto todo = NotesAbout(r, who, Note::Kind::kAction);
  ASSERT_EQ(todo.size(), 1u);
  EXPECT_NE(todo[0]->text.find("letsencrypt-prod-account, tsig-secret"), std::string::npos)
      << todo[0]->text;
  EXPECT_NE(todo[0]->text.find("(cert-manager) to certsmith's (certsmith)"), std::string::npos);
  EXPECT_TRUE(NotesAbout(r, who, Note::Kind::kInvalid).empty());
  EXPECT_TRUE(api::Issuer::FromJson(out).ok());
}

TEST(ConvertTest, AnIssuerWithEabConvertsWithoutLoss) {
  ConversionResult r = ConvertFiles({"cert-manager-issuer-eab.yaml"});
  const ConvertedObject* iss = Find(r, "Issuer", "zerossl");
  ASSERT_NE(iss, nullptr);
  EXPECT_EQ(iss->object["spec"]["acme"]["externalAccountBinding"]["keyAlgorithm"], "HS256");
  EXPECT_TRUE(r.Lossless());
  EXPECT_TRUE(r.notes.empty());  // a namespaced Issuer's Secrets are where they were
}

TEST(ConvertTest, AnIssuerLeftWithoutSolversIsSaidToBeRefused) {
  Json in = Load("cert-manager-issuer-eab.yaml")[0];
  in["spec"]["acme"]["solvers"] = {{{"dns01", {{"cloudflare", {{"email", "a@example.org"}}}}}}};
  ConversionResult r = Convert({in}, {});
  ASSERT_NE(Find(r, "Issuer", "zerossl"), nullptr);
  EXPECT_TRUE(Listed(r, "Issuer shop/zerossl", "spec.acme.solvers[0].dns01.cloudflare"));
  EXPECT_TRUE(Listed(r, "Issuer shop/zerossl", "spec.acme.solvers", Note::Kind::kInvalid));
}

TEST(ConvertTest, AnIngressGetsCertsmithsAnnotationsAndKeepsCertManagers) {
  ConversionResult r = ConvertFiles({"ingress.yaml"});
  const ConvertedObject* ing = Find(r, "Ingress", "shop");
  ASSERT_NE(ing, nullptr);
  const Json& a = ing->object["metadata"]["annotations"];
  EXPECT_EQ(a["certsmith.io/cluster-issuer"], "letsencrypt-prod");
  EXPECT_EQ(a["certsmith.io/renew-before"], "720h");
  EXPECT_EQ(a["certsmith.io/private-key-algorithm"], "RSA");           // cert-manager's default
  EXPECT_EQ(a["cert-manager.io/cluster-issuer"], "letsencrypt-prod");  // kept for a rollback
  EXPECT_EQ(a["nginx.ingress.kubernetes.io/ssl-redirect"], "true");
  EXPECT_FALSE(ing->object.contains("status"));
  EXPECT_FALSE(ing->object["metadata"].contains("resourceVersion"));
  EXPECT_EQ(ing->object["spec"]["tls"][0]["secretName"], "shop-tls");
  EXPECT_TRUE(Listed(r, "Ingress shop/shop", "cert-manager.io/subject-organizations"));
  EXPECT_TRUE(Listed(r, "Ingress shop/shop", "acme.cert-manager.io/http01-edit-in-place"));
  EXPECT_TRUE(
      Listed(r, "Ingress shop/shop", "certsmith.io/private-key-algorithm", Note::Kind::kChanged));
  EXPECT_TRUE(NotesAbout(r, "Ingress shop/shop", Note::Kind::kInvalid).empty());
}

TEST(ConvertTest, TlsAcmeWithoutAnIssuerIsSomethingToDo) {
  ConversionResult r = ConvertFiles({"ingress-tls-acme.yaml"});
  ASSERT_NE(Find(r, "Ingress", "legacy"), nullptr);
  auto todo = NotesAbout(r, "Ingress shop/legacy", Note::Kind::kAction);
  ASSERT_EQ(todo.size(), 1u);
  EXPECT_NE(todo[0]->text.find("certsmith.io/cluster-issuer"), std::string::npos);
}

TEST(ConvertTest, TheYamlStreamReadsBackAsTheObjectsWithTheNotesAsComments) {
  ConversionResult r =
      ConvertFiles({"cert-manager-clusterissuer.yaml", "cert-manager-certificate.yaml",
                    "cert-manager-misc.yaml", "ingress.yaml"});
  const std::string yaml = ToYamlStream(r);
  auto back = kube::ParseManifests(yaml, "output");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), r.objects.size());
  for (size_t i = 0; i < back->size(); ++i) EXPECT_EQ((*back)[i], r.objects[i].object);
  EXPECT_NE(yaml.find("# Converted from cert-manager.io/v1 Certificate shop/www"),
            std::string::npos);
  EXPECT_NE(yaml.find("#   [not converted] spec.futureField: "), std::string::npos);
  EXPECT_EQ(ToJsonList(r)["items"].size(), r.objects.size());
}

}  // namespace
}  // namespace certsmith::plugin
