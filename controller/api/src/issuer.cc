#include "api/issuer.h"

#include "api/names.h"
#include "certsmith/base64.h"
#include "json_reader.h"
#include "object_header.h"
#include "validation.h"

namespace certsmith::api {

using internal::JsonReader;
using internal::PutBool;
using internal::PutList;
using internal::PutMap;
using internal::PutObject;
using internal::PutString;

namespace {

constexpr char kApiVersion[] = "certsmith.io/v1";

SolverSelector ParseSelector(const JsonReader& r) {
  return SolverSelector{r.StringList("dnsNames"), r.StringList("dnsZones"),
                        r.StringMapField("matchLabels")};
}

Http01Solver ParseHttp01(const JsonReader& r) {
  Http01Solver s;
  s.skip_self_check = r.Bool("skipSelfCheck");
  if (r.Has("gatewayHTTPRoute")) {
    JsonReader g = r.Child("gatewayHTTPRoute");
    Http01GatewayHTTPRoute route;
    route.service_type = g.String("serviceType");
    route.labels = g.StringMapField("labels");
    route.pod_template = g.Object("podTemplate");
    g.ForEach("parentRefs", [&route](const JsonReader& p, size_t) {
      GatewayParentRef ref;
      ref.group = p.String("group");
      ref.kind = p.String("kind");
      ref.namespace_ = p.String("namespace");
      ref.name = p.String("name");
      ref.section_name = p.String("sectionName");
      ref.port = p.Int("port");
      route.parent_refs.push_back(std::move(ref));
    });
    s.gateway_http_route = std::move(route);
  }
  if (r.Has("ingress")) {
    JsonReader i = r.Child("ingress");
    Http01Ingress in;
    in.ingress_class_name = i.String("ingressClassName");
    in.class_ = i.String("class");
    in.name = i.String("name");
    in.service_type = i.String("serviceType");
    in.pod_template = i.Object("podTemplate");
    in.ingress_template = i.Object("ingressTemplate");
    s.ingress = in;
  }
  return s;
}

Dns01Solver ParseDns01(const JsonReader& r) {
  Dns01Solver s;
  s.cname_strategy = r.String("cnameStrategy");
  s.nameservers = r.StringList("nameservers");
  if (r.Has("rfc2136")) {
    JsonReader x = r.Child("rfc2136");
    s.rfc2136 =
        Rfc2136Solver{x.String("nameserver"), x.String("tsigKeyName"), x.String("tsigAlgorithm"),
                      x.SecretRef("tsigSecretSecretRef"), x.String("protocol")};
  }
  if (r.Has("webhook")) {
    JsonReader x = r.Child("webhook");
    const Json* config = x.Raw("config");
    s.webhook = WebhookSolver{x.String("groupName"), x.String("solverName"),
                              config ? *config : Json(), x.String("url"), x.String("caBundle")};
  }
  for (const char* provider : kCertManagerDnsProviders) {
    if (const Json* block = r.Raw(provider)) s.builtin_providers[provider] = *block;
  }
  return s;
}

AcmeIssuer ParseAcme(const JsonReader& r) {
  AcmeIssuer a;
  a.server = r.String("server");
  a.email = r.String("email");
  a.private_key_secret_ref = r.SecretRef("privateKeySecretRef");
  if (r.Has("externalAccountBinding")) {
    JsonReader e = r.Child("externalAccountBinding");
    ExternalAccountBinding eab;
    eab.key_id = e.String("keyID");
    eab.key_secret_ref = e.SecretRef("keySecretRef");
    if (std::string alg = e.String("keyAlgorithm"); !alg.empty()) eab.key_algorithm = alg;
    a.external_account_binding = eab;
  }
  a.preferred_chain = r.String("preferredChain");
  a.ca_bundle = r.String("caBundle");
  a.skip_tls_verify = r.Bool("skipTLSVerify");
  a.disable_account_key_generation = r.Bool("disableAccountKeyGeneration");
  if (const Json* list = r.Raw("solvers"); list != nullptr && !list->is_array()) {
    r.errors()->Add(r.Path("solvers"), "must be a list");
  } else if (list != nullptr) {
    for (size_t i = 0; i < list->size(); ++i) {
      a.solvers.push_back(
          AcmeSolver::FromJson((*list)[i], IndexPath(r.Path("solvers"), i), r.errors()));
    }
  }
  if (r.Has("accountKey")) {
    JsonReader k = r.Child("accountKey");
    AccountKey key;
    if (std::string alg = k.String("algorithm"); !alg.empty()) key.algorithm = alg;
    key.size = static_cast<int>(k.Int("size").value_or(0));
    a.account_key = key;
  }
  a.max_poll_interval = r.DurationField("maxPollInterval");
  a.enable_duration_feature = r.Bool("enableDurationFeature");
  a.profile = r.String("profile");
  return a;
}

void ValidateSelector(const SolverSelector& s, const std::string& path, FieldErrors* errors) {
  for (size_t i = 0; i < s.dns_names.size(); ++i) {
    internal::CheckDnsName(s.dns_names[i], IndexPath(FieldPath(path, "dnsNames"), i), errors);
  }
  for (size_t i = 0; i < s.dns_zones.size(); ++i) {
    if (!IsValidDnsName(s.dns_zones[i], false)) {
      errors->Add(IndexPath(FieldPath(path, "dnsZones"), i),
                  "\"" + s.dns_zones[i] + "\" is not a valid DNS zone");
    }
  }
}

void ValidateGatewayHTTPRoute(const Http01GatewayHTTPRoute& g, const std::string& path,
                              FieldErrors* errors) {
  const std::string refs = FieldPath(path, "parentRefs");
  if (g.parent_refs.empty()) {
    errors->Add(refs, "required: at least one Gateway the HTTPRoute attaches to");
  }
  for (size_t i = 0; i < g.parent_refs.size(); ++i) {
    const GatewayParentRef& r = g.parent_refs[i];
    const std::string p = IndexPath(refs, i);
    if (r.name.empty()) {
      errors->Add(FieldPath(p, "name"), "required: the name of the parent Gateway");
    } else if (!IsDns1123Subdomain(r.name)) {
      errors->Add(FieldPath(p, "name"), "\"" + r.name + "\" is not a valid object name");
    }
    if (!r.namespace_.empty() && !IsDns1123Label(r.namespace_)) {
      errors->Add(FieldPath(p, "namespace"), "\"" + r.namespace_ + "\" is not a namespace name");
    }
    if (!r.section_name.empty() && !IsDns1123Subdomain(r.section_name)) {
      errors->Add(FieldPath(p, "sectionName"),
                  "\"" + r.section_name + "\" is not a valid listener name");
    }
    if (r.port && (*r.port < 1 || *r.port > 65535)) {
      errors->Add(FieldPath(p, "port"), "must be between 1 and 65535");
    }
  }
  internal::CheckEnum(g.service_type, {"", "ClusterIP", "NodePort"},
                      FieldPath(path, "serviceType"), errors);
}

void ValidateHttp01(const Http01Solver& s, const std::string& path, FieldErrors* errors) {
  if (!s.ingress && !s.gateway_http_route) {
    errors->Add(FieldPath(path, "ingress"), "required (or gatewayHTTPRoute)");
  } else if (s.ingress && s.gateway_http_route) {
    errors->Add(path, "set only one of ingress and gatewayHTTPRoute");
  }
  if (s.gateway_http_route) {
    ValidateGatewayHTTPRoute(*s.gateway_http_route, FieldPath(path, "gatewayHTTPRoute"), errors);
  }
  if (!s.ingress) return;
  const Http01Ingress& in = *s.ingress;
  std::string ipath = FieldPath(path, "ingress");
  int set = !in.ingress_class_name.empty() + !in.class_.empty() + !in.name.empty();
  if (set > 1) {
    errors->Add(ipath, "set at most one of ingressClassName, class and name");
  }
  internal::CheckEnum(in.service_type, {"", "ClusterIP", "NodePort"},
                      FieldPath(ipath, "serviceType"), errors);
}

void ValidateCaBundle(const std::string& bundle, const std::string& path, FieldErrors* errors) {
  Result<std::string> pem = Base64DecodeLenient(bundle);
  if (!pem.ok()) {
    errors->Add(path, "must be base64 of PEM certificates: " + pem.status().message());
  } else if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    errors->Add(path, "must be base64 of PEM certificates (no BEGIN CERTIFICATE block found)");
  }
}

void CheckNameserver(const std::string& text, const std::string& path, FieldErrors* errors) {
  auto hp = ParseHostPort(text, 53);
  if (!hp.ok()) errors->Add(path, hp.status().message());
}

void ValidateWebhook(const WebhookSolver& w, const std::string& p, FieldErrors* errors) {
  const bool aggregated = !w.group_name.empty() || !w.solver_name.empty();
  if (w.url.empty() || aggregated) {
    if (!IsDns1123Subdomain(w.group_name)) {
      errors->Add(FieldPath(p, "groupName"),
                  "required (unless url is set): the webhook's API group, e.g. acme.example.com");
    }
    if (w.solver_name.empty()) {
      errors->Add(FieldPath(p, "solverName"), "required (unless url is set)");
    }
  }
  if (!w.url.empty() && w.url.rfind("https://", 0) != 0) {
    errors->Add(FieldPath(p, "url"), "must be an https:// URL (the payload may carry a key)");
  }
  if (!w.ca_bundle.empty()) {
    if (w.url.empty()) errors->Add(FieldPath(p, "caBundle"), "only used with url");
    ValidateCaBundle(w.ca_bundle, FieldPath(p, "caBundle"), errors);
  }
}

void ValidateDns01(const Dns01Solver& s, const std::string& path, FieldErrors* errors) {
  internal::CheckEnum(s.cname_strategy, {"", "None", "Follow"}, FieldPath(path, "cnameStrategy"),
                      errors);
  for (size_t i = 0; i < s.nameservers.size(); ++i) {
    CheckNameserver(s.nameservers[i], IndexPath(FieldPath(path, "nameservers"), i), errors);
  }
  for (const auto& [provider, block] : s.builtin_providers) {
    errors->Add(FieldPath(path, provider),
                "cert-manager's built-in " + provider +
                    " provider is not built into certsmith: use a cert-manager DNS webhook for "
                    "it (dns01.webhook speaks the same protocol, through the API server or "
                    "straight to its url) or rfc2136");
  }
  const size_t set = s.rfc2136.has_value() + s.webhook.has_value() + s.builtin_providers.size();
  if (set == 0 || (set > 1 && s.builtin_providers.empty())) {
    errors->Add(path, "exactly one of rfc2136 or webhook is required");
  }
  if (s.rfc2136) {
    std::string p = FieldPath(path, "rfc2136");
    if (s.rfc2136->nameserver.empty()) {
      errors->Add(FieldPath(p, "nameserver"), "required");
    } else {
      CheckNameserver(s.rfc2136->nameserver, FieldPath(p, "nameserver"), errors);
    }
    internal::CheckEnum(
        s.rfc2136->tsig_algorithm,
        {"", "HMACMD5", "HMACSHA1", "HMACSHA224", "HMACSHA256", "HMACSHA384", "HMACSHA512"},
        FieldPath(p, "tsigAlgorithm"), errors);
    internal::CheckEnum(s.rfc2136->protocol, {"", "UDP", "TCP"}, FieldPath(p, "protocol"), errors);
    if (!s.rfc2136->tsig_key_name.empty() && s.rfc2136->tsig_secret_secret_ref.name.empty()) {
      errors->Add(FieldPath(p, "tsigSecretSecretRef.name"), "required when tsigKeyName is set");
    }
    if (s.rfc2136->tsig_key_name.empty() && !s.rfc2136->tsig_secret_secret_ref.name.empty()) {
      errors->Add(FieldPath(p, "tsigKeyName"), "required when tsigSecretSecretRef is set");
    }
  }
  if (s.webhook) ValidateWebhook(*s.webhook, FieldPath(path, "webhook"), errors);
}

void ValidateSolver(const AcmeSolver& s, const std::string& path, FieldErrors* errors) {
  if (s.http01.has_value() == s.dns01.has_value()) {
    errors->Add(path, "exactly one of http01 or dns01 is required");
  }
  if (s.selector) ValidateSelector(*s.selector, FieldPath(path, "selector"), errors);
  if (s.http01) ValidateHttp01(*s.http01, FieldPath(path, "http01"), errors);
  if (s.dns01) ValidateDns01(*s.dns01, FieldPath(path, "dns01"), errors);
}

void ValidateAcme(const AcmeIssuer& a, FieldErrors* errors) {
  const std::string p = "spec.acme";
  if (a.server.empty()) {
    errors->Add(p + ".server", "required: the CA's ACME directory URL");
  } else if (a.server.rfind("https://", 0) != 0) {
    errors->Add(p + ".server", "must be an https:// URL (RFC 8555 §6.1)");
  }
  if (!a.email.empty() && !internal::LooksLikeEmail(a.email)) {
    errors->Add(p + ".email", "\"" + a.email + "\" is not an email address");
  }
  internal::CheckSecretName(a.private_key_secret_ref.name, p + ".privateKeySecretRef.name", errors);
  if (a.external_account_binding) {
    const ExternalAccountBinding& e = *a.external_account_binding;
    std::string ep = p + ".externalAccountBinding";
    if (e.key_id.empty()) errors->Add(ep + ".keyID", "required: the Key ID from the CA's portal");
    internal::CheckSecretName(e.key_secret_ref.name, ep + ".keySecretRef.name", errors);
    internal::CheckEnum(e.key_algorithm, {"HS256", "HS384", "HS512"}, ep + ".keyAlgorithm", errors);
  }
  if (!a.ca_bundle.empty()) {
    ValidateCaBundle(a.ca_bundle, p + ".caBundle", errors);
    if (a.skip_tls_verify) {
      errors->Add(p + ".skipTLSVerify", "cannot be set together with caBundle");
    }
  }
  if (a.account_key) {
    internal::CheckKeyAlgorithmAndSize(a.account_key->algorithm, a.account_key->size,
                                       p + ".accountKey", errors);
  }
  if (a.max_poll_interval && *a.max_poll_interval < std::chrono::seconds(1)) {
    errors->Add(p + ".maxPollInterval", "must be at least 1s");
  }
  for (size_t i = 0; i < a.solvers.size(); ++i) {
    ValidateSolver(a.solvers[i], IndexPath(p + ".solvers", i), errors);
  }
}

}  // namespace

AcmeSolver AcmeSolver::FromJson(const Json& j, std::string_view path, FieldErrors* errors) {
  JsonReader r(&j, std::string(path), errors);
  AcmeSolver s;
  if (r.Has("selector")) s.selector = ParseSelector(r.Child("selector"));
  if (r.Has("http01")) s.http01 = ParseHttp01(r.Child("http01"));
  if (r.Has("dns01")) s.dns01 = ParseDns01(r.Child("dns01"));
  return s;
}

Result<Issuer> Issuer::FromJson(const Json& object) {
  return internal::ParseObject<Issuer>(
      object, kApiVersion, {"Issuer", "ClusterIssuer"},
      [](const JsonReader& root, const std::string& kind, Issuer* issuer) {
        issuer->kind = kind;
        JsonReader spec = root.Child("spec");
        if (!spec.Has("acme"))
          root.errors()->Add("spec.acme", "required (ACME is the only issuer type)");
        issuer->spec.acme = ParseAcme(spec.Child("acme"));
        issuer->spec.allowed_namespaces = spec.StringList("allowedNamespaces");
        issuer->spec.allowed_dns_zones = spec.StringList("allowedDNSZones");
        issuer->spec.revoke_on_delete = spec.Bool("revokeOnDelete");
        JsonReader status = root.Child("status");
        if (const Json* c = status.Raw("conditions")) {
          issuer->status.conditions = ConditionsFromJson(*c, "status.conditions", root.errors());
        }
        JsonReader acme = status.Child("acme");
        issuer->status.acme =
            AcmeIssuerStatus{acme.String("uri"), acme.String("lastRegisteredEmail"),
                             acme.String("lastPrivateKeyHash"), acme.String("renewalInfo")};
      });
}

FieldErrors Issuer::Validate() const {
  FieldErrors errors;
  ValidateAcme(spec.acme, &errors);
  if (!IsClusterIssuer() && !spec.allowed_namespaces.empty()) {
    errors.Add("spec.allowedNamespaces", "only a ClusterIssuer can restrict namespaces");
  }
  for (size_t i = 0; i < spec.allowed_namespaces.size(); ++i) {
    if (!IsDns1123Label(spec.allowed_namespaces[i])) {
      errors.Add(IndexPath("spec.allowedNamespaces", i),
                 "\"" + spec.allowed_namespaces[i] + "\" is not a namespace name");
    }
  }
  for (size_t i = 0; i < spec.allowed_dns_zones.size(); ++i) {
    if (!IsValidDnsName(spec.allowed_dns_zones[i], false)) {
      errors.Add(IndexPath("spec.allowedDNSZones", i),
                 "\"" + spec.allowed_dns_zones[i] + "\" is not a valid DNS zone");
    }
  }
  return errors;
}

bool Issuer::AllowsNamespace(std::string_view ns) const {
  if (spec.allowed_namespaces.empty()) return true;
  for (const std::string& allowed : spec.allowed_namespaces) {
    if (allowed == ns) return true;
  }
  return false;
}

bool Issuer::AllowsDnsName(std::string_view name) const {
  if (spec.allowed_dns_zones.empty()) return true;
  for (const std::string& zone : spec.allowed_dns_zones) {
    if (IsUnderZone(name, zone)) return true;
  }
  return false;
}

Json ExternalAccountBinding::ToJson() const {
  return Json{{"keyID", key_id},
              {"keySecretRef", key_secret_ref.ToJson()},
              {"keyAlgorithm", key_algorithm}};
}

Json AccountKey::ToJson() const { return Json{{"algorithm", algorithm}, {"size", size}}; }

Json SolverSelector::ToJson() const {
  Json j = Json::object();
  PutList(j, "dnsNames", dns_names);
  PutList(j, "dnsZones", dns_zones);
  PutMap(j, "matchLabels", match_labels);
  return j;
}

Json Http01Ingress::ToJson() const {
  Json j = Json::object();
  PutString(j, "ingressClassName", ingress_class_name);
  PutString(j, "class", class_);
  PutString(j, "name", name);
  PutString(j, "serviceType", service_type);
  PutObject(j, "podTemplate", pod_template);
  PutObject(j, "ingressTemplate", ingress_template);
  return j;
}

Json Http01Solver::ToJson() const {
  Json j = Json::object();
  if (ingress) j["ingress"] = ingress->ToJson();
  if (gateway_http_route) j["gatewayHTTPRoute"] = gateway_http_route->ToJson();
  PutBool(j, "skipSelfCheck", skip_self_check);
  return j;
}

Json GatewayParentRef::ToJson() const {
  Json j = Json::object();
  PutString(j, "group", group);
  PutString(j, "kind", kind);
  PutString(j, "namespace", namespace_);
  PutString(j, "name", name);
  PutString(j, "sectionName", section_name);
  if (port) j["port"] = *port;
  return j;
}

Json Http01GatewayHTTPRoute::ToJson() const {
  Json j = Json::object();
  Json refs = Json::array();
  for (const GatewayParentRef& r : parent_refs) refs.push_back(r.ToJson());
  if (!parent_refs.empty()) j["parentRefs"] = refs;
  PutString(j, "serviceType", service_type);
  PutMap(j, "labels", labels);
  PutObject(j, "podTemplate", pod_template);
  return j;
}

Json Rfc2136Solver::ToJson() const {
  Json j = {{"nameserver", nameserver}};
  PutString(j, "tsigKeyName", tsig_key_name);
  PutString(j, "tsigAlgorithm", tsig_algorithm);
  if (!tsig_secret_secret_ref.name.empty())
    j["tsigSecretSecretRef"] = tsig_secret_secret_ref.ToJson();
  PutString(j, "protocol", protocol);
  return j;
}

Json WebhookSolver::ToJson() const {
  Json j = Json::object();
  PutString(j, "groupName", group_name);
  PutString(j, "solverName", solver_name);
  if (!config.is_null()) j["config"] = config;
  PutString(j, "url", url);
  PutString(j, "caBundle", ca_bundle);
  return j;
}

Json Dns01Solver::ToJson() const {
  Json j = Json::object();
  PutString(j, "cnameStrategy", cname_strategy);
  PutList(j, "nameservers", nameservers);
  if (rfc2136) j["rfc2136"] = rfc2136->ToJson();
  if (webhook) j["webhook"] = webhook->ToJson();
  for (const auto& [provider, block] : builtin_providers) j[provider] = block;
  return j;
}

Json AcmeSolver::ToJson() const {
  Json j = Json::object();
  if (selector) j["selector"] = selector->ToJson();
  if (http01) j["http01"] = http01->ToJson();
  if (dns01) j["dns01"] = dns01->ToJson();
  return j;
}

Json AcmeIssuer::ToJson() const {
  Json j = {{"server", server}, {"privateKeySecretRef", private_key_secret_ref.ToJson()}};
  PutString(j, "email", email);
  if (external_account_binding) j["externalAccountBinding"] = external_account_binding->ToJson();
  PutString(j, "preferredChain", preferred_chain);
  PutString(j, "caBundle", ca_bundle);
  PutBool(j, "skipTLSVerify", skip_tls_verify);
  PutBool(j, "disableAccountKeyGeneration", disable_account_key_generation);
  Json solver_list = Json::array();
  for (const AcmeSolver& s : solvers) solver_list.push_back(s.ToJson());
  if (!solvers.empty()) j["solvers"] = solver_list;
  if (account_key) j["accountKey"] = account_key->ToJson();
  internal::PutDuration(j, "maxPollInterval", max_poll_interval);
  PutBool(j, "enableDurationFeature", enable_duration_feature);
  PutString(j, "profile", profile);
  return j;
}

Json IssuerSpec::ToJson() const {
  Json j = {{"acme", acme.ToJson()}};
  PutList(j, "allowedNamespaces", allowed_namespaces);
  PutList(j, "allowedDNSZones", allowed_dns_zones);
  PutBool(j, "revokeOnDelete", revoke_on_delete);
  return j;
}

Json AcmeIssuerStatus::ToJson() const {
  Json j = Json::object();
  PutString(j, "uri", uri);
  PutString(j, "lastRegisteredEmail", last_registered_email);
  PutString(j, "lastPrivateKeyHash", last_private_key_hash);
  PutString(j, "renewalInfo", renewal_info);
  return j;
}

Json IssuerStatus::ToJson() const {
  Json j = {{"conditions", ConditionsToJson(conditions)}};
  PutObject(j, "acme", acme.ToJson());
  return j;
}

Json Issuer::ToJson() const {
  Json j = internal::Header(kApiVersion, kind, metadata);
  j["spec"] = spec.ToJson();
  j["status"] = status.ToJson();
  return j;
}

}  // namespace certsmith::api
