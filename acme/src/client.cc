// The client's core: sending, the one signed-POST helper with its nonces (RFC 8555 §6.2, §6.5),
// and turning HTTP error responses into Status values (§6.7). The verbs live in
// client_account.cc, client_order.cc and client_certificate.cc.
#include "acme/client.h"

#include "acme/retry_after.h"
#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "json_fields.h"
#include "resource_parser.h"

namespace certsmith::acme {

namespace {

using nlohmann::json;

constexpr char kJoseJson[] = "application/jose+json";

// The transport failed before any HTTP response: say which server, and what to do about TLS.
Status TransportError(const Status& error, const std::string& url) {
  if (error.code() == ErrorCode::kTls) {
    return Status(ErrorCode::kTls, "TLS failure talking to ACME server " + log::Sanitize(url) +
                                       ": " + error.message() +
                                       " (if the CA uses a private root, pass --ca-bundle)");
  }
  return error.WithContext("cannot reach ACME server " + log::Sanitize(url));
}

ErrorCode CodeForHttpStatus(int status) {
  if (status == 429) return ErrorCode::kResourceExhausted;
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 401) return ErrorCode::kUnauthenticated;
  if (status == 403) return ErrorCode::kPermissionDenied;
  if (status >= 500) return ErrorCode::kUnavailable;
  return ErrorCode::kProtocol;
}

// The problem document of an error response: served as application/problem+json (§6.7), or
// plain JSON with a "type" member (some CAs get the media type wrong). Anything else (an HTML
// page from a proxy) is not a problem document.
std::optional<Problem> ProblemIn(const HttpResponse& response) {
  Result<Problem> problem = ParseProblem(response.body);
  if (!problem.ok()) return std::nullopt;
  std::string media_type = response.Header("content-type").value_or("");
  if (media_type.find("problem+json") == std::string::npos && !problem->raw.contains("type")) {
    return std::nullopt;
  }
  return *std::move(problem);
}

// An HTTP error response (§6.7): the problem document when there is one, else the HTTP status.
// Retry-After is kept on the Status for rateLimited (§6.6) and 503.
Status ErrorFromResponse(const HttpResponse& response, const std::string& url, TimePoint now) {
  std::optional<std::chrono::seconds> retry_after;
  if (auto header = response.Header("retry-after")) retry_after = ParseRetryAfter(*header, now);
  if (std::optional<Problem> problem = ProblemIn(response)) {
    return StatusFromProblem(*problem, response.status, retry_after);
  }
  Status s(CodeForHttpStatus(response.status),
           "ACME server answered HTTP " + std::to_string(response.status) + " for " +
               log::Sanitize(url) + ": " + log::Sanitize(response.body, 200));
  s.set_http_status(response.status);
  if (retry_after) s.set_retry_after(*retry_after);
  return s;
}

}  // namespace

Result<Account> AcmeClient::EnsureAccount(
    const std::function<Result<NewAccountRequest>()>& new_account) {
  Result<Account> existing = LookupAccount();
  if (existing.ok() || existing.status().code() != ErrorCode::kNotFound) return existing;
  ASSIGN_OR_RETURN(NewAccountRequest request, new_account());
  return NewAccount(request);
}

Result<Account> AcmeClient::EnsureAccount(const NewAccountRequest& request) {
  return EnsureAccount([&request]() -> Result<NewAccountRequest> { return request; });
}

Client::Client(ClientOptions options, std::shared_ptr<HttpTransport> transport, const Clock& clock,
               std::shared_ptr<const Signer> account_key)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      clock_(clock),
      account_key_(std::move(account_key)) {}

Result<HttpResponse> Client::Send(HttpRequest request, bool keep_nonce) {
  request.timeout = options_.request_timeout;
  Result<HttpResponse> response = transport_->Send(request);
  if (!response.ok()) return TransportError(response.status(), request.url);
  // §6.5: every response carries a fresh nonce, errors included (badNonce in particular).
  if (auto nonce = response->Header("replay-nonce"); nonce && keep_nonce) nonces_.Put(*nonce);
  log::Debug("acme response", {{"method", request.method},
                               {"url", log::Sanitize(request.url)},
                               {"status", std::to_string(response->status)}});
  return response;
}

Result<HttpResponse> Client::Get(const std::string& url, std::string_view what) {
  HttpRequest request;
  request.url = url;
  ASSIGN_OR_RETURN(HttpResponse response, Send(std::move(request), true));
  if (response.status != 200) {
    return ErrorFromResponse(response, url, clock_.Now())
        .WithContext("fetching the " + std::string(what));
  }
  return response;
}

Result<Directory> Client::GetDirectory() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (directory_) return *directory_;
  }
  ASSIGN_OR_RETURN(HttpResponse response, Get(options_.directory_url, "ACME directory"));
  Result<Directory> directory = ParseDirectory(response.body);
  if (!directory.ok()) {
    return directory.status().WithContext(log::Sanitize(options_.directory_url) +
                                          " is not an ACME directory");
  }
  directory->url = options_.directory_url;
  std::lock_guard<std::mutex> lock(mu_);
  directory_ = *directory;
  return *directory;
}

// §7.2: HEAD newNonce. The nonce is returned, not pooled, so it is used exactly once.
Result<std::string> Client::NewNonce() {
  ASSIGN_OR_RETURN(Directory directory, GetDirectory());
  HttpRequest request;
  request.method = "HEAD";
  request.url = directory.new_nonce;
  ASSIGN_OR_RETURN(HttpResponse response, Send(std::move(request), false));
  if (response.status != 200 && response.status != 204) {
    return ErrorFromResponse(response, directory.new_nonce, clock_.Now())
        .WithContext("fetching a nonce");
  }
  std::optional<std::string> nonce = response.Header("replay-nonce");
  if (!nonce || !IsBase64UrlToken(*nonce)) {
    return MakeError(ErrorCode::kProtocol,
                     "the ACME server's newNonce answer has no valid "
                     "Replay-Nonce header");
  }
  return *nonce;
}

std::shared_ptr<const Signer> Client::account_key() const {
  std::lock_guard<std::mutex> lock(mu_);
  return account_key_;
}

std::string Client::account_url() const {
  std::lock_guard<std::mutex> lock(mu_);
  return account_url_;
}

void Client::set_account_url(std::string url) {
  std::lock_guard<std::mutex> lock(mu_);
  account_url_ = std::move(url);
}

std::string Client::KeyAuthorization(std::string_view token) const {
  return acme::KeyAuthorization(token, account_key()->PublicJwk());
}

TimePoint Client::NextPoll(int attempt, std::optional<std::chrono::seconds> retry_after) const {
  return clock_.Now() + PollDelay(attempt, retry_after);
}

std::optional<std::chrono::seconds> Client::RetryAfterOf(const HttpResponse& response) const {
  std::optional<std::string> header = response.Header("retry-after");
  if (!header) return std::nullopt;
  return ParseRetryAfter(*header, clock_.Now());
}

Result<HttpResponse> Client::PostOnce(const SignedPost& post, const std::string& nonce) {
  std::shared_ptr<const Signer> key = account_key();
  const Signer* signer = post.signer != nullptr ? post.signer : key.get();
  std::string kid;
  if (post.mode == KeyIdMode::kKid) {
    kid = account_url();
    if (kid.empty()) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "no ACME account URL yet: register or look up the account first");
    }
  }
  // §6.3: POST-as-GET has the empty string as payload.
  std::string payload = post.payload ? json_fields::Dump(*post.payload) : std::string();
  ASSIGN_OR_RETURN(json jws, SignJws(*signer, post.url, nonce, kid, payload));
  HttpRequest request;
  request.method = "POST";
  request.url = post.url;
  request.headers.emplace_back("Content-Type", kJoseJson);
  if (!post.accept.empty()) request.headers.emplace_back("Accept", post.accept);
  request.body = json_fields::Dump(jws);
  return Send(std::move(request), true);
}

// The one signed-POST helper. A badNonce answer carries a fresh nonce (§6.5), which Send() has
// already pooled, so the retry needs no extra round trip. Never sleeps: rateLimited comes back
// as kResourceExhausted with retry_after.
Result<HttpResponse> Client::Post(const SignedPost& post) {
  for (int attempt = 0;; ++attempt) {
    std::optional<std::string> nonce = nonces_.Take();
    if (!nonce) {
      ASSIGN_OR_RETURN(nonce, NewNonce());
    }
    ASSIGN_OR_RETURN(HttpResponse response, PostOnce(post, *nonce));
    if (response.status < 400) return response;
    Status error = ErrorFromResponse(response, post.url, clock_.Now());
    std::optional<Problem> problem = ProblemFromStatus(error);
    if (problem && problem->Is("badNonce") && attempt < options_.max_bad_nonce_retries) {
      log::Debug("acme badNonce, retrying",
                 {{"url", log::Sanitize(post.url)}, {"attempt", std::to_string(attempt + 1)}});
      continue;
    }
    return error;
  }
}

}  // namespace certsmith::acme
