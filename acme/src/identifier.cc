#include "acme/identifier.h"

#include "acme/csr.h"

namespace certsmith::acme {

std::string Identifier::ToString() const { return type + " " + value; }

Identifier DnsIdentifier(std::string_view name) {
  return Identifier{"dns", NormalizeDnsName(name)};
}

Result<Identifier> IpIdentifier(std::string_view text) {
  ASSIGN_OR_RETURN(std::string canonical, NormalizeIpAddress(text));
  return Identifier{"ip", std::move(canonical)};
}

Result<Identifier> IdentifierFor(std::string_view name_or_ip) {
  if (auto ip = IpIdentifier(name_or_ip); ip.ok()) return ip;
  if (name_or_ip.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty identifier");
  return DnsIdentifier(name_or_ip);
}

Identifier NormalizeIdentifier(Identifier id) {
  if (id.type == "dns") return DnsIdentifier(id.value);
  if (id.type == "ip") {
    if (auto ip = IpIdentifier(id.value); ip.ok()) return *std::move(ip);
  }
  return id;
}

}  // namespace certsmith::acme
