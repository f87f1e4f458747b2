// Valid sample objects for the api tests; each test breaks one field and checks the error.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "api/meta.h"
#include "certsmith/status.h"

namespace certsmith::api::testing {

inline Json ValidCertificate() {
  return Json::parse(R"({
    "apiVersion": "certsmith.io/v1", "kind": "Certificate",
    "metadata": {"name": "web", "namespace": "shop", "generation": 2},
    "spec": {
      "secretName": "web-tls",
      "issuerRef": {"name": "sectigo", "kind": "ClusterIssuer", "group": "certsmith.io"},
      "commonName": "www.example.org",
      "dnsNames": ["www.example.org", "example.org", "*.api.example.org"],
      "ipAddresses": ["192.0.2.10"],
      "duration": "2160h", "renewBefore": "720h",
      "subject": {"organizations": ["Example Ltd"], "countries": ["FR"]},
      "privateKey": {"algorithm": "RSA", "size": 3072, "encoding": "PKCS8",
                     "rotationPolicy": "Always"},
      "usages": ["digital signature", "key encipherment", "server auth"],
      "secretTemplate": {"labels": {"team": "shop"}, "annotations": {"a": "b"}},
      "revisionHistoryLimit": 3
    }
  })");
}

inline Json ValidIssuer(const char* kind = "ClusterIssuer") {
  Json j = Json::parse(R"({
    "apiVersion": "certsmith.io/v1",
    "metadata": {"name": "sectigo"},
    "spec": {"acme": {
      "server": "https://acme.sectigo.com/v2/OV",
      "email": "pki@example.org",
      "privateKeySecretRef": {"name": "sectigo-account"},
      "externalAccountBinding": {"keyID": "kid-1", "keySecretRef": {"name": "sectigo-eab",
                                 "key": "secret"}, "keyAlgorithm": "HS512"},
      "accountKey": {"algorithm": "ECDSA", "size": 384},
      "maxPollInterval": "2m",
      "solvers": [
        {"selector": {"dnsZones": ["example.org"]},
         "dns01": {"rfc2136": {"nameserver": "10.0.0.53:53", "tsigKeyName": "certsmith",
                               "tsigAlgorithm": "HMACSHA256",
                               "tsigSecretSecretRef": {"name": "tsig", "key": "secret"}}}},
        {"http01": {"ingress": {"ingressClassName": "nginx"}, "skipSelfCheck": true}},
        {"dns01": {"webhook": {"groupName": "acme.example.com", "solverName": "my-dns",
                               "config": {"zone": "x"}}}}
      ]
    }}
  })");
  j["kind"] = kind;
  return j;
}

// j with the value at a JSON pointer replaced (added), or removed when value is null.
inline Json With(Json j, const std::string& pointer, const Json& value) {
  Json::json_pointer p(pointer);
  if (value.is_null()) {
    j.at(p.parent_pointer()).erase(p.back());
  } else {
    j[p] = value;
  }
  return j;
}

// Expects status to be an InvalidArgument whose message contains "<path>: <message>".
inline void ExpectFieldError(const Status& status, const std::string& path,
                             const std::string& message) {
  ASSERT_FALSE(status.ok()) << "expected an error at " << path;
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(status.message().find(path + ": " + message), std::string::npos)
      << "want \"" << path << ": " << message << "\" in: " << status.message();
}

}  // namespace certsmith::api::testing
