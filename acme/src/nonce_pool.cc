#include "acme/nonce_pool.h"

#include "certsmith/base64.h"

namespace certsmith::acme {

void NoncePool::Put(const std::string& nonce) {
  // §6.5.1: a nonce is base64url; anything else would only earn a badNonce (or, worse, smuggle
  // characters into our protected header).
  if (!IsBase64UrlToken(nonce)) return;
  std::lock_guard<std::mutex> lock(mu_);
  nonces_.push_back(nonce);
  while (nonces_.size() > capacity_) nonces_.pop_front();
}

std::optional<std::string> NoncePool::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  if (nonces_.empty()) return std::nullopt;
  std::string nonce = std::move(nonces_.back());
  nonces_.pop_back();
  return nonce;
}

void NoncePool::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  nonces_.clear();
}

size_t NoncePool::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nonces_.size();
}

}  // namespace certsmith::acme
