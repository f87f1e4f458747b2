// kubectl's flag and kubeconfig conventions.
#include "plugin/options.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "plugin/session.h"

namespace certsmith::plugin {
namespace {

TEST(OptionsTest, KubectlStyleFlagsBeforeAndAfterArguments) {
  auto o = ParseOptions({"certificate", "-n", "shop", "www", "-o", "json", "--context=dev",
                         "--kubeconfig", "/tmp/kc"},
                        kOutput);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->ns, "shop");
  EXPECT_EQ(o->output, "json");
  EXPECT_EQ(o->context, "dev");
  EXPECT_EQ(o->kubeconfig, "/tmp/kc");
  EXPECT_EQ(o->args, (std::vector<std::string>{"certificate", "www"}));
  auto joined = ParseOptions({"-nshop", "--namespace=other", "-oyaml"}, kOutput);
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->ns, "other");  // the last one wins, as with kubectl
  EXPECT_EQ(joined->output, "yaml");
}

TEST(OptionsTest, EachCommandTakesOnlyItsFlags) {
  auto o = ParseOptions({"-A", "-l", "app=web", "--all"}, kAllNamespaces | kSelector | kAll);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->all_namespaces);
  EXPECT_EQ(o->selector, "app=web");
  EXPECT_TRUE(o->all);
  EXPECT_FALSE(ParseOptions({"-o", "json"}, kAll).ok());  // renew prints no objects
  Status unknown = ParseOptions({"--frobnicate"}, kOutput).status();
  EXPECT_NE(unknown.message().find("--frobnicate"), std::string::npos);
  EXPECT_FALSE(ParseOptions({"-o", "wide"}, kOutput).ok());
  EXPECT_FALSE(ParseOptions({"-n", "a", "-A"}, kAllNamespaces).ok());
  EXPECT_FALSE(ParseOptions({"-n"}, 0).ok());  // needs a value
  auto files = ParseOptions({"-f", "a.yaml", "--filename=b.yaml", "-f-"}, kFilename);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->filenames, (std::vector<std::string>{"a.yaml", "b.yaml", "-"}));
  auto help = ParseOptions({"--help"}, 0);
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
}

TEST(OptionsTest, TimeoutsAreGoDurations) {
  auto o = ParseOptions({"--timeout", "90s"}, kTimeout);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->timeout, std::chrono::seconds(90));
  EXPECT_EQ(*ParseTimeout("1h30m"), std::chrono::seconds(5400));
  EXPECT_EQ(*ParseTimeout("1500ms"), std::chrono::seconds(2));
  EXPECT_FALSE(ParseTimeout("0s").ok());
  EXPECT_FALSE(ParseTimeout("soon").ok());
  EXPECT_EQ(ParseOptions({}, kTimeout)->timeout, std::chrono::seconds(120));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/plugin-options-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& server, const std::string& ns) {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                        "clusters:\n- name: k\n  cluster: {server: '"
                     << server << "'}\ncontexts:\n- name: c\n  context: {cluster: k, user: u"
                     << (ns.empty() ? "" : ", namespace: " + ns)
                     << "}\n- name: d\n  context: {cluster: k, user: u}\n"
                        "users:\n- name: u\n  user: {token: t}\n";
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Environment Env(std::map<std::string, std::string> vars) {
  return {[vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  }};
}

TEST(SessionTest, FindsTheClusterTheWayKubectlDoes) {
  TempDir dir;
  const std::string flag = dir.Write("flag", "https://flag:6443", "");
  const std::string env = dir.Write("env", "https://env:6443", "team");
  std::filesystem::create_directories(dir.path() + "/home/.kube");
  dir.Write("home/.kube/config", "https://home:6443", "");
  const std::string home = dir.path() + "/home";
  Options o;
  // --kubeconfig first, then $KUBECONFIG (a list), then ~/.kube/config, then in-cluster.
  o.kubeconfig = flag;
  EXPECT_EQ(ResolveConfig(o, Env({{"KUBECONFIG", env}, {"HOME", home}}))->server,
            "https://flag:6443");
  o.kubeconfig.clear();
  EXPECT_EQ(
      ResolveConfig(o, Env({{"KUBECONFIG", dir.path() + "/none:" + env}, {"HOME", home}}))->server,
      "https://env:6443");
  EXPECT_EQ(
      ResolveConfig(o, Env({{"HOME", home}, {"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}))->server,
      "https://home:6443");
  Status none = ResolveConfig(o, Env({{"HOME", dir.path() + "/nobody"}})).status();
  EXPECT_NE(none.message().find("KUBECONFIG"), std::string::npos);
  // The namespace: -n, else the context's, else default; --context picks the context.
  auto c = Connect(o, Env({{"KUBECONFIG", env}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ns, "team");
  o.context = "d";
  EXPECT_EQ(Connect(o, Env({{"KUBECONFIG", env}}))->ns, "default");
  o.ns = "shop";
  EXPECT_EQ(Connect(o, Env({{"KUBECONFIG", env}}))->ns, "shop");
  o.context = "missing";
  EXPECT_NE(Connect(o, Env({{"KUBECONFIG", env}})).status().message().find("missing"),
            std::string::npos);
}

}  // namespace
}  // namespace certsmith::plugin
