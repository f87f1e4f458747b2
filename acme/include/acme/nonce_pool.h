// Anti-replay nonces (RFC 8555 §6.5): every response carries a fresh Replay-Nonce; keeping a few
// saves a newNonce round trip per request. Thread-safe, bounded.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace certsmith::acme {

class NoncePool {
 public:
  explicit NoncePool(size_t capacity = 8) : capacity_(capacity) {}

  // Keeps a nonce (the newest are used first; the oldest are dropped past capacity). Values that
  // are not base64url (§6.5.1) are ignored.
  void Put(const std::string& nonce);
  std::optional<std::string> Take();
  void Clear();
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<std::string> nonces_;
};

}  // namespace certsmith::acme
