#include "solvers/http01/solver_resources.h"

#include "api/naming.h"
#include "certsmith/ip_address.h"
#include "api/resources.h"
#include "kube/errors.h"

namespace certsmith::solvers::http01 {
namespace {

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

// "namespace/name[/sectionName]" of a parentRef, for messages.
std::string ParentName(const api::GatewayParentRef& ref, const std::string& route_ns) {
  std::string out = (ref.namespace_.empty() ? route_ns : ref.namespace_) + "/" + ref.name;
  if (!ref.section_name.empty()) out += "/" + ref.section_name;
  return out;
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
  if (const api::Http01GatewayHTTPRoute* r = RouteSpec(ch)) MergeTemplate(pod, r->pod_template);
  return pod;
}

Json BuildService(const api::Challenge& ch, const Json& challenge_obj) {
  const api::Http01Ingress* in = IngressSpec(ch);
  const api::Http01GatewayHTTPRoute* route = RouteSpec(ch);
  std::string type = in && !in->service_type.empty()         ? in->service_type
                     : route && !route->service_type.empty() ? route->service_type
                                                             : "ClusterIP";
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

const api::Http01GatewayHTTPRoute* RouteSpec(const api::Challenge& ch) {
  if (!ch.spec.solver.http01 || !ch.spec.solver.http01->gateway_http_route) return nullptr;
  return &*ch.spec.solver.http01->gateway_http_route;
}

Json BuildHTTPRoute(const api::Challenge& ch, const Json& challenge_obj) {
  Json metadata = Metadata(ch, challenge_obj);
  Json parent_refs = Json::array();
  if (const api::Http01GatewayHTTPRoute* r = RouteSpec(ch)) {
    // The user's labels (a listener's allowedRoutes may select on them); ours win, they are
    // how the controller finds its routes.
    Json labels = Json::object();
    for (const auto& [k, v] : r->labels) labels[k] = v;
    for (const auto& [k, v] : metadata["labels"].items()) labels[k] = v;
    metadata["labels"] = labels;
    for (const api::GatewayParentRef& ref : r->parent_refs) parent_refs.push_back(ref.ToJson());
  }
  Json match = {{"path", {{"type", "Exact"}, {"value", ChallengePath(ch)}}}};
  Json backend = {{"group", ""},
                  {"kind", "Service"},
                  {"name", SolverName(ch)},
                  {"port", kSolverPort},
                  {"weight", 1}};
  return Json{{"apiVersion", kube::kHTTPRoutes.ApiVersion()},
              {"kind", kube::kHTTPRoutes.kind},
              {"metadata", metadata},
              {"spec",
               {{"parentRefs", parent_refs},
                {"hostnames", Json::array({ch.spec.dns_name})},
                {"rules", Json::array({Json{{"matches", Json::array({match})},
                                            {"backendRefs", Json::array({backend})}}})}}}};
}

namespace {

// A parentRef as the API server stores it: group and kind defaulted by the CRD's schema.
Json NormalizedParentRef(const Json& ref) {
  Json out = ref.is_object() ? ref : Json::object();
  if (StringAt(out, "group").empty()) out["group"] = "gateway.networking.k8s.io";
  if (StringAt(out, "kind").empty()) out["kind"] = "Gateway";
  return out;
}

}  // namespace

std::optional<Json> RepairedHTTPRoute(const Json& live, const Json& desired) {
  bool drifted = false;
  const Json live_refs = At(live, {"spec", "parentRefs"});
  const Json want_refs = At(desired, {"spec", "parentRefs"});
  if (!live_refs.is_array() || live_refs.size() != want_refs.size()) {
    drifted = true;
  } else {
    for (size_t i = 0; i < want_refs.size() && !drifted; ++i) {
      drifted = NormalizedParentRef(live_refs[i]) != NormalizedParentRef(want_refs[i]);
    }
  }
  drifted = drifted || At(live, {"spec", "hostnames"}) != At(desired, {"spec", "hostnames"});
  // The one rule: its path match and its backend (the server fills defaults around them).
  const Json live_rules = At(live, {"spec", "rules"});
  const Json want_rule = At(desired, {"spec", "rules"})[0];
  if (!live_rules.is_array() || live_rules.size() != 1) {
    drifted = true;
  } else if (!drifted) {
    const Json& rule = live_rules[0];
    const Json matches = At(rule, {"matches"});
    const Json backends = At(rule, {"backendRefs"});
    const Json& want_backend = want_rule["backendRefs"][0];
    const std::string kind = backends.is_array() && !backends.empty()
                                 ? StringAt(backends[0], "kind") : "";
    drifted = !matches.is_array() || matches.size() != 1 ||
              At(matches[0], {"path"}) != want_rule["matches"][0]["path"] ||
              !backends.is_array() || backends.size() != 1 ||
              At(backends[0], {"name"}) != want_backend["name"] ||
              At(backends[0], {"port"}) != want_backend["port"] ||
              (!kind.empty() && kind != "Service");
  }
  // The labels a Gateway's allowedRoutes may select on, and ours.
  const Json live_labels = At(live, {"metadata", "labels"});
  const Json want_labels = At(desired, {"metadata", "labels"});
  for (const auto& [k, v] : want_labels.items()) {
    if (!live_labels.is_object() || live_labels.value(k, Json()) != v) drifted = true;
  }
  if (!drifted) return std::nullopt;
  Json repaired = live;
  repaired["spec"] = desired["spec"];
  if (!repaired["metadata"].contains("labels") || !repaired["metadata"]["labels"].is_object()) {
    repaired["metadata"]["labels"] = Json::object();
  }
  for (const auto& [k, v] : want_labels.items()) {
    repaired["metadata"]["labels"][k] = v;
  }
  return repaired;
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
  if (RouteSpec(ch) != nullptr) {
    Json desired = BuildHTTPRoute(ch, challenge_obj);
    auto live = options.first_presentation ? Result<Json>(Status(ErrorCode::kNotFound, ""))
                                           : client.Get(kube::kHTTPRoutes, ns, name);
    if (live.ok()) {
      // Someone edited the route (its parents, host, path or backend): put it back, or the
      // Challenge would wait for, or ask the CA about, a route that does not serve it.
      if (std::optional<Json> repaired = RepairedHTTPRoute(*live, desired)) {
        RETURN_IF_ERROR(client.Update(kube::kHTTPRoutes, ns, *repaired).status());
        changed = true;
      }
    } else {
      auto created = client.Create(kube::kHTTPRoutes, ns, desired);
      changed = changed || created.ok();
      RETURN_IF_ERROR(IgnoreExists(created));
    }
  } else if (in && !in->name.empty()) {
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

RouteState ReadRouteState(const Json& route, const api::Http01GatewayHTTPRoute& spec) {
  RouteState state;
  const std::string route_ns = StringAt(At(route, {"metadata"}), "namespace");
  const Json generation = At(route, {"metadata", "generation"});
  const std::vector<Json> parents = Items(At(route, {"status", "parents"}));
  bool all = !spec.parent_refs.empty();
  for (const api::GatewayParentRef& want : spec.parent_refs) {
    const std::string want_ns = want.namespace_.empty() ? route_ns : want.namespace_;
    std::optional<bool> accepted;
    std::string reason, message;
    for (const Json& p : parents) {
      const Json ref = At(p, {"parentRef"});
      const std::string ns = StringAt(ref, "namespace");
      // The status names the parentRef as the route gave it: two refs to one Gateway may differ
      // only in their port.
      const Json port = At(ref, {"port"});
      const bool same_port = want.port ? port.is_number_integer() && port == *want.port
                                       : !port.is_number();
      if (StringAt(ref, "name") != want.name || (ns.empty() ? route_ns : ns) != want_ns ||
          StringAt(ref, "sectionName") != want.section_name || !same_port) {
        continue;
      }
      for (const Json& c : Items(At(p, {"conditions"}))) {
        if (StringAt(c, "type") != "Accepted") continue;
        // A condition written for an older spec of the route says nothing about this one.
        if (generation.is_number() && c.contains("observedGeneration") &&
            c["observedGeneration"].is_number() && c["observedGeneration"] < generation) {
          continue;
        }
        const bool ok = StringAt(c, "status") == "True";
        // Several controllers may report on one parent: one acceptance is enough.
        if (ok || !accepted.value_or(false)) {
          accepted = ok;
          reason = StringAt(c, "reason");
          message = StringAt(c, "message");
        }
      }
    }
    if (!accepted) {
      all = false;
      state.waiting.push_back(ParentName(want, route_ns));
    } else if (!*accepted) {
      all = false;
      if (!state.refused) {
        state.refused = true;
        state.parent = ParentName(want, route_ns);
        state.reason = reason.empty() ? "NotAccepted" : reason;
        state.message = message;
      }
    }
  }
  state.accepted = all;
  return state;
}

Result<RouteState> GetRouteState(kube::Client& client, const api::Challenge& ch) {
  const api::Http01GatewayHTTPRoute* spec = RouteSpec(ch);
  if (spec == nullptr) return Status(ErrorCode::kInvalidArgument, "not an HTTPRoute solver");
  ASSIGN_OR_RETURN(Json route,
                   client.Get(kube::kHTTPRoutes, ch.metadata.namespace_, SolverName(ch)));
  return ReadRouteState(route, *spec);
}

Status DeleteSolverPod(kube::Client& client, const api::Challenge& ch) {
  return IgnoreNotFound(client.Delete(kube::kPods, ch.metadata.namespace_, SolverName(ch)));
}

Status CleanUp(kube::Client& client, const api::Challenge& ch) {
  const std::string& ns = ch.metadata.namespace_;
  const std::string name = SolverName(ch);
  const api::Http01Ingress* in = IngressSpec(ch);
  if (RouteSpec(ch) != nullptr) {
    RETURN_IF_ERROR(IgnoreNotFound(client.Delete(kube::kHTTPRoutes, ns, name)));
  } else if (in && !in->name.empty()) {
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
