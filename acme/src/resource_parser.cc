#include "resource_parser.h"

#include "acme/certificate.h"
#include "certsmith/base64.h"
#include "json_fields.h"

namespace certsmith::acme {

namespace {

using nlohmann::json;
namespace jf = json_fields;

std::optional<TimePoint> Time(const json& object, std::string_view key) {
  std::string text = jf::String(object, key);
  if (text.empty()) return std::nullopt;
  Result<TimePoint> t = ParseRfc3339(text);
  if (!t.ok()) return std::nullopt;  // a bad timestamp is not worth failing the resource for
  return *t;
}

std::optional<Problem> ErrorMember(const json& object) {
  const json* error = jf::Object(object, "error");
  if (error == nullptr) return std::nullopt;
  Result<Problem> p = ParseProblem(jf::Dump(*error));
  if (!p.ok()) return std::nullopt;
  return *std::move(p);
}

Identifier IdentifierOf(const json& object) {
  return NormalizeIdentifier(Identifier{jf::String(object, "type"), jf::String(object, "value")});
}

Status MissingMember(std::string_view what, std::string_view member) {
  return MakeError(ErrorCode::kProtocol, "the ACME server sent " + std::string(what) +
                                             " without the required \"" + std::string(member) +
                                             "\" member");
}

Result<Challenge> ChallengeFrom(const json& object) {
  Challenge c;
  c.url = jf::String(object, "url");
  c.type = jf::String(object, "type");
  c.status = ParseChallengeStatus(jf::String(object, "status"));
  c.token = jf::String(object, "token");
  c.validated = Time(object, "validated");
  c.error = ErrorMember(object);
  if (c.url.empty()) return MissingMember("a challenge", "url");
  // §8.1: the token becomes a file name (http-01) and a DNS value (dns-01); anything beyond
  // base64url could escape a path or a record. Never echo the token itself.
  if (!c.token.empty() && !IsBase64UrlToken(c.token)) {
    return MakeError(ErrorCode::kProtocol, "the ACME server sent a " + c.type +
                                               " challenge token with characters outside "
                                               "base64url; refusing it");
  }
  return c;
}

}  // namespace

Result<Directory> ParseDirectory(std::string_view text) {
  ASSIGN_OR_RETURN(json doc, jf::ParseObject(text, "directory"));
  Directory d;
  d.new_nonce = jf::String(doc, "newNonce");
  d.new_account = jf::String(doc, "newAccount");
  d.new_order = jf::String(doc, "newOrder");
  d.new_authz = jf::String(doc, "newAuthz");
  d.revoke_cert = jf::String(doc, "revokeCert");
  d.key_change = jf::String(doc, "keyChange");
  d.renewal_info = jf::String(doc, "renewalInfo");
  if (const json* meta = jf::Object(doc, "meta")) {
    d.meta.terms_of_service = jf::String(*meta, "termsOfService");
    d.meta.website = jf::String(*meta, "website");
    d.meta.caa_identities = jf::StringList(*meta, "caaIdentities");
    d.meta.external_account_required = jf::Bool(*meta, "externalAccountRequired");
    if (const json* profiles = jf::Object(*meta, "profiles")) {
      for (auto it = profiles->begin(); it != profiles->end(); ++it) {
        d.meta.profiles[it.key()] = it->is_string() ? it->get<std::string>() : "";
      }
    }
  }
  for (auto [member, value] :
       {std::pair{"newNonce", &d.new_nonce}, std::pair{"newAccount", &d.new_account},
        std::pair{"newOrder", &d.new_order}}) {
    if (value->empty()) return MissingMember("a directory", member);
  }
  return d;
}

Result<Account> ParseAccount(std::string_view text) {
  ASSIGN_OR_RETURN(json doc, jf::ParseObject(text, "account"));
  Account a;
  a.status = ParseAccountStatus(jf::String(doc, "status"));
  a.contact = jf::StringList(doc, "contact");
  a.orders = jf::String(doc, "orders");
  return a;
}

Result<Order> ParseOrder(std::string_view text) {
  ASSIGN_OR_RETURN(json doc, jf::ParseObject(text, "order"));
  Order o;
  o.status = ParseOrderStatus(jf::String(doc, "status"));
  o.expires = Time(doc, "expires");
  o.not_before = Time(doc, "notBefore");
  o.not_after = Time(doc, "notAfter");
  if (const json* ids = jf::Array(doc, "identifiers")) {
    for (const json& id : *ids) {
      if (id.is_object()) o.identifiers.push_back(IdentifierOf(id));
    }
  }
  o.authorizations = jf::StringList(doc, "authorizations");
  o.finalize = jf::String(doc, "finalize");
  o.certificate = jf::String(doc, "certificate");
  o.error = ErrorMember(doc);
  o.replaces = jf::String(doc, "replaces");
  if (o.status == OrderStatus::kUnknown) return MissingMember("an order", "status");
  return o;
}

Result<Authorization> ParseAuthorization(std::string_view text) {
  ASSIGN_OR_RETURN(json doc, jf::ParseObject(text, "authorization"));
  Authorization a;
  if (const json* id = jf::Object(doc, "identifier")) a.identifier = IdentifierOf(*id);
  a.status = ParseAuthorizationStatus(jf::String(doc, "status"));
  a.expires = Time(doc, "expires");
  a.wildcard = jf::Bool(doc, "wildcard");
  if (const json* challenges = jf::Array(doc, "challenges")) {
    for (const json& c : *challenges) {
      if (!c.is_object()) continue;
      ASSIGN_OR_RETURN(Challenge challenge, ChallengeFrom(c));
      a.challenges.push_back(std::move(challenge));
    }
  }
  if (a.identifier.value.empty()) return MissingMember("an authorization", "identifier");
  return a;
}

Result<Challenge> ParseChallenge(std::string_view text) {
  ASSIGN_OR_RETURN(json doc, jf::ParseObject(text, "challenge"));
  return ChallengeFrom(doc);
}

Result<RenewalInfo> ParseRenewalInfo(std::string_view text) {
  ASSIGN_OR_RETURN(json doc, jf::ParseObject(text, "renewal info"));
  const json* window = jf::Object(doc, "suggestedWindow");
  if (window == nullptr) return MissingMember("renewal info", "suggestedWindow");
  std::optional<TimePoint> start = Time(*window, "start");
  std::optional<TimePoint> end = Time(*window, "end");
  if (!start || !end || *end < *start) {
    // RFC 9773 §4.2: a window whose end precedes its start is invalid.
    return MakeError(ErrorCode::kProtocol, "the ACME server sent an invalid suggestedWindow");
  }
  RenewalInfo info;
  info.window_start = *start;
  info.window_end = *end;
  info.explanation_url = jf::String(doc, "explanationURL");
  return info;
}

}  // namespace certsmith::acme
