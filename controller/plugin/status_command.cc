// status certificate NAME and inspect secret NAME.
#include <ostream>

#include "kube/errors.h"
#include "plugin/commands.h"
#include "plugin/output.h"
#include "plugin/status.h"

namespace certsmith::plugin {

int RunStatus(Session& s, Io& io) {
  const std::string& name = s.options.args.at(1);
  auto report = GatherStatus(*s.client, s.ns, name);
  if (!report.ok()) {
    io.err << "error: " << report.status().message() << "\n";
    return 1;
  }
  if (!s.options.output.empty()) {
    PrintStructured(StatusToJson(*report), s.options.output, io.out);
  } else {
    io.out << FormatStatus(*report, s.clock->Now());
  }
  return 0;
}

int RunInspect(Session& s, Io& io) {
  const std::string& name = s.options.args.at(1);
  auto secret = s.client->Get(kube::kSecrets, s.ns, name);
  if (!secret.ok()) {
    io.err << "error: "
           << (kube::IsNotFound(secret.status()) ? "secret " + s.ns + "/" + name + " not found"
                                                 : secret.status().message())
           << "\n";
    return 1;
  }
  const SecretContents contents = ReadSecret(*secret);
  Json meta = (*secret)["metadata"];
  meta.erase("managedFields");
  if (!s.options.output.empty()) {
    PrintStructured({{"metadata", meta},
                     {"type", secret->value("type", "")},
                     {"contents", SecretContentsToJson(contents)}},
                    s.options.output, io.out);
    return 0;
  }
  const auto now = s.clock->Now();
  io.out << "Secret " << s.ns << "/" << name << " (" << secret->value("type", "") << ")\n";
  const Json annotations = meta.value("annotations", Json::object());
  const Json labels = meta.value("labels", Json::object());
  if (labels.value("app.kubernetes.io/managed-by", "") == "certsmith") {
    io.out << "  Managed by: certsmith, Certificate "
           << labels.value("certsmith.io/certificate-name", "?") << ", "
           << annotations.value("certsmith.io/issuer-kind", "?") << " "
           << annotations.value("certsmith.io/issuer-name", "?") << ", revision "
           << annotations.value("certsmith.io/certificate-revision", "?") << "\n";
  } else if (annotations.contains("cert-manager.io/issuer-name")) {
    io.out << "  Managed by: cert-manager, Certificate "
           << annotations.value("cert-manager.io/certificate-name", "?") << ", "
           << annotations.value("cert-manager.io/issuer-kind", "Issuer") << " "
           << annotations.value("cert-manager.io/issuer-name", "?") << "\n";
  } else {
    io.out << "  Managed by: neither certsmith nor cert-manager\n";
  }
  std::vector<std::string> keys;
  for (const auto& [key, size] : contents.data_sizes) {
    keys.push_back(key + " (" + std::to_string(size) + " bytes)");
  }
  io.out << "  Data:       " << (keys.empty() ? "-" : Join(keys)) << "\n";
  if (!contents.chain_error.empty()) io.out << "  tls.crt:    " << contents.chain_error << "\n";
  for (size_t i = 0; i < contents.chain.size(); ++i) {
    io.out << "Certificate " << i + 1 << " of " << contents.chain.size()
           << (i == 0                    ? " (leaf)"
               : contents.chain[i].is_ca ? " (CA)"
                                         : "")
           << "\n";
    for (const std::string& line : DescribeCertificate(contents.chain[i], now, "  ")) {
      io.out << line << "\n";
    }
  }
  for (const auto& info : contents.ca) {
    io.out << "ca.crt\n";
    for (const std::string& line : DescribeCertificate(info, now, "  ")) io.out << line << "\n";
  }
  std::string key =
      contents.key_type.empty()
          ? (contents.key_error.empty() ? "none" : "unreadable: " + contents.key_error)
          : contents.key_type;
  if (contents.key_matches) {
    key += *contents.key_matches ? ", matches the leaf certificate"
                                 : ", DOES NOT match the leaf certificate";
  }
  io.out << "Private key: " << key << "\n";
  return contents.key_matches.value_or(true) ? 0 : 1;
}

}  // namespace certsmith::plugin
