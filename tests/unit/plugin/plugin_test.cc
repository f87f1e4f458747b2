// argv[0] dispatch and the command line of `kubectl certsmith`.
#include "plugin/plugin.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace certsmith::plugin {
namespace {

TEST(DispatchTest, RecognisesTheNameKubectlRunsItUnder) {
  EXPECT_TRUE(InvokedAsKubectlPlugin("kubectl-certsmith"));
  EXPECT_TRUE(InvokedAsKubectlPlugin("/usr/local/bin/kubectl-certsmith"));
  EXPECT_TRUE(InvokedAsKubectlPlugin("./kubectl-certsmith"));
  EXPECT_FALSE(InvokedAsKubectlPlugin("certsmith"));
  EXPECT_FALSE(InvokedAsKubectlPlugin("/usr/bin/certsmith"));
  EXPECT_FALSE(InvokedAsKubectlPlugin("/opt/kubectl-certsmith/certsmith"));
  EXPECT_FALSE(InvokedAsKubectlPlugin("kubectl-certsmith-old"));
  EXPECT_FALSE(InvokedAsKubectlPlugin(""));
}

struct Outcome {
  int code;
  std::string out, err;
};

// No cluster: an environment with no kubeconfig anywhere.
Outcome Plugin(std::vector<std::string> args, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  Environment env{[](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/nonexistent-home");
    return std::nullopt;
  }};
  int code = RunKubectlPlugin(args, {in, out, err}, env);
  return {code, out.str(), err.str()};
}

TEST(CommandLineTest, UsageErrorsExitTwoAndSayWhat) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{}, "usage: kubectl certsmith"},
      {{"frob"}, "unknown command \"frob\""},
      {{"status"}, "expected \"certificate\" after \"status\""},
      {{"status", "secret", "x"}, "expected \"certificate\""},
      {{"status", "certificate"}, "missing argument"},
      {{"status", "certificate", "a", "b"}, "too many arguments"},
      {{"status", "certificate", "a", "-o", "wide"}, "unknown output format"},
      {{"inspect", "certificate", "a"}, "expected \"secret\""},
      {{"renew"}, "one of them"},
      {{"renew", "a", "--all"}, "one of them"},
      {{"renew", "--all", "-l", "app=x"}, "one of them"},
      {{"renew", "a", "-o", "json"}, "unknown option -o"},
      {{"check"}, "expected \"api\""},
      {{"account", "rollover"}, "missing argument"},
      {{"account", "deactivate", "x"}, "expected \"rollover\""},
      {{"convert"}, "-f FILE"},
      {{"convert", "-f", "a.yaml", "--from-cluster"}, "-f FILE"},
      {{"convert", "-f", "a.yaml", "extra"}, "no arguments"},
  };
  for (const Case& c : cases) {
    Outcome r = Plugin(c.args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_EQ(r.code, 2) << joined;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << joined << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << joined;
  }
}

TEST(CommandLineTest, HelpGoesToStdout) {
  Outcome r = Plugin({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* command : {"status certificate NAME", "renew NAME", "inspect secret NAME",
                              "check api", "account rollover", "convert -f FILE"}) {
    EXPECT_NE(r.out.find(command), std::string::npos) << command;
  }
  Outcome status = Plugin({"status", "--help"});
  EXPECT_EQ(status.code, 0);
  EXPECT_NE(status.out.find("--output"), std::string::npos);
  EXPECT_NE(status.out.find("--namespace"), std::string::npos);
}

TEST(CommandLineTest, AClusterCommandWithoutAKubeconfigSaysSo) {
  Outcome r = Plugin({"status", "certificate", "www"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no kubeconfig"), std::string::npos) << r.err;
}

TEST(CommandLineTest, ConvertFromStdinNeedsNoCluster) {
  const std::string in =
      "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: a, namespace: b}\n"
      "spec:\n  secretName: a-tls\n  dnsNames: [a.example]\n  issuerRef: {name: le}\n"
      "  futureField: {enabled: true}\n";
  Outcome r = Plugin({"convert", "-f", "-"}, in);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("apiVersion: certsmith.io/v1"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Certificate b/a: spec.futureField: [not converted]"), std::string::npos)
      << r.err;
  // --strict: anything not converted makes it exit 3 (the output is still written).
  Outcome strict = Plugin({"convert", "-f", "-", "--strict", "-o", "json"}, in);
  EXPECT_EQ(strict.code, 3);
  EXPECT_NE(strict.out.find("\"kind\": \"List\""), std::string::npos);
  Outcome missing = Plugin({"convert", "-f", "/nonexistent/file.yaml"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/file.yaml"), std::string::npos);
}

}  // namespace
}  // namespace certsmith::plugin
