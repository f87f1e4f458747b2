#include "solvers/http01/self_check.h"

#include <arpa/inet.h>
#include <sys/time.h>
#include <ldns/ldns.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "certsmith/ip_address.h"

namespace certsmith::solvers::http01 {
namespace {

Result<SelfCheckNameserver> ParseOne(std::string_view text) {
  const std::string t(text);
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument,
                  "--acme-http01-solver-nameservers: \"" + t + "\" " + why);
  };
  SelfCheckNameserver ns;
  std::string port;
  if (!t.empty() && t.front() == '[') {
    const size_t close = t.find(']');
    if (close == std::string::npos) return bad("has no closing ']'");
    ns.address = t.substr(1, close - 1);
    if (close + 1 < t.size()) {
      if (t[close + 1] != ':') return bad("has text after ']' that is not :PORT");
      port = t.substr(close + 2);
    }
  } else if (std::count(t.begin(), t.end(), ':') == 1) {
    ns.address = t.substr(0, t.find(':'));
    port = t.substr(t.find(':') + 1);
  } else {
    ns.address = t;  // IPv4 without a port, or a bare IPv6 address
  }
  if (!IsIpv4(ns.address) && !IsIpv6(ns.address)) return bad("is not an IP address");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
      return bad("has an invalid port");
    }
    const int p = std::stoi(port);
    if (p < 1 || p > 65535) return bad("has a port out of range");
    ns.port = static_cast<uint16_t>(p);
  }
  return ns;
}

struct ResolverFree {
  void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
struct PacketFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};

// One query of one server: the first address of type in the answer, "" when there is none.
Result<std::string> Query(const SelfCheckNameserver& ns, const std::string& name, ldns_rr_type type,
                          std::chrono::milliseconds timeout) {
  std::unique_ptr<ldns_rdf, RdfFree> server(ldns_rdf_new_frm_str(
      IsIpv4(ns.address) ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, ns.address.c_str()));
  std::unique_ptr<ldns_rdf, RdfFree> qname(ldns_dname_new_frm_str(name.c_str()));
  std::unique_ptr<ldns_resolver, ResolverFree> resolver(ldns_resolver_new());
  if (!server || !qname || !resolver) {
    return Status(ErrorCode::kInvalidArgument, "cannot ask for \"" + name + "\"");
  }
  if (ldns_resolver_push_nameserver(resolver.get(), server.get()) != LDNS_STATUS_OK) {
    return Status(ErrorCode::kInternal, "ldns refused nameserver " + ns.address);
  }
  ldns_resolver_set_port(resolver.get(), ns.port);
  ldns_resolver_set_recursive(resolver.get(), true);
  ldns_resolver_set_retry(resolver.get(), 1);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ldns_resolver_set_timeout(resolver.get(), tv);
  std::unique_ptr<ldns_pkt, PacketFree> answer(
      ldns_resolver_query(resolver.get(), qname.get(), type, LDNS_RR_CLASS_IN, LDNS_RD));
  const std::string where = ns.address + ":" + std::to_string(ns.port);
  if (!answer) return Status(ErrorCode::kUnavailable, "no answer from " + where);
  if (ldns_pkt_get_rcode(answer.get()) != LDNS_RCODE_NOERROR &&
      ldns_pkt_get_rcode(answer.get()) != LDNS_RCODE_NXDOMAIN) {
    return Status(ErrorCode::kUnavailable,
                  where + " answered rcode " + std::to_string(ldns_pkt_get_rcode(answer.get())));
  }
  std::unique_ptr<ldns_rr_list, RrListFree> records(
      ldns_pkt_rr_list_by_type(answer.get(), type, LDNS_SECTION_ANSWER));
  if (!records || ldns_rr_list_rr_count(records.get()) == 0) return std::string();
  ldns_rdf* address = ldns_rr_rdf(ldns_rr_list_rr(records.get(), 0), 0);
  if (address == nullptr) return std::string();
  char* text = ldns_rdf2str(address);
  if (text == nullptr) return std::string();
  std::string out(text);
  free(text);  // NOLINT: allocated by ldns with malloc
  return out;
}

}  // namespace

Result<std::vector<SelfCheckNameserver>> ParseSelfCheckNameservers(std::string_view text) {
  std::vector<SelfCheckNameserver> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view one = text.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) {
      ASSIGN_OR_RETURN(SelfCheckNameserver ns, ParseOne(one));
      out.push_back(ns);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

namespace {

struct SplitUrl {
  std::string host;
  std::string path;
};

Result<SplitUrl> Split(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status(ErrorCode::kInvalidArgument, "self check URL is not http://");
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  SplitUrl out{std::string(rest.substr(0, slash)),
               slash == std::string_view::npos ? "/" : std::string(rest.substr(slash))};
  if (out.host.empty() || out.host.find_first_of(":@[]") != std::string::npos) {
    return Status(ErrorCode::kInvalidArgument, "self check URL has no plain host name");
  }
  return out;
}

}  // namespace

Result<std::string> SelfCheckHost(std::string_view url) {
  ASSIGN_OR_RETURN(SplitUrl split, Split(url));
  return split.host;
}

Result<HttpRequest> SelfCheckRequest(std::string_view url, std::string_view address, uint16_t port,
                                     std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(SplitUrl split, Split(url));
  const std::string& host = split.host;
  const std::string& path = split.path;
  std::string target = address.empty() ? host : std::string(address);
  if (target.find(':') != std::string::npos) target = "[" + target + "]";
  HttpRequest request;
  request.url = "http://" + target + (port == 80 ? "" : ":" + std::to_string(port)) + path;
  request.timeout = timeout;
  // The ingress routes by Host, as it routes the CA's request (RFC 8555 §8.3: port 80 of the
  // domain, so Host carries no port).
  if (!address.empty() || port != 80) request.headers.emplace_back("Host", host);
  return request;
}

Result<std::string> ResolveWith(const std::vector<SelfCheckNameserver>& nameservers,
                                const std::string& name, std::chrono::milliseconds timeout) {
  std::string errors;
  for (const SelfCheckNameserver& ns : nameservers) {
    bool answered = true;
    for (ldns_rr_type type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA}) {
      Result<std::string> address = Query(ns, name, type, timeout);
      if (!address.ok()) {
        errors += (errors.empty() ? "" : "; ") + address.status().message();
        answered = false;
        break;
      }
      if (!address->empty()) return address;
    }
    if (answered) errors += (errors.empty() ? "" : "; ") + ns.address + " has no address for it";
  }
  return Status(ErrorCode::kUnavailable, "cannot resolve " + name + " with " +
                                             "--acme-http01-solver-nameservers: " + errors);
}

}  // namespace certsmith::solvers::http01
