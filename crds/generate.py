#!/usr/bin/python3
"""Writes certsmith's CustomResourceDefinitions from the schemas below.

The CRDs are checked in (crds/*.yaml, and the same bytes in charts/certsmith/crds/); run
`crds/generate.py` after editing this file, and `crds/generate.py --check` (a ctest) fails when
the files are out of date. The schemas mirror controller/api's C++ validation: what the schema can
express (types, enums, patterns, required fields, one-of) is refused at `kubectl apply`; the rest
(renewBefore < duration, key size per algorithm, ...) is reported by the controller in the Ready
condition. Field names follow cert-manager v1 wherever the concept is the same.
"""
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIRS = [os.path.join(ROOT, "crds"), os.path.join(ROOT, "charts", "certsmith", "crds")]

# Patterns (Go RE2 / ECMA compatible) shared with the C++ checks in controller/api.
DNS_LABEL = r"[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?"
DNS_NAME = r"^(\*\.)?(" + DNS_LABEL + r"\.)*" + DNS_LABEL + r"\.?$"
ZONE_NAME = r"^(" + DNS_LABEL + r"\.)*" + DNS_LABEL + r"\.?$"
K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DURATION = r"^[-+]?(0|([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$"
EMAIL = r"^[^@\s,;]+@[^@\s,;]+$"
IP = r"^[0-9A-Fa-f:.]+$"
TOKEN = r"^[A-Za-z0-9_-]+$"
BASE64 = r"^[A-Za-z0-9+/=_\s-]+$"
# host, host:port, [IPv6], [IPv6]:port or a bare IPv6 address (controller/api ParseHostPort).
HOST_PORT = (r"^(\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|"
             r"[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?(:[0-9]{1,5})?)$")


def s(desc, **kw):
    return {"type": "string", "description": desc, **kw}


def b(desc):
    return {"type": "boolean", "description": desc}


def i(desc, **kw):
    return {"type": "integer", "description": desc, **kw}


def arr(desc, items, **kw):
    return {"type": "array", "description": desc, "items": items, **kw}


def strs(desc, **item_kw):
    return arr(desc, {"type": "string", **item_kw})


def smap(desc):
    return {"type": "object", "description": desc, "additionalProperties": {"type": "string"}}


def obj(desc, props, required=None, **kw):
    o = {"type": "object", "description": desc, "properties": props}
    if required:
        o["required"] = required
    o.update(kw)
    return o


def free(desc, typed=True):
    o = {"description": desc, "x-kubernetes-preserve-unknown-fields": True}
    if typed:
        o["type"] = "object"
    return o


def one_of(*fields):
    return [{"required": [f]} for f in fields]


def secret_key(desc, default_key):
    return obj(desc, {
        "name": s("Name of the Secret.", pattern=K8S_NAME, maxLength=253),
        "key": s(f"Key in the Secret's data (default \"{default_key}\")."),
    }, ["name"])


def issuer_ref(desc):
    return obj(desc, {
        "name": s("Name of the Issuer or ClusterIssuer.", minLength=1),
        "kind": s("Issuer (same namespace, the default) or ClusterIssuer.",
                  enum=["Issuer", "ClusterIssuer"]),
        "group": s("API group of the issuer: certsmith.io or left out. cert-manager.io is "
                   "accepted so cert-manager manifests apply, and refused by the controller "
                   "(Ready=False InvalidSpec): certsmith cannot use cert-manager's issuers.",
                   enum=["certsmith.io", "cert-manager.io"]),
    }, ["name"])


def conditions(types):
    return arr(f"Conditions ({types}); reason is machine-readable, message says what to do.", obj(
        "A status condition.", {
            "type": s("Condition type."),
            "status": s("True, False or Unknown.", enum=["True", "False", "Unknown"]),
            "reason": s("CamelCase reason."),
            "message": s("Human-readable detail: the CA's words on failure."),
            "lastTransitionTime": s("When status last changed.", format="date-time"),
            "observedGeneration": i("The metadata.generation this condition was set for.",
                                    format="int64"),
        }, ["type", "status"]), **{"x-kubernetes-list-type": "map",
                                   "x-kubernetes-list-map-keys": ["type"]})


# cert-manager's built-in dns01 providers (the keys of its ACMEChallengeSolverDNS01) and how
# their names read in a sentence; api::kCertManagerDnsProviders lists the same keys.
CERT_MANAGER_DNS_PROVIDERS = {
    "acmeDNS": "ACME-DNS", "akamai": "Akamai", "azureDNS": "Azure DNS",
    "cloudDNS": "Google Cloud DNS", "cloudflare": "Cloudflare", "digitalocean": "DigitalOcean",
    "route53": "Route 53",
}


def solver():
    ingress = obj("Solve with a solver Pod, Service and an Ingress routing the challenge path.", {
        "ingressClassName": s("spec.ingressClassName of the Ingress certsmith creates."),
        "class": s("Legacy kubernetes.io/ingress.class annotation for the Ingress it creates."),
        "name": s("Add the challenge path to this existing Ingress instead of creating one."),
        "serviceType": s("Type of the solver Service (default ClusterIP).",
                         enum=["ClusterIP", "NodePort"]),
        "podTemplate": obj("Merged into the solver Pod.", {
            "metadata": free("labels and annotations for the Pod."),
            "spec": free("nodeSelector, tolerations, affinity, priorityClassName, "
                         "serviceAccountName, imagePullSecrets, securityContext."),
        }),
        "ingressTemplate": obj("Merged into the solver Ingress.", {
            "metadata": free("labels and annotations for the Ingress."),
        }),
    }, **{"not": {"anyOf": [{"required": ["ingressClassName", "class"]},
                            {"required": ["ingressClassName", "name"]},
                            {"required": ["class", "name"]}]}})
    # cert-manager's ACMEChallengeSolverHTTP01GatewayHTTPRoute; parentRefs are Gateway API
    # ParentReferences (gateway.networking.k8s.io/v1).
    parent_ref = obj("A Gateway (and optionally one of its listeners) the HTTPRoute attaches "
                     "to.", {
        "group": s("Group of the parent (default gateway.networking.k8s.io).", maxLength=253),
        "kind": s("Kind of the parent (default Gateway).", maxLength=63),
        "namespace": s("Namespace of the parent (default: the Challenge's namespace).",
                       pattern=NAMESPACE, maxLength=63),
        "name": s("Name of the parent Gateway.", pattern=K8S_NAME, minLength=1, maxLength=253),
        "sectionName": s("Name of the listener to attach to (default: every listener that "
                         "allows the route).", pattern=K8S_NAME, maxLength=253),
        "port": i("Port of the listener to attach to.", format="int32", minimum=1,
                  maximum=65535),
    }, ["name"])
    gateway_route = obj("Solve with a solver Pod, Service and a Gateway API HTTPRoute routing "
                        "the challenge path (controller flag --enable-gateway-api).", {
        "parentRefs": arr("The Gateways the HTTPRoute attaches to; the CA is asked to validate "
                          "once each of them has Accepted the route.", parent_ref, minItems=1),
        "serviceType": s("Type of the solver Service (default ClusterIP).",
                         enum=["ClusterIP", "NodePort"]),
        "labels": smap("Labels added to the HTTPRoute (for a listener's allowedRoutes)."),
        "podTemplate": obj("Merged into the solver Pod.", {
            "metadata": free("labels and annotations for the Pod."),
            "spec": free("nodeSelector, tolerations, affinity, priorityClassName, "
                         "serviceAccountName, imagePullSecrets, securityContext."),
        }),
    }, ["parentRefs"])
    http01 = obj("Answer http-01 challenges (RFC 8555 §8.3) from the cluster.", {
        "ingress": ingress,
        # certsmith extra: cert-manager cannot skip its self-check, which never passes behind NAT
        # without hairpinning or with split-horizon DNS.
        "skipSelfCheck": b("certsmith extra: do not GET the challenge URL from the controller "
                           "before asking the CA to validate (NAT without hairpin, "
                           "split-horizon DNS)."),
        "gatewayHTTPRoute": gateway_route,
    }, oneOf=one_of("ingress", "gatewayHTTPRoute"))
    nameserver = s("host, host:port, [IPv6] or [IPv6]:port (port 53 unless given).",
                   minLength=1, pattern=HOST_PORT)
    rfc2136 = obj("Publish the TXT record with RFC 2136 dynamic updates, signed with TSIG "
                  "(BIND, Knot, PowerDNS, Windows DNS).", {
        "nameserver": dict(nameserver, description="The primary server taking the updates: "
                           "host, host:port, [IPv6] or [IPv6]:port (port 53 unless given)."),
        "tsigKeyName": s("Name of the TSIG key (unsigned updates when left out)."),
        "tsigAlgorithm": s("TSIG algorithm (default HMACSHA256; cert-manager defaults to "
                           "HMACMD5, which RFC 8945 no longer recommends).",
                           enum=["HMACMD5", "HMACSHA1", "HMACSHA224", "HMACSHA256", "HMACSHA384",
                                 "HMACSHA512"]),
        "tsigSecretSecretRef": secret_key("Secret holding the base64 TSIG secret (as in BIND's "
                                          "key clause).", "secret"),
        "protocol": s("certsmith extra: transport of the updates (default UDP; a truncated "
                      "answer is asked again over TCP).", enum=["UDP", "TCP"]),
    }, ["nameserver"])
    webhook = obj("Call a cert-manager-compatible DNS webhook (ChallengePayload "
                  "webhook.acme.cert-manager.io/v1alpha1): through the aggregation layer "
                  "(groupName and solverName), or straight to url.", {
        "groupName": s("API group the webhook serves (POST /apis/<groupName>/v1alpha1/"
                       "<solverName> on the API server).", pattern=K8S_NAME),
        "solverName": s("Solver name inside that group.", minLength=1),
        "config": free("Opaque configuration passed to the webhook.", typed=False),
        "url": s("certsmith extra: POST the payload to this https URL instead of through the "
                 "API server (the provider needs no APIService).", pattern=r"^https://"),
        "caBundle": s("certsmith extra: base64 of the PEM CA certificates trusted for url (the "
                      "system's are not).", pattern=BASE64),
    }, anyOf=[{"required": ["url"]}, {"required": ["groupName", "solverName"]}])
    dns01 = obj("Answer dns-01 challenges (RFC 8555 §8.4) with a TXT record.", {
        "cnameStrategy": s("Follow: write the record where _acme-challenge.<name> points by "
                           "CNAME, e.g. into a zone the platform team can edit (default None).",
                           enum=["None", "Follow"]),
        "nameservers": strs("certsmith extra: the only servers asked (find the zone and CNAMEs, "
                            "check the record before the CA validates), for locked-down egress; "
                            "default: --dns01-recursive-nameservers, then the zone's "
                            "authoritative servers.", pattern=HOST_PORT, minLength=1),
        "rfc2136": rfc2136,
        "webhook": webhook,
        **{name: free(f"cert-manager's built-in {label} provider. Accepted so cert-manager "
                      "Issuers apply; the controller refuses it (Ready=False InvalidSpec) and "
                      "names what to use: a DNS webhook for that provider, or rfc2136.")
           for name, label in CERT_MANAGER_DNS_PROVIDERS.items()},
    }, oneOf=one_of("rfc2136", "webhook", *CERT_MANAGER_DNS_PROVIDERS))
    selector = obj("Which names this solver handles; the most specific match wins, "
                   "no selector matches every name.", {
        "dnsNames": strs("Exact names.", pattern=DNS_NAME, maxLength=253),
        "dnsZones": strs("Zones: names equal to or under them.", pattern=ZONE_NAME, maxLength=253),
        "matchLabels": smap("Labels the Certificate must carry."),
    })
    return obj("A way to solve challenges: exactly one of http01 or dns01.", {
        "selector": selector,
        "http01": http01,
        "dns01": dns01,
    }, oneOf=one_of("http01", "dns01"))


def issuer_spec(cluster):
    acme = obj("The ACME CA and account (RFC 8555).", {
        "server": s("URL of the CA's ACME directory.", pattern=r"^https://"),
        "email": s("Account contact email.", pattern=EMAIL),
        "privateKeySecretRef": secret_key(
            "Secret holding the ACME account key; created unless "
            "disableAccountKeyGeneration.", "tls.key"),
        "externalAccountBinding": obj(
            "External Account Binding (RFC 8555 §7.3.4): the Key ID and HMAC key from the CA's "
            "portal. Used only to create the account; an existing account is found again with "
            "its key.", {
                "keyID": s("Key ID from the CA.", minLength=1),
                "keySecretRef": secret_key(
                    "Secret holding the HMAC key (base64url or base64, padded or not).",
                    "secret"),
                "keyAlgorithm": s("MAC algorithm (default HS256); honoured, unlike cert-manager.",
                                  enum=["HS256", "HS384", "HS512"]),
            }, ["keyID", "keySecretRef"]),
        "preferredChain": s("Pick the alternate chain whose top issuer has this common name."),
        "caBundle": s("Base64 of PEM CA certificates to trust for the ACME server's TLS.",
                      format="byte"),
        "skipTLSVerify": b("Do not verify the ACME server's TLS certificate (testing only)."),
        "disableAccountKeyGeneration": b("Fail instead of creating the account key Secret."),
        "solvers": arr("How to solve challenges. Empty when every domain is pre-validated "
                       "(Sectigo): authorizations then arrive already valid.", solver()),
        # certsmith extra: cert-manager forces RSA-2048 account keys.
        "accountKey": obj("certsmith extra: algorithm of a generated account key (default "
                          "ECDSA P-256; cert-manager always uses RSA-2048).", {
            "algorithm": s("Key algorithm.", enum=["RSA", "ECDSA"]),
            "size": i("RSA 2048/3072/4096 or ECDSA 256/384.", enum=[256, 384, 2048, 3072, 4096]),
        }),
        "enableDurationFeature": b("Send the Certificate's duration to the CA as notBefore/"
                                   "notAfter in newOrder (RFC 8555 §7.4). Off by default: "
                                   "Let's Encrypt refuses orders that carry them."),
        "profile": s("The ACME certificate profile to order (draft-aaron-acme-profiles, as Let's "
                     "Encrypt offers \"classic\", \"tlsserver\", \"shortlived\"). The CA "
                     "must list it in its directory's meta.profiles, else the Issuer is not "
                     "Ready.", minLength=1),
        # certsmith extra: slow CAs (Sectigo, ZeroSSL) keep orders processing for minutes.
        "maxPollInterval": s("certsmith extra: longest wait between polls of a processing order "
                             "(Go duration); the order is polled until the CA decides.",
                             pattern=DURATION),
    }, ["server", "privateKeySecretRef"])
    props = {"acme": acme}
    if cluster:
        # certsmith extra: cert-manager cannot restrict who uses a ClusterIssuer.
        props["allowedNamespaces"] = strs(
            "certsmith extra: namespaces whose Certificates may use this ClusterIssuer "
            "(empty: all).", pattern=NAMESPACE, maxLength=63)
    # certsmith extra: cert-manager never revokes.
    props["revokeOnDelete"] = b(
        "certsmith extra: default of Certificate spec.revokeOnDelete for the Certificates of "
        "this issuer: revoke the current certificate (reason cessationOfOperation) when its "
        "Certificate is deleted.")
    props["allowedDNSZones"] = strs(
        "certsmith extra: every name of a Certificate must be equal to or under one of these "
        "zones (empty: any).", pattern=ZONE_NAME, maxLength=253)
    return obj("Desired state.", props, ["acme"])


def issuer_status():
    return obj("Observed state, written by the controller.", {
        "conditions": conditions("Ready"),
        "acme": obj("The ACME account.", {
            "uri": s("Account URL at the CA."),
            "lastRegisteredEmail": s("Contact email the account was last registered with."),
            "lastPrivateKeyHash": s("SHA-256 of the account key's public part."),
            "renewalInfo": s(
                "certsmith extra: whether the CA's directory offered renewalInfo (ACME Renewal "
                "Information, RFC 9773) when the account was last registered or found: "
                "Offered or NotOffered (unset: not recorded). With NotOffered, the Certificates "
                "of this issuer use the 2/3 rule (or renewBefore) without asking the CA.",
                enum=["Offered", "NotOffered"]),
        }),
    })


def certificate_spec():
    subject = obj("X.509 subject for OV certificates (Sectigo OV, Certigna).", {
        "organizations": strs("O."),
        "organizationalUnits": strs("OU."),
        "countries": strs("C: two-letter ISO 3166 codes.", pattern=r"^[A-Z]{2}$"),
        "provinces": strs("ST."),
        "localities": strs("L."),
        "streetAddresses": strs("street."),
        "postalCodes": strs("postalCode."),
        "serialNumber": s("serialNumber."),
    })
    private_key = obj("The certificate's private key.", {
        "algorithm": s("Key algorithm (default ECDSA; Certigna needs RSA). Ed25519 is "
                       "accepted as in cert-manager and refused by the controller "
                       "(InvalidSpec): no public ACME CA signs Ed25519 keys.",
                       enum=["RSA", "ECDSA", "Ed25519"]),
        "size": i("RSA 2048/3072/4096 (default 2048) or ECDSA 256/384 (default 256); other "
                  "sizes cert-manager allows (RSA up to 8192, ECDSA 521) are refused by the "
                  "controller with the reason (InvalidSpec).", minimum=0),
        "encoding": s("PKCS1 (SEC1 for ECDSA, the default) or PKCS8.", enum=["PKCS1", "PKCS8"]),
        "rotationPolicy": s("Always (new key each issuance, the default) or Never.",
                            enum=["Never", "Always"]),
    })
    keystore_password = {
        "create": b("Write the keystore into the Secret."),
        "passwordSecretRef": secret_key("Secret (same namespace) holding the keystore "
                                        "password; one of this or password.", "password"),
        "password": s("The keystore password itself; one of this or passwordSecretRef.",
                      minLength=1),
    }
    keystores = obj("Extra keystore files in the Secret, next to tls.crt and tls.key.", {
        "pkcs12": obj("keystore.p12 (key, certificate and chain) and truststore.p12 (the CA).", {
            **keystore_password,
            "profile": s("Encryption of the PKCS#12 files: LegacyRC2 (the default, as "
                         "cert-manager: RC2-40 certificates, 3DES key, SHA-1 MAC; OpenSSL 3 "
                         "opens it with -legacy), LegacyDES (3DES and SHA-1 MAC: what Windows "
                         "Server 2016/IIS imports), Modern2023 (AES-256-CBC with PBKDF2, "
                         "SHA-256 MAC).", enum=["LegacyRC2", "LegacyDES", "Modern2023"]),
        }, ["create"], oneOf=[{"required": ["passwordSecretRef"]}, {"required": ["password"]}]),
        "jks": obj("keystore.jks (key and chain under alias) and truststore.jks (the CA), in "
                   "Java's JKS format.", {
            **keystore_password,
            "alias": s("Alias of the key entry (default \"certificate\").", minLength=1),
        }, ["create"], oneOf=[{"required": ["passwordSecretRef"]}, {"required": ["password"]}]),
    })
    subject_names = {
        "literalSubject": s("The exact subject as an RFC 4514 string (\"CN=a,O=b\", OIDs "
                            "allowed); replaces commonName and subject.", minLength=1),
        "uris": strs("URI SANs (the CA decides whether it signs them).", minLength=1),
        "emailAddresses": strs("rfc822Name SANs (the CA decides whether it signs them).",
                               pattern=EMAIL),
        "otherNames": arr("otherName SANs with a UTF8String value.", obj("An otherName.", {
            "oid": s("Type OID, dotted (e.g. 1.3.6.1.4.1.311.20.2.3 for a UPN).",
                     pattern=r"^[0-9]+(\.[0-9]+)+$"),
            "utf8Value": s("The value, encoded as UTF8String."),
        }, ["oid", "utf8Value"])),
    }
    name_list = obj("Names, as cert-manager's nameConstraints.", {
        "dnsDomains": strs("DNS domains."),
        "ipRanges": strs("CIDR ranges."),
        "emailAddresses": strs("Email addresses or domains."),
        "uriDomains": strs("URI domains."),
    })
    usages = ["signing", "digital signature", "content commitment", "key encipherment",
              "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only",
              "decipher only", "any", "server auth", "client auth", "code signing",
              "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user",
              "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"]
    return obj("Desired state. At least one of commonName, dnsNames, ipAddresses.", {
        "secretName": s("The kubernetes.io/tls Secret to keep the certificate in.",
                        pattern=K8S_NAME, maxLength=253),
        "issuerRef": issuer_ref("The Issuer or ClusterIssuer that signs."),
        "commonName": s("Subject CN; it is always also ordered as a SAN (RFC 8555 §7.4).",
                        maxLength=64),
        "dnsNames": strs("DNS SANs; a left-most \"*\" asks for a wildcard.", pattern=DNS_NAME,
                         maxLength=253) | {"minItems": 1},
        "ipAddresses": strs("IP address SANs.", pattern=IP) | {"minItems": 1},
        "duration": s("Requested lifetime (Go duration, at least 1h); CAs may ignore it.",
                      pattern=DURATION),
        "renewBefore": s("Renew this long before expiry (Go duration, at least 5m, below "
                         "duration); default at 2/3 of the lifetime.", pattern=DURATION),
        "subject": subject,
        "privateKey": private_key,
        "usages": strs("Key usages (cert-manager's names).", enum=usages),
        "secretTemplate": obj("Copied onto the Secret.", {
            "annotations": smap("Annotations for the Secret."),
            "labels": smap("Labels for the Secret."),
        }),
        "revisionHistoryLimit": i("How many Orders to keep (default: all).", minimum=1,
                                  format="int32"),
        **subject_names,
        "isCA": b("A CA certificate. ACME CAs issue end-entity certificates only: true is "
                  "refused (Ready=False InvalidSpec)."),
        "nameConstraints": free("X.509 name constraints (critical, permitted, excluded). "
                                "Only for CA certificates, which ACME does not issue: refused "
                                "by the controller (InvalidSpec)."),
        "encodeUsagesInRequest": b("Put usages in the CSR as keyUsage/extendedKeyUsage "
                                   "(default true)."),
        "signatureAlgorithm": s("Signature algorithm of the CSR. certsmith signs with SHA-256 "
                                "(SHA256WithRSA, ECDSAWithSHA256); other values are refused "
                                "(InvalidSpec).", enum=["SHA256WithRSA", "SHA384WithRSA",
                                                        "SHA512WithRSA", "ECDSAWithSHA256",
                                                        "ECDSAWithSHA384", "ECDSAWithSHA512",
                                                        "PureEd25519"]),
        "renewBeforePercentage": i("Renew when this percentage of the lifetime is left (1 to "
                                   "99); not with renewBefore.", minimum=1, maximum=99,
                                   format="int32"),
        "keystores": keystores,
        "additionalOutputFormats": arr(
            "Extra keys in the Secret: CombinedPEM (tls-combined.pem: key then chain) and DER "
            "(key.der: the private key, PKCS#8 DER).",
            obj("An output format.", {"type": s("The format.", enum=["CombinedPEM", "DER"])},
                ["type"])),
        # certsmith extra: cert-manager never revokes.
        "revokeOnDelete": b("certsmith extra: when this Certificate is deleted, revoke its "
                            "current certificate at the CA (reason cessationOfOperation) "
                            "before the Secret goes. Unset: the issuer's spec.revokeOnDelete."),
        "secretDeletionPolicy": s("certsmith extra: what happens to the Secret when this "
                                  "Certificate is deleted. Retain keeps it; Delete makes the "
                                  "Certificate an owner of the Secret, so it is garbage-collected "
                                  "with it. Unset: the controller's "
                                  "--default-secret-deletion-policy (Retain unless set).",
                                  enum=["Retain", "Delete"]),
    }, ["secretName", "issuerRef"], anyOf=one_of("commonName", "dnsNames", "ipAddresses",
                                                 "literalSubject"),
        **{"not": {"anyOf": [{"required": ["literalSubject", "commonName"]},
                             {"required": ["literalSubject", "subject"]},
                             {"required": ["renewBefore", "renewBeforePercentage"]}]}})


def certificate_status():
    return obj("Observed state, written by the controller.", {
        "conditions": conditions("Ready, Issuing"),
        "notBefore": s("Start of the current certificate's validity.", format="date-time"),
        "notAfter": s("End of the current certificate's validity.", format="date-time"),
        "renewalTime": s("When the controller will renew.", format="date-time"),
        "revision": i("Issuances so far; the next Order is named for revision+1.",
                      format="int64"),
        "nextPrivateKeySecretName": s("Secret holding the key for the issuance in progress."),
        "lastFailureTime": s("When the last issuance failed.", format="date-time"),
        "failedIssuanceAttempts": i("Consecutive failed issuances (drives backoff).",
                                    format="int64"),
        "renewalInfo": obj("The CA's suggested renewal window for the current certificate "
                           "(ACME Renewal Information, RFC 9773), when the CA offers it: "
                           "renewalTime is then a random point inside it.", {
            "certificateID": s("The ARI certID of the certificate it is about."),
            "windowStart": s("Start of the suggested window.", format="date-time"),
            "windowEnd": s("End of the suggested window.", format="date-time"),
            "explanationURL": s("The CA's explanation, when it gave one."),
            "nextCheckTime": s("When the controller asks the CA again (its Retry-After).",
                               format="date-time"),
        }),
    })


STATES = ["valid", "ready", "pending", "processing", "invalid", "expired", "errored"]


def order_spec():
    return obj("What to order; immutable once created.", {
        "request": s("The CSR: base64 of DER, or PEM.", minLength=1),
        "issuerRef": issuer_ref("The issuer whose account orders."),
        "commonName": s("Subject CN of the CSR."),
        "dnsNames": strs("DNS identifiers.", pattern=DNS_NAME, maxLength=253),
        "ipAddresses": strs("IP identifiers (RFC 8738).", pattern=IP),
        "duration": s("Requested lifetime (notAfter - notBefore).", pattern=DURATION),
        "replaces": s("RFC 9773 certID of the certificate this order renews (ARI)."),
    }, ["request", "issuerRef"])


def order_status():
    challenge = obj("A challenge offered by the CA.", {
        "url": s("Challenge URL."),
        "type": s("http-01, dns-01, ..."),
        "token": s("Challenge token."),
    }, ["url", "type"])
    authz = obj("An authorization of the order.", {
        "url": s("Authorization URL."),
        "identifier": s("The name or address it authorizes."),
        "wildcard": b("For a wildcard name."),
        "initialState": s("State when first fetched; valid for pre-validated domains."),
        "challenges": arr("Challenges offered.", challenge),
    }, ["url"])
    return obj("Progress of the ACME order, so a restart resumes it.", {
        "url": s("Order URL at the CA."),
        "finalizeURL": s("Finalize URL."),
        "certificate": s("The issued chain: base64 of PEM.", format="byte"),
        "state": s("ACME order state, or errored.", enum=STATES),
        "reason": s("Why it failed: the CA's problem type, detail and subproblems."),
        "authorizations": arr("Authorizations of the order.", authz),
        "failureTime": s("When it failed.", format="date-time"),
        "lastPollTime": s("Last poll of a processing order.", format="date-time"),
        "nextPollTime": s("Next poll (Retry-After or backoff).", format="date-time"),
        "pollAttempts": i("Polls so far, for backoff.", format="int64"),
    })


def challenge_spec():
    return obj("The challenge to solve; immutable once created.", {
        "url": s("Challenge URL.", minLength=1),
        "authorizationURL": s("Authorization URL.", minLength=1),
        "dnsName": s("The name being validated (without \"*.\").", pattern=ZONE_NAME),
        "wildcard": b("The authorization is for a wildcard."),
        "type": s("Challenge type.", enum=["http-01", "dns-01"]),
        "token": s("Challenge token (base64url).", pattern=TOKEN),
        "key": s("Key authorization (http-01) or its digest, the TXT value (dns-01).",
                 minLength=1),
        "solver": solver(),
        "solverSelection": s("Which of the issuer's solvers was chosen and why."),
        "issuerRef": issuer_ref("The issuer whose account solves it."),
    }, ["url", "authorizationURL", "dnsName", "type", "token", "key", "solver", "issuerRef"])


def challenge_status():
    nameserver = obj("What one nameserver showed in the last check.", {
        "server": s("The server (NS name and address, or host:port)."),
        "values": strs("The TXT values it answered with."),
        "error": s("Why it gave no answer, or its rcode."),
        "found": b("It shows the challenge's value."),
    })
    return obj("Progress of the challenge.", {
        "processing": b("The controller is working on it."),
        "presented": b("The record or solver is in place."),
        "reason": s("Why it failed or what it waits for."),
        "state": s("ACME challenge state.", enum=STATES),
        "conditions": conditions("Ready (dns-01: False with the step it is at or what needs a "
                                 "person; True once valid); SolverReady (http-01: the solver Pod "
                                 "runs; False with the Pod's reason and message when it cannot)"),
        "dns01": obj("dns-01 progress: where the record is, and what the last propagation "
                     "check saw.", {
            "resolvedFQDN": s("Where the TXT record is written (after CNAMEs are followed)."),
            "resolvedZone": s("The zone holding it."),
            "failures": i("Failed present or clean-up attempts in a row (for backoff).",
                          format="int64"),
            "checks": i("Propagation checks that did not find the value everywhere.",
                        format="int64"),
            "lastCheckTime": s("When the record was last checked.", format="date-time"),
            "nameservers": arr("The last check, server by server.", nameserver),
        }),
        "solverPodFailures": i("Solver Pods that failed and were replaced (certsmith extra)."),
        "solverRetryTime": s("When a failed solver Pod's replacement may be made (backoff).",
                             format="date-time"),
    })


def ready(jsonpath_field):
    return f'.status.conditions[?(@.type=="Ready")].{jsonpath_field}'


ISSUER_COLUMNS = [
    {"name": "Ready", "type": "string", "jsonPath": ready("status")},
    {"name": "Status", "type": "string", "jsonPath": ready("reason")},
    {"name": "Message", "type": "string", "jsonPath": ready("message"), "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]

KINDS = [
    # group, kind, plural, short names, scope, spec, status, columns, description
    ("certsmith.io", "Issuer", "issuers", ["iss"], "Namespaced", issuer_spec(False),
     issuer_status(), ISSUER_COLUMNS,
     "An ACME account (with its EAB credentials) usable by Certificates in its namespace."),
    ("certsmith.io", "ClusterIssuer", "clusterissuers", ["ciss"], "Cluster", issuer_spec(True),
     issuer_status(), ISSUER_COLUMNS,
     "An ACME account usable from every namespace, or only from allowedNamespaces. Its Secrets "
     "live in the controller's cluster resource namespace."),
    ("certsmith.io", "Certificate", "certificates", ["cert", "certs"], "Namespaced",
     certificate_spec(), certificate_status(), [
         {"name": "Ready", "type": "string", "jsonPath": ready("status")},
         {"name": "Secret", "type": "string", "jsonPath": ".spec.secretName"},
         {"name": "Issuer", "type": "string", "jsonPath": ".spec.issuerRef.name"},
         {"name": "Status", "type": "string", "jsonPath": ready("reason")},
         # A string, not a date: kubectl shows future dates as "<invalid>".
         {"name": "Expires", "type": "string", "jsonPath": ".status.notAfter"},
         {"name": "Message", "type": "string", "jsonPath": ready("message"), "priority": 1},
         {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
     ], "A TLS certificate kept valid in a Secret."),
    ("acme.certsmith.io", "Order", "orders", ["ord"], "Namespaced", order_spec(),
     order_status(), [
         {"name": "State", "type": "string", "jsonPath": ".status.state"},
         {"name": "Issuer", "type": "string", "jsonPath": ".spec.issuerRef.name"},
         {"name": "Reason", "type": "string", "jsonPath": ".status.reason"},
         {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
     ], "One ACME order (RFC 8555 §7.4) for one revision of a Certificate."),
    ("acme.certsmith.io", "Challenge", "challenges", ["chal"], "Namespaced", challenge_spec(),
     challenge_status(), [
         {"name": "State", "type": "string", "jsonPath": ".status.state"},
         {"name": "Domain", "type": "string", "jsonPath": ".spec.dnsName"},
         {"name": "Type", "type": "string", "jsonPath": ".spec.type"},
         {"name": "Reason", "type": "string", "jsonPath": ".status.reason"},
         {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
     ], "One ACME challenge (RFC 8555 §8) and the solver chosen for it."),
]


def crd(group, kind, plural, short, scope, spec, status, columns, description):
    schema = obj(description, {
        "apiVersion": s("certsmith.io/v1 or acme.certsmith.io/v1."),
        "kind": s("The kind."),
        "metadata": {"type": "object"},
        "spec": spec,
        "status": status,
    }, ["spec"])
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}",
                     "labels": {"app.kubernetes.io/name": "certsmith",
                                "app.kubernetes.io/part-of": "certsmith"}},
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": kind + "List", "plural": plural,
                      "singular": kind.lower(), "shortNames": short,
                      "categories": ["certsmith"]},
            "scope": scope,
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    }


HEADER = "# Generated by crds/generate.py from its schemas; edit that file, then run it.\n"


def render():
    out = {}
    for k in KINDS:
        doc = crd(*k)
        name = f"{doc['spec']['group']}_{doc['spec']['names']['plural']}.yaml"
        out[name] = HEADER + yaml.safe_dump(doc, sort_keys=False, width=100,
                                            allow_unicode=True)
    return out


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, text in render().items():
        for d in OUT_DIRS:
            path = os.path.join(d, name)
            current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
            if current == text:
                continue
            if check:
                stale.append(os.path.relpath(path, ROOT))
            else:
                os.makedirs(d, exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    if stale:
        print("out of date (run crds/generate.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
