// Runs private key generation off the worker thread. RSA-3072 takes up to a second (acme/key.h),
// which would hold a worker and every Certificate queued behind it; the reconciler asks, gets
// "not yet", requeues shortly, and picks the key up on a later sync. ECDSA is generated inline.
#pragma once

#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "acme/key.h"

namespace certsmith::reconcilers {

class KeyGenerator {
 public:
  // The key for id when it is ready (or the generation error); nullopt while it is generating.
  std::optional<Result<acme::PrivateKey>> Poll(const std::string& id, acme::KeyType type);
  size_t Pending() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::pair<acme::KeyType, std::future<Result<acme::PrivateKey>>>> pending_;
};

}  // namespace certsmith::reconcilers
