// TSIG (RFC 8945): the shared-secret signature on RFC 2136 updates. A key's secret is raw bytes
// that never reach a log, a status, an event or an error message: Describe() names the key and
// its algorithm only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith::solvers::dns01 {

// The six algorithms of RFC 8945 §6 (cert-manager's names in the API: HMACSHA256, ...).
enum class TsigAlgorithm {
  kHmacMd5,
  kHmacSha1,
  kHmacSha224,
  kHmacSha256,
  kHmacSha384,
  kHmacSha512
};

inline constexpr TsigAlgorithm kDefaultTsigAlgorithm = TsigAlgorithm::kHmacSha256;

// "HMACSHA256" (the API's spelling; "" is the default, HMACSHA256). kInvalidArgument otherwise.
Result<TsigAlgorithm> ParseTsigAlgorithm(std::string_view api_name);
const char* TsigAlgorithmApiName(TsigAlgorithm a);  // "HMACSHA256"
// The algorithm's domain name in the TSIG record: "hmac-sha256.", "hmac-md5.sig-alg.reg.int.".
const char* TsigAlgorithmDnsName(TsigAlgorithm a);
size_t TsigMacSize(TsigAlgorithm a);  // bytes: 16 (MD5) ... 64 (SHA-512)

// RFC 8945 §5.3 / RFC 2845 TSIG error codes: "BADSIG", "BADKEY", "BADTIME", "BADTRUNC", or
// "TSIG error N".
inline constexpr int kTsigBadSig = 16;
inline constexpr int kTsigBadKey = 17;
inline constexpr int kTsigBadTime = 18;
inline constexpr int kTsigBadTrunc = 22;
std::string TsigErrorName(int error);

struct TsigKey {
  std::string name;  // the key's name, fully qualified ("key.example.")
  TsigAlgorithm algorithm = kDefaultTsigAlgorithm;
  std::string secret;    // raw bytes
  uint16_t fudge = 300;  // seconds of clock difference allowed (RFC 8945 §10: 300 recommended)

  // "key.example. (hmac-sha256)": what errors and logs may say about the key.
  std::string Describe() const;
};

// A key from its configuration: the secret as BIND, Knot and cert-manager write it (base64,
// standard or url alphabet, padded or not, whitespace ignored). Errors never show the secret.
Result<TsigKey> MakeTsigKey(std::string_view name, TsigAlgorithm algorithm,
                            std::string_view base64_secret);

// HMAC of data with the algorithm's digest (OpenSSL EVP): the MAC of RFC 8945 §4.3.
Result<std::string> TsigMac(TsigAlgorithm a, std::string_view secret, std::string_view data);

}  // namespace certsmith::solvers::dns01
