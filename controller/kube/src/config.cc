#include "kube/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "certsmith/base64.h"

namespace certsmith::kube {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TrimSpace(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// Finds the entry named `name` in a kubeconfig list (clusters, users, contexts).
std::optional<YAML::Node> FindNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const YAML::Node& item : list)
    if (item.IsMap() && item["name"] && item["name"].as<std::string>("") == name) return item;
  return std::nullopt;
}

std::string Str(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap() || !n[key] || !n[key].IsScalar()) return "";
  return n[key].as<std::string>("");
}

// Reads a PEM either inline (base64 in *-data) or from a file; what = "client-key".
Result<std::string> DataOrFile(const YAML::Node& n, const std::string& what,
                               const std::string& owner, const std::string& base_dir) {
  std::string data = Str(n, (what + "-data").c_str());
  if (!data.empty()) {
    auto decoded = Base64DecodeLenient(data);
    if (!decoded.ok())
      return MakeError(ErrorCode::kInvalidArgument,
                       owner + ": " + what + "-data is not valid base64");
    return *decoded;
  }
  std::string file = Str(n, what.c_str());
  if (file.empty()) return std::string();
  auto text = ReadFile(Resolve(base_dir, file));
  if (!text.ok())
    return MakeError(ErrorCode::kInvalidArgument,
                     owner + ": " + what + " file " + Resolve(base_dir, file) + " cannot be read");
  return *text;
}

Status CheckPem(const std::string& pem, const std::string& owner, const std::string& what) {
  if (pem.empty() || pem.find("-----BEGIN ") != std::string::npos) return Status::Ok();
  return MakeError(ErrorCode::kInvalidArgument, owner + ": " + what + " is not PEM");
}

Status FillCluster(const YAML::Node& cluster, const std::string& name, const std::string& base_dir,
                   RestConfig& cfg) {
  std::string owner = "cluster \"" + name + "\"";
  cfg.server = Str(cluster, "server");
  if (cfg.server.empty()) return MakeError(ErrorCode::kInvalidArgument, owner + ": server is missing");
  if (cfg.server.rfind("https://", 0) != 0 && cfg.server.rfind("http://", 0) != 0)
    return MakeError(ErrorCode::kInvalidArgument,
                     owner + ": server \"" + cfg.server + "\" is not an http(s) URL");
  while (cfg.server.size() > 8 && cfg.server.back() == '/') cfg.server.pop_back();
  ASSIGN_OR_RETURN(cfg.tls.ca_pem, DataOrFile(cluster, "certificate-authority", owner, base_dir));
  RETURN_IF_ERROR(CheckPem(cfg.tls.ca_pem, owner, "certificate-authority"));
  cfg.tls.ca_only = !cfg.tls.ca_pem.empty();
  cfg.tls.insecure_skip_verify = Str(cluster, "insecure-skip-tls-verify") == "true";
  return Status::Ok();
}

Status FillUser(const YAML::Node& user, const std::string& name, const std::string& base_dir,
                RestConfig& cfg) {
  std::string owner = "user \"" + name + "\"";
  ASSIGN_OR_RETURN(cfg.tls.client_cert_pem,
                   DataOrFile(user, "client-certificate", owner, base_dir));
  ASSIGN_OR_RETURN(cfg.tls.client_key_pem, DataOrFile(user, "client-key", owner, base_dir));
  RETURN_IF_ERROR(CheckPem(cfg.tls.client_cert_pem, owner, "client-certificate"));
  RETURN_IF_ERROR(CheckPem(cfg.tls.client_key_pem, owner, "client-key"));
  if (cfg.tls.client_cert_pem.empty() != cfg.tls.client_key_pem.empty())
    return MakeError(ErrorCode::kInvalidArgument,
                     owner + ": client-certificate and client-key must be given together");
  std::string token = Str(user, "token");
  std::string token_file = Str(user, "tokenFile");
  if (!token.empty()) {
    cfg.token = std::make_shared<TokenSource>(token);
  } else if (!token_file.empty()) {
    cfg.token = std::make_shared<TokenSource>(Resolve(base_dir, token_file),
                                              &SystemClock::Instance());
    auto t = cfg.token->Token();
    if (!t.ok()) return t.status().WithContext(owner + ": tokenFile");
  }
  cfg.username = Str(user, "username");
  cfg.password = Str(user, "password");
  if (user && user.IsMap() && (user["exec"] || user["auth-provider"]))
    return MakeError(ErrorCode::kInvalidArgument,
                     owner + ": exec and auth-provider credentials are not supported");
  return Status::Ok();
}

Result<RestConfig> ParseParsed(const YAML::Node& root, const std::string& origin,
                               const std::string& context_in, const std::string& base_dir) {
  auto fail = [&](const std::string& what) {
    return MakeError(ErrorCode::kInvalidArgument, origin + ": " + what);
  };
  if (!root || !root.IsMap()) return fail("not a kubeconfig (expected a YAML mapping)");
  std::string context = context_in.empty() ? Str(root, "current-context") : context_in;
  if (context.empty()) return fail("no context given and current-context is not set");
  std::optional<YAML::Node> ctx_entry = FindNamed(root["contexts"], context);
  if (!ctx_entry) return fail("context \"" + context + "\" not found");
  YAML::Node ctx = (*ctx_entry)["context"];
  std::string cluster_name = Str(ctx, "cluster");
  std::string user_name = Str(ctx, "user");
  std::optional<YAML::Node> cluster_entry = FindNamed(root["clusters"], cluster_name);
  if (!cluster_entry) return fail("cluster \"" + cluster_name + "\" (context \"" + context + "\") not found");
  RestConfig cfg;
  cfg.origin = origin + " context " + context;
  Status st = FillCluster((*cluster_entry)["cluster"], cluster_name, base_dir, cfg);
  if (!st.ok()) return st.WithContext(origin);
  if (!user_name.empty()) {
    std::optional<YAML::Node> user_entry = FindNamed(root["users"], user_name);
    if (!user_entry) return fail("user \"" + user_name + "\" (context \"" + context + "\") not found");
    st = FillUser((*user_entry)["user"], user_name, base_dir, cfg);
    if (!st.ok()) return st.WithContext(origin);
  }
  std::string ns = Str(ctx, "namespace");
  if (!ns.empty()) cfg.default_namespace = ns;
  return cfg;
}

}  // namespace

TokenSource::TokenSource(std::string token) : token_(std::move(token)) {}

TokenSource::TokenSource(std::string path, const Clock* clock, std::chrono::seconds refresh_every)
    : path_(std::move(path)), clock_(clock), refresh_every_(refresh_every) {}

Result<std::string> TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (path_.empty()) return token_;
  auto now = clock_->Now();
  if (read_at_ && now - *read_at_ < refresh_every_) return token_;
  auto text = ReadFile(path_);
  if (!text.ok()) {
    // Keep serving the last good token if a rotation races with the read.
    if (read_at_) return token_;
    return MakeError(ErrorCode::kUnauthenticated, "token file " + path_ + " cannot be read");
  }
  std::string token = TrimSpace(*text);
  if (token.empty()) {
    if (read_at_) return token_;
    return MakeError(ErrorCode::kUnauthenticated, "token file " + path_ + " is empty");
  }
  token_ = std::move(token);
  read_at_ = now;
  return token_;
}

Result<RestConfig> ParseKubeconfig(const std::string& text, const std::string& origin,
                                   const std::string& context, const std::string& base_dir) {
  try {
    YAML::Node root = YAML::Load(text);
    return ParseParsed(root, origin, context, base_dir);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     origin + ": not valid YAML at line " + std::to_string(e.mark.line + 1) +
                         ": " + e.msg);
  }
}

Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  auto text = ReadFile(path);
  if (!text.ok()) return MakeError(ErrorCode::kNotFound, "kubeconfig " + path + ": cannot be read");
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  return ParseKubeconfig(*text, "kubeconfig " + path, context, dir);
}

namespace {

// File references in a kubeconfig entry, made absolute so entries from several files can merge.
void ResolveFileRefs(YAML::Node entry, const char* section, const std::string& base_dir) {
  static constexpr const char* kFileKeys[] = {"certificate-authority", "client-certificate",
                                              "client-key", "tokenFile"};
  YAML::Node body = entry[section];
  if (!body || !body.IsMap()) return;
  for (const char* key : kFileKeys) {
    std::string file = Str(body, key);
    if (!file.empty()) body[key] = Resolve(base_dir, file);
  }
}

}  // namespace

Result<RestConfig> LoadKubeconfigList(const std::vector<std::string>& paths,
                                      const std::string& context) {
  YAML::Node merged(YAML::NodeType::Map);
  std::string origin;
  for (const char* list : {"clusters", "users", "contexts"}) {
    merged[list] = YAML::Node(YAML::NodeType::Sequence);
  }
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    auto text = ReadFile(path);
    if (!text.ok()) continue;  // as kubectl: a missing file in the list is not an error
    origin += (origin.empty() ? "" : ":") + path;
    YAML::Node root;
    try {
      root = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "kubeconfig " + path + ": not valid YAML at line " +
                           std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (!root || !root.IsMap()) continue;
    const std::string dir =
        path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    if (Str(merged, "current-context").empty() && !Str(root, "current-context").empty()) {
      merged["current-context"] = Str(root, "current-context");
    }
    for (const auto& [list, section] :
         {std::pair{"clusters", "cluster"}, std::pair{"users", "user"},
          std::pair{"contexts", "context"}}) {
      if (!root[list] || !root[list].IsSequence()) continue;
      // Appended in file order: FindNamed takes the first of a name, as kubectl does.
      for (YAML::Node item : root[list]) {
        if (!item.IsMap() || !item["name"]) continue;
        ResolveFileRefs(item, section, dir);
        merged[list].push_back(item);
      }
    }
  }
  if (origin.empty()) {
    std::string all;
    for (const std::string& p : paths) all += (all.empty() ? "" : ":") + p;
    return MakeError(ErrorCode::kNotFound, "kubeconfig " + all + ": no such file");
  }
  return ParseParsed(merged, "kubeconfig " + origin, context, "");
}

Result<RestConfig> InClusterConfig(const InClusterOptions& options) {
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (options.getenv) return options.getenv(name);
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty())
    return MakeError(ErrorCode::kFailedPrecondition,
                     "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  RestConfig cfg;
  cfg.origin = "in-cluster";
  bool v6 = host->find(':') != std::string::npos;
  cfg.server = "https://" + (v6 ? "[" + *host + "]" : *host) + ":" + *port;
  cfg.token = std::make_shared<TokenSource>(options.sa_dir + "/token", options.clock);
  auto tok = cfg.token->Token();
  if (!tok.ok()) return tok.status().WithContext("in-cluster");
  auto ca = ReadFile(options.sa_dir + "/ca.crt");
  if (!ca.ok())
    return MakeError(ErrorCode::kFailedPrecondition,
                     "in-cluster: CA " + options.sa_dir + "/ca.crt cannot be read");
  cfg.tls.ca_pem = *ca;
  cfg.tls.ca_only = true;
  auto ns = ReadFile(options.sa_dir + "/namespace");
  if (ns.ok() && !TrimSpace(*ns).empty()) cfg.default_namespace = TrimSpace(*ns);
  return cfg;
}

Result<RestConfig> DefaultConfig(const std::string& kubeconfig_path, const std::string& context) {
  if (!kubeconfig_path.empty()) return LoadKubeconfig(kubeconfig_path, context);
  if (const char* h = std::getenv("KUBERNETES_SERVICE_HOST"); h && *h) return InClusterConfig();
  if (const char* k = std::getenv("KUBECONFIG"); k && *k) {
    std::string first(k);
    first = first.substr(0, first.find(':'));
    return LoadKubeconfig(first, context);
  }
  const char* home = std::getenv("HOME");
  return LoadKubeconfig(std::string(home ? home : "") + "/.kube/config", context);
}

}  // namespace certsmith::kube
