#include "cli/key_generation.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace certsmith::cli {

namespace {

constexpr int kRsaSearchers = 2;

struct Race {
  std::atomic<bool> won{false};
  std::mutex mu;
  EVP_PKEY* winner = nullptr;  // owned; guarded by mu
};

// OpenSSL calls this during the prime search; returning 0 aborts the search.
int KeepSearching(EVP_PKEY_CTX* ctx) {
  auto* race = static_cast<Race*>(EVP_PKEY_CTX_get_app_data(ctx));
  return race->won.load(std::memory_order_relaxed) ? 0 : 1;
}

void Search(int bits, Race* race) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) <= 0) {
    return;
  }
  EVP_PKEY_CTX_set_app_data(ctx.get(), race);
  EVP_PKEY_CTX_set_cb(ctx.get(), KeepSearching);
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &key) <= 0 || key == nullptr) return;
  std::lock_guard<std::mutex> lock(race->mu);
  if (race->winner == nullptr) {
    race->winner = key;
    race->won.store(true);
  } else {
    EVP_PKEY_free(key);
  }
}

int RsaBits(acme::KeyType type) {
  switch (type) {
    case acme::KeyType::kRsa2048:
      return 2048;
    case acme::KeyType::kRsa3072:
      return 3072;
    case acme::KeyType::kRsa4096:
      return 4096;
    default:
      return 0;
  }
}

}  // namespace

Result<acme::PrivateKey> GenerateCertificateKey(acme::KeyType type) {
  int bits = RsaBits(type);
  if (bits == 0) return acme::PrivateKey::Generate(type);
  Race race;
  std::vector<std::thread> searchers;
  for (int i = 0; i < kRsaSearchers; ++i) searchers.emplace_back(Search, bits, &race);
  for (std::thread& t : searchers) t.join();
  if (race.winner == nullptr) return acme::PrivateKey::Generate(type);  // let it say why
  Result<acme::PrivateKey> key = acme::PrivateKey::FromEvpPkey(race.winner);
  EVP_PKEY_free(race.winner);  // FromEvpPkey took its own reference
  return key;
}

}  // namespace certsmith::cli
