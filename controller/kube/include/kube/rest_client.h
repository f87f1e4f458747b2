// RestClient: kube::Client over certsmith::HttpTransport, with client-side rate limiting
// (token bucket) and bounded retries of 429 and 5xx honouring Retry-After.
#pragma once

#include <memory>
#include <string>

#include "certsmith/clock.h"
#include "certsmith/http_transport.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/rate_limiter.h"

namespace certsmith::kube {

struct RestClientOptions {
  const Clock* clock = &SystemClock::Instance();
  Sleeper* sleeper = nullptr;  // null = RealSleeper::Instance()
  // Attempts per call, counting the first; 429 and 5xx are retried, and transport failures of
  // requests that are safe to repeat (everything but POST).
  int max_attempts = 5;
  Duration backoff_base = std::chrono::milliseconds(500);
  Duration backoff_cap = std::chrono::seconds(10);
  Duration max_retry_after = std::chrono::seconds(30);  // a larger Retry-After is capped
  std::chrono::milliseconds request_timeout{30'000};
  std::string user_agent = "certsmith";
  // An answer slower than this (or a 5xx, or no answer) holds an adaptive rate where it is.
  Duration slow_response = std::chrono::seconds(1);
};

class RestClient final : public Client {
 public:
  RestClient(RestConfig config, std::shared_ptr<HttpTransport> transport,
             RestClientOptions options = {});
  // Production wiring: the cpprestsdk transport with the config's TLS settings.
  static Result<std::unique_ptr<RestClient>> Make(RestConfig config,
                                                  RestClientOptions options = {});

  // "/api/v1/namespaces/ns/secrets/name/status" (parts left out when empty).
  static std::string ResourcePath(const ResourceRef& res, std::string_view ns,
                                  std::string_view name = "", std::string_view subresource = "");
  // "?labelSelector=...&limit=..." or "" (values percent-encoded).
  static std::string ListQuery(const ListOptions& options, bool watch);

  const RestConfig& config() const { return config_; }
  // The client-side limiter's rate, waits and the server's pushbacks, for metrics.
  RateLimiterStats LimiterStats() const { return bucket_.Stats(); }

  Result<Json> Get(const ResourceRef& res, std::string_view ns, std::string_view name) override;
  Result<Json> List(const ResourceRef& res, std::string_view ns,
                    const ListOptions& options) override;
  Result<Json> Create(const ResourceRef& res, std::string_view ns, const Json& obj) override;
  Result<Json> Update(const ResourceRef& res, std::string_view ns, const Json& obj) override;
  Result<Json> UpdateStatus(const ResourceRef& res, std::string_view ns,
                            const Json& obj) override;
  Result<Json> Patch(const ResourceRef& res, std::string_view ns, std::string_view name,
                     PatchType type, const Json& patch, bool status_subresource = false) override;
  Status Delete(const ResourceRef& res, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {}) override;
  Result<Json> PostPath(std::string_view absolute_path, const Json& body) override;
  Result<std::unique_ptr<Watch>> StartWatch(const ResourceRef& res, std::string_view ns,
                                            const ListOptions& options) override;

  // One request with rate limiting and retries; returns the parsed 2xx body.
  Result<Json> Call(std::string method, const std::string& path_and_query, const Json* body,
                    std::string content_type = "application/json");

 private:
  Result<HttpRequest> BuildRequest(std::string method, const std::string& path_and_query);
  // A 429: every caller waits out its Retry-After (1 s when it has none), and the rate drops.
  void Pushback(const Status& refused);

  RestConfig config_;
  std::shared_ptr<HttpTransport> transport_;
  RestClientOptions options_;
  Sleeper* sleeper_;
  TokenBucket bucket_;
};

// "%2F"-style encoding for a query value.
std::string PercentEncode(std::string_view s);

}  // namespace certsmith::kube
