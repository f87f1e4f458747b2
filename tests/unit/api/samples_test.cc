// The C++ half of the CRD/validation agreement: every sample in samples/ (and every certsmith
// object in examples/) is accepted or rejected by FromJson as its "# controller:" line says,
// with the error at the named field path. check_crds.py checks the "# schema:" line against the
// CRD schemas with the same files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "api/certificate.h"
#include "api/challenge.h"
#include "api/issuer.h"
#include "api/order.h"
#include "kube/manifests.h"

namespace certsmith::api {
namespace {

Status Parse(const Json& j) {
  std::string kind = j.value("kind", "");
  if (kind == "Certificate") return Certificate::FromJson(j).status();
  if (kind == "Issuer" || kind == "ClusterIssuer") return Issuer::FromJson(j).status();
  if (kind == "Order") return Order::FromJson(j).status();
  if (kind == "Challenge") return Challenge::FromJson(j).status();
  return Status(ErrorCode::kNotFound, "not a certsmith kind");
}

std::vector<std::filesystem::path> Files(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void CheckFile(const std::filesystem::path& file, int* objects) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::smatch m;
  std::string content = text.str();
  std::string want = "accept", path;
  if (std::regex_search(content, m, std::regex("# controller: (accept|reject) ?(\\S*)"))) {
    want = m[1];
    path = m[2];
  }
  auto docs = kube::ParseManifests(content, file.string());
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  for (const Json& j : *docs) {
    Status s = Parse(j);
    if (s.code() == ErrorCode::kNotFound) continue;  // a Secret in an example
    ++*objects;
    if (want == "accept") {
      EXPECT_TRUE(s.ok()) << file.filename() << ": " << s.message();
    } else {
      EXPECT_FALSE(s.ok()) << file.filename() << " should be rejected";
      EXPECT_NE(s.message().find(" " + path + ": "), std::string::npos)
          << file.filename() << ": want an error at " << path << " in: " << s.message();
    }
  }
}

TEST(SamplesTest, ControllerAgreesWithEachSample) {
  int objects = 0;
  auto samples = Files(std::string(CERTSMITH_SOURCE_DIR) + "/tests/unit/api/samples");
  ASSERT_GE(samples.size(), 10u);
  for (const auto& f : samples) CheckFile(f, &objects);
  for (const auto& f : Files(std::string(CERTSMITH_SOURCE_DIR) + "/examples")) {
    CheckFile(f, &objects);
  }
  // cert-manager's documentation examples, apiVersion changed: each field accepted or refused
  // at the path the sample names.
  auto cm = Files(std::string(CERTSMITH_SOURCE_DIR) + "/tests/integration/cmcompat/examples");
  EXPECT_GE(cm.size(), 10u);
  for (const auto& f : cm) CheckFile(f, &objects);
  EXPECT_GE(objects, static_cast<int>(samples.size()));
}

}  // namespace
}  // namespace certsmith::api
