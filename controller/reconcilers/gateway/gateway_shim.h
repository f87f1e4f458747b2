// The Gateway shim (--enable-gateway-api): a gateway.networking.k8s.io/v1 Gateway annotated
// `certsmith.io/cluster-issuer` or `certsmith.io/issuer` (cert-manager.io/ with
// --honour-cert-manager-annotations) gets one Certificate per distinct Secret named in its
// listeners' tls.certificateRefs, named after the Secret, for the hostnames of the listeners
// that share it, owned by the Gateway and labelled `certsmith.io/gateway-shim=true`.
//
// It is the Ingress shim (ingress/ingress_shim.h) with listeners for TLS entries: the same
// annotations, the same refusal to guess (an invalid annotation stops every write), the same
// fields managed and left alone, the same cleanup (removing the annotation deletes its
// Certificates, the Secrets stay). What counts, as in cert-manager's gateway-shim:
//  - only listeners with tls.mode Terminate (the default): a Passthrough listener has no
//    certificate of its own;
//  - only certificateRefs to a core Secret (group "", kind Secret) in the Gateway's namespace;
//  - a listener needs a hostname (the certificate's name).
// Mistakes (a listener without hostname, a Secret in another namespace, a Certificate of that
// name the Gateway does not own) are Warning events on the Gateway and never delete anything.
#pragma once

#include <vector>

#include "ingress/ingress_shim.h"

namespace certsmith::reconcilers {

inline constexpr char kGatewayShimLabel[] = "certsmith.io/gateway-shim";

// The Gateway's listeners as TLS entries (problems added to plan).
std::vector<TlsEntry> GatewayTlsEntries(const Json& gateway, IngressPlan* plan);
// Pure: reads the Gateway's annotations and spec.listeners.
IngressPlan PlanGatewayCertificates(const Json& gateway, const IngressShimOptions& options);
// The Gateway shim is an IngressShim built with this source.
ShimSource GatewayShimSource();

}  // namespace certsmith::reconcilers
