#include "plugin/rollover.h"

#include <cctype>
#include <cstdio>
#include <ostream>
#include <random>

#include "acme/certificate.h"
#include "api/condition.h"
#include "api/resources.h"
#include "kube/errors.h"
#include "plugin/commands.h"

namespace certsmith::plugin {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

nlohmann::json ConditionOf(const nlohmann::json& obj, const std::string& type) {
  for (const nlohmann::json& c :
       obj.value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array())) {
    if (c.is_object() && c.value("type", "") == type) return c;
  }
  return nullptr;
}

std::string NewRequestId(Clock::TimePoint now) {
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof(suffix), "%06x", rd() & 0xffffffu);
  return acme::FormatRfc3339(now) + "-" + suffix;
}

}  // namespace

std::string IssuerTarget::Describe() const {
  return res.kind + " " + (ns.empty() ? name : ns + "/" + name);
}

Result<IssuerTarget> ResolveIssuer(kube::Client& client, const std::string& ns,
                                   const std::string& arg) {
  if (auto slash = arg.find('/'); slash != std::string::npos) {
    const std::string kind = Lower(arg.substr(0, slash));
    const std::string name = arg.substr(slash + 1);
    if (kind == "issuer" || kind == "issuers" || kind == "iss" || kind == "issuer.certsmith.io") {
      return IssuerTarget{api::kIssuers, ns, name};
    }
    if (kind == "clusterissuer" || kind == "clusterissuers" || kind == "ciss" ||
        kind == "clusterissuer.certsmith.io") {
      return IssuerTarget{api::kClusterIssuers, "", name};
    }
    return Status(ErrorCode::kInvalidArgument,
                  "\"" + arg + "\": give issuer/NAME, clusterissuer/NAME or NAME");
  }
  auto issuer = client.Get(api::kIssuers, ns, arg);
  auto cluster = client.Get(api::kClusterIssuers, "", arg);
  if (!issuer.ok() && !kube::IsNotFound(issuer.status())) return issuer.status();
  if (!cluster.ok() && !kube::IsNotFound(cluster.status())) return cluster.status();
  if (issuer.ok() && cluster.ok()) {
    return Status(ErrorCode::kInvalidArgument,
                  "both Issuer " + ns + "/" + arg + " and ClusterIssuer " + arg +
                      " exist: say issuer/" + arg + " or clusterissuer/" + arg);
  }
  if (issuer.ok()) return IssuerTarget{api::kIssuers, ns, arg};
  if (cluster.ok()) return IssuerTarget{api::kClusterIssuers, "", arg};
  return Status(ErrorCode::kNotFound,
                "no Issuer " + ns + "/" + arg + " and no ClusterIssuer " + arg);
}

RolloverOutcome ReadRolloverOutcome(const nlohmann::json& issuer, const std::string& request_id) {
  RolloverOutcome out;
  const nlohmann::json c = ConditionOf(issuer, api::kConditionAccountKeyRollover);
  if (c.is_null()) return out;
  const std::string prefix = "request " + request_id + ": ";
  const std::string message = c.value("message", "");
  if (message.rfind(prefix, 0) != 0) return out;  // about an earlier request
  out.reason = c.value("reason", "");
  out.message = message.substr(prefix.size());
  const std::string status = c.value("status", "");
  out.state = status == "True"    ? RolloverOutcome::kDone
              : status == "False" ? RolloverOutcome::kFailed
                                  : RolloverOutcome::kInProgress;
  return out;
}

int RunAccountRollover(Session& s, Io& io) {
  auto target = ResolveIssuer(*s.client, s.ns, s.options.args.at(1));
  if (!target.ok()) {
    io.err << "error: " << target.status().message() << "\n";
    return 1;
  }
  auto issuer = s.client->Get(target->res, target->ns, target->name);
  if (!issuer.ok()) {
    io.err << "error: " << target->Describe() << ": " << issuer.status().message() << "\n";
    return 1;
  }
  const nlohmann::json ready = ConditionOf(*issuer, api::kConditionReady);
  if (ready.is_null() || ready.value("status", "") != "True") {
    io.err << "error: " << target->Describe() << " is not Ready"
           << (ready.is_null() ? "" : ": " + ready.value("message", "")) << "\n"
           << "  its account must be registered before its key can change\n";
    return 1;
  }
  const std::string request = NewRequestId(s.clock->Now());
  nlohmann::json patch = {{"metadata",
                           {{"resourceVersion", kube::GetResourceVersion(*issuer)},
                            {"annotations", {{api::kAccountKeyRolloverAnnotation, request}}}}}};
  auto patched =
      s.client->Patch(target->res, target->ns, target->name, kube::PatchType::kMerge, patch);
  if (!patched.ok()) {
    io.err << "error: asking for the rollover: " << patched.status().message() << "\n";
    return 1;
  }
  io.out << "Requested a new ACME account key for " << target->Describe() << " (request " << request
         << ")\n";
  const auto deadline = s.clock->Now() + s.options.timeout;
  std::string last_progress;
  while (true) {
    auto now_issuer = s.client->Get(target->res, target->ns, target->name);
    if (!now_issuer.ok()) {
      io.err << "error: " << now_issuer.status().message() << "\n";
      return 1;
    }
    RolloverOutcome outcome = ReadRolloverOutcome(*now_issuer, request);
    if (outcome.state == RolloverOutcome::kDone) {
      io.out << "Done: " << outcome.message << "\n";
      return 0;
    }
    if (outcome.state == RolloverOutcome::kFailed) {
      io.err << "error: " << outcome.reason << ": " << outcome.message << "\n";
      return 1;
    }
    if (outcome.state == RolloverOutcome::kInProgress && outcome.message != last_progress) {
      io.out << outcome.reason << ": " << outcome.message << "\n";
      last_progress = outcome.message;
    }
    if (s.clock->Now() >= deadline) {
      io.err << "error: no answer from the controller within the timeout; the request stays "
                "and the controller will act on it when it next syncs "
             << target->Describe() << " (is it running? kubectl certsmith check api)\n";
      return 1;
    }
    s.sleep(std::chrono::milliseconds(500));
  }
}

}  // namespace certsmith::plugin
