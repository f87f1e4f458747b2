#include "cli/key_file.h"

#include "cli/atomic_file.h"

namespace certsmith::cli {

namespace {
constexpr mode_t kPrivateMode = 0600;
}  // namespace

Result<acme::PrivateKey> LoadKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  Result<acme::PrivateKey> key = acme::PrivateKey::FromPem(pem);
  if (!key.ok()) return key.status().WithContext("key file " + path);
  return key;
}

Result<LoadedKey> LoadOrCreateKey(const std::string& path, acme::KeyType type) {
  if (FileExists(path)) {
    ASSIGN_OR_RETURN(acme::PrivateKey key, LoadKey(path));
    return LoadedKey{std::move(key), false};
  }
  ASSIGN_OR_RETURN(acme::PrivateKey key, acme::PrivateKey::Generate(type));
  ASSIGN_OR_RETURN(std::string pem, key.ToPem());
  RETURN_IF_ERROR(WriteFileAtomic(path, pem, kPrivateMode));
  return LoadedKey{std::move(key), true};
}

Status ReplaceKeyKeepingOld(const std::string& path, const acme::PrivateKey& old_key,
                            const acme::PrivateKey& new_key) {
  ASSIGN_OR_RETURN(std::string old_pem, old_key.ToPem());
  ASSIGN_OR_RETURN(std::string new_pem, new_key.ToPem());
  RETURN_IF_ERROR(WriteFileAtomic(path + ".old", old_pem, kPrivateMode));
  return WriteFileAtomic(path, new_pem, kPrivateMode);
}

}  // namespace certsmith::cli
