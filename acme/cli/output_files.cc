#include "cli/output_files.h"

#include <cstdio>

#include "acme/certificate.h"
#include "cli/atomic_file.h"

namespace certsmith::cli {

namespace {
constexpr mode_t kPrivateMode = 0600;
constexpr mode_t kPublicMode = 0644;
}  // namespace

CertificateFiles FilesIn(const std::string& out_dir) {
  std::string d = out_dir.empty() || out_dir.back() == '/' ? out_dir : out_dir + "/";
  return {d + "privkey.pem", d + "cert.pem", d + "chain.pem", d + "fullchain.pem",
          d + "privkey.pem.pending"};
}

Status WritePendingKey(const CertificateFiles& files, const acme::PrivateKey& key) {
  ASSIGN_OR_RETURN(std::string pem, key.ToPem());
  return WriteFileAtomic(files.pending_key, pem, kPrivateMode);
}

Status WriteIssuedCertificate(const CertificateFiles& files, const acme::PrivateKey& key,
                              const std::string& chain_pem) {
  ASSIGN_OR_RETURN(std::vector<std::string> blocks, acme::SplitPemCertificates(chain_pem));
  if (!acme::CertificateMatchesKey(blocks.front(), key)) {
    return Status(ErrorCode::kProtocol,
                  "the CA returned a certificate for a different public key than the CSR's");
  }
  std::string leaf = blocks.front();
  std::string rest;
  for (size_t i = 1; i < blocks.size(); ++i) rest += blocks[i];
  RETURN_IF_ERROR(WriteFileAtomic(files.cert, leaf, kPublicMode));
  RETURN_IF_ERROR(WriteFileAtomic(files.chain, rest, kPublicMode));
  RETURN_IF_ERROR(WriteFileAtomic(files.fullchain, leaf + rest, kPublicMode));
  ASSIGN_OR_RETURN(std::string key_pem, key.ToPem());
  RETURN_IF_ERROR(WriteFileAtomic(files.privkey, key_pem, kPrivateMode));
  std::remove(files.pending_key.c_str());
  return Status::Ok();
}

}  // namespace certsmith::cli
