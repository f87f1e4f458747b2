#include "certificates/key_generator.h"

#include <chrono>

namespace certsmith::reconcilers {

std::optional<Result<acme::PrivateKey>> KeyGenerator::Poll(const std::string& id,
                                                           acme::KeyType type) {
  const bool slow = type == acme::KeyType::kRsa2048 || type == acme::KeyType::kRsa3072 ||
                    type == acme::KeyType::kRsa4096;
  if (!slow) return acme::PrivateKey::Generate(type);
  std::lock_guard<std::mutex> lock(mu_);
  SweepLocked();
  auto it = pending_.find(id);
  if (it != pending_.end() && it->second.first != type) {
    // The spec changed while generating: the old key is of no use. Its future is kept until the
    // thread ends (destroying a running std::async future would block this worker).
    forgotten_.push_back(std::move(it->second.second));
    pending_.erase(it);
    it = pending_.end();
  }
  if (it == pending_.end()) {
    pending_.emplace(id, std::make_pair(type, std::async(std::launch::async, [type] {
                                          return acme::PrivateKey::Generate(type);
                                        })));
    return std::nullopt;
  }
  if (it->second.second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return std::nullopt;
  }
  Result<acme::PrivateKey> key = it->second.second.get();
  pending_.erase(it);
  return key;
}

void KeyGenerator::Forget(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  SweepLocked();
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  forgotten_.push_back(std::move(it->second.second));
  pending_.erase(it);
}

void KeyGenerator::SweepLocked() {
  std::erase_if(forgotten_, [](const KeyFuture& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  });
}

bool KeyGenerator::Generating(const std::string& id, acme::KeyType type) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(id);
  return it != pending_.end() && it->second.first == type;
}

size_t KeyGenerator::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

}  // namespace certsmith::reconcilers
