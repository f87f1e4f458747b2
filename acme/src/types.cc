#include "acme/types.h"

#include <array>
#include <utility>

namespace certsmith::acme {

namespace {

// One table per enum keeps the spelling of each status in one place (§7.1.6).
template <typename Enum, size_t N>
const char* NameOf(const std::array<std::pair<Enum, const char*>, N>& table, Enum value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename Enum, size_t N>
Enum ValueOf(const std::array<std::pair<Enum, const char*>, N>& table, std::string_view name,
             Enum unknown) {
  for (const auto& [e, n] : table) {
    if (name == n) return e;
  }
  return unknown;
}

constexpr std::array<std::pair<AccountStatus, const char*>, 3> kAccount = {{
    {AccountStatus::kValid, "valid"},
    {AccountStatus::kDeactivated, "deactivated"},
    {AccountStatus::kRevoked, "revoked"},
}};
constexpr std::array<std::pair<OrderStatus, const char*>, 5> kOrder = {{
    {OrderStatus::kPending, "pending"},
    {OrderStatus::kReady, "ready"},
    {OrderStatus::kProcessing, "processing"},
    {OrderStatus::kValid, "valid"},
    {OrderStatus::kInvalid, "invalid"},
}};
constexpr std::array<std::pair<AuthorizationStatus, const char*>, 6> kAuthz = {{
    {AuthorizationStatus::kPending, "pending"},
    {AuthorizationStatus::kValid, "valid"},
    {AuthorizationStatus::kInvalid, "invalid"},
    {AuthorizationStatus::kDeactivated, "deactivated"},
    {AuthorizationStatus::kExpired, "expired"},
    {AuthorizationStatus::kRevoked, "revoked"},
}};
constexpr std::array<std::pair<ChallengeStatus, const char*>, 4> kChallenge = {{
    {ChallengeStatus::kPending, "pending"},
    {ChallengeStatus::kProcessing, "processing"},
    {ChallengeStatus::kValid, "valid"},
    {ChallengeStatus::kInvalid, "invalid"},
}};

}  // namespace

const char* ToString(AccountStatus s) { return NameOf(kAccount, s); }
const char* ToString(OrderStatus s) { return NameOf(kOrder, s); }
const char* ToString(AuthorizationStatus s) { return NameOf(kAuthz, s); }
const char* ToString(ChallengeStatus s) { return NameOf(kChallenge, s); }

AccountStatus ParseAccountStatus(std::string_view s) {
  return ValueOf(kAccount, s, AccountStatus::kUnknown);
}
OrderStatus ParseOrderStatus(std::string_view s) {
  return ValueOf(kOrder, s, OrderStatus::kUnknown);
}
AuthorizationStatus ParseAuthorizationStatus(std::string_view s) {
  return ValueOf(kAuthz, s, AuthorizationStatus::kUnknown);
}
ChallengeStatus ParseChallengeStatus(std::string_view s) {
  return ValueOf(kChallenge, s, ChallengeStatus::kUnknown);
}

const Challenge* Authorization::FindChallenge(std::string_view type) const {
  for (const Challenge& c : challenges) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

}  // namespace certsmith::acme
