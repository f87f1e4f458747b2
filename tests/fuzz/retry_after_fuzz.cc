// Retry-After (RFC 9110 §10.2.3) from a CA (acme::ParseRetryAfter: seconds or an HTTP-date) and
// from the Kubernetes API server (kube::ParseRetryAfter). Properties: no crash; the ACME wait is
// never negative, and PollDelay keeps it within [0, kMaxRetryAfter].
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "acme/retry_after.h"
#include "certsmith/http_transport.h"
#include "fuzz_input.h"
#include "kube/errors.h"

using namespace certsmith;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  // A fixed "now" keeps a run reproducible: 2025-06-01T00:00:00Z.
  const Clock::TimePoint now{std::chrono::seconds(1748736000)};
  auto wait = acme::ParseRetryAfter(value, now);
  if (wait) {
    fuzz::Check(wait->count() >= 0, "retry_after_fuzz",
                "negative Retry-After " + std::to_string(wait->count()));
    const auto delay = acme::PollDelay(3, wait);
    fuzz::Check(delay >= std::chrono::seconds(0) && delay <= acme::kMaxRetryAfter,
                "retry_after_fuzz", "PollDelay out of range: " + std::to_string(delay.count()));
  }
  HttpResponse response;
  response.status = 429;
  response.headers.emplace_back("retry-after", value);
  auto kube_wait = kube::ParseRetryAfter(response);
  if (kube_wait) {
    fuzz::Check(kube_wait->count() >= 0, "retry_after_fuzz", "negative kube Retry-After");
  }
  return 0;
}
