#include "solvers/dns01/ldns_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "certsmith/ip_address.h"
#include "solvers/dns01/ldns_ptr.h"
#include "solvers/dns01/tsig_wire.h"

namespace certsmith::solvers::dns01 {
namespace {

using internal::BufferPtr;
using internal::BytesPtr;
using internal::CharsPtr;
using internal::PktPtr;
using internal::RdfPtr;
using internal::RrPtr;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string RdfText(const ldns_rdf* rdf) {
  CharsPtr text(ldns_rdf2str(rdf));
  return text ? std::string(text.get()) : std::string();
}

// A TXT record's character-strings, joined, as the bytes they hold (RFC 1035 §3.3.14).
std::string TxtData(const ldns_rr* rr) {
  std::string out;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    const uint8_t* d = ldns_rdf_data(rdf);
    const size_t size = ldns_rdf_size(rdf);
    if (size == 0) continue;
    const size_t len = std::min<size_t>(d[0], size - 1);
    out.append(reinterpret_cast<const char*>(d + 1), len);
  }
  return out;
}

std::vector<Record> Records(const ldns_rr_list* list) {
  std::vector<Record> out;
  if (list == nullptr) return out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    Record r;
    r.name = Lower(RdfText(ldns_rr_owner(rr)));
    r.ttl = ldns_rr_ttl(rr);
    switch (ldns_rr_get_type(rr)) {
      case LDNS_RR_TYPE_TXT:
        r.type = RrType::kTxt;
        r.data = TxtData(rr);
        break;
      case LDNS_RR_TYPE_CNAME:
        r.type = RrType::kCname;
        break;
      case LDNS_RR_TYPE_NS:
        r.type = RrType::kNs;
        break;
      case LDNS_RR_TYPE_SOA:
        r.type = RrType::kSoa;
        break;
      case LDNS_RR_TYPE_A:
        r.type = RrType::kA;
        break;
      case LDNS_RR_TYPE_AAAA:
        r.type = RrType::kAaaa;
        break;
      default:
        continue;  // DNSSEC and other records say nothing dns-01 needs
    }
    if (r.type != RrType::kTxt && ldns_rr_rd_count(rr) > 0) {
      r.data = RdfText(ldns_rr_rdf(rr, 0));
      if (r.type != RrType::kA && r.type != RrType::kAaaa) r.data = Lower(r.data);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string Wire(const ldns_pkt* pkt) {
  uint8_t* raw = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&raw, pkt, &size) != LDNS_STATUS_OK) return "";
  BytesPtr owned(raw);
  return std::string(reinterpret_cast<char*>(raw), size);
}

// An ldns record for a challenge TXT value: class IN to add, class NONE (TTL 0) to delete this
// one record and no other (RFC 2136 §2.5.1, §2.5.4).
Result<RrPtr> TxtRecord(const Record& r, bool remove) {
  if (r.data.size() > 255) {
    return MakeError(ErrorCode::kInvalidArgument, "a TXT string holds at most 255 bytes");
  }
  RdfPtr owner(ldns_dname_new_frm_str(r.name.c_str()));
  if (!owner) {
    return MakeError(ErrorCode::kInvalidArgument, "\"" + r.name + "\" is not a domain name");
  }
  std::string data(1, static_cast<char>(r.data.size()));
  data += r.data;
  RrPtr rr(ldns_rr_new());
  ldns_rr_set_owner(rr.get(), owner.release());
  ldns_rr_set_type(rr.get(), LDNS_RR_TYPE_TXT);
  ldns_rr_set_class(rr.get(), remove ? LDNS_RR_CLASS_NONE : LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr.get(), remove ? 0 : r.ttl);
  ldns_rr_push_rdf(rr.get(), ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, data.size(), data.data()));
  return rr;
}

}  // namespace

Result<Response> ParseResponse(const std::string& wire) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, reinterpret_cast<const uint8_t*>(wire.data()), wire.size()) !=
      LDNS_STATUS_OK) {
    return MakeError(ErrorCode::kProtocol, "the answer is not a DNS message");
  }
  PktPtr pkt(raw);
  Response r;
  r.rcode = static_cast<int>(ldns_pkt_get_rcode(pkt.get()));
  r.authoritative = ldns_pkt_aa(pkt.get());
  r.answer = Records(ldns_pkt_answer(pkt.get()));
  r.authority = Records(ldns_pkt_authority(pkt.get()));
  if (const ldns_rr* tsig = ldns_pkt_tsig(pkt.get()); tsig && ldns_rr_rd_count(tsig) >= 6) {
    r.tsig_error = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
  }
  return r;
}

Result<std::vector<std::string>> LdnsDnsClient::Addresses(const std::string& host) {
  if (IsIpAddress(host)) return std::vector<std::string>{host};
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  struct addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot resolve nameserver \"" + host + "\": " + gai_strerror(rc));
  }
  std::vector<std::string> out;
  for (struct addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {0};
    const void* addr =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<struct sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<struct sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (inet_ntop(a->ai_family, addr, text, sizeof(text)) != nullptr &&
        std::find(out.begin(), out.end(), text) == out.end()) {
      out.push_back(text);
    }
  }
  freeaddrinfo(found);
  if (out.empty()) {
    return MakeError(ErrorCode::kUnavailable, "nameserver \"" + host + "\" has no address");
  }
  return out;
}

Result<std::string> LdnsDnsClient::Exchange(const Nameserver& server, const std::string& wire,
                                            uint16_t id, Transport transport) {
  ASSIGN_OR_RETURN(std::vector<std::string> addresses, Addresses(server.host));
  const std::string& address = addresses.front();
  RdfPtr ip(ldns_rdf_new_frm_str(
      address.find(':') == std::string::npos ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
      address.c_str()));
  if (!ip) return MakeError(ErrorCode::kInvalidArgument, "bad address " + address);
  size_t to_len = 0;
  std::unique_ptr<struct sockaddr_storage, internal::LdnsDeleter> to(
      reinterpret_cast<struct sockaddr_storage*>(
          ldns_rdf2native_sockaddr_storage(ip.get(), server.port, &to_len)));
  if (!to) return MakeError(ErrorCode::kInvalidArgument, "bad address " + address);
  BufferPtr query(ldns_buffer_new(wire.size()));
  // ldns's senders send the bytes before the buffer's position.
  ldns_buffer_write(query.get(), wire.data(), wire.size());
  struct timeval timeout;
  timeout.tv_sec = options_.timeout.count() / 1000;
  timeout.tv_usec = (options_.timeout.count() % 1000) * 1000;

  const std::string who = server.ToString();
  const std::string within = " within " + std::to_string(options_.timeout.count()) + " ms";
  ldns_status last = LDNS_STATUS_OK;
  const int attempts = transport == Transport::kUdp ? std::max(1, options_.udp_attempts) : 1;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    uint8_t* answer = nullptr;
    size_t answer_size = 0;
    last = transport == Transport::kUdp
               ? ldns_udp_send(&answer, query.get(), to.get(), static_cast<socklen_t>(to_len),
                               timeout, &answer_size)
               : ldns_tcp_send(&answer, query.get(), to.get(), static_cast<socklen_t>(to_len),
                               timeout, &answer_size);
    BytesPtr owned(answer);
    if (last != LDNS_STATUS_OK || answer == nullptr || answer_size < LDNS_HEADER_SIZE) continue;
    if (LDNS_ID_WIRE(answer) != id) continue;  // not the answer to this message
    if (transport == Transport::kUdp && LDNS_TC_WIRE(answer)) {
      return Exchange(server, wire, id, Transport::kTcp);  // RFC 7766 §5: truncated, ask over TCP
    }
    return std::string(reinterpret_cast<char*>(answer), answer_size);
  }
  std::string detail =
      last == LDNS_STATUS_OK ? "no matching answer" : ldns_get_errorstr_by_id(last);
  return MakeError(ErrorCode::kUnavailable, "no answer from " + who + " over " +
                                                TransportName(transport) + within + " (" +
                                                std::to_string(attempts) + " attempt" +
                                                (attempts > 1 ? "s" : "") + ": " + detail + ")");
}

Result<Response> LdnsDnsClient::Query(const Nameserver& server, const Question& question,
                                      Transport transport) {
  RdfPtr name(ldns_dname_new_frm_str(question.name.c_str()));
  if (!name) {
    return MakeError(ErrorCode::kInvalidArgument, "\"" + question.name + "\" is not a domain name");
  }
  PktPtr pkt(ldns_pkt_query_new(name.release(), static_cast<ldns_rr_type>(question.type),
                                LDNS_RR_CLASS_IN, question.recursion_desired ? LDNS_RD : 0));
  if (!pkt) return MakeError(ErrorCode::kInternal, "building a DNS query failed");
  ldns_pkt_set_random_id(pkt.get());
  const std::string wire = Wire(pkt.get());
  ASSIGN_OR_RETURN(std::string answer, Exchange(server, wire, ldns_pkt_id(pkt.get()), transport));
  return ParseResponse(answer);
}

Result<Response> LdnsDnsClient::Update(const Nameserver& server, const UpdateRequest& update,
                                       Transport transport) {
  RdfPtr zone(ldns_dname_new_frm_str(update.zone.c_str()));
  if (!zone) {
    return MakeError(ErrorCode::kInvalidArgument, "\"" + update.zone + "\" is not a zone name");
  }
  std::unique_ptr<ldns_rr_list, internal::LdnsDeleter> changes(ldns_rr_list_new());
  for (const Record& r : update.remove) {
    ASSIGN_OR_RETURN(RrPtr rr, TxtRecord(r, true));
    ldns_rr_list_push_rr(changes.get(), rr.release());
  }
  for (const Record& r : update.add) {
    ASSIGN_OR_RETURN(RrPtr rr, TxtRecord(r, false));
    ldns_rr_list_push_rr(changes.get(), rr.release());
  }
  PktPtr pkt(
      ldns_update_pkt_new(zone.release(), LDNS_RR_CLASS_IN, nullptr, changes.get(), nullptr));
  if (!pkt) return MakeError(ErrorCode::kInternal, "building an RFC 2136 update failed");
  ldns_pkt_set_rd(pkt.get(), false);  // RFC 2136 §2.2: not a query, nothing to recurse
  ldns_pkt_set_random_id(pkt.get());
  std::string request_mac;
  const uint64_t now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(options_.clock->Now().time_since_epoch())
          .count());
  if (update.tsig) {
    ASSIGN_OR_RETURN(request_mac, internal::TsigSign(pkt.get(), *update.tsig, now));
  }
  const std::string wire = Wire(pkt.get());
  ASSIGN_OR_RETURN(std::string answer, Exchange(server, wire, ldns_pkt_id(pkt.get()), transport));
  ASSIGN_OR_RETURN(Response response, ParseResponse(answer));
  if (update.tsig) {
    ASSIGN_OR_RETURN(internal::TsigAnswer checked,
                     internal::TsigVerify(reinterpret_cast<const uint8_t*>(answer.data()),
                                          answer.size(), *update.tsig, request_mac, now));
    // A success nobody signed could be forged: only a signed answer may say the update was made.
    if (!checked.signed_ && response.rcode == kNoError) {
      return MakeError(ErrorCode::kProtocol,
                       server.ToString() + " answered a signed update without a TSIG record");
    }
    response.tsig_error = checked.error;
  }
  return response;
}

std::vector<Nameserver> SystemNameservers(const std::string& resolv_conf) {
  std::vector<Nameserver> out;
  std::ifstream in(resolv_conf);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    // resolv.conf writes IPv6 addresses bare and has no ports; a "%scope" suffix is dropped.
    if (size_t pct = value.find('%'); pct != std::string::npos) value.resize(pct);
    auto ns = ParseNameserver(value);
    if (ns.ok()) out.push_back(*ns);
  }
  return out;
}

}  // namespace certsmith::solvers::dns01
