// The files `certsmith acme issue` writes, with certbot's names so existing web server
// configurations keep working: privkey.pem (0600), cert.pem (leaf), chain.pem (the rest),
// fullchain.pem (leaf + rest).
#pragma once

#include <string>

#include "acme/key.h"
#include "certsmith/status.h"

namespace certsmith::cli {

struct CertificateFiles {
  std::string privkey;  // paths
  std::string cert;
  std::string chain;
  std::string fullchain;
  std::string pending_key;  // privkey.pem.pending: the key before its certificate exists
};

CertificateFiles FilesIn(const std::string& out_dir);

// Step 1, before finalize: the new key goes to privkey.pem.pending (0600), so a crash after
// the CA signed never loses the key, and an older privkey.pem keeps matching its cert.pem.
Status WritePendingKey(const CertificateFiles& files, const acme::PrivateKey& key);
// Step 2, after download: splits chain_pem (leaf first) into the certificate files, then moves
// the pending key to privkey.pem. Fails, writing nothing, when the leaf does not carry key.
Status WriteIssuedCertificate(const CertificateFiles& files, const acme::PrivateKey& key,
                              const std::string& chain_pem);

}  // namespace certsmith::cli
