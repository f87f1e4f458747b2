// The ACME client (RFC 8555): one verb per protocol step, each checkable against its section.
//
//   auto transport = certsmith::MakeCpprestTransport(opts);
//   acme::Client client({.directory_url = url}, std::move(transport),
//                       certsmith::SystemClock::Instance(),
//                       std::make_shared<acme::KeySigner>(account_key));
//   ASSIGN_OR_RETURN(acme::Account account, client.EnsureAccount({.contact = ..., .eab = eab}));
//   ASSIGN_OR_RETURN(acme::Order order, client.NewOrder({.identifiers = {DnsIdentifier(n)}}));
//   for (auto& url : order.authorizations) { GetAuthorization, RespondToChallenge, ... }
//   Finalize(order, csr_der); GetOrder(order.url, attempt) until valid (wait until next_poll);
//   DownloadPreferredChain(order.certificate, "ISRG Root X1");
//
// Rules the client keeps for its callers:
// - It never sleeps. Polls return next_poll; rateLimited and 503 come back as an error Status
//   (kResourceExhausted / kUnavailable) with retry_after set.
// - Every request after the directory is a signed POST (POST-as-GET for fetches, §6.3) through
//   one helper that owns the nonces and retries badNonce a bounded number of times (§6.5).
// - CA problems come back as Status values carrying the problem document (acme/problem.h).
// - It never logs keys, EAB keys or tokens; URLs and statuses are logged at debug level.
// - Thread-safe: the controller may call one client from several workers.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acme/jws.h"
#include "acme/nonce_pool.h"
#include "acme/problem.h"
#include "acme/types.h"
#include "certsmith/clock.h"
#include "certsmith/http_transport.h"
#include "certsmith/status.h"

namespace certsmith::acme {

// §7.3
struct NewAccountRequest {
  std::vector<std::string> contact{};  // "mailto:..." (added if missing for plain addresses)
  bool terms_of_service_agreed = true;
  std::optional<ExternalAccountBinding> eab{};  // §7.3.4; required when meta says so
};

// §7.4
struct NewOrderRequest {
  std::vector<Identifier> identifiers{};  // normalised by the client again before sending
  std::optional<TimePoint> not_before{};
  std::optional<TimePoint> not_after{};
  std::string replaces{};  // RFC 9773 §5: ARI certID of the certificate this order renews
  // draft-aaron-acme-profiles: the profile (one of the directory's meta.profiles) to issue under.
  std::string profile{};
};

struct ClientOptions {
  std::string directory_url{};
  // badNonce retries of one request (§6.5). Pebble rejects half the nonces in our tests, so a
  // request fails spuriously with probability 0.5^(n+1): 5 retries keep that under 2%.
  int max_bad_nonce_retries = 5;
  std::chrono::milliseconds request_timeout{30'000};
  // RFC 9773 §4.3.2: the CA's Retry-After for renewalInfo is honoured within [min, 24 h]. The
  // RFC suggests one minute as the floor; tests lower it.
  std::chrono::seconds ari_min_poll{60};
};

// The narrow interface the controller's reconcilers depend on, so their tests can use a fake.
// Lifetimes: every method may be called from any thread.
class AcmeClient {
 public:
  virtual ~AcmeClient() = default;

  // §7.1.1; fetched once with a plain GET and cached.
  virtual Result<Directory> GetDirectory() = 0;
  // §7.2; HEAD newNonce. Usually not needed by callers: the signed-POST helper calls it.
  virtual Result<std::string> NewNonce() = 0;

  // §7.3: registers (201) or returns the existing account for this key (200). With eab, binds it
  // (§7.3.4). Fails with kInvalidArgument before sending anything when the directory says
  // externalAccountRequired and no eab is given. Remembers the account URL.
  virtual Result<Account> NewAccount(const NewAccountRequest& request) = 0;
  // §7.3.1 onlyReturnExisting: the account for this key, or kNotFound (problem
  // accountDoesNotExist). Never creates one, never uses EAB. Remembers the account URL.
  virtual Result<Account> LookupAccount() = 0;
  // The account for this key (LookupAccount), or a new one (NewAccount) only when the CA says
  // there is none (kNotFound, accountDoesNotExist). An EAB pair binds one account (§7.3.4; CAs
  // answer "account is not awaiting external account binding" to a second use), so it is spent
  // only then: any other lookup error (CA unreachable, 5xx, rate limit, a refused key) comes
  // back as it is, and nothing more is sent. new_account builds the request only when it is
  // needed (callers read the EAB key there: an existing account needs none); its error comes
  // back as it is. Account::created tells a registered account from a found one.
  // Not virtual: fakes implement LookupAccount and NewAccount, and every caller (the Issuer
  // reconciler, `certsmith acme`) keeps this one rule.
  Result<Account> EnsureAccount(const std::function<Result<NewAccountRequest>()>& new_account);
  Result<Account> EnsureAccount(const NewAccountRequest& request);
  // POST-as-GET of the account URL.
  virtual Result<Account> GetAccount() = 0;
  // §7.3.2
  virtual Result<Account> UpdateAccount(const std::vector<std::string>& contact) = 0;
  // §7.3.6: irreversible.
  virtual Result<Account> DeactivateAccount() = 0;
  // §7.3.5: inner JWS signed by new_key (jwk, no nonce), outer by the current key (kid). On
  // success the client signs with new_key from then on.
  virtual Status KeyRollover(std::shared_ptr<const Signer> new_key) = 0;

  // §7.4. The returned order has url set from Location.
  virtual Result<Order> NewOrder(const NewOrderRequest& request) = 0;
  // POST-as-GET. attempt (0-based count of previous polls) drives the default backoff in
  // next_poll when the CA sends no Retry-After.
  virtual Result<Order> GetOrder(const std::string& url, int attempt) = 0;
  virtual Result<Authorization> GetAuthorization(const std::string& url, int attempt) = 0;
  // §7.5.2: tells the CA we no longer want this authorization (cleanup of abandoned orders).
  virtual Result<Authorization> DeactivateAuthorization(const std::string& url) = 0;
  virtual Result<Challenge> GetChallenge(const std::string& url) = 0;
  // §7.5.1: POST {} to the challenge URL: "I have provisioned it, validate now".
  virtual Result<Challenge> RespondToChallenge(const std::string& url) = 0;
  // §7.4: POST {"csr": base64url(DER)} to order.finalize. The result keeps order.url.
  virtual Result<Order> Finalize(const Order& order, std::string_view csr_der) = 0;
  // §7.4.2: the default chain and the URLs of the alternates.
  virtual Result<CertificateChain> DownloadCertificate(const std::string& url) = 0;
  // The chain whose topmost certificate is issued by (or is) preferred_issuer_cn, looking at the
  // default chain first, then each alternate; the default chain when none matches or when
  // preferred_issuer_cn is empty (cert-manager's preferredChain, certbot's --preferred-chain).
  virtual Result<CertificateChain> DownloadPreferredChain(const std::string& url,
                                                          std::string_view preferred_issuer_cn) = 0;
  // §7.6, signed by the account key (kid). certificate: PEM (first block used) or DER.
  virtual Status RevokeCertificate(std::string_view certificate,
                                   std::optional<RevocationReason> reason) = 0;
  // §7.6, signed by the certificate's own key (jwk): works without the account.
  virtual Status RevokeCertificateWithKey(std::string_view certificate,
                                          const Signer& certificate_key,
                                          std::optional<RevocationReason> reason) = 0;
  // RFC 9773: the CA's suggested renewal window for a certificate (PEM; the issuer is not needed:
  // the certID is built from the AKI and serial). kFailedPrecondition when the directory has no
  // renewalInfo.
  virtual Result<RenewalInfo> GetRenewalInfo(std::string_view certificate_pem) = 0;

  // §8.1 key authorization "token.thumbprint" for the current account key.
  virtual std::string KeyAuthorization(std::string_view token) const = 0;
  // The account URL (kid) in use; empty before NewAccount/LookupAccount or set_account_url.
  virtual std::string account_url() const = 0;
  // Uses a known account URL (recorded in an Issuer's status) without a lookup round trip.
  virtual void set_account_url(std::string url) = 0;
};

class Client final : public AcmeClient {
 public:
  // clock must outlive the client. account_key signs every request (the client never sees the
  // key itself, only the Signer).
  Client(ClientOptions options, std::shared_ptr<HttpTransport> transport, const Clock& clock,
         std::shared_ptr<const Signer> account_key);

  Result<Directory> GetDirectory() override;
  Result<std::string> NewNonce() override;
  Result<Account> NewAccount(const NewAccountRequest& request) override;
  Result<Account> LookupAccount() override;
  Result<Account> GetAccount() override;
  Result<Account> UpdateAccount(const std::vector<std::string>& contact) override;
  Result<Account> DeactivateAccount() override;
  Status KeyRollover(std::shared_ptr<const Signer> new_key) override;
  Result<Order> NewOrder(const NewOrderRequest& request) override;
  Result<Order> GetOrder(const std::string& url, int attempt) override;
  Result<Authorization> GetAuthorization(const std::string& url, int attempt) override;
  Result<Authorization> DeactivateAuthorization(const std::string& url) override;
  Result<Challenge> GetChallenge(const std::string& url) override;
  Result<Challenge> RespondToChallenge(const std::string& url) override;
  Result<Order> Finalize(const Order& order, std::string_view csr_der) override;
  Result<CertificateChain> DownloadCertificate(const std::string& url) override;
  Result<CertificateChain> DownloadPreferredChain(const std::string& url,
                                                  std::string_view preferred_issuer_cn) override;
  Status RevokeCertificate(std::string_view certificate,
                           std::optional<RevocationReason> reason) override;
  Status RevokeCertificateWithKey(std::string_view certificate, const Signer& certificate_key,
                                  std::optional<RevocationReason> reason) override;
  Result<RenewalInfo> GetRenewalInfo(std::string_view certificate_pem) override;
  std::string KeyAuthorization(std::string_view token) const override;
  std::string account_url() const override;
  void set_account_url(std::string url) override;

 private:
  // How a signed request identifies its signer (§6.2): by account URL or by embedded key.
  enum class KeyIdMode { kKid, kJwk };
  struct SignedPost {
    std::string url{};
    std::optional<nlohmann::json> payload{};  // nullopt: POST-as-GET (payload "")
    KeyIdMode mode = KeyIdMode::kKid;
    const Signer* signer = nullptr;  // nullptr: the account key
    std::string accept{};            // Accept header, e.g. application/pem-certificate-chain
  };

  // The one signed-POST helper: nonce from the pool (or newNonce), sign, send, keep the
  // response's Replay-Nonce, retry badNonce up to the bound, turn problems into Status.
  Result<HttpResponse> Post(const SignedPost& post);
  Result<HttpResponse> PostOnce(const SignedPost& post, const std::string& nonce);
  // Plain GET (directory, renewalInfo); non-200 is an error.
  Result<HttpResponse> Get(const std::string& url, std::string_view what);
  Result<HttpResponse> Send(HttpRequest request, bool keep_nonce);

  Result<Account> PostAccount(const std::string& url, std::optional<nlohmann::json> payload,
                              KeyIdMode mode);
  Result<Order> OrderFrom(const HttpResponse& response, std::string url, int attempt);
  Result<Authorization> AuthorizationFrom(const HttpResponse& response, std::string url,
                                          int attempt);
  Status Revoke(std::string_view certificate, const Signer* certificate_key,
                std::optional<RevocationReason> reason);

  std::shared_ptr<const Signer> account_key() const;
  Result<std::string> RequireAccountUrl() const;
  std::optional<std::chrono::seconds> RetryAfterOf(const HttpResponse& response) const;
  TimePoint NextPoll(int attempt, std::optional<std::chrono::seconds> retry_after) const;

  const ClientOptions options_;
  const std::shared_ptr<HttpTransport> transport_;
  const Clock& clock_;
  NoncePool nonces_;

  mutable std::mutex mu_;  // guards the members below
  std::shared_ptr<const Signer> account_key_;
  std::string account_url_;
  std::optional<Directory> directory_;
};

}  // namespace certsmith::acme
