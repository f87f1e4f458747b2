#pragma once
// How certsmith's TLS contexts find trust anchors (common/src/cpprest_transport.cc): every
// SSL_CTX asking for OpenSSL's default verify paths gets a store of its own with this lookup,
// which finds issuers among the system roots parsed once per process.
#include <openssl/x509.h>

namespace certsmith {

// Adds to `store` a lookup that finds issuers among `roots` (the process's system roots, parsed
// on first need, when null) and adds them to `store` as they are found. `roots` must outlive
// `store`. False when OpenSSL could not add it.
bool AddRootsLookup(X509_STORE* store, X509_STORE* roots);

}  // namespace certsmith
