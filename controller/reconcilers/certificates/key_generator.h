// Runs private key generation off the worker thread. RSA-3072 takes up to a second (acme/key.h),
// which would hold a worker and every Certificate queued behind it; the reconciler asks, gets
// "not yet", requeues shortly, and picks the key up on a later sync. ECDSA is generated inline.
#pragma once

#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "acme/key.h"

namespace certsmith::reconcilers {

class KeyGenerator {
 public:
  // The key for id when it is ready (or the generation error); nullopt while it is generating.
  std::optional<Result<acme::PrivateKey>> Poll(const std::string& id, acme::KeyType type);
  // Drops id's key (its Certificate was deleted), so no private key outlives its Certificate in
  // memory. Does not wait for a generation in progress: that key is dropped when it is done.
  void Forget(const std::string& id);
  // True while a key of this type is being generated for id (Poll started it).
  bool Generating(const std::string& id, acme::KeyType type) const;
  size_t Pending() const;

 private:
  using KeyFuture = std::future<Result<acme::PrivateKey>>;
  // Drops forgotten generations that have finished (a std::async future blocks in its
  // destructor until the task ends, so they are kept until then). Needs mu_.
  void SweepLocked();

  mutable std::mutex mu_;
  std::map<std::string, std::pair<acme::KeyType, KeyFuture>> pending_;
  std::vector<KeyFuture> forgotten_;
};

}  // namespace certsmith::reconcilers
