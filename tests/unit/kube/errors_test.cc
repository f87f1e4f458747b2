// kube/errors.h: the missing permission named from kube-apiserver's RBAC refusal.
#include "kube/errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace certsmith::kube {
namespace {

Status Forbidden(const std::string& message) {
  HttpResponse r;
  r.status = 403;
  r.body = nlohmann::json{{"kind", "Status"},      {"apiVersion", "v1"}, {"status", "Failure"},
                          {"reason", "Forbidden"}, {"code", 403},        {"message", message}}
               .dump();
  return StatusFromResponse(r, "POST /api/v1/namespaces/shop/secrets");
}

TEST(MissingPermission, NamespacedRbacRefusal) {
  // kube-apiserver v1.32's words, as the real server sends them.
  Status s = Forbidden(
      "secrets is forbidden: User \"system:serviceaccount:certsmith:certsmith\" cannot create "
      "resource \"secrets\" in API group \"\" in the namespace \"shop\"");
  EXPECT_TRUE(IsForbidden(s));
  EXPECT_EQ(MissingPermission(s),
            "create secrets in API group \"\" in namespace \"shop\" (user "
            "system:serviceaccount:certsmith:certsmith)");
}

TEST(MissingPermission, ClusterScopeAndSubresource) {
  Status s = Forbidden(
      "clusterissuers.certsmith.io \"ca\" is forbidden: User \"system:serviceaccount:c:c\" "
      "cannot update resource \"clusterissuers/status\" in API group \"certsmith.io\" at the "
      "cluster scope");
  EXPECT_EQ(MissingPermission(s),
            "update clusterissuers/status in API group \"certsmith.io\" "
            "cluster-wide (user system:serviceaccount:c:c)");
}

TEST(MissingPermission, NotAnRbacRefusal) {
  // An admission plugin's 403 names no permission.
  Status s = Forbidden(
      "pods \"solver\" is forbidden: error looking up service account shop/default: "
      "serviceaccount \"default\" not found");
  EXPECT_TRUE(IsForbidden(s));
  EXPECT_EQ(MissingPermission(s), std::nullopt);
  // Another code, same words: not a refusal.
  EXPECT_EQ(MissingPermission(MakeError(ErrorCode::kInvalidArgument,
                                        "User \"u\" cannot get resource \"pods\" in API group "
                                        "\"\" at the cluster scope")),
            std::nullopt);
}

}  // namespace
}  // namespace certsmith::kube
