// What the TLS Secret carries besides tls.crt, tls.key and ca.crt, all derived from the issued
// certificate and its key: the keystores (spec.keystores: keystore.p12/truststore.p12,
// keystore.jks/truststore.jks), spec.additionalOutputFormats (tls-combined.pem, key.der), and the
// annotations describing the certificate (cert-manager's cert-manager.io/* under certsmith.io/*).
// Kept apart from the Certificate reconciler's issuing decisions: it only shapes the Secret.
#pragma once

#include <functional>
#include <string>

#include "acme/certificate.h"

#include "acme/key.h"
#include "api/certificate.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

inline constexpr char kKeystoreP12[] = "keystore.p12";
inline constexpr char kTruststoreP12[] = "truststore.p12";
inline constexpr char kKeystoreJks[] = "keystore.jks";
inline constexpr char kTruststoreJks[] = "truststore.jks";
inline constexpr char kCombinedPem[] = "tls-combined.pem";
inline constexpr char kKeyDer[] = "key.der";
// The Secret annotations (cert-manager's names, certsmith.io/ prefix).
inline constexpr char kCommonNameAnnotation[] = "certsmith.io/common-name";
inline constexpr char kAltNamesAnnotation[] = "certsmith.io/alt-names";
inline constexpr char kIpSansAnnotation[] = "certsmith.io/ip-sans";
inline constexpr char kUriSansAnnotation[] = "certsmith.io/uri-sans";
inline constexpr char kEmailSansAnnotation[] = "certsmith.io/email-sans";
inline constexpr char kIssuerGroupAnnotation[] = "certsmith.io/issuer-group";
inline constexpr char kCertificateNameAnnotation[] = "certsmith.io/certificate-name";
// A digest of everything the keystores and extra formats are made from (key, chain, passwords,
// profile, alias, formats), keyed by the private key so it reveals nothing: the outputs are
// rebuilt (new salts) only when one of those changes, not at every sync.
inline constexpr char kOutputsDigestAnnotation[] = "certsmith.io/outputs-digest";

// Gives the private key; called only when keystores or extra formats are wanted (decoding a key
// is most of the cost of looking at an unchanged Secret).
using PrivateKeySource = std::function<Result<acme::PrivateKey>()>;

// Brings secret's extra data keys and certificate annotations in line with cert's spec for the
// certificate chain_pem (leaf first, already decoded as leaf) signed for key; ca_pem is the top
// of the chain ("" when the CA sent only the leaf). Reads keystore passwords from their Secrets
// (cert's namespace). True when secret changed. Errors name the field (a missing password
// Secret, an empty password).
Result<bool> ApplySecretOutputs(Context& ctx, const api::Certificate& cert,
                                const acme::CertificateInfo& leaf, const PrivateKeySource& key,
                                const std::string& chain_pem, const std::string& ca_pem,
                                Json* secret);

}  // namespace certsmith::reconcilers
