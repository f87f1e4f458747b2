// Keystore files for software that wants neither PEM key nor PEM chain: PKCS#12 (RFC 7292) for
// Windows/IIS and most Java runtimes, and Java's older JKS format. The bytes they return hold the
// private key (encrypted with the password): store them in a Secret, never log them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "acme/key.h"
#include "certsmith/status.h"

namespace certsmith::acme {

// The encryption of a PKCS#12 file, by the names cert-manager gives them.
enum class Pkcs12Profile {
  // Certificates under RC2-40, the key under 3DES, SHA-1 MAC: what OpenSSL 1.x wrote by
  // default. OpenSSL 3 reads it only with its legacy provider (`openssl pkcs12 -legacy`).
  kLegacyRc2,
  // Certificates and key under 3DES (pbeWithSHAAnd3-KeyTripleDES-CBC), SHA-1 MAC: the newest
  // scheme Windows Server 2016 and older (IIS, certutil, the certificate store) import.
  kLegacyDes,
  // PBES2: PBKDF2 with HMAC-SHA-256 and AES-256-CBC for certificates and key, SHA-256 MAC.
  kModern2023,
};
// "LegacyRC2" | "LegacyDES" | "Modern2023"; "" means LegacyRC2 (cert-manager's default).
Result<Pkcs12Profile> ParsePkcs12Profile(std::string_view name);

// keystore.p12: the key, the leaf certificate (the first of chain_pem) and the rest of the chain,
// the key and leaf tied by a localKeyID. password may be empty (OpenSSL then still writes a MAC).
Result<std::string> MakePkcs12Keystore(const PrivateKey& key, std::string_view chain_pem,
                                       std::string_view password, Pkcs12Profile profile);
// truststore.p12: only the CA certificates of ca_pem.
Result<std::string> MakePkcs12Truststore(std::string_view ca_pem, std::string_view password,
                                         Pkcs12Profile profile);

// JKS (the format of `keytool -storetype jks`, documented by its OpenJDK implementation):
// magic 0xFEEDFEED, version 2, entries, then SHA-1 over the UTF-16BE password, the words
// "Mighty Aphrodite" and every byte before it. The key entry's PKCS#8 key is protected the JKS
// way (SHA-1 key stream from the password and a random 20-byte salt, OID 1.3.6.1.4.1.42.2.17.1.1).
// OpenSSL writes no JKS, hence this writer; keytool lists and reads what it writes.
// keystore.jks: a private key entry (alias) with the whole chain, plus the CA of ca_pem (when
// not empty) as the trusted certificate entry "ca". created is the entries' creation date.
Result<std::string> MakeJksKeystore(const PrivateKey& key, std::string_view chain_pem,
                                    std::string_view ca_pem, std::string_view password,
                                    std::string_view alias,
                                    std::chrono::system_clock::time_point created);
// truststore.jks: the CA certificates of ca_pem as trusted entries "ca", "ca-1", ...
Result<std::string> MakeJksTruststore(std::string_view ca_pem, std::string_view password,
                                      std::chrono::system_clock::time_point created);

// The SHA-1 key stream JKS protects keys with (exposed for tests): xor-decrypts data.
std::string JksKeyStream(std::string_view password, std::string_view salt, size_t length);

}  // namespace certsmith::acme
