// FakeDns: an in-memory DNS for unit tests of zone finding, CNAME following, the propagation
// check, the providers and the Challenge reconciler. Servers are addresses ("10.0.0.1:53"); each
// serves the zones it was given, as an authoritative server answers: the records of the deepest
// zone holding the name, NXDOMAIN or NODATA with the zone's SOA in the authority section, a CNAME
// for other types at an alias, REFUSED for names in no zone it serves. A server made a
// "resolver" sees every zone. RFC 2136 updates change the zone's records (adding an existing
// record or deleting a missing one changes nothing), checked against the zone's TSIG key the way
// BIND does (BADKEY, BADSIG). Every query and update is recorded.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "solvers/dns01/dns_client.h"

namespace certsmith::solvers::dns01::testing {

class FakeDns final : public DnsClient {
 public:
  struct Zone {
    std::string apex;                   // "example."
    std::vector<std::string> ns;        // NS host names ("ns1.example.")
    std::vector<Record> records;        // everything but the SOA and NS at the apex
    std::optional<TsigKey> update_key;  // updates must be signed with it (unsigned: refused)
    bool updates_allowed = true;
  };

  // A zone served by servers (addresses "ip:port"). The NS names get A records in the zone when
  // ns_addresses gives them (same order as ns).
  void AddZone(const std::string& apex, const std::vector<std::string>& servers,
               const std::vector<std::string>& ns = {},
               const std::vector<std::string>& ns_addresses = {});
  void AddRecord(const std::string& zone, Record r);
  void SetUpdateKey(const std::string& zone, TsigKey key);
  void SetUpdatesAllowed(const std::string& zone, bool allowed);
  // A resolver sees every zone.
  void AddResolver(const std::string& server);
  // The server answers every question with rcode / never answers.
  void SetRcode(const std::string& server, int rcode);
  void SetUnreachable(const std::string& server, bool unreachable = true);
  // A lagging server keeps its own copy of a zone that updates do not reach until Sync(zone).
  void SetLagging(const std::string& server, const std::string& zone);
  void SyncLagging(const std::string& server);
  // host name -> addresses for Addresses() (system resolver).
  void SetHostAddresses(const std::string& host, std::vector<std::string> addresses);

  // The TXT values of name, as the zone's primary copy holds them.
  std::vector<std::string> TxtValues(const std::string& name) const;

  struct QueryLog {
    std::string server;
    Question question;
  };
  std::vector<QueryLog> Queries() const;
  std::vector<std::pair<std::string, UpdateRequest>> Updates() const;
  void ClearLog();

  Result<Response> Query(const Nameserver& server, const Question& question,
                         Transport transport = Transport::kUdp) override;
  Result<Response> Update(const Nameserver& server, const UpdateRequest& update,
                          Transport transport) override;
  Result<std::vector<std::string>> Addresses(const std::string& host) override;

 private:
  const Zone* FindZone(const std::string& server, const std::string& name) const;
  Response Answer(const Zone& zone, const Question& q) const;

  mutable std::mutex mu_;
  std::map<std::string, Zone> zones_;                    // by apex
  std::map<std::string, std::set<std::string>> served_;  // server -> apexes
  std::set<std::string> resolvers_;
  std::map<std::string, int> rcodes_;
  std::set<std::string> unreachable_;
  std::map<std::string, std::map<std::string, Zone>> lagging_;  // server -> apex -> old copy
  std::map<std::string, std::vector<std::string>> hosts_;
  std::vector<QueryLog> queries_;
  std::vector<std::pair<std::string, UpdateRequest>> updates_;
};

}  // namespace certsmith::solvers::dns01::testing
