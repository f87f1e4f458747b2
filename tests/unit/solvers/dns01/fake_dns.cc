#include "unit/solvers/dns01/fake_dns.h"

#include <arpa/inet.h>

#include <algorithm>

namespace certsmith::solvers::dns01::testing {

void FakeDns::AddZone(const std::string& apex_in, const std::vector<std::string>& servers,
                      const std::vector<std::string>& ns,
                      const std::vector<std::string>& ns_addresses) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string apex = Fqdn(apex_in);
  Zone z;
  z.apex = apex;
  for (const std::string& n : ns) z.ns.push_back(Fqdn(n));
  for (size_t i = 0; i < ns_addresses.size() && i < z.ns.size(); ++i) {
    z.records.push_back({z.ns[i], RrType::kA, 60, ns_addresses[i]});
  }
  zones_[apex] = z;
  for (const std::string& s : servers) served_[s].insert(apex);
}

void FakeDns::AddRecord(const std::string& zone, Record r) {
  std::lock_guard<std::mutex> lock(mu_);
  r.name = Fqdn(r.name);
  if (r.type == RrType::kCname || r.type == RrType::kNs) r.data = Fqdn(r.data);
  zones_.at(Fqdn(zone)).records.push_back(r);
}

void FakeDns::SetUpdateKey(const std::string& zone, TsigKey key) {
  std::lock_guard<std::mutex> lock(mu_);
  zones_.at(Fqdn(zone)).update_key = std::move(key);
}

void FakeDns::SetUpdatesAllowed(const std::string& zone, bool allowed) {
  std::lock_guard<std::mutex> lock(mu_);
  zones_.at(Fqdn(zone)).updates_allowed = allowed;
}

void FakeDns::AddResolver(const std::string& server) {
  std::lock_guard<std::mutex> lock(mu_);
  resolvers_.insert(server);
}

void FakeDns::SetRcode(const std::string& server, int rcode) {
  std::lock_guard<std::mutex> lock(mu_);
  rcodes_[server] = rcode;
}

void FakeDns::SetUnreachable(const std::string& server, bool unreachable) {
  std::lock_guard<std::mutex> lock(mu_);
  if (unreachable) {
    unreachable_.insert(server);
  } else {
    unreachable_.erase(server);
  }
}

void FakeDns::SetLagging(const std::string& server, const std::string& zone) {
  std::lock_guard<std::mutex> lock(mu_);
  lagging_[server][Fqdn(zone)] = zones_.at(Fqdn(zone));
}

void FakeDns::SyncLagging(const std::string& server) {
  std::lock_guard<std::mutex> lock(mu_);
  lagging_.erase(server);
}

void FakeDns::SetHostAddresses(const std::string& host, std::vector<std::string> addresses) {
  std::lock_guard<std::mutex> lock(mu_);
  hosts_[Fqdn(host)] = std::move(addresses);
}

std::vector<std::string> FakeDns::TxtValues(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  const std::string n = Fqdn(name);
  for (const auto& [apex, zone] : zones_) {
    for (const Record& r : zone.records) {
      if (r.type == RrType::kTxt && r.name == n) out.push_back(r.data);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<FakeDns::QueryLog> FakeDns::Queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queries_;
}

std::vector<std::pair<std::string, UpdateRequest>> FakeDns::Updates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return updates_;
}

void FakeDns::ClearLog() {
  std::lock_guard<std::mutex> lock(mu_);
  queries_.clear();
  updates_.clear();
}

const FakeDns::Zone* FakeDns::FindZone(const std::string& server, const std::string& name) const {
  const Zone* best = nullptr;
  auto lag = lagging_.find(server);
  for (const auto& [apex, zone] : zones_) {
    const bool visible = resolvers_.count(server) > 0 ||
                         (served_.count(server) > 0 && served_.at(server).count(apex) > 0);
    if (!visible || !IsInZone(name, apex)) continue;
    if (best == nullptr || apex.size() > best->apex.size()) {
      best = &zone;
      if (lag != lagging_.end() && lag->second.count(apex)) best = &lag->second.at(apex);
    }
  }
  return best;
}

Response FakeDns::Answer(const Zone& zone, const Question& q) const {
  Response r;
  r.authoritative = true;
  const std::string name = Fqdn(q.name);
  const Record soa{zone.apex, RrType::kSoa, 60, zone.ns.empty() ? "ns." + zone.apex : zone.ns[0]};
  std::vector<Record> at_name;
  if (name == zone.apex) {
    at_name.push_back(soa);
    for (const std::string& n : zone.ns) at_name.push_back({zone.apex, RrType::kNs, 60, n});
  }
  bool exists = name == zone.apex;
  for (const Record& rec : zone.records) {
    if (rec.name == name) at_name.push_back(rec);
    if (IsInZone(rec.name, name)) exists = true;  // the name or an empty non-terminal
  }
  for (const Record& rec : at_name) {
    if (rec.type == RrType::kCname && q.type != RrType::kCname) {
      r.answer.push_back(rec);
      return r;
    }
  }
  for (const Record& rec : at_name) {
    if (rec.type == q.type) r.answer.push_back(rec);
  }
  if (r.answer.empty()) {
    r.rcode = exists ? kNoError : kNxDomain;
    r.authority.push_back(soa);
  }
  return r;
}

Result<Response> FakeDns::Query(const Nameserver& server, const Question& question,
                                Transport transport) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string who = server.ToString();
  queries_.push_back({who, question});
  if (unreachable_.count(who)) {
    return MakeError(ErrorCode::kUnavailable,
                     "no answer from " + who + " over " + TransportName(transport));
  }
  if (auto rc = rcodes_.find(who); rc != rcodes_.end()) {
    Response r;
    r.rcode = rc->second;
    return r;
  }
  const Zone* zone = FindZone(who, Fqdn(question.name));
  if (zone == nullptr) {
    Response r;
    r.rcode = resolvers_.count(who) ? kNxDomain : kRefused;
    return r;
  }
  return Answer(*zone, question);
}

Result<Response> FakeDns::Update(const Nameserver& server, const UpdateRequest& update,
                                 Transport transport) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string who = server.ToString();
  updates_.push_back({who, update});
  if (unreachable_.count(who)) {
    return MakeError(ErrorCode::kUnavailable,
                     "no answer from " + who + " over " + TransportName(transport));
  }
  Response r;
  if (auto rc = rcodes_.find(who); rc != rcodes_.end()) {
    r.rcode = rc->second;
    return r;
  }
  auto served = served_.find(who);
  auto zone = zones_.find(Fqdn(update.zone));
  if (served == served_.end() || zone == zones_.end() || !served->second.count(zone->first)) {
    r.rcode = kNotAuth;
    return r;
  }
  Zone& z = zone->second;
  if (z.update_key) {
    if (!update.tsig || update.tsig->name != z.update_key->name ||
        update.tsig->algorithm != z.update_key->algorithm) {
      r.rcode = kNotAuth;
      r.tsig_error = update.tsig ? kTsigBadKey : 0;
      if (!update.tsig) r.rcode = kRefused;
      return r;
    }
    if (update.tsig->secret != z.update_key->secret) {
      r.rcode = kNotAuth;
      r.tsig_error = kTsigBadSig;
      return r;
    }
  }
  if (!z.updates_allowed) {
    r.rcode = kRefused;
    return r;
  }
  for (const Record& rec : update.add) {
    if (!IsInZone(rec.name, z.apex)) {
      r.rcode = kNotZone;
      return r;
    }
  }
  for (const Record& rec : update.remove) {
    auto it = std::find_if(z.records.begin(), z.records.end(), [&](const Record& have) {
      return have.name == Fqdn(rec.name) && have.type == rec.type && have.data == rec.data;
    });
    if (it != z.records.end()) z.records.erase(it);
  }
  for (const Record& rec : update.add) {
    Record add = rec;
    add.name = Fqdn(rec.name);
    auto it = std::find_if(z.records.begin(), z.records.end(), [&](const Record& have) {
      return have.name == add.name && have.type == add.type && have.data == add.data;
    });
    if (it == z.records.end()) z.records.push_back(add);
  }
  return r;
}

Result<std::vector<std::string>> FakeDns::Addresses(const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    return std::vector<std::string>{host};
  }
  auto it = hosts_.find(Fqdn(host));
  if (it == hosts_.end()) {
    return MakeError(ErrorCode::kUnavailable, "cannot resolve nameserver \"" + host + "\"");
  }
  return it->second;
}

}  // namespace certsmith::solvers::dns01::testing
