#include "api/resources.h"

namespace certsmith::api {

const kube::ResourceRef kIssuers{kGroup, kVersion, "issuers", "Issuer", true};
const kube::ResourceRef kClusterIssuers{kGroup, kVersion, "clusterissuers", "ClusterIssuer", false};
const kube::ResourceRef kCertificates{kGroup, kVersion, "certificates", "Certificate", true};
const kube::ResourceRef kOrders{kAcmeGroup, kVersion, "orders", "Order", true};
const kube::ResourceRef kChallenges{kAcmeGroup, kVersion, "challenges", "Challenge", true};

}  // namespace certsmith::api
