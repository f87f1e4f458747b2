// convert -f FILE... | --from-cluster: reads cert-manager's objects, prints certsmith's on stdout
// and what could not be converted on stderr (and as comments in the YAML).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>

#include "kube/errors.h"
#include "plugin/commands.h"
#include "plugin/convert/converter.h"
#include "kube/manifests.h"
#include "plugin/output.h"

namespace certsmith::plugin {
namespace {

using Json = nlohmann::json;

const kube::ResourceRef kCmClusterIssuers{"cert-manager.io", "v1", "clusterissuers",
                                          "ClusterIssuer", false};
const kube::ResourceRef kCmIssuers{"cert-manager.io", "v1", "issuers", "Issuer", true};
const kube::ResourceRef kCmCertificates{"cert-manager.io", "v1", "certificates", "Certificate",
                                        true};

Result<std::string> ReadText(const std::string& path, std::istream& in) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(in), {});
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status(ErrorCode::kNotFound, "cannot read " + path);
  std::ostringstream ss;
  ss << file.rdbuf();
  return ss.str();
}

// Files as kubectl -f takes them: a file, "-", or a directory's .yaml/.yml/.json files in name
// order.
Result<std::vector<Json>> ReadInputs(const std::vector<std::string>& paths, std::istream& in) {
  std::vector<Json> out;
  for (const std::string& path : paths) {
    std::vector<std::string> files;
    std::error_code ec;
    if (path != "-" && std::filesystem::is_directory(path, ec)) {
      for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
        const std::string ext = e.path().extension().string();
        if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(path);
    }
    for (const std::string& f : files) {
      ASSIGN_OR_RETURN(std::string text, ReadText(f, in));
      ASSIGN_OR_RETURN(std::vector<Json> docs,
                       kube::ParseManifests(text, f == "-" ? "standard input" : f));
      out.insert(out.end(), docs.begin(), docs.end());
    }
  }
  return out;
}

Status ListInto(kube::Client& client, const kube::ResourceRef& res, const std::string& ns,
                std::vector<Json>* out, bool only_cert_manager_ingresses = false) {
  auto list = kube::ListAll(client, res, ns, {});
  if (!list.ok()) {
    if (kube::IsNotFound(list.status())) {
      return Status(ErrorCode::kNotFound, res.resource + "." + res.group + "/" + res.version +
                                              " is not served by this cluster (are cert-manager's "
                                              "CRDs installed?)");
    }
    return list.status().WithContext("listing " + res.resource);
  }
  for (Json item : (*list)["items"]) {
    // Items of a typed list carry no apiVersion and kind.
    item["apiVersion"] = res.ApiVersion();
    item["kind"] = res.kind;
    if (only_cert_manager_ingresses && !HasCertManagerAnnotations(item)) continue;
    out->push_back(std::move(item));
  }
  return Status::Ok();
}

Result<std::vector<Json>> ReadCluster(Session& s) {
  std::vector<Json> out;
  const std::string ns = s.options.all_namespaces ? "" : s.ns;
  RETURN_IF_ERROR(ListInto(*s.client, kCmClusterIssuers, "", &out));
  RETURN_IF_ERROR(ListInto(*s.client, kCmIssuers, ns, &out));
  RETURN_IF_ERROR(ListInto(*s.client, kCmCertificates, ns, &out));
  RETURN_IF_ERROR(ListInto(*s.client, kube::kIngresses, ns, &out, true));
  return out;
}

}  // namespace

int RunConvert(Session& s, Io& io) {
  auto inputs = s.options.from_cluster ? ReadCluster(s) : ReadInputs(s.options.filenames, io.in);
  if (!inputs.ok()) {
    io.err << "error: " << inputs.status().message() << "\n";
    return 1;
  }
  ConvertOptions options;
  options.cert_manager_namespace = s.options.cert_manager_namespace;
  options.controller_namespace = s.options.controller_namespace;
  const ConversionResult result = Convert(*inputs, options);
  if (s.options.output == "json") {
    io.out << DumpJson(ToJsonList(result), 4) << "\n";
  } else {
    io.out << ToYamlStream(result);
  }
  int converted = 0;
  bool ingresses = false;
  int counts[5] = {0, 0, 0, 0, 0};
  for (const ConvertedObject& o : result.objects) {
    converted += !o.from.empty();
    ingresses |= !o.from.empty() && o.object.value("kind", "") == "Ingress";
  }
  for (const Note& n : result.notes) {
    io.err << n.ToString() << "\n";
    ++counts[static_cast<int>(n.kind)];
  }
  io.err << "converted " << converted << " object(s); " << counts[0] << " field(s) not converted, "
         << counts[1] << " object(s) skipped, " << counts[2] << " would be refused, " << counts[4]
         << " thing(s) to do by hand\n";
  if (ingresses) {
    io.err << "cert-manager.io annotations on Ingresses are kept (for a rollback); certsmith "
              "reads them only with --honour-cert-manager-annotations\n";
  }
  return s.options.strict && !result.Lossless() ? 3 : 0;
}

}  // namespace certsmith::plugin
