// Account and certificate key files: loaded, or created (mode 0600, atomically) when absent.
// Never printed: only the public key fingerprint appears in output.
#pragma once

#include <string>

#include "acme/key.h"
#include "certsmith/status.h"

namespace certsmith::cli {

struct LoadedKey {
  acme::PrivateKey key;
  bool created = false;
};

// Reads the key at path, or generates one of type and writes it there (0600) when the file
// does not exist. An existing file that is not a usable key is an error (never overwritten).
Result<LoadedKey> LoadOrCreateKey(const std::string& path, acme::KeyType type);
Result<acme::PrivateKey> LoadKey(const std::string& path);

// After a successful key rollover: keeps the old key as <path>.old (0600), then writes the new
// key to path. Each step is atomic and the old key is saved before path changes, so at every
// moment each key exists in at least one file.
Status ReplaceKeyKeepingOld(const std::string& path, const acme::PrivateKey& old_key,
                            const acme::PrivateKey& new_key);

}  // namespace certsmith::cli
