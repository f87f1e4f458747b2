// A decorator on the HttpTransport an ACME client uses: counts each request by CA host, endpoint
// kind, method and status code, times it, and counts the problem types of error answers. The ACME
// library knows nothing of it (STYLE.md: the protocol library stays small); the controller wraps
// the transport when it builds a client.
//
// The endpoint kind comes from what the CA itself said: the directory names newNonce, newAccount,
// newOrder, revokeCert, keyChange and renewalInfo (RFC 8555 §7.1.1, RFC 9773); an order's
// Location, its authorizations, finalize and certificate URLs, and an authorization's challenge
// URLs are learned from the answers that carry them (§7.1.3, §7.1.4), a bounded number of them.
// A URL seen before none of that (an order polled after a restart) is classified by its path's
// words ("finalize", "authz", "chal", "cert", "order"), else "other".
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "certsmith/clock.h"
#include "certsmith/http_transport.h"
#include "metrics/controller_metrics.h"

namespace certsmith::metrics {

class AcmeTransportMetrics final : public HttpTransport {
 public:
  // How many learned URLs are kept (oldest forgotten first).
  static constexpr size_t kMaxLearnedUrls = 4096;

  AcmeTransportMetrics(std::shared_ptr<HttpTransport> inner, std::string directory_url,
                       ControllerMetrics& metrics, const Clock& clock = SystemClock::Instance());

  Result<HttpResponse> Send(const HttpRequest& request) override;
  Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest& request) override {
    return inner_->Stream(request);
  }

  // The endpoint kind a URL is counted under.
  std::string EndpointOf(const std::string& url) const;
  // host[:port] of a URL.
  static std::string HostOf(const std::string& url);
  // The metric label of an error answer's problem type.
  static std::string ProblemLabel(const HttpResponse& response);

 private:
  void Learn(const std::string& endpoint, const HttpResponse& response);
  void Remember(const std::string& url, const std::string& endpoint);

  std::shared_ptr<HttpTransport> inner_;
  std::string directory_url_;
  std::string host_;
  ControllerMetrics& metrics_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> directory_;  // from the directory: never forgotten
  std::string renewal_info_prefix_;
  std::map<std::string, std::string> learned_;
  std::deque<std::string> learned_order_;
};

}  // namespace certsmith::metrics
