// Internal to certsmith::acme: owning smart pointers for OpenSSL objects, error conversion and
// the small digest helpers the crypto files share. Not a public header.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith::acme {
struct Subject;
}

namespace certsmith::acme::internal {

// The attributes of name that a Subject holds (defined in csr.cc, next to the CSR's table of
// subject attributes). Other attributes are skipped; a repeated CN or serialNumber keeps the
// first.
Subject SubjectFromName(const X509_NAME* name);

// One deleter per OpenSSL type, so every owning pointer is a std::unique_ptr.
template <auto FreeFn>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

void FreeOpenSslString(char* s);          // OPENSSL_free is a macro
void FreeGeneralNames(GENERAL_NAMES* n);  // a STACK_OF(GENERAL_NAME) with its elements
void FreeExtensionStack(STACK_OF(X509_EXTENSION) * s);

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<FreeGeneralNames>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslDeleter<GENERAL_NAME_free>>;
using Asn1OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<ASN1_OCTET_STRING_free>>;
using OpenSslStringPtr = std::unique_ptr<char, OpenSslDeleter<FreeOpenSslString>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using X509ExtensionStackPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION), OpenSslDeleter<FreeExtensionStack>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ_free>>;

// A Status carrying what failed plus OpenSSL's reason for the most recent error on this thread
// ("signing: EVP_DigestSign: ... bad signature"); empties the thread's error queue so a later
// call does not report a stale error. OpenSSL's error strings never contain key material.
Status OpenSslError(std::string_view what, ErrorCode code = ErrorCode::kInternal);

// Drops queued OpenSSL errors (after a failure we report in our own words).
void ClearOpenSslErrors();

// A read-only memory BIO over data, without copying it.
BioPtr ReadOnlyBio(std::string_view data);
// The bytes written to a memory BIO.
std::string BioContents(BIO* bio);

// Raw digests and their encodings.
std::string Sha256(std::string_view data);
std::string HexLower(std::string_view bytes);

// Text of a 4- or 16-byte iPAddress (inet_ntop: dotted quad, RFC 5952 for IPv6); "" otherwise.
std::string IpBytesToText(const unsigned char* bytes, int len);

// Big-endian unsigned bytes of n, left-padded with zeros to width (0: minimal length).
std::string BignumBytes(const BIGNUM* n, int width = 0);

}  // namespace certsmith::acme::internal
