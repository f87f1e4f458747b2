// Account verbs: RFC 8555 §7.3 (newAccount, onlyReturnExisting, update, deactivate, key change).
#include <algorithm>
#include <cctype>

#include "acme/client.h"
#include "certsmith/log.h"
#include "json_fields.h"
#include "resource_parser.h"

namespace certsmith::acme {

namespace {

using nlohmann::json;

// §7.3: contact entries are URLs. People type plain addresses; make them mailto: URLs.
json ContactList(const std::vector<std::string>& contact) {
  json list = json::array();
  for (const std::string& c : contact) {
    list.push_back(c.find(':') == std::string::npos ? "mailto:" + c : c);
  }
  return list;
}

bool MentionsBinding(std::string_view detail) {
  std::string lower(detail);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("external account") != std::string::npos ||
         lower.find("eab") != std::string::npos;
}

// The CA refused the binding (§7.3.4): wrong key ID, wrong HMAC key, or a pair already used.
// Say what to check, then the CA's own words. Never the key.
Status EabRejected(const Status& error) {
  std::optional<Problem> problem = ProblemFromStatus(error);
  if (!problem) return error;
  bool about_binding = problem->Is("unauthorized") || problem->Is("externalAccountRequired") ||
                       (problem->Is("malformed") && MentionsBinding(problem->detail));
  if (!about_binding) return error;
  return error.WithContext(
      "the CA rejected the External Account Binding: check the key ID and HMAC key");
}

}  // namespace

Result<Account> Client::PostAccount(const std::string& url, std::optional<json> payload,
                                    KeyIdMode mode) {
  ASSIGN_OR_RETURN(HttpResponse response,
                   Post({.url = url, .payload = std::move(payload), .mode = mode}));
  ASSIGN_OR_RETURN(Account account, ParseAccount(response.body));
  // newAccount names the account in Location (§7.3); other account requests go to its URL.
  account.url = response.Header("location").value_or(mode == KeyIdMode::kKid ? url : "");
  if (account.url.empty()) {
    return MakeError(ErrorCode::kProtocol,
                     "the ACME server's newAccount answer has no Location header");
  }
  account.created = response.status == 201;
  if (mode == KeyIdMode::kJwk) set_account_url(account.url);
  log::Debug("acme account",
             {{"url", log::Sanitize(account.url)}, {"status", ToString(account.status)}});
  return account;
}

Result<Account> Client::NewAccount(const NewAccountRequest& request) {
  ASSIGN_OR_RETURN(Directory directory, GetDirectory());
  // Fail before sending anything: a CA that requires EAB answers with a problem that users
  // misread as a key problem.
  if (directory.meta.external_account_required && !request.eab) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the ACME server " + log::Sanitize(directory.url) +
                         " requires External Account Binding: give the EAB key ID and HMAC key "
                         "from the CA's portal");
  }
  json payload = {{"termsOfServiceAgreed", request.terms_of_service_agreed}};
  if (!request.contact.empty()) payload["contact"] = ContactList(request.contact);
  if (request.eab) {
    ASSIGN_OR_RETURN(payload["externalAccountBinding"],
                     MakeEabJws(*request.eab, account_key()->PublicJwk(), directory.new_account));
  }
  Result<Account> account = PostAccount(directory.new_account, std::move(payload), KeyIdMode::kJwk);
  if (!account.ok() && request.eab) return EabRejected(account.status());
  return account;
}

// §7.3.1: onlyReturnExisting never creates an account; accountDoesNotExist maps to kNotFound.
Result<Account> Client::LookupAccount() {
  ASSIGN_OR_RETURN(Directory directory, GetDirectory());
  return PostAccount(directory.new_account, json{{"onlyReturnExisting", true}}, KeyIdMode::kJwk);
}

// §7.3.2 allows fetching with an empty update; some CAs refuse POST-as-GET on the account URL,
// every CA accepts "{}".
Result<Account> Client::GetAccount() {
  ASSIGN_OR_RETURN(std::string url, RequireAccountUrl());
  // POST-as-GET (§6.3, §7.3.3 example): an empty-object POST is an update, and Pebble refuses
  // it ("Use POST-as-GET to retrieve account data instead of doing an empty update").
  return PostAccount(url, std::nullopt, KeyIdMode::kKid);
}

Result<Account> Client::UpdateAccount(const std::vector<std::string>& contact) {
  ASSIGN_OR_RETURN(std::string url, RequireAccountUrl());
  return PostAccount(url, json{{"contact", ContactList(contact)}}, KeyIdMode::kKid);
}

// §7.3.6
Result<Account> Client::DeactivateAccount() {
  ASSIGN_OR_RETURN(std::string url, RequireAccountUrl());
  return PostAccount(url, json{{"status", "deactivated"}}, KeyIdMode::kKid);
}

// §7.3.5: the inner JWS proves possession of the new key (jwk, no nonce, same url); the outer
// JWS is an ordinary account request signed by the old key.
Status Client::KeyRollover(std::shared_ptr<const Signer> new_key) {
  ASSIGN_OR_RETURN(Directory directory, GetDirectory());
  if (directory.key_change.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the ACME server does not offer key rollover (no keyChange in directory)");
  }
  ASSIGN_OR_RETURN(std::string url, RequireAccountUrl());
  json inner_payload = {{"account", url}, {"oldKey", account_key()->PublicJwk()}};
  ASSIGN_OR_RETURN(json inner, SignJws(*new_key, directory.key_change, /*nonce=*/"", /*kid=*/"",
                                       json_fields::Dump(inner_payload)));
  RETURN_IF_ERROR(Post({.url = directory.key_change, .payload = std::move(inner)}).status());
  std::lock_guard<std::mutex> lock(mu_);
  account_key_ = std::move(new_key);
  return Status::Ok();
}

Result<std::string> Client::RequireAccountUrl() const {
  std::string url = account_url();
  if (url.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "no ACME account URL yet: register or look up the account first");
  }
  return url;
}

}  // namespace certsmith::acme
