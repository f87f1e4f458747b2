#include "plugin/check_api.h"

#include <algorithm>
#include <ostream>

#include "api/resources.h"
#include "kube/errors.h"
#include "kube/time_format.h"
#include "plugin/commands.h"
#include "plugin/output.h"

namespace certsmith::plugin {
namespace {

// Clocks of the machine running kubectl and of the controller's node may differ by this much.
constexpr auto kClockSkew = std::chrono::seconds(5);

std::string Plural(const kube::ResourceRef& res) { return res.resource + "." + res.group; }

}  // namespace

bool ApiCheck::ok() const {
  for (const Item& i : items) {
    if (!i.ok) return false;
  }
  return !items.empty();
}

nlohmann::json ApiCheck::ToJson() const {
  nlohmann::json checks = nlohmann::json::array();
  for (const Item& i : items) {
    checks.push_back({{"name", i.what}, {"ok", i.ok}, {"message", i.message}});
  }
  return {{"ok", ok()}, {"checks", checks}};
}

ApiCheck::Item LeaseFreshness(const nlohmann::json* lease, const std::string& where,
                              Clock::TimePoint now) {
  ApiCheck::Item item{"controller", false, ""};
  if (lease == nullptr) {
    item.message = "no leader Lease " + where +
                   ": no controller with leader election has run there (a controller started "
                   "with --leader-elect=false writes none; --controller-namespace names another "
                   "namespace)";
    return item;
  }
  const nlohmann::json spec = lease->value("spec", nlohmann::json::object());
  const std::string holder = spec.value("holderIdentity", "");
  const int64_t duration = spec.value("leaseDurationSeconds", int64_t{15});
  auto renewed = kube::ParseTime(spec.value("renewTime", ""));
  if (holder.empty() || !renewed) {
    item.message = "the leader Lease " + where +
                   " is held by no replica (released by a controller "
                   "that stopped)";
    return item;
  }
  if (now > *renewed + std::chrono::seconds(duration) + kClockSkew) {
    item.message = "the leader Lease " + where + " was last renewed by " + holder + " " +
                   Relative(*renewed, now) + " and has expired: no replica is working";
    return item;
  }
  item.ok = true;
  item.message = "answering: " + holder + " holds the leader Lease " + where + ", renewed " +
                 Relative(*renewed, now);
  return item;
}

ApiCheck CheckApi(kube::Client& client, const std::string& ns,
                  const std::string& controller_namespace, Clock::TimePoint now) {
  ApiCheck check;
  for (const kube::ResourceRef* res : {&api::kCertificates, &api::kIssuers, &api::kClusterIssuers,
                                       &api::kOrders, &api::kChallenges}) {
    kube::ListOptions one;
    one.limit = 1;
    auto listed = client.List(*res, res->namespaced ? ns : "", one);
    ApiCheck::Item item{Plural(*res), listed.ok(), "served"};
    if (!listed.ok()) {
      const Status& s = listed.status();
      item.message = kube::IsNotFound(s) ? "not installed (apply crds/ or install the Helm chart)"
                     : s.code() == ErrorCode::kPermissionDenied
                         ? "cannot tell: you may not list it (" + s.message() + ")"
                         : s.message();
    }
    check.items.push_back(std::move(item));
  }
  const std::string where = controller_namespace + "/" + api::kLeaderLeaseName;
  auto lease = client.Get(kube::kLeases, controller_namespace, api::kLeaderLeaseName);
  if (lease.ok()) {
    check.items.push_back(LeaseFreshness(&*lease, where, now));
  } else if (kube::IsNotFound(lease.status())) {
    check.items.push_back(LeaseFreshness(nullptr, where, now));
  } else {
    check.items.push_back(
        {"controller", false, "reading the Lease " + where + ": " + lease.status().message()});
  }
  return check;
}

int RunCheckApi(Session& s, Io& io) {
  const auto deadline = s.clock->Now() + s.options.wait;
  ApiCheck check = CheckApi(*s.client, s.ns, s.options.controller_namespace, s.clock->Now());
  while (!check.ok() && s.clock->Now() < deadline) {
    s.sleep(std::chrono::seconds(1));
    check = CheckApi(*s.client, s.ns, s.options.controller_namespace, s.clock->Now());
  }
  if (!s.options.output.empty()) {
    PrintStructured(check.ToJson(), s.options.output, io.out);
  } else {
    for (const ApiCheck::Item& i : check.items) {
      std::string what = i.what;
      what.resize(std::max<size_t>(what.size() + 2, 29), ' ');
      io.out << (i.ok ? "ok    " : "FAIL  ") << what << i.message << "\n";
    }
  }
  return check.ok() ? 0 : 1;
}

}  // namespace certsmith::plugin
