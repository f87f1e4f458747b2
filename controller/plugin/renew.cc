#include "plugin/renew.h"

#include "api/resources.h"
#include "kube/errors.h"
#include "plugin/commands.h"

namespace certsmith::plugin {

Result<int64_t> RequestRenewal(kube::Client& client, const std::string& ns,
                               const std::string& name) {
  int64_t revision = 0;
  Status s = kube::RetryOnConflict([&]() -> Status {
    ASSIGN_OR_RETURN(kube::Json cert, client.Get(api::kCertificates, ns, name));
    const kube::Json status = cert.value("status", kube::Json::object());
    revision = status.value("revision", int64_t{0});
    // resourceVersion makes the patch conditional: the revision read is the one asked about.
    kube::Json patch = {
        {"metadata",
         {{"resourceVersion", kube::GetResourceVersion(cert)},
          {"annotations", {{api::kRenewRevisionAnnotation, std::to_string(revision)}}}}}};
    return client.Patch(api::kCertificates, ns, name, kube::PatchType::kMerge, patch).status();
  });
  if (!s.ok()) {
    if (kube::IsNotFound(s)) {
      return Status(ErrorCode::kNotFound, "certificate " + ns + "/" + name + " not found");
    }
    return s;
  }
  return revision;
}

RenewResult RequestRenewals(kube::Client& client, const std::string& ns,
                            const std::vector<std::string>& names, const std::string& selector,
                            bool all_namespaces) {
  RenewResult result;
  std::vector<std::pair<std::string, std::string>> targets;
  if (!names.empty()) {
    for (const std::string& n : names) targets.emplace_back(ns, n);
  } else {
    kube::ListOptions options;
    options.label_selector = selector;
    auto list = kube::ListAll(client, api::kCertificates, all_namespaces ? "" : ns, options);
    if (!list.ok()) {
      result.errors.push_back("listing certificates: " + list.status().message());
      return result;
    }
    for (const kube::Json& item : (*list)["items"]) {
      targets.emplace_back(kube::GetNamespace(item), kube::GetName(item));
    }
    if (targets.empty()) {
      result.errors.push_back("no certificates found" +
                              (all_namespaces ? std::string() : " in namespace " + ns) +
                              (selector.empty() ? "" : " matching " + selector));
    }
  }
  for (const auto& [target_ns, name] : targets) {
    auto revision = RequestRenewal(client, target_ns, name);
    if (!revision.ok()) {
      result.errors.push_back(revision.status().message());
      continue;
    }
    result.requested.push_back(target_ns + "/" + name + " (newer than revision " +
                               std::to_string(*revision) + ")");
  }
  return result;
}

int RunRenew(Session& s, Io& io) {
  const std::vector<std::string> names(s.options.args.begin(), s.options.args.end());
  RenewResult r =
      RequestRenewals(*s.client, s.ns, names, s.options.selector, s.options.all_namespaces);
  for (const std::string& line : r.requested) io.out << "Renewal requested: " << line << "\n";
  for (const std::string& e : r.errors) io.err << "error: " << e << "\n";
  return r.errors.empty() ? 0 : 1;
}

}  // namespace certsmith::plugin
