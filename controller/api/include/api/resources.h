// The resource types certsmith serves (for certsmith::kube::Client calls) and the labels and
// annotations it shares with the CRDs and the Helm chart.
#pragma once

#include "kube/client.h"

namespace certsmith::api {

inline constexpr char kGroup[] = "certsmith.io";
inline constexpr char kAcmeGroup[] = "acme.certsmith.io";
inline constexpr char kVersion[] = "v1";

extern const kube::ResourceRef kIssuers;
extern const kube::ResourceRef kClusterIssuers;
extern const kube::ResourceRef kCertificates;
extern const kube::ResourceRef kOrders;
extern const kube::ResourceRef kChallenges;

// Every Secret, Pod, Service and Ingress certsmith creates carries this label, and the controller
// watches Secrets with this selector only (memory: never cache every Secret in the cluster).
inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedByValue[] = "certsmith";
inline constexpr char kCertificateNameLabel[] = "certsmith.io/certificate-name";
inline constexpr char kIssuerNameAnnotation[] = "certsmith.io/issuer-name";
inline constexpr char kIssuerKindAnnotation[] = "certsmith.io/issuer-kind";
inline constexpr char kRevisionAnnotation[] = "certsmith.io/certificate-revision";

// The controller's leader-election Lease, in its --leader-election-namespace (default: the
// cluster resource namespace); `kubectl certsmith check api` reads it.
inline constexpr char kLeaderLeaseName[] = "certsmith-controller";

// `kubectl certsmith renew`: on a Certificate, "issue a certificate newer than revision N". The
// controller issues while status.revision <= N, so the request is honoured exactly once however
// often it is repeated, survives restarts, and is retried with backoff if the issuance fails.
inline constexpr char kRenewRevisionAnnotation[] = "certsmith.io/renew-revision";
// `kubectl certsmith account rollover`: on an Issuer or ClusterIssuer, a request id; on the
// account key Secret, the id of the last request the controller finished (the request is pending
// while the two differ). The staged new key waits in the Secret under "<key>.next".
inline constexpr char kAccountKeyRolloverAnnotation[] = "certsmith.io/account-key-rollover";

// cert-manager's annotations on the TLS Secrets it writes: a converted Certificate adopts a
// Secret whose certificate cert-manager obtained from the Issuer it now names.
inline constexpr char kCertManagerIssuerNameAnnotation[] = "cert-manager.io/issuer-name";
inline constexpr char kCertManagerIssuerKindAnnotation[] = "cert-manager.io/issuer-kind";
inline constexpr char kCertManagerIssuerGroupAnnotation[] = "cert-manager.io/issuer-group";

}  // namespace certsmith::api
