// The DNS as dns-01 sees it: queries (zone finding, CNAME following, the propagation check) and
// RFC 2136 updates, to one named server at a time. Everything above this interface (zone finding,
// providers, the Challenge reconciler) is tested against a fake; LdnsDnsClient (ldns_client.h)
// is the implementation that talks to real servers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certsmith/status.h"
#include "solvers/dns01/tsig.h"

namespace certsmith::solvers::dns01 {

enum class RrType : uint16_t { kA = 1, kNs = 2, kCname = 5, kSoa = 6, kTxt = 16, kAaaa = 28 };
const char* RrTypeName(RrType type);

enum class Transport { kUdp, kTcp };
const char* TransportName(Transport t);  // "UDP" | "TCP"

// RFC 1035 §4.1.1 and RFC 2136 §2.2 response codes.
inline constexpr int kNoError = 0;
inline constexpr int kFormErr = 1;
inline constexpr int kServFail = 2;
inline constexpr int kNxDomain = 3;
inline constexpr int kNotImp = 4;
inline constexpr int kRefused = 5;
inline constexpr int kYxDomain = 6;
inline constexpr int kYxRrset = 7;
inline constexpr int kNxRrset = 8;
inline constexpr int kNotAuth = 9;
inline constexpr int kNotZone = 10;
std::string RcodeName(int rcode);  // "REFUSED", or "RCODE 23" for codes without a name

// A server to ask. host is an IP address or a host name, never bracketed.
struct Nameserver {
  std::string host;
  uint16_t port = 53;
  // "10.0.0.1:53", "[2001:db8::1]:53", "ns1.example.org:53".
  std::string ToString() const;
  bool operator==(const Nameserver&) const = default;
};
// "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address (no port). The error says what
// is wrong with the text, e.g. a port out of range or an IPv6 address with a port but no brackets.
Result<Nameserver> ParseNameserver(std::string_view text, uint16_t default_port = 53);
Result<std::vector<Nameserver>> ParseNameservers(const std::vector<std::string>& texts);

struct Record {
  std::string name;  // fully qualified, lower case, with the trailing dot
  RrType type = RrType::kTxt;
  uint32_t ttl = 0;
  // TXT: the character-strings joined (an ACME value is one string); CNAME, NS: the target;
  // SOA: the primary server's name; A, AAAA: the address.
  std::string data;
  bool operator==(const Record&) const = default;
};

struct Question {
  std::string name;
  RrType type = RrType::kTxt;
  bool recursion_desired = true;  // false when asking an authoritative server
};

struct Response {
  int rcode = kNoError;
  bool authoritative = false;
  std::vector<Record> answer;
  std::vector<Record> authority;
  // RFC 8945 §5.3: the TSIG error the server put in its answer to a signed request (BADSIG,
  // BADKEY, BADTIME); 0 when none.
  int tsig_error = 0;
};

// An RFC 2136 update of one zone: records to add to their RRsets (§2.5.1) and single records to
// delete (§2.5.4, class NONE), so other values of the same name are never touched.
struct UpdateRequest {
  std::string zone;
  std::vector<Record> add;
  std::vector<Record> remove;
  std::optional<TsigKey> tsig;  // unsigned when absent (servers allowing updates by address)
};

class DnsClient {
 public:
  virtual ~DnsClient() = default;
  // Asks server one question. A transport failure (no answer, connection refused) is kUnavailable
  // naming the server and the transport; any DNS answer, whatever its rcode, is a Response.
  virtual Result<Response> Query(const Nameserver& server, const Question& question,
                                 Transport transport = Transport::kUdp) = 0;
  // Sends one update. A signed request's answer has its TSIG checked (RFC 8945 §5.3): an answer
  // whose signature does not verify is kProtocol. Rcodes are left to the caller.
  virtual Result<Response> Update(const Nameserver& server, const UpdateRequest& update,
                                  Transport transport) = 0;
  // The addresses of host (an IP address is its own answer), from the system resolver: for a
  // nameserver configured by name, e.g. a Service's DNS name in the cluster.
  virtual Result<std::vector<std::string>> Addresses(const std::string& host) = 0;
};

// "name." lower case, from "Name", "name." or "name".
std::string Fqdn(std::string_view name);
// Whether name is zone or under it (both FQDNs).
bool IsInZone(std::string_view name, std::string_view zone);
// "_acme-challenge.<name>." for the identifier name (without "*.", RFC 8555 §8.4).
std::string ChallengeRecordName(std::string_view dns_name);

}  // namespace certsmith::solvers::dns01
