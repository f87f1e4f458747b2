#include "plugin/convert/converter.h"

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "api/certificate.h"
#include "api/issuer.h"
#include "ingress/ingress_shim.h"
#include "plugin/convert/crd_schemas.h"
#include "plugin/convert/field_advice.h"
#include "plugin/output.h"

namespace certsmith::plugin {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kCertManagerGroup = "cert-manager.io";
constexpr std::string_view kCertManagerPrefix = "cert-manager.io/";
constexpr std::string_view kAcmeCertManagerPrefix = "acme.cert-manager.io/";
constexpr std::string_view kTlsAcme = "kubernetes.io/tls-acme";
constexpr char kLastApplied[] = "kubectl.kubernetes.io/last-applied-configuration";
// cert-manager's issuer types besides acme.
constexpr std::string_view kIssuerTypes[] = {"ca", "selfSigned", "vault", "venafi"};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string Group(const Json& obj) {
  const std::string api_version = obj.value("apiVersion", "");
  const size_t slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

std::string Describe(const Json& obj) {
  const Json meta = obj.value("metadata", Json::object());
  const std::string ns = meta.value("namespace", "");
  const std::string name = meta.value("name", "");
  return obj.value("kind", "?") + " " + (ns.empty() ? name : ns + "/" + name);
}

std::string WithoutIndices(const std::string& path) {
  static const std::regex kIndex(R"(\[[0-9]+\])");
  return std::regex_replace(path, kIndex, "[]");
}

// The issuer kind cert-manager's field advice is keyed by.
std::string AdviceKind(const std::string& kind) {
  return kind == "ClusterIssuer" ? "Issuer" : kind;
}

class NoteSink {
 public:
  NoteSink(std::string object, std::vector<Note>* notes)
      : object_(std::move(object)), notes_(notes) {}
  void Add(Note::Kind kind, std::string path, std::string text) {
    notes_->push_back({kind, object_, std::move(path), std::move(text)});
  }

 private:
  std::string object_;
  std::vector<Note>* notes_;
};

// Takes out of value every field schema does not have, as the API server would prune it.
void Prune(const Json& schema, Json* value, const std::string& path,
           std::vector<std::string>* dropped) {
  if (!schema.is_object()) return;
  const bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
  if (value->is_object()) {
    const Json props = schema.value("properties", Json::object());
    const Json additional = schema.value("additionalProperties", Json());
    for (auto it = value->begin(); it != value->end();) {
      const std::string child = path + "." + it.key();
      auto p = props.find(it.key());
      if (p != props.end()) {
        Prune(*p, &it.value(), child, dropped);
        ++it;
      } else if (additional.is_object()) {
        Prune(additional, &it.value(), child, dropped);
        ++it;
      } else if (preserve || (additional.is_boolean() && additional.get<bool>())) {
        ++it;
      } else {
        dropped->push_back(child);
        it = value->erase(it);
      }
    }
  } else if (value->is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value->size(); ++i) {
      Prune(schema["items"], &(*value)[i], path + "[" + std::to_string(i) + "]", dropped);
    }
  }
}

// Fields certsmith's schema keeps only so cert-manager manifests apply, and its controller
// refuses: cert-manager's built-in DNS providers. A conversion leaves them out like unknown ones.
void DropRefused(Json* spec, std::vector<std::string>* dropped) {
  if (!spec->contains("acme") || !(*spec)["acme"].is_object()) return;
  Json& solvers = (*spec)["acme"]["solvers"];
  if (!solvers.is_array()) return;
  for (size_t i = 0; i < solvers.size(); ++i) {
    if (!solvers[i].is_object() || !solvers[i].contains("dns01")) continue;
    Json& dns01 = solvers[i]["dns01"];
    if (!dns01.is_object()) continue;
    for (const char* provider : api::kCertManagerDnsProviders) {
      if (dns01.erase(provider) > 0) {
        dropped->push_back("spec.acme.solvers[" + std::to_string(i) + "].dns01." + provider);
      }
    }
  }
}

void PruneSpec(const std::string& kind, Json* spec, NoteSink* notes) {
  std::vector<std::string> dropped;
  Prune(CertsmithSpecSchema(kind), spec, "spec", &dropped);
  if (kind != "Certificate") DropRefused(spec, &dropped);
  for (const std::string& path : dropped) {
    std::string text = "no certsmith equivalent";
    std::string_view advice = FieldAdvice(AdviceKind(kind), WithoutIndices(path));
    if (!advice.empty()) text += ": " + std::string(advice);
    notes->Add(Note::Kind::kDropped, path, text);
  }
}

// name, namespace, labels and annotations; cert-manager's own annotations are listed and left
// out (they mean nothing to certsmith), kubectl's last-applied bookkeeping is left out.
Json CleanMetadata(const Json& in, NoteSink* notes) {
  const Json meta = in.value("metadata", Json::object());
  Json out = Json::object();
  for (const char* key : {"name", "namespace", "labels"}) {
    if (meta.contains(key)) out[key] = meta[key];
  }
  Json annotations = Json::object();
  const Json in_annotations = meta.value("annotations", Json::object());
  for (const auto& [key, value] : in_annotations.items()) {
    if (key == kLastApplied) continue;
    if (key.find("cert-manager.io/") != std::string::npos) {
      std::string text = "a cert-manager annotation; certsmith does not read it";
      std::string_view advice = AnnotationAdvice(key);
      if (!advice.empty() && StartsWith(key, "cert-manager.io/issue-temporary")) {
        text += ": " + std::string(advice);
      }
      notes->Add(Note::Kind::kDropped, "metadata.annotations[" + key + "]", text);
      continue;
    }
    annotations[key] = value;
  }
  if (!annotations.empty()) out["annotations"] = annotations;
  return out;
}

// An issuer of the input, by the key a Certificate's issuerRef gives.
std::string IssuerKey(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind == "ClusterIssuer" ? "ClusterIssuer/" + name : "Issuer/" + ns + "/" + name;
}

bool SolverUsable(const Json& solver) {
  const Json http01 = solver.value("http01", Json());
  const Json dns01 = solver.value("dns01", Json());
  // gatewayHTTPRoute needs the controller's --enable-gateway-api (chart: enableGatewayAPI).
  const bool http =
      http01.is_object() && (http01.contains("ingress") || http01.contains("gatewayHTTPRoute"));
  const bool dns = dns01.is_object() && (dns01.contains("rfc2136") || dns01.contains("webhook"));
  return http || dns;
}

void Validate(const Json& obj, NoteSink* notes) {
  const std::string kind = obj.value("kind", "");
  Status s = kind == "Certificate" ? api::Certificate::FromJson(obj).status()
                                   : api::Issuer::FromJson(obj).status();
  if (!s.ok()) {
    notes->Add(Note::Kind::kInvalid, "",
               "certsmith would refuse it as it stands (Ready=False, InvalidSpec): " + s.message());
  }
}

std::optional<ConvertedObject> ConvertIssuer(const Json& in, const ConvertOptions& options,
                                             std::vector<Note>* all) {
  const std::string kind = in.value("kind", "");
  ConvertedObject out;
  out.from = in.value("apiVersion", "") + " " + Describe(in);
  NoteSink notes(Describe(in), &out.notes);
  const Json spec_in = in.value("spec", Json::object());
  if (!spec_in.contains("acme")) {
    std::string type = "unknown";
    for (std::string_view t : kIssuerTypes) {
      if (spec_in.contains(t)) type = t;
    }
    notes.Add(Note::Kind::kSkipped, "spec." + type, NonAcmeIssuerAdvice(type));
    all->insert(all->end(), out.notes.begin(), out.notes.end());
    return std::nullopt;
  }
  Json obj = {{"apiVersion", "certsmith.io/v1"}, {"kind", kind}};
  obj["metadata"] = CleanMetadata(in, &notes);
  Json spec = spec_in;
  PruneSpec(kind, &spec, &notes);
  // A solver that lost everything it had (a DNS provider certsmith lacks) is left out whole: an
  // empty solver is not valid, and its selector would send names to it.
  if (spec["acme"].contains("solvers") && spec["acme"]["solvers"].is_array()) {
    Json kept = Json::array();
    const Json& solvers = spec["acme"]["solvers"];
    for (size_t i = 0; i < solvers.size(); ++i) {
      if (SolverUsable(solvers[i])) {
        kept.push_back(solvers[i]);
      } else {
        notes.Add(Note::Kind::kDropped, "spec.acme.solvers[" + std::to_string(i) + "]",
                  "no solver certsmith can run is left in it (see above), so it is left out; "
                  "the names it selected fall to the other solvers");
      }
    }
    if (kept.empty() && !solvers.empty()) {
      notes.Add(Note::Kind::kInvalid, "spec.acme.solvers",
                "no solver is left: certsmith would take this issuer for one with pre-validated "
                "domains only, and any challenge would fail");
    }
    spec["acme"]["solvers"] = kept;
  }
  obj["spec"] = spec;
  if (kind == "ClusterIssuer" && options.cert_manager_namespace != options.controller_namespace) {
    std::set<std::string> secrets;
    const Json acme = spec.value("acme", Json::object());
    auto name_of = [](const Json& ref) { return ref.is_object() ? ref.value("name", "") : ""; };
    secrets.insert(name_of(acme.value("privateKeySecretRef", Json())));
    secrets.insert(name_of(
        acme.value("externalAccountBinding", Json::object()).value("keySecretRef", Json())));
    for (const Json& s : acme.value("solvers", Json::array())) {
      secrets.insert(name_of(s.value("dns01", Json::object())
                                 .value("rfc2136", Json::object())
                                 .value("tsigSecretSecretRef", Json())));
    }
    secrets.erase("");
    std::vector<std::string> names(secrets.begin(), secrets.end());
    notes.Add(Note::Kind::kAction, "",
              "copy Secret(s) " + Join(names) + " from cert-manager's namespace (" +
                  options.cert_manager_namespace + ") to certsmith's (" +
                  options.controller_namespace +
                  ") before applying: with the same account key certsmith finds cert-manager's "
                  "ACME account instead of registering a new one (and spending the EAB again)");
  }
  Validate(obj, &notes);
  out.object = std::move(obj);
  all->insert(all->end(), out.notes.begin(), out.notes.end());
  return out;
}

std::optional<ConvertedObject> ConvertCertificate(
    const Json& in, const std::map<std::string, std::string>& non_acme, std::vector<Note>* all) {
  ConvertedObject out;
  out.from = in.value("apiVersion", "") + " " + Describe(in);
  NoteSink notes(Describe(in), &out.notes);
  auto skip = [&](std::string path, std::string text) -> std::optional<ConvertedObject> {
    notes.Add(Note::Kind::kSkipped, std::move(path), std::move(text));
    all->insert(all->end(), out.notes.begin(), out.notes.end());
    return std::nullopt;
  };
  const Json meta = in.value("metadata", Json::object());
  for (const Json& ref : meta.value("ownerReferences", Json::array())) {
    if (ref.value("kind", "") == "Ingress" && ref.value("controller", false)) {
      return skip("", "made by cert-manager's ingress-shim for Ingress " + ref.value("name", "") +
                          ": certsmith's Ingress shim makes its own from the Ingress's "
                          "annotations (convert the Ingress)");
    }
  }
  Json spec = in.value("spec", Json::object());
  Json& ref = spec["issuerRef"];
  const std::string group = ref.value("group", "");
  if (!group.empty() && group != kCertManagerGroup) {
    return skip("spec.issuerRef.group",
                "issued through the external issuer group " + group +
                    ", which certsmith cannot use: keep it on cert-manager");
  }
  if (!group.empty()) ref.erase("group");
  const std::string issuer_kind = ref.value("kind", "Issuer");
  auto bad =
      non_acme.find(IssuerKey(issuer_kind, meta.value("namespace", ""), ref.value("name", "")));
  if (bad != non_acme.end()) {
    return skip("spec.issuerRef", "its " + issuer_kind + " " + ref.value("name", "") + " is a \"" +
                                      bad->second +
                                      "\" issuer, which certsmith cannot serve: keep it on "
                                      "cert-manager");
  }
  // cert-manager's default key is RSA-2048, certsmith's ECDSA P-256: made explicit, so the key
  // in the existing Secret matches the spec and the certificate is adopted, not ordered again.
  Json& key = spec["privateKey"];
  if (!key.is_object()) key = Json::object();
  if (!key.contains("algorithm")) {
    key["algorithm"] = "RSA";
    notes.Add(Note::Kind::kChanged, "spec.privateKey.algorithm",
              "RSA, cert-manager's default, written out (certsmith's default is ECDSA)");
  }
  Json obj = {{"apiVersion", "certsmith.io/v1"}, {"kind", "Certificate"}};
  obj["metadata"] = CleanMetadata(in, &notes);
  for (const Json& owner : meta.value("ownerReferences", Json::array())) {
    notes.Add(Note::Kind::kChanged, "metadata.ownerReferences",
              "owned by " + owner.value("kind", "") + " " + owner.value("name", "") +
                  " under cert-manager; the converted Certificate stands alone");
  }
  PruneSpec("Certificate", &spec, &notes);
  obj["spec"] = spec;
  Validate(obj, &notes);
  out.object = std::move(obj);
  all->insert(all->end(), out.notes.begin(), out.notes.end());
  return out;
}

ConvertedObject ConvertIngress(const Json& in, std::vector<Note>* all) {
  ConvertedObject out;
  out.from = in.value("apiVersion", "") + " " + Describe(in);
  NoteSink notes(Describe(in), &out.notes);
  Json obj = in;
  obj.erase("status");
  Json& meta = obj["metadata"];
  for (const char* key :
       {"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink"}) {
    meta.erase(key);
  }
  Json& annotations = meta["annotations"];
  annotations.erase(kLastApplied);
  const Json original = annotations;
  // The issuer as certsmith's own shim reads cert-manager's annotations (issuer-kind too).
  const reconcilers::IngressPlan plan =
      reconcilers::PlanIngressCertificates(in, {.honour_cert_manager_annotations = true});
  const bool has_own_issuer =
      original.contains("certsmith.io/issuer") || original.contains("certsmith.io/cluster-issuer");
  if (plan.issuer && !has_own_issuer) {
    annotations[plan.issuer->IsClusterIssuer() ? "certsmith.io/cluster-issuer"
                                               : "certsmith.io/issuer"] = plan.issuer->name;
  }
  for (const std::string& problem : plan.blocking) {
    notes.Add(Note::Kind::kInvalid, "", problem);
  }
  bool has_algorithm = original.contains("certsmith.io/private-key-algorithm");
  for (const auto& [key, value] : original.items()) {
    if (StartsWith(key, kCertManagerPrefix)) {
      const std::string name = key.substr(kCertManagerPrefix.size());
      if (name == "issuer" || name == "cluster-issuer" || name == "issuer-kind" ||
          name == "issuer-group") {
        continue;  // in the issuer annotation above
      }
      if (reconcilers::IngressShimReadsAnnotation(name)) {
        if (!original.contains("certsmith.io/" + name)) annotations["certsmith.io/" + name] = value;
        if (name == "private-key-algorithm") has_algorithm = true;
        continue;
      }
      std::string text = "no certsmith equivalent";
      std::string_view advice = AnnotationAdvice(key);
      if (!advice.empty()) text += ": " + std::string(advice);
      notes.Add(Note::Kind::kDropped, key, text);
    } else if (StartsWith(key, kAcmeCertManagerPrefix) || key == kTlsAcme) {
      if (key == kTlsAcme && plan.issuer) continue;  // the issuer annotation says it all
      std::string text =
          std::string(key == kTlsAcme ? "" : "no certsmith equivalent: ") +
          std::string(AnnotationAdvice(key));
      notes.Add(key == kTlsAcme ? Note::Kind::kAction : Note::Kind::kDropped, key, text);
    }
  }
  if (!has_algorithm && (plan.issuer || has_own_issuer)) {
    annotations["certsmith.io/private-key-algorithm"] = "RSA";
    notes.Add(Note::Kind::kChanged, "certsmith.io/private-key-algorithm",
              "RSA, cert-manager's default, written out so the existing Secrets are adopted "
              "(certsmith's default is ECDSA)");
  }
  // What certsmith's shim would say of the result (cert-manager's annotations stay for a
  // rollback; without --honour-cert-manager-annotations the shim does not read them).
  const reconcilers::IngressPlan after =
      reconcilers::PlanIngressCertificates(obj, {.honour_cert_manager_annotations = false});
  if (plan.blocking.empty()) {
    for (const std::string& problem : after.blocking) notes.Add(Note::Kind::kInvalid, "", problem);
  }
  for (const std::string& problem : after.entry_problems) {
    notes.Add(Note::Kind::kInvalid, "", problem);
  }
  out.object = std::move(obj);
  all->insert(all->end(), out.notes.begin(), out.notes.end());
  return out;
}

const char* Label(Note::Kind kind) {
  static constexpr const char* kLabels[] = {"not converted", "object skipped", "would be refused",
                                            "changed", "to do"};
  return kLabels[static_cast<int>(kind)];
}

std::string CommentLines(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out += "#   " + line + "\n";
  return out;
}

}  // namespace

std::string Note::ToString() const {
  std::string out = object + ": ";
  if (!path.empty()) out += path + ": ";
  return out + "[" + Label(kind) + "] " + text;
}

bool IsLoss(Note::Kind kind) {
  return kind == Note::Kind::kDropped || kind == Note::Kind::kSkipped ||
         kind == Note::Kind::kInvalid;
}

bool ConversionResult::Lossless() const {
  for (const Note& n : notes) {
    if (IsLoss(n.kind)) return false;
  }
  return true;
}

bool HasCertManagerAnnotations(const Json& ingress) {
  const Json annotations =
      ingress.value("metadata", Json::object()).value("annotations", Json::object());
  for (const auto& [key, value] : annotations.items()) {
    if (StartsWith(key, kCertManagerPrefix) || StartsWith(key, kAcmeCertManagerPrefix) ||
        key == kTlsAcme) {
      return true;
    }
  }
  return false;
}

ConversionResult Convert(const std::vector<Json>& inputs, const ConvertOptions& options) {
  ConversionResult result;
  // First the issuers certsmith cannot serve, so the Certificates using them are left out too.
  std::map<std::string, std::string> non_acme;
  for (const Json& in : inputs) {
    const std::string kind = in.value("kind", "");
    if (Group(in) != kCertManagerGroup || (kind != "Issuer" && kind != "ClusterIssuer")) continue;
    const Json spec = in.value("spec", Json::object());
    if (spec.contains("acme")) continue;
    std::string type = "unknown";
    for (std::string_view t : kIssuerTypes) {
      if (spec.contains(t)) type = t;
    }
    const Json meta = in.value("metadata", Json::object());
    non_acme[IssuerKey(kind, meta.value("namespace", ""), meta.value("name", ""))] = type;
  }
  for (const Json& in : inputs) {
    const std::string group = Group(in);
    const std::string kind = in.value("kind", "");
    std::optional<ConvertedObject> converted;
    if (group == kCertManagerGroup && (kind == "Issuer" || kind == "ClusterIssuer")) {
      converted = ConvertIssuer(in, options, &result.notes);
    } else if (group == kCertManagerGroup && kind == "Certificate") {
      converted = ConvertCertificate(in, non_acme, &result.notes);
    } else if (group == kCertManagerGroup || group == "acme.cert-manager.io") {
      result.notes.push_back({Note::Kind::kSkipped, Describe(in), "",
                              kind == "CertificateRequest" || kind == "Order" || kind == "Challenge"
                                  ? "a cert-manager runtime object: certsmith makes its own"
                                  : "a cert-manager kind certsmith has no equivalent for"});
    } else if (kind == "Ingress" && HasCertManagerAnnotations(in)) {
      converted = ConvertIngress(in, &result.notes);
    } else {
      converted = ConvertedObject{in, "", {}};  // not cert-manager's: unchanged
    }
    if (converted) result.objects.push_back(std::move(*converted));
  }
  return result;
}

std::string ToYamlStream(const ConversionResult& result) {
  std::string out;
  for (const ConvertedObject& o : result.objects) {
    out += "---\n";
    if (!o.from.empty()) {
      out += "# Converted from " + o.from + " by kubectl certsmith convert.\n";
      for (const Note& n : o.notes) {
        out += CommentLines(std::string("[") + Label(n.kind) + "] " +
                            (n.path.empty() ? "" : n.path + ": ") + n.text);
      }
    }
    out += ToYaml(o.object);
  }
  return out;
}

Json ToJsonList(const ConversionResult& result) {
  Json items = Json::array();
  for (const ConvertedObject& o : result.objects) items.push_back(o.object);
  return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}};
}

}  // namespace certsmith::plugin
