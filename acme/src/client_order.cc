// Order verbs: RFC 8555 §7.4 (newOrder, finalize, polling) and §7.5 (authorizations,
// challenges). Polls never wait: each fetched object carries next_poll.
#include "acme/certificate.h"
#include "acme/client.h"
#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "json_fields.h"
#include "resource_parser.h"

namespace certsmith::acme {

namespace {

using nlohmann::json;

json IdentifierList(const std::vector<Identifier>& identifiers) {
  json list = json::array();
  for (const Identifier& id : identifiers) {
    Identifier n = NormalizeIdentifier(id);
    list.push_back({{"type", n.type}, {"value", n.value}});
  }
  return list;
}

}  // namespace

Result<Order> Client::OrderFrom(const HttpResponse& response, std::string url, int attempt) {
  ASSIGN_OR_RETURN(Order order, ParseOrder(response.body));
  order.url = std::move(url);
  order.retry_after = RetryAfterOf(response);
  order.next_poll = NextPoll(attempt, order.retry_after);
  log::Debug("acme order", {{"url", log::Sanitize(order.url)}, {"status", ToString(order.status)}});
  return order;
}

// §7.4
Result<Order> Client::NewOrder(const NewOrderRequest& request) {
  if (request.identifiers.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "an order needs at least one identifier");
  }
  ASSIGN_OR_RETURN(Directory directory, GetDirectory());
  json payload = {{"identifiers", IdentifierList(request.identifiers)}};
  if (request.not_before) payload["notBefore"] = FormatRfc3339(*request.not_before);
  if (request.not_after) payload["notAfter"] = FormatRfc3339(*request.not_after);
  if (!request.replaces.empty()) payload["replaces"] = request.replaces;
  if (!request.profile.empty()) payload["profile"] = request.profile;
  ASSIGN_OR_RETURN(HttpResponse response,
                   Post({.url = directory.new_order, .payload = std::move(payload)}));
  std::optional<std::string> location = response.Header("location");
  if (!location) {
    return MakeError(ErrorCode::kProtocol, "the ACME server's newOrder answer has no Location");
  }
  return OrderFrom(response, *location, 0);
}

Result<Order> Client::GetOrder(const std::string& url, int attempt) {
  ASSIGN_OR_RETURN(HttpResponse response, Post({.url = url}));
  return OrderFrom(response, url, attempt);
}

Result<Authorization> Client::AuthorizationFrom(const HttpResponse& response, std::string url,
                                                int attempt) {
  ASSIGN_OR_RETURN(Authorization authz, ParseAuthorization(response.body));
  authz.url = std::move(url);
  authz.retry_after = RetryAfterOf(response);
  authz.next_poll = NextPoll(attempt, authz.retry_after);
  return authz;
}

Result<Authorization> Client::GetAuthorization(const std::string& url, int attempt) {
  ASSIGN_OR_RETURN(HttpResponse response, Post({.url = url}));
  return AuthorizationFrom(response, url, attempt);
}

// §7.5.2
Result<Authorization> Client::DeactivateAuthorization(const std::string& url) {
  ASSIGN_OR_RETURN(HttpResponse response,
                   Post({.url = url, .payload = json{{"status", "deactivated"}}}));
  return AuthorizationFrom(response, url, 0);
}

Result<Challenge> Client::GetChallenge(const std::string& url) {
  ASSIGN_OR_RETURN(HttpResponse response, Post({.url = url}));
  return ParseChallenge(response.body);
}

// §7.5.1: the payload is the empty object "{}", not the empty string of POST-as-GET.
Result<Challenge> Client::RespondToChallenge(const std::string& url) {
  ASSIGN_OR_RETURN(HttpResponse response, Post({.url = url, .payload = json::object()}));
  return ParseChallenge(response.body);
}

// §7.4: the CSR goes as base64url DER. The answer is the order (often "processing").
Result<Order> Client::Finalize(const Order& order, std::string_view csr_der) {
  if (order.finalize.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition, "the order has no finalize URL");
  }
  json payload = {{"csr", Base64UrlEncode(csr_der)}};
  ASSIGN_OR_RETURN(HttpResponse response,
                   Post({.url = order.finalize, .payload = std::move(payload)}));
  std::string url = order.url.empty() ? response.Header("location").value_or("") : order.url;
  return OrderFrom(response, std::move(url), 0);
}

}  // namespace certsmith::acme
