// A fake HttpTransport that behaves like an ACME server (RFC 8555), in memory, for unit tests of
// the ACME client and of anything built on it (CLI, reconcilers). It checks what a strict CA
// checks: every JWS signature is verified with OpenSSL against the JWK (or the account's key),
// nonces are single-use, url headers must match, EAB MACs are verified with the HMAC key.
// Switches inject the CA behaviours the client must survive: badNonce, rateLimited with
// Retry-After, orders held in processing, problem documents with subproblems and CA codes,
// transport failures, pre-validated (valid) authorizations, failing challenges.
//
// Not thread-safe on purpose: unit tests drive it from one thread.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "certsmith/clock.h"
#include "certsmith/http_transport.h"

namespace certsmith::acme::testing {

struct FakeAcmeOptions {
  std::string base_url = "https://acme.test";
  bool external_account_required = false;
  std::map<std::string, std::string> eab_keys{};  // key ID -> raw HMAC key bytes
  // CAs such as ZeroSSL refuse to bind a second account with one EAB pair ("account is not
  // awaiting external account binding"); Sectigo allows it.
  bool eab_single_use = true;
  bool offer_renewal_info = true;
  bool offer_key_change = true;
  std::string terms_of_service = "https://acme.test/terms";
};

// One request as the server understood it.
struct RecordedRequest {
  std::string method;
  std::string path;                 // "/new-order"
  nlohmann::json protected_header;  // decoded; null for unsigned requests
  std::string payload;              // decoded payload text; "" for POST-as-GET
  bool signed_request = false;
  bool signature_valid = false;  // verified with OpenSSL against the JWK / account key
  int response_status = 0;
};

// A problem the server answers instead of handling a request.
struct InjectedProblem {
  std::string path_prefix{};  // which requests: "/new-order", "/order/", "" = any signed request
  int status = 400;
  nlohmann::json problem{};  // the document sent as application/problem+json
  HttpHeaders headers{};     // e.g. {"Retry-After", "30"}
  int times = 1;             // how many requests get it
  std::string raw_body{};    // when set, sent instead of the problem (e.g. a proxy's HTML page)
};

class FakeAcmeServer final : public HttpTransport {
 public:
  explicit FakeAcmeServer(const Clock& clock, FakeAcmeOptions options = {});
  ~FakeAcmeServer() override;

  Result<HttpResponse> Send(const HttpRequest& request) override;
  Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest& request) override;

  std::string directory_url() const { return options_.base_url + "/directory"; }
  std::string url(const std::string& path) const { return options_.base_url + path; }

  // --- switches ---
  // The next n signed requests are answered badNonce (with a fresh Replay-Nonce).
  void RejectNextNonces(int n) { reject_nonces_ = n; }
  void InjectProblem(InjectedProblem problem) { injected_.push_back(std::move(problem)); }
  // The next Send fails at the transport level with this status (connection refused, TLS).
  void FailTransport(Status status) { transport_failure_ = std::move(status); }
  // After finalize, the order stays "processing" for k more fetches, each answered with
  // Retry-After: retry_after (when not empty).
  void HoldProcessing(int k, std::string retry_after = "") {
    processing_polls_ = k;
    processing_retry_after_ = std::move(retry_after);
  }
  // Authorizations for this name arrive already valid (Sectigo pre-validated domains).
  void Prevalidate(const std::string& name) { prevalidated_.insert(name); }
  // Responding to a challenge for this name makes it invalid with this problem.
  void FailValidation(const std::string& name, nlohmann::json problem) {
    failing_validation_[name] = std::move(problem);
  }
  // Challenges created from now on carry this token (to test token validation).
  void UseToken(std::string token) { forced_token_ = std::move(token); }
  // Sends no Replay-Nonce on responses (forces newNonce before every request).
  void OmitReplayNonce(bool omit) { omit_replay_nonce_ = omit; }
  // Retry-After sent with renewalInfo answers.
  void SetRenewalRetryAfter(std::string value) { renewal_retry_after_ = std::move(value); }

  // --- observations ---
  const std::vector<RecordedRequest>& requests() const { return requests_; }
  int CountRequests(const std::string& path_prefix) const;
  int nonces_issued() const { return nonce_counter_; }
  int bad_signatures() const { return bad_signatures_; }
  size_t account_count() const { return accounts_.size(); }
  // The EAB key ID an account was bound with ("" when none).
  std::string AccountEabKid(const std::string& account_url) const;
  std::vector<std::string> AccountContact(const std::string& account_url) const;
  bool IsRevoked(const std::string& serial_hex) const { return revoked_.count(serial_hex) > 0; }
  std::optional<int> RevocationReason(const std::string& serial_hex) const;
  // The order's JSON as the server holds it (e.g. to check notBefore/replaces were received).
  nlohmann::json OrderJson(const std::string& order_url) const;
  // Issuer common names of the top certificate of the default and the alternate chain.
  static constexpr const char* kDefaultRoot = "Fake Root X1";
  static constexpr const char* kAlternateRoot = "Fake Root X2";

 private:
  struct Account;
  struct Order;
  struct Authz;
  struct Challenge;
  struct Issued;
  struct Jws;

  HttpResponse Route(const HttpRequest& request, RecordedRequest& record);
  HttpResponse Directory() const;
  HttpResponse NewNonceResponse(const HttpRequest& request);
  HttpResponse RenewalInfo(const std::string& cert_id);
  HttpResponse HandleSigned(const HttpRequest& request, const std::string& path,
                            RecordedRequest& record);
  HttpResponse Dispatch(const std::string& path, const Jws& jws, RecordedRequest& record);
  HttpResponse NewAccount(const Jws& jws);
  HttpResponse AccountRequest(Account& account, const Jws& jws);
  HttpResponse KeyChange(Account& account, const Jws& jws);
  HttpResponse NewOrder(Account& account, const Jws& jws);
  HttpResponse OrderResponse(Order& order, int status);
  HttpResponse AuthzRequest(Authz& authz, const Jws& jws);
  HttpResponse ChallengeRequest(Challenge& challenge, const Jws& jws);
  HttpResponse Finalize(Order& order, const Jws& jws);
  HttpResponse Certificate(const std::string& path);
  HttpResponse Revoke(Account* account, const Jws& jws);

  HttpResponse Json(int status, const nlohmann::json& body);
  HttpResponse Problem(int status, const std::string& type, const std::string& detail);
  std::string NextNonce();
  std::optional<InjectedProblem> TakeInjected(const std::string& path);
  nlohmann::json AuthzJson(const Authz& authz) const;
  nlohmann::json ChallengeJson(const Challenge& challenge) const;
  nlohmann::json OrderBody(const Order& order) const;
  void RefreshOrderStatus(Order& order);
  std::string IssueCertificate(Order& order, EVP_PKEY* subject_key,
                               const std::vector<std::string>& names);
  Account* FindAccountByUrl(const std::string& url);
  Account* FindAccountByJwk(const nlohmann::json& jwk);

  const Clock& clock_;
  FakeAcmeOptions options_;
  int nonce_counter_ = 0;
  std::set<std::string> live_nonces_;
  int reject_nonces_ = 0;
  std::vector<InjectedProblem> injected_;
  std::optional<Status> transport_failure_;
  int processing_polls_ = 0;
  std::string processing_retry_after_;
  std::set<std::string> prevalidated_;
  std::map<std::string, nlohmann::json> failing_validation_;
  std::string forced_token_;
  bool omit_replay_nonce_ = false;
  std::string renewal_retry_after_;
  int bad_signatures_ = 0;
  int next_id_ = 1;

  std::vector<RecordedRequest> requests_;
  std::vector<std::unique_ptr<Account>> accounts_;
  std::map<std::string, std::unique_ptr<Order>> orders_;          // by path
  std::map<std::string, std::unique_ptr<Authz>> authzs_;          // by path
  std::map<std::string, std::unique_ptr<Challenge>> challenges_;  // by path
  std::map<std::string, std::unique_ptr<Issued>> certificates_;   // by path
  std::set<std::string> bound_eab_kids_;
  std::set<std::string> revoked_;
  std::map<std::string, int> revocation_reasons_;

  // The fake PKI: root X1 and X2, one intermediate key cross-signed by both.
  std::shared_ptr<EVP_PKEY> root1_key_, root2_key_, intermediate_key_;
  std::string intermediate_by_root1_pem_, intermediate_by_root2_pem_;
};

}  // namespace certsmith::acme::testing
