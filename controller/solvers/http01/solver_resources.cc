#include "solvers/http01/solver_resources.h"

#include "api/naming.h"
#include "certsmith/ip_address.h"
#include "api/resources.h"
#include "kube/errors.h"

namespace certsmith::solvers::http01 {
namespace {

Json Labels(const api::Challenge& ch) {
  return Json{{api::kManagedByLabel, api::kManagedByValue},
              {kSolverLabel, "true"},
              {kChallengeLabel, SolverName(ch)}};
}

Json Metadata(const api::Challenge& ch, const Json& challenge_obj) {
  return Json{
      {"name", SolverName(ch)},
      {"namespace", ch.metadata.namespace_},
      {"labels", Labels(ch)},
      {"ownerReferences", Json::array({Json{{"apiVersion", challenge_obj.value("apiVersion", "")},
                                            {"kind", "Challenge"},
                                            {"name", ch.metadata.name},
                                            {"uid", kube::GetUid(challenge_obj)},
                                            {"controller", true},
                                            {"blockOwnerDeletion", true}}})}};
}

const api::Http01Ingress* IngressSpec(const api::Challenge& ch) {
  if (!ch.spec.solver.http01 || !ch.spec.solver.http01->ingress) return nullptr;
  return &*ch.spec.solver.http01->ingress;
}

Json PathRule(const api::Challenge& ch) {
  return Json{
      {"path", ChallengePath(ch)},
      {"pathType", "ImplementationSpecific"},
      {"backend", {{"service", {{"name", SolverName(ch)}, {"port", {{"number", kSolverPort}}}}}}}};
}

// Merges a user's {metadata: {labels, annotations}, spec: {...}} template into obj; containers
// are ours and are never replaced.
void MergeTemplate(Json& obj, const Json& tmpl) {
  if (!tmpl.is_object()) return;
  if (tmpl.contains("metadata") && tmpl["metadata"].is_object()) {
    for (const char* field : {"labels", "annotations"}) {
      if (!tmpl["metadata"].contains(field)) continue;
      for (const auto& [k, v] : tmpl["metadata"][field].items()) obj["metadata"][field][k] = v;
    }
  }
  if (tmpl.contains("spec") && tmpl["spec"].is_object() && obj.contains("spec")) {
    for (const auto& [k, v] : tmpl["spec"].items()) {
      if (k != "containers") obj["spec"][k] = v;
    }
  }
}

Status IgnoreExists(const Result<Json>& r) {
  if (r.ok() || kube::IsAlreadyExists(r.status())) return Status::Ok();
  return r.status();
}

Status IgnoreNotFound(const Status& s) { return kube::IsNotFound(s) ? Status::Ok() : s; }

}  // namespace

std::string SolverName(const api::Challenge& ch) {
  return api::HashedName("cm-acme-http-solver", ch.metadata.name);
}

std::string ChallengePath(const api::Challenge& ch) {
  return "/.well-known/acme-challenge/" + ch.spec.token;
}

Json BuildPod(const api::Challenge& ch, const Json& challenge_obj, const SolverOptions& options) {
  Json container = {
      {"name", "acmesolver"},
      {"image", options.image},
      {"args",
       {"solver", "--listen", ":" + std::to_string(kSolverPort), "--domain", ch.spec.dns_name,
        "--token", ch.spec.token, "--key", ch.spec.key}},
      {"ports", {{{"name", "http"}, {"containerPort", kSolverPort}, {"protocol", "TCP"}}}},
      {"resources",
       {{"requests", {{"cpu", "10m"}, {"memory", "64Mi"}}},
        {"limits", {{"cpu", "100m"}, {"memory", "64Mi"}}}}},
      // The solver only answers one path: it needs no privilege, no writes, no capabilities.
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}}};
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", Metadata(ch, challenge_obj)},
              {"spec",
               {{"restartPolicy", "OnFailure"},
                {"enableServiceLinks", false},
                {"automountServiceAccountToken", false},
                {"securityContext",
                 {{"runAsNonRoot", true},
                  {"runAsUser", 65532},
                  {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                {"containers", Json::array({container})}}}};
  if (const api::Http01Ingress* in = IngressSpec(ch)) MergeTemplate(pod, in->pod_template);
  return pod;
}

Json BuildService(const api::Challenge& ch, const Json& challenge_obj) {
  const api::Http01Ingress* in = IngressSpec(ch);
  std::string type = in && !in->service_type.empty() ? in->service_type : "ClusterIP";
  return Json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", Metadata(ch, challenge_obj)},
              {"spec",
               {{"type", type},
                {"selector", {{kChallengeLabel, SolverName(ch)}}},
                {"ports",
                 {{{"name", "http"},
                   {"port", kSolverPort},
                   {"targetPort", kSolverPort},
                   {"protocol", "TCP"}}}}}}};
}

namespace {

// The Ingress rule's host: the name validated, except for an IP address identifier (RFC 8738),
// which an Ingress host cannot be ("must be a DNS name, not an IP address"): the rule then has
// no host and matches the challenge's path on any, as the CA connects to the address itself.
std::string RuleHost(const api::Challenge& ch) {
  return IsIpAddress(ch.spec.dns_name) ? std::string() : ch.spec.dns_name;
}

Json Rule(const api::Challenge& ch) {
  Json rule = {{"http", {{"paths", Json::array({PathRule(ch)})}}}};
  const std::string host = RuleHost(ch);
  if (!host.empty()) rule["host"] = host;
  return rule;
}

}  // namespace

Json BuildIngress(const api::Challenge& ch, const Json& challenge_obj) {
  Json ingress = {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "Ingress"},
      {"metadata", Metadata(ch, challenge_obj)},
      {"spec",
       {{"rules", Json::array({Rule(ch)})}}}};
  if (const api::Http01Ingress* in = IngressSpec(ch)) {
    if (!in->ingress_class_name.empty())
      ingress["spec"]["ingressClassName"] = in->ingress_class_name;
    if (!in->class_.empty()) {
      ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"] = in->class_;
    }
    MergeTemplate(ingress, in->ingress_template);
  }
  return ingress;
}

Json AddRuleToIngress(const api::Challenge& ch, Json ingress) {
  ingress = RemoveRuleFromIngress(ch, std::move(ingress));
  ingress["spec"]["rules"].push_back(Rule(ch));
  ingress["metadata"]["annotations"][kEditedAnnotationPrefix + SolverName(ch)] = ch.spec.dns_name;
  return ingress;
}

Json RemoveRuleFromIngress(const api::Challenge& ch, Json ingress) {
  const std::string path = ChallengePath(ch);
  Json rules = Json::array();
  if (ingress.contains("spec") && ingress["spec"].contains("rules")) {
    for (const Json& rule : ingress["spec"]["rules"]) {
      bool ours = rule.value("host", "") == RuleHost(ch) && rule.contains("http") &&
                  rule["http"].value("paths", Json::array()).size() == 1 &&
                  rule["http"]["paths"][0].value("path", "") == path;
      if (!ours) rules.push_back(rule);
    }
  }
  ingress["spec"]["rules"] = rules;
  if (ingress["metadata"].contains("annotations")) {
    ingress["metadata"]["annotations"].erase(kEditedAnnotationPrefix + SolverName(ch));
  }
  return ingress;
}

Result<bool> Present(kube::Client& client, const api::Challenge& ch, const Json& challenge_obj,
                     const SolverOptions& options) {
  const std::string& ns = ch.metadata.namespace_;
  const std::string name = SolverName(ch);
  // The route first, the Pod last: the CA is told to validate once the Pod is Ready, and the
  // ingress controller needs time to route the new path (with the self check skipped, nothing
  // else waits for it). A Pod that starts in 200 ms otherwise beats the route to the CA.
  bool changed = false;
  auto ensure = [&](const kube::ResourceRef& res, const Json& obj) -> Status {
    if (!options.first_presentation && client.Get(res, ns, name).ok()) return Status::Ok();
    auto created = client.Create(res, ns, obj);
    changed = changed || created.ok();
    return IgnoreExists(created);
  };
  const api::Http01Ingress* in = IngressSpec(ch);
  if (in && !in->name.empty()) {
    ASSIGN_OR_RETURN(Json existing, client.Get(kube::kIngresses, ns, in->name));
    Json edited = AddRuleToIngress(ch, existing);
    if (edited != existing) {
      RETURN_IF_ERROR(client.Update(kube::kIngresses, ns, edited).status());
      changed = true;
    }
  } else {
    RETURN_IF_ERROR(ensure(kube::kIngresses, BuildIngress(ch, challenge_obj)));
  }
  RETURN_IF_ERROR(ensure(kube::kServices, BuildService(ch, challenge_obj)));
  RETURN_IF_ERROR(ensure(kube::kPods, BuildPod(ch, challenge_obj, options)));
  return changed;
}

namespace {

// Container waiting reasons that mean the solver cannot start without someone changing
// something (an image, a Secret, the solver itself), as opposed to ContainerCreating.
bool IsBlockingWaitReason(const std::string& reason) {
  static const char* const kBlocking[] = {
      "ErrImagePull",      "ImagePullBackOff",           "InvalidImageName",
      "CrashLoopBackOff",  "CreateContainerConfigError", "CreateContainerError",
      "RunContainerError", "ErrImageNeverPull"};
  for (const char* r : kBlocking) {
    if (reason == r) return true;
  }
  return false;
}

std::string StringAt(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// obj[a][b]... when every step is an object member; a null Json otherwise.
Json At(const Json& obj, std::initializer_list<const char*> path) {
  const Json* at = &obj;
  for (const char* key : path) {
    if (!at->is_object()) return Json();
    auto it = at->find(key);
    if (it == at->end()) return Json();
    at = &*it;
  }
  return *at;
}

std::vector<Json> Items(const Json& list) {
  return list.is_array() ? list.get<std::vector<Json>>() : std::vector<Json>();
}

}  // namespace

SolverPodState ReadSolverPod(const Json& pod) {
  SolverPodState state;
  const Json status = At(pod, {"status"});
  if (!status.is_object()) return state;
  for (const Json& c : Items(At(status, {"conditions"}))) {
    if (StringAt(c, "type") == "Ready") state.ready = StringAt(c, "status") == "True";
  }
  const std::vector<Json> containers = Items(At(status, {"containerStatuses"}));
  if (StringAt(status, "phase") == "Failed") {
    state.ready = false;
    state.failed = true;
    state.reason = StringAt(status, "reason");
    state.message = StringAt(status, "message");
    // A real kubelet puts the process's outcome on the container, not the Pod.
    for (const Json& c : containers) {
      const Json terminated = At(c, {"state", "terminated"});
      if (!terminated.is_object()) continue;
      if (state.reason.empty()) state.reason = StringAt(terminated, "reason");
      if (state.message.empty()) state.message = StringAt(terminated, "message");
      if (state.message.empty() && terminated.contains("exitCode")) {
        state.message = "the solver exited with code " + terminated["exitCode"].dump();
      }
    }
    if (state.reason.empty()) state.reason = "PodFailed";
    return state;
  }
  for (const Json& c : containers) {
    const Json waiting = At(c, {"state", "waiting"});
    if (!IsBlockingWaitReason(StringAt(waiting, "reason"))) continue;
    state.ready = false;
    state.reason = StringAt(waiting, "reason");
    state.message = StringAt(waiting, "message");
    return state;
  }
  return state;
}

Result<SolverPodState> GetSolverPod(kube::Client& client, const api::Challenge& ch) {
  ASSIGN_OR_RETURN(Json pod, client.Get(kube::kPods, ch.metadata.namespace_, SolverName(ch)));
  return ReadSolverPod(pod);
}

Status DeleteSolverPod(kube::Client& client, const api::Challenge& ch) {
  return IgnoreNotFound(client.Delete(kube::kPods, ch.metadata.namespace_, SolverName(ch)));
}

Status CleanUp(kube::Client& client, const api::Challenge& ch) {
  const std::string& ns = ch.metadata.namespace_;
  const std::string name = SolverName(ch);
  const api::Http01Ingress* in = IngressSpec(ch);
  if (in && !in->name.empty()) {
    auto existing = client.Get(kube::kIngresses, ns, in->name);
    if (existing.ok()) {
      Json reverted = RemoveRuleFromIngress(ch, *existing);
      if (reverted != *existing)
        RETURN_IF_ERROR(client.Update(kube::kIngresses, ns, reverted).status());
    } else {
      RETURN_IF_ERROR(IgnoreNotFound(existing.status()));
    }
  } else {
    RETURN_IF_ERROR(IgnoreNotFound(client.Delete(kube::kIngresses, ns, name)));
  }
  RETURN_IF_ERROR(IgnoreNotFound(client.Delete(kube::kServices, ns, name)));
  return IgnoreNotFound(client.Delete(kube::kPods, ns, name));
}

}  // namespace certsmith::solvers::http01
