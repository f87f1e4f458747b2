// Objects the plugin tests start from: a Certificate as the controller leaves it, its TLS Secret
// with a real certificate, an Order and its Challenges.
#pragma once

#include <string>
#include <vector>

#include "acme/key.h"
#include "api/resources.h"
#include "certsmith/base64.h"
#include "certsmith/clock.h"
#include "kube/testing/fake_client.h"
#include "kube/time_format.h"
#include "unit/acme/crypto_test_util.h"

namespace certsmith::plugin::testing {

using Json = nlohmann::json;

inline const Clock::TimePoint kNow{std::chrono::seconds(1'800'000'000)};

// "leaf + CA" for key, valid [kNow - 1d, kNow + 89d), serial 0x1F2E.
inline std::string Chain(const acme::PrivateKey& key, std::vector<std::string> names) {
  static const acme::PrivateKey ca_key =
      acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256).value();
  acme::testing::CertSpec ca{.common_name = "Test Intermediate",
                             .organization = "",
                             .dns_names = {},
                             .ip_addresses = {},
                             .not_before = kNow - std::chrono::hours(24 * 30),
                             .not_after = kNow + std::chrono::hours(24 * 365),
                             .serial = 1,
                             .is_ca = true,
                             .subject = nullptr};
  auto ca_cert = acme::testing::MakeCertificate(ca, ca_key.get(), ca_key.get());
  acme::testing::CertSpec leaf{.common_name = names[0],
                               .organization = "",
                               .dns_names = names,
                               .ip_addresses = {},
                               .not_before = kNow - std::chrono::hours(24),
                               .not_after = kNow + std::chrono::hours(24 * 89),
                               .serial = 0x1F2E,
                               .is_ca = false,
                               .subject = nullptr};
  auto leaf_cert = acme::testing::MakeCertificate(leaf, key.get(), ca_key.get(), ca_cert.get());
  return acme::testing::CertificateToPem(leaf_cert.get()) +
         acme::testing::CertificateToPem(ca_cert.get());
}

inline Json TlsSecret(const std::string& name, const std::string& chain,
                      const std::string& key_pem) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "kubernetes.io/tls"},
          {"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"labels",
             {{api::kManagedByLabel, api::kManagedByValue}, {api::kCertificateNameLabel, "www"}}},
            {"annotations",
             {{api::kIssuerNameAnnotation, "le"},
              {api::kIssuerKindAnnotation, "ClusterIssuer"},
              {api::kRevisionAnnotation, "2"}}}}},
          {"data", {{"tls.crt", Base64Encode(chain)}, {"tls.key", Base64Encode(key_pem)}}}};
}

inline Json Certificate(int64_t revision = 2) {
  return {{"apiVersion", "certsmith.io/v1"},
          {"kind", "Certificate"},
          {"metadata", {{"name", "www"}, {"namespace", "shop"}, {"uid", "cert-uid"}}},
          {"spec",
           {{"secretName", "www-tls"},
            {"dnsNames", {"www.example.org", "example.org"}},
            {"issuerRef", {{"name", "le"}, {"kind", "ClusterIssuer"}}}}},
          {"status",
           {{"revision", revision},
            {"notAfter", kube::FormatTime(kNow + std::chrono::hours(24 * 89))},
            {"renewalTime", kube::FormatTime(kNow + std::chrono::hours(24 * 59))},
            {"conditions",
             {{{"type", "Ready"},
               {"status", "True"},
               {"reason", "Ready"},
               {"message", "Certificate is up to date and has not expired"},
               {"lastTransitionTime", kube::FormatTime(kNow - std::chrono::minutes(3))}}}}}}};
}

}  // namespace certsmith::plugin::testing
