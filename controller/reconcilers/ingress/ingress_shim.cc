#include "ingress/ingress_shim.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "api/names.h"
#include "api/resources.h"
#include "certsmith/log.h"
#include "kube/errors.h"
#include "reconcilers/util.h"

namespace certsmith::reconcilers {
namespace {

constexpr std::string_view kOwnPrefix = "certsmith.io/";
constexpr std::string_view kCertManagerPrefix = "cert-manager.io/";
constexpr char kIssuer[] = "issuer";
constexpr char kClusterIssuer[] = "cluster-issuer";

// Optional annotations (short names, as under either prefix) and the Certificate field each
// sets, so a validation error on the field can name the annotation the user wrote.
struct OptionalAnnotation {
  std::string_view name;
  std::string_view field;
};
constexpr OptionalAnnotation kOptional[] = {
    {"common-name", "spec.commonName"},
    {"duration", "spec.duration"},
    {"renew-before", "spec.renewBefore"},
    {"private-key-algorithm", "spec.privateKey.algorithm"},
    {"private-key-size", "spec.privateKey.size"},
    {"usages", "spec.usages"},
};
// certsmith.io/ annotations that are recognised but cannot work yet: the Certificate API has no
// field for them (no temporary certificate; no per-Certificate override of the solver's
// http01.ingress.name).
constexpr std::pair<std::string_view, std::string_view> kUnsupported[] = {
    {"issue-temporary-certificate", "Certificates have no temporary-certificate option"},
    {"http01-edit-in-place",
     "set http01.ingress.name on the Issuer's solver to edit an existing Ingress"},
};

std::string KnownList() {
  std::string out =
      std::string(kOwnPrefix) + kIssuer + ", " + std::string(kOwnPrefix) + kClusterIssuer;
  for (const auto& o : kOptional) out += ", " + std::string(kOwnPrefix) + std::string(o.name);
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Quote(std::string_view s) { return "\"" + log::Sanitize(s) + "\""; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The Ingress's annotations, looked up under certsmith.io/ and (when honoured) cert-manager.io/.
class Annotations {
 public:
  Annotations(const Json& ingress, bool honour_cert_manager) : honour_(honour_cert_manager) {
    const Json annotations =
        ingress.value("metadata", Json::object()).value("annotations", Json::object());
    for (const auto& [k, v] : annotations.items()) {
      if (v.is_string()) values_[k] = v.get<std::string>();
    }
  }
  const std::map<std::string, std::string>& all() const { return values_; }
  // The key and value of certsmith.io/<name>, else of cert-manager.io/<name> when honoured.
  std::optional<std::pair<std::string, std::string>> Find(std::string_view name) const {
    if (auto v = Get(std::string(kOwnPrefix) + std::string(name))) return v;
    if (honour_) return Get(std::string(kCertManagerPrefix) + std::string(name));
    return std::nullopt;
  }
  std::optional<std::pair<std::string, std::string>> Get(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return std::make_pair(it->first, it->second);
  }

 private:
  bool honour_;
  std::map<std::string, std::string> values_;
};

bool IsOptional(std::string_view name) {
  return std::any_of(std::begin(kOptional), std::end(kOptional),
                     [&](const OptionalAnnotation& o) { return o.name == name; });
}

// Unknown certsmith.io/ keys are typos: refuse them rather than ignore them. cert-manager.io/
// keys certsmith does not read (when it reads cert-manager's at all) are named, not refused:
// they were written for cert-manager.
void CheckKeys(const Annotations& a, bool honour, IngressPlan* plan) {
  for (const auto& [key, value] : a.all()) {
    if (honour && key.rfind(kCertManagerPrefix, 0) == 0) {
      std::string_view name = std::string_view(key).substr(kCertManagerPrefix.size());
      if (name != kIssuer && name != kClusterIssuer && name != "issuer-kind" &&
          name != "issuer-group" && !IsOptional(name)) {
        plan->ignored.push_back("annotation " + log::Sanitize(key) +
                                " is not read by certsmith and is ignored");
      }
      continue;
    }
    if (key.rfind(kOwnPrefix, 0) != 0) continue;
    std::string_view name = std::string_view(key).substr(kOwnPrefix.size());
    if (name == kIssuer || name == kClusterIssuer || IsOptional(name)) continue;
    auto unsupported = std::find_if(std::begin(kUnsupported), std::end(kUnsupported),
                                    [&](const auto& u) { return u.first == name; });
    if (unsupported != std::end(kUnsupported)) {
      plan->ignored.push_back("annotation " + key + " is not supported and is ignored: " +
                              std::string(unsupported->second));
      continue;
    }
    plan->blocking.push_back("unknown annotation " + log::Sanitize(key) +
                             " (known: " + KnownList() + ")");
  }
}

// The issuer annotation: certsmith.io/ wins over cert-manager.io/; within one prefix, only one
// of issuer and cluster-issuer.
std::optional<api::IssuerRef> ReadIssuer(const Annotations& a, bool honour, IngressPlan* plan) {
  std::string prefix;
  for (std::string_view p : {kOwnPrefix, kCertManagerPrefix}) {
    if (p == kCertManagerPrefix && !honour) break;
    if (a.Get(std::string(p) + kIssuer) || a.Get(std::string(p) + kClusterIssuer)) {
      prefix = p;
      break;
    }
  }
  if (prefix.empty()) return std::nullopt;
  auto issuer = a.Get(prefix + kIssuer);
  auto cluster = a.Get(prefix + kClusterIssuer);
  if (issuer && cluster) {
    plan->blocking.push_back("set only one of " + prefix + kIssuer + " and " + prefix +
                             kClusterIssuer);
    return std::nullopt;
  }
  api::IssuerRef ref;
  const auto& [key, value] = issuer ? *issuer : *cluster;
  ref.name = Trim(value);
  ref.kind = cluster ? "ClusterIssuer" : "Issuer";
  if (prefix == kCertManagerPrefix) {
    // cert-manager's issuer-kind/issuer-group select external issuers, which certsmith is not.
    if (auto kind = a.Get(prefix + "issuer-kind"); kind && issuer) {
      if (kind->second == "ClusterIssuer" || kind->second == "Issuer") {
        ref.kind = kind->second;
      } else {
        plan->blocking.push_back(kind->first + ": " + Quote(kind->second) +
                                 " is not supported (only Issuer and ClusterIssuer)");
      }
    }
    if (auto group = a.Get(prefix + "issuer-group");
        group && group->second != "cert-manager.io" && group->second != api::kGroup) {
      plan->blocking.push_back(group->first + ": " + Quote(group->second) +
                               " is not supported (external issuers are not)");
    }
  }
  if (!api::IsDns1123Subdomain(ref.name)) {
    plan->blocking.push_back(key + ": " + Quote(value) + " is not a valid " + ref.kind + " name");
    return std::nullopt;
  }
  return ref;
}

// The optional annotations into a template Certificate; keys maps each field to the annotation
// that set it.
ShimCertificate ReadOptional(const Annotations& a, IngressPlan* plan,
                             std::map<std::string, std::string>* keys) {
  ShimCertificate t;
  auto duration = [&](std::string_view name, std::optional<api::Duration>* out) {
    auto v = a.Find(name);
    if (!v) return;
    auto d = api::ParseDuration(Trim(v->second));
    if (!d.ok()) {
      plan->blocking.push_back(v->first + ": " + Quote(v->second) +
                               " is not a duration (for example 2160h or 720h30m)");
    } else {
      *out = *d;
    }
  };
  for (const OptionalAnnotation& o : kOptional) {
    if (auto v = a.Find(o.name)) (*keys)[std::string(o.field)] = v->first;
  }
  if (auto v = a.Find("common-name")) t.common_name = Trim(v->second);
  duration("duration", &t.duration);
  duration("renew-before", &t.renew_before);
  if (auto v = a.Find("private-key-algorithm")) {
    t.key_algorithm = Trim(v->second);
    // cert-manager's examples write both "RSA" and "rsa".
    std::string upper = t.key_algorithm;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (upper == "RSA" || upper == "ECDSA") t.key_algorithm = upper;
  }
  if (auto v = a.Find("private-key-size")) {
    const std::string text = Trim(v->second);
    char* end = nullptr;
    long size = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || size <= 0 || size > 65536) {
      plan->blocking.push_back(v->first + ": " + Quote(v->second) + " is not a key size");
    } else {
      t.key_size = static_cast<int>(size);
    }
  }
  if (auto v = a.Find("usages")) {
    std::string_view rest = v->second;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string u = Trim(rest.substr(0, comma));
      if (!u.empty()) t.usages.push_back(u);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    }
  }
  return t;
}

// The field a validation path is about: "spec.usages[1]" -> "spec.usages".
std::string FieldOf(const std::string& path) { return path.substr(0, path.find('[')); }

// Validates the Certificate the shim would write; errors on annotation-set fields block, errors
// on names belong to the TLS entry (returned).
std::vector<std::string> Validate(const ShimCertificate& c,
                                  const std::map<std::string, std::string>& keys,
                                  IngressPlan* plan) {
  api::Certificate cert;
  cert.metadata.name = c.name;
  cert.metadata.namespace_ = c.namespace_;
  cert.spec.secret_name = c.secret_name;
  cert.spec.issuer_ref = c.issuer_ref;
  cert.spec.dns_names = c.dns_names;
  cert.spec.common_name = c.common_name;
  cert.spec.duration = c.duration;
  cert.spec.renew_before = c.renew_before;
  if (!c.key_algorithm.empty()) cert.spec.private_key.algorithm = c.key_algorithm;
  cert.spec.private_key.size = c.key_size;
  cert.spec.usages = c.usages;
  std::vector<std::string> entry;
  const api::FieldErrors errors = cert.Validate();
  for (const api::FieldError& e : errors.errors()) {
    auto key = keys.find(FieldOf(e.path));
    if (key != keys.end()) {
      std::string msg = key->second + ": " + e.message;
      if (std::find(plan->blocking.begin(), plan->blocking.end(), msg) == plan->blocking.end()) {
        plan->blocking.push_back(msg);
      }
    } else {
      entry.push_back(e.ToString());
    }
  }
  return entry;
}

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const Json& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// An Ingress's spec.tls entries. An entry without secretName is a problem (named here); the
// checks every source shares are in AddEntries.
std::vector<TlsEntry> IngressTlsEntries(const Json& ingress, IngressPlan* plan) {
  std::vector<TlsEntry> out;
  const Json& tls = ingress.value("spec", Json::object()).value("tls", Json::array());
  if (!tls.is_array() || tls.empty()) {
    plan->entry_problems.push_back(
        "the Ingress has an issuer annotation but no spec.tls entries: add one with hosts and "
        "a secretName for each certificate wanted");
    return out;
  }
  for (size_t i = 0; i < tls.size(); ++i) {
    const std::string path = api::IndexPath("spec.tls", i);
    const Json& e = tls[i].is_object() ? tls[i] : Json::object();
    const std::string secret = e.value("secretName", Json("")).is_string()
                                   ? e.value("secretName", std::string())
                                   : std::string();
    const std::vector<std::string> hosts = StringList(e.value("hosts", Json::array()));
    if (secret.empty()) {
      plan->entry_problems.push_back(
          path + " has no secretName, so no Certificate is made for it" +
          (hosts.empty() ? std::string() : " (hosts " + log::Sanitize(Join(hosts)) + ")") +
          ": set secretName to the Secret the certificate should be stored in");
      continue;
    }
    out.push_back(TlsEntry{path, secret, hosts, {}});
  }
  return out;
}

// One Certificate per distinct secret (two entries naming one Secret get one Certificate
// with both host lists: two Certificates writing one Secret would replace each other's).
void AddEntries(const std::vector<TlsEntry>& entries, const std::string& ns,
                const ShimCertificate& tmpl, const std::map<std::string, std::string>& keys,
                IngressPlan* plan) {
  for (const TlsEntry& e : entries) {
    const std::string& path = e.path;
    const std::string& secret = e.secret;
    const std::vector<std::string>& hosts = e.hosts;
    if (std::find(plan->named_secrets.begin(), plan->named_secrets.end(), secret) ==
        plan->named_secrets.end()) {
      plan->named_secrets.push_back(secret);
    }
    if (hosts.empty()) {
      plan->entry_problems.push_back(path + " (secretName " + Quote(secret) +
                                     ") has no hosts, so no Certificate is made for it: list "
                                     "the host names the certificate is for");
      continue;
    }
    if (!api::IsDns1123Subdomain(secret)) {
      plan->entry_problems.push_back(path + ".secretName: " + Quote(secret) +
                                     " is not a valid Secret name");
      continue;
    }
    std::vector<std::string> bad;
    for (size_t j = 0; j < hosts.size(); ++j) {
      if (!api::IsValidDnsName(hosts[j], true)) {
        bad.push_back(e.host_path(j) + ": " + Quote(hosts[j]) + " is not a valid DNS name");
      }
    }
    if (!bad.empty()) {
      plan->entry_problems.push_back(Join(bad) + "; no Certificate is made for " + path);
      continue;
    }
    auto same = std::find_if(plan->certificates.begin(), plan->certificates.end(),
                             [&](const ShimCertificate& c) { return c.secret_name == secret; });
    if (same == plan->certificates.end()) {
      ShimCertificate c = tmpl;
      c.name = c.secret_name = secret;
      c.namespace_ = ns;
      c.issuer_ref = *plan->issuer;
      plan->certificates.push_back(c);
      same = plan->certificates.end() - 1;
    }
    for (const std::string& h : hosts) {
      if (std::find(same->dns_names.begin(), same->dns_names.end(), h) == same->dns_names.end()) {
        same->dns_names.push_back(h);
      }
    }
  }
  // What is left for Certificate validation to find (e.g. a commonName too long).
  for (size_t k = plan->certificates.size(); k-- > 0;) {
    std::vector<std::string> errors = Validate(plan->certificates[k], keys, plan);
    if (errors.empty()) continue;
    plan->entry_problems.push_back("Certificate " + plan->certificates[k].name + ": " +
                                   Join(errors));
    plan->certificates.erase(plan->certificates.begin() + static_cast<std::ptrdiff_t>(k));
  }
}

bool HasControllerRef(const Json& obj, const std::string& uid) {
  for (const Json& ref : obj["metadata"].value("ownerReferences", Json::array())) {
    if (ref.is_object() && ref.value("uid", "") == uid && ref.value("controller", false)) {
      return true;
    }
  }
  return false;
}

bool OwnedByShim(const Json& cert, const Json& owner, const std::string& label) {
  const Json& labels = cert["metadata"].value("labels", Json::object());
  return labels.value(label, "") == kIngressShimLabelValue &&
         HasControllerRef(cert, kube::GetUid(owner));
}

// The managed fields of two Certificate specs mean the same (parsed, so a server that writes
// "2160h" as "2160h0m0s" or fills defaults does not cause an update loop).
bool SameSpec(const Json& obj, const Json& spec) {
  Json other = obj;
  other["spec"] = spec;
  auto a = api::Certificate::FromJson(obj);
  auto b = api::Certificate::FromJson(other);
  if (!a.ok() || !b.ok()) return obj.value("spec", Json()) == spec;
  return a->spec.ToJson() == b->spec.ToJson();
}

}  // namespace

Json MergeManagedSpec(const Json& spec, const ShimCertificate& want) {
  Json out = spec.is_object() ? spec : Json::object();
  auto set = [&out](const char* field, bool present, Json value) {
    if (present) {
      out[field] = std::move(value);
    } else {
      out.erase(field);
    }
  };
  out["secretName"] = want.secret_name;
  out["issuerRef"] = want.issuer_ref.ToJson();
  out["dnsNames"] = want.dns_names;
  set("commonName", !want.common_name.empty(), want.common_name);
  set("duration", want.duration.has_value(),
      want.duration ? api::FormatDuration(*want.duration) : "");
  set("renewBefore", want.renew_before.has_value(),
      want.renew_before ? api::FormatDuration(*want.renew_before) : "");
  set("usages", !want.usages.empty(), want.usages);
  Json key = out.value("privateKey", Json::object());
  if (!key.is_object()) key = Json::object();
  if (want.key_algorithm.empty()) {
    key.erase("algorithm");
  } else {
    key["algorithm"] = want.key_algorithm;
  }
  if (want.key_size == 0) {
    key.erase("size");
  } else {
    key["size"] = want.key_size;
  }
  set("privateKey", !key.empty(), key);
  return out;
}

IngressPlan PlanShimCertificates(
    const Json& obj, const IngressShimOptions& options,
    const std::function<std::vector<TlsEntry>(IngressPlan*)>& read_entries) {
  IngressPlan plan;
  Annotations a(obj, options.honour_cert_manager_annotations);
  CheckKeys(a, options.honour_cert_manager_annotations, &plan);
  plan.issuer = ReadIssuer(a, options.honour_cert_manager_annotations, &plan);
  std::map<std::string, std::string> keys;
  ShimCertificate tmpl = ReadOptional(a, &plan, &keys);
  if (!plan.issuer) {
    if (plan.blocking.empty() && !keys.empty()) {
      std::vector<std::string> set;
      for (const auto& [field, key] : keys) set.push_back(key);
      plan.ignored.push_back(Join(set) + " without " + std::string(kOwnPrefix) + kIssuer + " or " +
                             std::string(kOwnPrefix) + kClusterIssuer +
                             ": no Certificates are made");
    }
    return plan;
  }
  AddEntries(read_entries(&plan), kube::GetNamespace(obj), tmpl, keys, &plan);
  if (!plan.blocking.empty()) plan.certificates.clear();
  return plan;
}

IngressPlan PlanIngressCertificates(const Json& ingress, const IngressShimOptions& options) {
  return PlanShimCertificates(ingress, options, [&ingress](IngressPlan* plan) {
    return IngressTlsEntries(ingress, plan);
  });
}

ShimSource IngressShimSource() {
  return ShimSource{kube::kIngresses, kIngressShimLabel, "InvalidTLSEntry",
                    &PlanIngressCertificates};
}

bool IngressShimReadsAnnotation(std::string_view name) {
  return name == kIssuer || name == kClusterIssuer || IsOptional(name);
}

bool IngressShimRelevant(const Json& ingress, const IngressShimOptions& options) {
  auto meta = ingress.find("metadata");
  if (meta == ingress.end() || !meta->contains("annotations")) return false;
  for (const auto& [key, value] : (*meta)["annotations"].items()) {
    if (key.rfind(kOwnPrefix, 0) == 0) return true;
    if (options.honour_cert_manager_annotations && key.rfind(kCertManagerPrefix, 0) == 0) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> IngressShimOwnerKey(const Json& certificate) {
  return ShimOwnerKey(certificate, IngressShimSource());
}

std::optional<std::string> ShimOwnerKey(const Json& certificate, const ShimSource& source) {
  const Json& meta = certificate.value("metadata", Json::object());
  if (meta.value("labels", Json::object()).value(source.label, "") != kIngressShimLabelValue) {
    return std::nullopt;
  }
  for (const Json& ref : meta.value("ownerReferences", Json::array())) {
    if (ref.is_object() && ref.value("kind", "") == source.resource.kind &&
        ref.value("controller", false)) {
      return kube::GetNamespace(certificate) + "/" + ref.value("name", "");
    }
  }
  return std::nullopt;
}

SyncResult IngressShim::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  auto got = ctx_.client->Get(source_.resource, ns, name);
  if (!got.ok()) {
    return kube::IsNotFound(got.status()) ? SyncResult::Done() : SyncResult::Error(got.status());
  }
  Json ingress = *got;
  // The list response of some servers leaves these out of items; events need them.
  ingress["apiVersion"] = source_.resource.ApiVersion();
  ingress["kind"] = source_.resource.kind;
  // Garbage collection removes the owned Certificates with the Ingress.
  if (ingress["metadata"].contains("deletionTimestamp")) return SyncResult::Done();

  IngressPlan plan = source_.plan(ingress, options_);
  for (const std::string& m : plan.ignored) {
    Event(ctx_, ingress, kube::kEventWarning, "AnnotationIgnored", m);
  }
  if (!plan.blocking.empty()) {
    // Nothing is created, changed or deleted until the annotations are fixed: a typo must not
    // remove a working Certificate. No error either: retrying cannot fix it; the edit will.
    for (const std::string& m : plan.blocking) {
      Event(ctx_, ingress, kube::kEventWarning, "InvalidAnnotation",
            m + "; no Certificate is created, changed or deleted until this is fixed");
    }
    return SyncResult::Done();
  }
  if (plan.issuer) {
    for (const std::string& m : plan.entry_problems) {
      Event(ctx_, ingress, kube::kEventWarning, source_.entry_problem_reason, m);
    }
    if (!plan.certificates.empty()) WarnIfIssuerMissing(ingress, *plan.issuer);
    for (const ShimCertificate& c : plan.certificates) {
      Status s = Apply(ingress, c);
      if (!s.ok()) return SyncResult::Error(s);
    }
  }
  // Without an issuer annotation the Ingress wants no Certificates at all.
  Status d = DeleteUnwanted(ingress, plan.issuer ? plan.named_secrets : std::vector<std::string>{});
  return d.ok() ? SyncResult::Done() : SyncResult::Error(d);
}

Status IngressShim::Apply(const Json& ingress, const ShimCertificate& want) {
  auto got = ctx_.client->Get(api::kCertificates, want.namespace_, want.name);
  if (!got.ok() && !kube::IsNotFound(got.status())) return got.status();
  const std::string hosts = Join(want.dns_names);
  if (!got.ok()) {
    Json obj = {{"apiVersion", std::string(api::kGroup) + "/" + api::kVersion},
                {"kind", "Certificate"},
                {"metadata",
                 {{"name", want.name},
                  {"namespace", want.namespace_},
                  {"labels", {{source_.label, kIngressShimLabelValue}}},
                  {"ownerReferences", Json::array({OwnerReference(ingress)})}}},
                {"spec", MergeManagedSpec(Json::object(), want)}};
    auto created = ctx_.client->Create(api::kCertificates, want.namespace_, obj);
    if (!created.ok()) return created.status().WithContext("creating Certificate " + want.name);
    Event(ctx_, ingress, kube::kEventNormal, "CertificateCreated",
          "Created Certificate " + want.name + " for " + hosts + " (Secret " + want.secret_name +
              ", " + want.issuer_ref.kind + " " + want.issuer_ref.name + ")");
    return Status::Ok();
  }
  const Json& existing = *got;
  if (!OwnedByShim(existing, ingress, source_.label)) {
    const std::string& kind = source_.resource.kind;
    Event(ctx_, ingress, kube::kEventWarning, "CertificateNotOwned",
          "Certificate " + want.name + " already exists and was not made by this " + kind +
              " (it lacks the " + source_.label + " label or a controller ownerReference to this " +
              kind + "), so it is left unchanged; use another Secret name, or delete that " +
              "Certificate to let the " + kind + " manage it");
    return Status::Ok();
  }
  Json spec = MergeManagedSpec(existing.value("spec", Json::object()), want);
  if (SameSpec(existing, spec)) return Status::Ok();
  Json updated = existing;
  updated["spec"] = spec;
  auto written = ctx_.client->Update(api::kCertificates, want.namespace_, updated);
  if (!written.ok()) return written.status().WithContext("updating Certificate " + want.name);
  Event(ctx_, ingress, kube::kEventNormal, "CertificateUpdated",
        "Updated Certificate " + want.name + " to match the " + source_.resource.kind + " (" +
            hosts + ")");
  return Status::Ok();
}

Status IngressShim::DeleteUnwanted(const Json& ingress, const std::vector<std::string>& keep) {
  kube::ListOptions o;
  o.label_selector = source_.label + "=" + kIngressShimLabelValue;
  const std::string ns = kube::GetNamespace(ingress);
  ASSIGN_OR_RETURN(Json list, kube::ListAll(*ctx_.client, api::kCertificates, ns, o));
  for (const Json& cert : list.value("items", Json::array())) {
    const std::string name = kube::GetName(cert);
    if (!OwnedByShim(cert, ingress, source_.label)) continue;
    if (std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
    kube::DeleteOptions d;
    d.precondition_uid = kube::GetUid(cert);
    Status s = ctx_.client->Delete(api::kCertificates, ns, name, d);
    if (!s.ok() && !kube::IsNotFound(s)) return s.WithContext("deleting Certificate " + name);
    const std::string secret = cert.value("spec", Json::object()).value("secretName", name);
    Event(ctx_, ingress, kube::kEventNormal, "CertificateDeleted",
          "Deleted Certificate " + name + ": the " + source_.resource.kind +
              " no longer asks for it (Secret " + secret + " is kept)");
  }
  return Status::Ok();
}

void IngressShim::WarnIfIssuerMissing(const Json& ingress, const api::IssuerRef& ref) {
  const kube::ResourceRef& res = ref.IsClusterIssuer() ? api::kClusterIssuers : api::kIssuers;
  auto got =
      ctx_.client->Get(res, ref.IsClusterIssuer() ? "" : kube::GetNamespace(ingress), ref.name);
  if (got.ok() || !kube::IsNotFound(got.status())) return;
  Event(ctx_, ingress, kube::kEventWarning, "IssuerNotFound",
        ref.kind + " " + ref.name + " does not exist" +
            (ref.IsClusterIssuer() ? "" : " in namespace " + kube::GetNamespace(ingress)) +
            ": its Certificates wait until it does (check the annotation for a typo)");
}

}  // namespace certsmith::reconcilers
