// ReportForbidden (common/util.cc): a 403 becomes a Warning event and a condition that names the
// missing permission, on the object and, for an Order or Challenge, on its Certificate.
#include <gtest/gtest.h>

#include "kube/errors.h"
#include "reconcilers/util.h"
#include "unit/reconcilers/reconciler_test_base.h"

namespace certsmith::reconcilers::testing {
namespace {

constexpr char kRefusal[] =
    "secrets is forbidden: User \"system:serviceaccount:certsmith:certsmith\" cannot create "
    "resource \"secrets\" in API group \"\" in the namespace \"default\"";
constexpr char kMissing[] =
    "missing RBAC permission: create secrets in API group \"\" in namespace \"default\" (user "
    "system:serviceaccount:certsmith:certsmith)";

Status Refused(const char* message = kRefusal) {
  HttpResponse r;
  r.status = 403;
  r.body =
      Json{{"kind", "Status"}, {"reason", "Forbidden"}, {"code", 403}, {"message", message}}.dump();
  return kube::StatusFromResponse(r, "POST /api/v1/namespaces/default/secrets");
}

class ForbiddenTest : public ReconcilerTest {
 protected:
  Json Stored(const kube::ResourceRef& res, const std::string& ns, const std::string& name) {
    return *kube.Peek(res, ns, name);
  }
  static Json ConditionOf(const Json& obj, const std::string& type) {
    for (const Json& c : obj["status"].value("conditions", Json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return nullptr;
  }
  // Owner reference to a stored object.
  Json RefTo(const kube::ResourceRef& res, const std::string& ns, const std::string& name) {
    return OwnerReference(Stored(res, ns, name));
  }
};

TEST_F(ForbiddenTest, CertificateWithoutCertificateGetsReadyFalseAndAnEvent) {
  kube.Add(api::kCertificates, Certificate());
  ReportForbidden(ctx, api::kCertificates, "default/web", Refused());

  Json ready = ConditionOf(Stored(api::kCertificates, "default", "web"), "Ready");
  ASSERT_TRUE(ready.is_object());
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "Forbidden");
  EXPECT_EQ(ready["message"].get<std::string>().rfind(kMissing, 0), 0u) << ready["message"];
  auto events = EventsWithReason("Forbidden");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "Warning");
  EXPECT_EQ(events[0]["involvedObject"]["name"], "web");
  EXPECT_NE(events[0]["message"].get<std::string>().find(kMissing), std::string::npos);

  // The same refusal again: the condition is not written again (the event is counted).
  kube.ClearActions();
  ReportForbidden(ctx, api::kCertificates, "default/web", Refused());
  EXPECT_FALSE(HasWrite("update certificates/status"));
}

TEST_F(ForbiddenTest, CertificateStillServingStaysReadyAndGetsIssuingFalse) {
  Json cert = Certificate();
  cert["status"] = {{"conditions",
                     {{{"type", "Ready"},
                       {"status", "True"},
                       {"reason", "Ready"},
                       {"message", "Certificate is up to date"}}}}};
  kube.Add(api::kCertificates, cert);
  ReportForbidden(ctx, api::kCertificates, "default/web", Refused());

  Json stored = Stored(api::kCertificates, "default", "web");
  EXPECT_EQ(ConditionOf(stored, "Ready")["status"], "True");
  Json issuing = ConditionOf(stored, "Issuing");
  ASSERT_TRUE(issuing.is_object());
  EXPECT_EQ(issuing["status"], "False");
  EXPECT_EQ(issuing["reason"], "Forbidden");
}

TEST_F(ForbiddenTest, ChallengeRefusalReachesItsCertificate) {
  kube.Add(api::kCertificates, Certificate());
  Json order = {{"apiVersion", "acme.certsmith.io/v1"},
                {"kind", "Order"},
                {"metadata",
                 {{"name", "web-1"},
                  {"namespace", "default"},
                  {"ownerReferences", {RefTo(api::kCertificates, "default", "web")}}}}};
  kube.Add(api::kOrders, order);
  Json challenge = {{"apiVersion", "acme.certsmith.io/v1"},
                    {"kind", "Challenge"},
                    {"metadata",
                     {{"name", "web-1-abc"},
                      {"namespace", "default"},
                      {"ownerReferences", {RefTo(api::kOrders, "default", "web-1")}}}}};
  kube.Add(api::kChallenges, challenge);
  const char* pods =
      "pods is forbidden: User \"system:serviceaccount:certsmith:certsmith\" cannot create "
      "resource \"pods\" in API group \"\" in the namespace \"default\"";
  ReportForbidden(ctx, api::kChallenges, "default/web-1-abc", Refused(pods));

  Json ready = ConditionOf(Stored(api::kCertificates, "default", "web"), "Ready");
  ASSERT_TRUE(ready.is_object());
  EXPECT_EQ(ready["reason"], "Forbidden");
  EXPECT_NE(ready["message"].get<std::string>().find("create pods in API group \"\" in namespace"),
            std::string::npos);
  std::set<std::string> on;
  for (const Json& e : EventsWithReason("Forbidden")) on.insert(e["involvedObject"]["kind"]);
  EXPECT_EQ(on, (std::set<std::string>{"Challenge", "Certificate"}));
  EXPECT_FALSE(HasWrite("update challenges/status"));  // its status has no condition to carry it
}

TEST_F(ForbiddenTest, ClusterIssuerGetsReadyFalse) {
  kube.Add(api::kClusterIssuers, ClusterIssuer());
  ReportForbidden(ctx, api::kClusterIssuers, "ca", Refused());
  Json ready = ConditionOf(Stored(api::kClusterIssuers, "", "ca"), "Ready");
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "Forbidden");
}

TEST_F(ForbiddenTest, AdmissionRefusalIsQuotedWhole) {
  kube.Add(api::kCertificates, Certificate());
  ReportForbidden(ctx, api::kCertificates, "default/web",
                  Refused("pods \"x\" is forbidden: error looking up service account "
                          "default/default: serviceaccount \"default\" not found"));
  Json ready = ConditionOf(Stored(api::kCertificates, "default", "web"), "Ready");
  EXPECT_EQ(ready["message"].get<std::string>().rfind("the API server refused the request: ", 0),
            0u);
  EXPECT_NE(ready["message"].get<std::string>().find("serviceaccount \"default\" not found"),
            std::string::npos);
}

}  // namespace
}  // namespace certsmith::reconcilers::testing
