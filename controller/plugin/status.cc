#include "plugin/status.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "api/resources.h"
#include "certsmith/log.h"
#include "kube/errors.h"
#include "kube/time_format.h"
#include "plugin/output.h"

namespace certsmith::plugin {
namespace {

using Json = nlohmann::json;

const Json& Field(const Json& obj, std::initializer_list<const char*> path) {
  static const Json kNull;
  const Json* cur = &obj;
  for (const char* p : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(p);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string Str(const Json& obj, std::initializer_list<const char*> path,
                const std::string& fallback = "") {
  const Json& v = Field(obj, path);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return fallback;
}

Json ConditionOf(const Json& obj, const std::string& type) {
  for (const Json& c : Field(obj, {"status", "conditions"})) {
    if (c.is_object() && c.value("type", "") == type) return c;
  }
  return nullptr;
}

// "True  Ready: message (for 3m)" or "-".
std::string DescribeCondition(const Json& c, Clock::TimePoint now) {
  if (c.is_null()) return "-";
  std::string out = c.value("status", "?");
  if (c.contains("reason")) out += "  " + c.value("reason", "");
  if (!c.value("message", "").empty()) out += ": " + log::Sanitize(c.value("message", ""));
  if (auto t = kube::ParseTime(c.value("lastTransitionTime", ""))) {
    out += " (since " + Relative(*t, now) + ")";
  }
  return out;
}

std::string TimeField(const Json& obj, std::initializer_list<const char*> path,
                      Clock::TimePoint now) {
  const std::string text = Str(obj, path);
  auto t = kube::ParseTime(text);
  if (!t) return "-";
  return text + " (" + Relative(*t, now) + ")";
}

int64_t RevisionOf(const Json& order) {
  const std::string r = Str(order, {"metadata", "annotations", api::kRevisionAnnotation}, "0");
  char* end = nullptr;
  const long long n = std::strtoll(r.c_str(), &end, 10);
  return *end == '\0' ? n : 0;
}

std::string EventTime(const Json& e) {
  for (const char* f : {"lastTimestamp", "eventTime", "firstTimestamp"}) {
    if (e.contains(f) && e[f].is_string() && !e[f].get<std::string>().empty()) return e[f];
  }
  return Str(e, {"metadata", "creationTimestamp"});
}

bool OwnedBy(const Json& obj, const std::string& uid) {
  for (const Json& ref : Field(obj, {"metadata", "ownerReferences"})) {
    if (ref.is_object() && ref.value("uid", "") == uid) return true;
  }
  return false;
}

}  // namespace

Result<StatusReport> GatherStatus(kube::Client& client, const std::string& ns,
                                  const std::string& name) {
  StatusReport r;
  auto cert = client.Get(api::kCertificates, ns, name);
  if (!cert.ok()) {
    if (kube::IsNotFound(cert.status())) {
      return Status(ErrorCode::kNotFound, "certificate " + ns + "/" + name + " not found");
    }
    return cert.status();
  }
  r.certificate = *cert;
  const std::string uid = kube::GetUid(*cert);

  const std::string issuer_kind = Str(*cert, {"spec", "issuerRef", "kind"}, "Issuer");
  const std::string issuer_name = Str(*cert, {"spec", "issuerRef", "name"});
  const bool cluster = issuer_kind == "ClusterIssuer";
  auto issuer =
      client.Get(cluster ? api::kClusterIssuers : api::kIssuers, cluster ? "" : ns, issuer_name);
  if (issuer.ok()) {
    r.issuer = *issuer;
  } else {
    r.issuer_error = kube::IsNotFound(issuer.status()) ? "not found" : issuer.status().message();
  }

  const std::string secret_name = Str(*cert, {"spec", "secretName"});
  auto secret = client.Get(kube::kSecrets, ns, secret_name);
  if (secret.ok()) {
    r.contents = ReadSecret(*secret);
    r.secret = {{"metadata", (*secret)["metadata"]}, {"type", secret->value("type", "")}};
    r.secret["metadata"].erase("managedFields");
  } else {
    r.secret_error =
        kube::IsNotFound(secret.status()) ? "does not exist" : secret.status().message();
  }

  kube::ListOptions by_cert;
  by_cert.label_selector = std::string(api::kCertificateNameLabel) + "=" + name;
  auto orders = client.List(api::kOrders, ns, by_cert);
  if (orders.ok()) {
    for (const Json& o : (*orders)["items"]) {
      if (!OwnedBy(o, uid)) continue;  // a deleted namesake's, on its way out
      if (r.order.is_null() || RevisionOf(o) > RevisionOf(r.order) ||
          (RevisionOf(o) == RevisionOf(r.order) &&
           Str(o, {"metadata", "creationTimestamp"}) >
               Str(r.order, {"metadata", "creationTimestamp"}))) {
        r.order = o;
      }
    }
  }
  if (!r.order.is_null()) {
    auto challenges = client.List(api::kChallenges, ns, by_cert);
    if (challenges.ok()) {
      for (const Json& c : (*challenges)["items"]) {
        if (OwnedBy(c, kube::GetUid(r.order))) r.challenges.push_back(c);
      }
    }
  }

  kube::ListOptions by_object;
  by_object.field_selector = "involvedObject.name=" + name;
  auto events = client.List(kube::kEvents, ns, by_object);
  if (!events.ok() && events.status().code() == ErrorCode::kInvalidArgument) {
    events = client.List(kube::kEvents, ns, {});  // a server without that field selector
  }
  if (events.ok()) {
    for (const Json& e : (*events)["items"]) {
      const Json& involved = Field(e, {"involvedObject"});
      if (Str(involved, {"kind"}) != "Certificate" || Str(involved, {"name"}) != name) continue;
      if (!uid.empty() && !Str(involved, {"uid"}).empty() && Str(involved, {"uid"}) != uid) {
        continue;
      }
      r.events.push_back(e);
    }
    std::stable_sort(r.events.begin(), r.events.end(),
                     [](const Json& a, const Json& b) { return EventTime(a) < EventTime(b); });
    if (r.events.size() > StatusReport::kMaxEvents) {
      r.events.erase(r.events.begin(), r.events.end() - StatusReport::kMaxEvents);
    }
  }
  return r;
}

std::string FormatStatus(const StatusReport& r, Clock::TimePoint now) {
  std::ostringstream out;
  const Json& c = r.certificate;
  const std::string name = kube::GetName(c);
  out << "Certificate " << kube::GetNamespace(c) << "/" << name << "\n";
  out << "  Ready:      " << DescribeCondition(ConditionOf(c, "Ready"), now) << "\n";
  out << "  Issuing:    " << DescribeCondition(ConditionOf(c, "Issuing"), now) << "\n";
  std::vector<std::string> names;
  if (!Str(c, {"spec", "commonName"}).empty())
    names.push_back("CN " + Str(c, {"spec", "commonName"}));
  for (const Json& n : Field(c, {"spec", "dnsNames"})) names.push_back(n.get<std::string>());
  for (const Json& n : Field(c, {"spec", "ipAddresses"})) names.push_back(n.get<std::string>());
  out << "  Names:      " << (names.empty() ? "-" : Join(names)) << "\n";
  std::string issuer =
      Str(c, {"spec", "issuerRef", "kind"}, "Issuer") + " " + Str(c, {"spec", "issuerRef", "name"});
  if (!r.issuer.is_null()) {
    const Json ready = ConditionOf(r.issuer, "Ready");
    issuer += ready.is_null() ? " (not ready yet)"
                              : " (Ready " + ready.value("status", "?") + ", " +
                                    ready.value("reason", "") + ")";
  } else {
    issuer += " (" + r.issuer_error + ")";
  }
  out << "  Issuer:     " << issuer << "\n";
  out << "  Revision:   " << Str(c, {"status", "revision"}, "-");
  out << "   not after " << TimeField(c, {"status", "notAfter"}, now);
  out << "   renewal " << TimeField(c, {"status", "renewalTime"}, now) << "\n";
  const std::string renew = Str(c, {"metadata", "annotations", api::kRenewRevisionAnnotation});
  if (!renew.empty()) {
    const bool done = std::strtoll(Str(c, {"status", "revision"}, "0").c_str(), nullptr, 10) >
                      std::strtoll(renew.c_str(), nullptr, 10);
    out << "  Renewal:    requested after revision " << renew << (done ? " (done)" : " (pending)")
        << "\n";
  }
  if (!Str(c, {"status", "lastFailureTime"}).empty()) {
    out << "  Failures:   " << Str(c, {"status", "failedIssuanceAttempts"}, "0") << ", last "
        << TimeField(c, {"status", "lastFailureTime"}, now) << "\n";
  }

  const std::string secret_name = Str(c, {"spec", "secretName"});
  if (r.secret.is_null()) {
    out << "Secret " << secret_name << ": " << r.secret_error << "\n";
  } else {
    out << "Secret " << secret_name << " (" << r.secret.value("type", "") << ")\n";
    if (!r.contents.chain.empty()) {
      for (const std::string& line : DescribeCertificate(r.contents.chain[0], now, "  ")) {
        out << line << "\n";
      }
      std::string key = r.contents.key_type.empty() ? "none" : r.contents.key_type;
      if (r.contents.key_matches) {
        key += *r.contents.key_matches ? ", matches the certificate"
                                       : ", DOES NOT match the certificate";
      }
      out << "  Key:        " << key << "\n";
      out << "  Chain:      " << r.contents.chain.size() << " certificate(s)";
      if (!r.contents.ca.empty()) out << "; ca.crt " << log::Sanitize(r.contents.ca[0].subject);
      out << "\n";
    } else {
      out << "  Certificate: " << r.contents.chain_error << "\n";
    }
  }

  if (r.order.is_null()) {
    out << "Order: none\n";
  } else {
    const Json& o = r.order;
    out << "Order " << kube::GetName(o) << " (revision " << RevisionOf(o)
        << "): " << Str(o, {"status", "state"}, "pending") << "\n";
    if (!Str(o, {"status", "url"}).empty())
      out << "  URL:        " << Str(o, {"status", "url"}) << "\n";
    if (r.challenges.empty()) {
      out << "  Challenges: none\n";
    }
    bool first = true;
    for (const Json& ch : r.challenges) {
      out << (first ? "  Challenges: " : "              ") << Str(ch, {"spec", "type"}) << " "
          << Str(ch, {"spec", "dnsName"}) << "  " << Str(ch, {"status", "state"}, "pending");
      if (!Str(ch, {"status", "reason"}).empty()) {
        out << ": " << log::Sanitize(Str(ch, {"status", "reason"}));
      }
      out << "\n";
      first = false;
    }
    // The CA's last words: the order's problem (type, detail, subproblems), verbatim.
    const std::string reason = Str(o, {"status", "reason"});
    out << "  CA said:    " << (reason.empty() ? "-" : log::Sanitize(reason)) << "\n";
  }

  out << "Events:" << (r.events.empty() ? " none" : "") << "\n";
  for (const Json& e : r.events) {
    std::string when = "-";
    if (auto t = kube::ParseTime(EventTime(e))) when = ShortDuration(now - *t);
    std::string line = "  " + when;
    line.resize(std::max<size_t>(line.size() + 1, 8), ' ');
    std::string type = e.value("type", "");
    type.resize(std::max<size_t>(type.size() + 1, 8), ' ');
    std::string reason = e.value("reason", "");
    reason.resize(std::max<size_t>(reason.size() + 1, 20), ' ');
    std::string count =
        e.value("count", 1) > 1 ? " (x" + std::to_string(e.value("count", 1)) + ")" : "";
    out << line << type << reason << log::Sanitize(e.value("message", "")) << count << "\n";
  }
  return out.str();
}

Json StatusToJson(const StatusReport& r) {
  Json j = {{"certificate", r.certificate}};
  j["issuer"] = r.issuer.is_null() ? Json{{"error", r.issuer_error}} : r.issuer;
  if (r.secret.is_null()) {
    j["secret"] = {{"error", r.secret_error}};
  } else {
    j["secret"] = r.secret;
    j["secret"]["contents"] = SecretContentsToJson(r.contents);
  }
  j["order"] = r.order;
  j["challenges"] = r.challenges;
  j["events"] = r.events;
  return j;
}

}  // namespace certsmith::plugin
