#include "gateway/gateway_shim.h"

#include <algorithm>

#include "api/names.h"
#include "certsmith/log.h"

namespace certsmith::reconcilers {
namespace {

std::string Str(const Json& obj, const char* key, const std::string& fallback = "") {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

std::vector<TlsEntry> GatewayTlsEntries(const Json& gateway, IngressPlan* plan) {
  std::vector<TlsEntry> out;
  const std::string ns = kube::GetNamespace(gateway);
  const Json spec = gateway.value("spec", Json::object());
  const Json listeners = spec.is_object() ? spec.value("listeners", Json::array()) : Json();
  bool any_ref = false;
  for (size_t i = 0; listeners.is_array() && i < listeners.size(); ++i) {
    const Json& l = listeners[i];
    if (!l.is_object() || !l.contains("tls") || !l["tls"].is_object()) continue;
    const Json& tls = l["tls"];
    // Passthrough: the backend terminates TLS with its own certificate.
    if (Str(tls, "mode", "Terminate") != "Terminate") continue;
    const std::string path = api::IndexPath("spec.listeners", i);
    const std::string listener = "listener " + log::Sanitize(Str(l, "name", path));
    const std::string hostname = Str(l, "hostname");
    const Json refs = tls.value("certificateRefs", Json::array());
    for (size_t j = 0; refs.is_array() && j < refs.size(); ++j) {
      const Json& ref = refs[j];
      // Only core Secrets become Certificates; other kinds belong to other controllers.
      if (Str(ref, "group") != "" || Str(ref, "kind", "Secret") != "Secret") continue;
      const std::string secret = Str(ref, "name");
      if (secret.empty()) continue;
      any_ref = true;
      const std::string ref_ns = Str(ref, "namespace", ns);
      auto name_it = [&] {
        // Named, so a Certificate made for it earlier is not deleted over a mistake.
        if (std::find(plan->named_secrets.begin(), plan->named_secrets.end(), secret) ==
            plan->named_secrets.end()) {
          plan->named_secrets.push_back(secret);
        }
      };
      if (ref_ns != ns) {
        name_it();
        plan->entry_problems.push_back(
            listener + " (" + path + ") refers to Secret " + log::Sanitize(ref_ns) + "/" +
            log::Sanitize(secret) +
            " in another namespace, so no Certificate is made for it: the Gateway shim makes "
            "Certificates only for Secrets in the Gateway's namespace (" +
            ns + ")");
        continue;
      }
      if (hostname.empty()) {
        name_it();
        plan->entry_problems.push_back(
            listener + " (" + path + ") has no hostname, so no Certificate is made for Secret " +
            log::Sanitize(secret) + " from it: set the listener's hostname");
        continue;
      }
      out.push_back(TlsEntry{path, secret, {hostname}, {path + ".hostname"}});
    }
  }
  if (!any_ref) {
    plan->entry_problems.push_back(
        "the Gateway has an issuer annotation but no listener with tls.certificateRefs (mode "
        "Terminate): add a Secret reference to each HTTPS listener that needs a certificate");
  }
  return out;
}

IngressPlan PlanGatewayCertificates(const Json& gateway, const IngressShimOptions& options) {
  return PlanShimCertificates(
      gateway, options, [&gateway](IngressPlan* plan) { return GatewayTlsEntries(gateway, plan); });
}

ShimSource GatewayShimSource() {
  return ShimSource{kube::kGateways, kGatewayShimLabel, "InvalidListener",
                    &PlanGatewayCertificates};
}

}  // namespace certsmith::reconcilers
