#include "kube/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "certsmith/base64.h"

namespace certsmith::kube {
namespace {

const char kPem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const char kKey[] = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";

std::string Kubeconfig(const std::string& user_body, const std::string& cluster_extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
         "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n" +
         cluster_extra +
         "contexts:\n- name: dev\n  context: {cluster: c1, user: admin, namespace: team-a}\n"
         "- name: other\n  context: {cluster: c2, user: admin}\n"
         "users:\n- name: admin\n  user:\n" +
         user_body;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kube-config-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(KubeconfigTest, CurrentContextWithInlineDataAndToken) {
  std::string user = "    token: s3cret\n    client-certificate-data: " + Base64Encode(kPem) +
                     "\n    client-key-data: " + Base64Encode(kKey) + "\n";
  auto cfg = ParseKubeconfig(
      Kubeconfig(user, "    certificate-authority-data: " + Base64Encode(kPem) + "\n"), "kubeconfig t");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, "https://127.0.0.1:6443");
  EXPECT_EQ(cfg->tls.ca_pem, kPem);
  EXPECT_TRUE(cfg->tls.ca_only);
  EXPECT_EQ(cfg->tls.client_cert_pem, kPem);
  EXPECT_EQ(cfg->tls.client_key_pem, kKey);
  EXPECT_EQ(cfg->default_namespace, "team-a");
  ASSERT_TRUE(cfg->token);
  EXPECT_EQ(*cfg->token->Token(), "s3cret");
}

TEST(KubeconfigTest, FilesResolvedRelativeToKubeconfig) {
  TempDir dir;
  dir.Write("ca.crt", kPem);
  dir.Write("token", "tok-from-file\n");
  std::string path = dir.Write(
      "config", Kubeconfig("    tokenFile: token\n", "    certificate-authority: ca.crt\n"));
  auto cfg = LoadKubeconfig(path);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->tls.ca_pem, kPem);
  EXPECT_EQ(*cfg->token->Token(), "tok-from-file");
}

// kubectl's KUBECONFIG=a:b: entries merge, the first file to name one wins, current-context
// from the first file that sets it, relative paths per file, missing files skipped.
TEST(KubeconfigTest, ListMergesFilesTheWayKubectlDoes) {
  TempDir one, two;
  one.Write("token", "tok-one\n");
  two.Write("token", "tok-two\n");
  two.Write("ca.crt", kPem);
  std::string a = one.Write("config",
                            "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
                            "users:\n- name: admin\n  user: {tokenFile: token}\n");
  std::string b =
      two.Write("config",
                "apiVersion: v1\nkind: Config\ncurrent-context: other\n"
                "clusters:\n- name: c1\n  cluster: {server: 'https://10.0.0.1:6443', "
                "certificate-authority: ca.crt}\n"
                "contexts:\n- name: dev\n  context: {cluster: c1, user: admin, namespace: team-b}\n"
                "users:\n- name: admin\n  user: {tokenFile: token}\n");
  auto cfg = LoadKubeconfigList({one.path() + "/missing", a, b});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, "https://10.0.0.1:6443");
  EXPECT_EQ(cfg->tls.ca_pem, kPem);            // two's file, relative to two
  EXPECT_EQ(*cfg->token->Token(), "tok-one");  // one's user wins
  EXPECT_EQ(cfg->default_namespace, "team-b");
  EXPECT_NE(cfg->origin.find(a + ":" + b), std::string::npos);
  auto missing = LoadKubeconfigList({one.path() + "/x", one.path() + "/y"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no such file"), std::string::npos);
  // --context picks another context from the merged set.
  EXPECT_FALSE(LoadKubeconfigList({a, b}, "other").ok());  // names cluster c2: not defined
}

TEST(KubeconfigTest, InsecureSkipVerify) {
  auto cfg = ParseKubeconfig(Kubeconfig("    token: t\n", "    insecure-skip-tls-verify: true\n"),
                             "kubeconfig t");
  ASSERT_TRUE(cfg.ok());
  EXPECT_TRUE(cfg->tls.insecure_skip_verify);
}

struct BadCase {
  std::string name;
  std::string text;
  std::string context;
  std::string want;  // substring of the error
};

TEST(KubeconfigTest, BadInputNamesTheBrokenPiece) {
  std::vector<BadCase> cases = {
      {"missing context", Kubeconfig("    token: t\n"), "foo",
       "kubeconfig /x: context \"foo\" not found"},
      {"missing cluster", Kubeconfig("    token: t\n"), "other", "cluster \"c2\""},
      {"bad base64", Kubeconfig("    client-certificate-data: " + Base64Encode(kPem) +
                                "\n    client-key-data: '!!!notbase64'\n"),
       "", "user \"admin\": client-key-data is not valid base64"},
      {"not yaml", "clusters: [unclosed", "", "kubeconfig /x: not valid YAML"},
      {"not a map", "- a\n- b\n", "", "not a kubeconfig"},
      {"no current context", "apiVersion: v1\nkind: Config\n", "", "current-context is not set"},
      {"missing server",
       "current-context: d\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: d\n"
       "  context: {cluster: c}\n",
       "", "cluster \"c\": server is missing"},
      {"missing key file", Kubeconfig("    client-certificate: /nonexistent/c\n"), "",
       "client-certificate file /nonexistent/c cannot be read"},
      {"cert without key",
       Kubeconfig("    client-certificate-data: " + Base64Encode(kPem) + "\n"), "",
       "must be given together"},
      {"ca not pem", Kubeconfig("    token: t\n", "    certificate-authority-data: " +
                                                      Base64Encode("garbage") + "\n"),
       "", "certificate-authority is not PEM"},
      {"exec", Kubeconfig("    exec: {command: x}\n"), "", "exec and auth-provider"},
  };
  for (const BadCase& c : cases) {
    auto cfg = ParseKubeconfig(c.text, "kubeconfig /x", c.context);
    ASSERT_FALSE(cfg.ok()) << c.name;
    EXPECT_EQ(cfg.status().code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(cfg.status().message().find(c.want), std::string::npos)
        << c.name << ": " << cfg.status().message();
  }
}

TEST(KubeconfigTest, MissingFileAndSecretsNotInErrors) {
  auto cfg = LoadKubeconfig("/nonexistent/kubeconfig");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("/nonexistent/kubeconfig"), std::string::npos);
  auto bad = ParseKubeconfig(Kubeconfig("    token: supersecret\n    client-key-data: '%%'\n"),
                             "kubeconfig t");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("supersecret"), std::string::npos);
}

TEST(InClusterTest, ReadsEnvTokenCaNamespaceAndRereadsRotatedToken) {
  TempDir dir;
  dir.Write("token", "first");
  dir.Write("ca.crt", kPem);
  dir.Write("namespace", "certsmith-system\n");
  FakeClock clock;
  InClusterOptions opts;
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  opts.getenv = [&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  opts.sa_dir = dir.path();
  opts.clock = &clock;
  auto cfg = InClusterConfig(opts);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, "https://10.0.0.1:443");
  EXPECT_EQ(cfg->default_namespace, "certsmith-system");
  EXPECT_EQ(cfg->tls.ca_pem, kPem);
  EXPECT_EQ(*cfg->token->Token(), "first");
  dir.Write("token", "second");
  EXPECT_EQ(*cfg->token->Token(), "first");  // cached within the refresh period
  clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ(*cfg->token->Token(), "second");

  env.erase("KUBERNETES_SERVICE_PORT");
  auto missing = InClusterConfig(opts);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("KUBERNETES_SERVICE_PORT"), std::string::npos);
}

TEST(InClusterTest, MissingTokenFileIsNamed) {
  TempDir dir;
  InClusterOptions opts;
  opts.getenv = [](const std::string&) -> std::optional<std::string> { return "1"; };
  opts.sa_dir = dir.path();
  auto cfg = InClusterConfig(opts);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find(dir.path() + "/token"), std::string::npos);
}

}  // namespace
}  // namespace certsmith::kube
