// The Kubernetes objects that present one http-01 challenge (RFC 8555 §8.3): a solver Pod running
// `certsmith solver`, a Service in front of it, and an Ingress routing
// http://<domain>/.well-known/acme-challenge/<token> to the Service (a new Ingress of the
// configured class, or a rule added to an existing Ingress named by the solver). All are labelled
// as certsmith's and owned by the Challenge, so deleting the Challenge removes them even if the
// controller is down; Cleanup removes them (and the added rule) on every terminal path.
// With http01.gatewayHTTPRoute, a Gateway API HTTPRoute (gateway.networking.k8s.io/v1) attached
// to the solver's parentRefs takes the Ingress's place: hostnames [the challenge's name], one
// rule matching exactly /.well-known/acme-challenge/<token>, to the Service.
#pragma once

#include <optional>
#include <string>

#include "api/challenge.h"
#include "certsmith/status.h"
#include "kube/client.h"

namespace certsmith::solvers::http01 {

using Json = nlohmann::json;

inline constexpr int kSolverPort = 8089;
inline constexpr char kSolverLabel[] = "acme.certsmith.io/http01-solver";
inline constexpr char kChallengeLabel[] = "acme.certsmith.io/challenge";
// On an edited existing Ingress: which challenge's path rule certsmith added.
inline constexpr char kEditedAnnotationPrefix[] = "acme.certsmith.io/solver-";

struct SolverOptions {
  std::string image = "certsmith:latest";
  // Nothing was presented for this challenge yet: create without reading first (an object left
  // by an interrupted attempt answers AlreadyExists, which is fine). Saves a read per object.
  bool first_presentation = false;
};

// The name shared by the Pod, Service and created Ingress of a challenge.
std::string SolverName(const api::Challenge& ch);
std::string ChallengePath(const api::Challenge& ch);  // "/.well-known/acme-challenge/<token>"

// challenge_obj is the Challenge object as stored (for the ownerReference).
Json BuildPod(const api::Challenge& ch, const Json& challenge_obj, const SolverOptions& options);
Json BuildService(const api::Challenge& ch, const Json& challenge_obj);
Json BuildIngress(const api::Challenge& ch, const Json& challenge_obj);
// The solver's gatewayHTTPRoute, or null for an Ingress solver.
const api::Http01GatewayHTTPRoute* RouteSpec(const api::Challenge& ch);
Json BuildHTTPRoute(const api::Challenge& ch, const Json& challenge_obj);

// Whether the parents of the solver's HTTPRoute accept it (status.parents[], Gateway API
// RouteParentStatus). The CA must not be asked before every parentRef has Accepted=True: the
// Gateway would not route the challenge path.
struct RouteState {
  bool accepted = false;  // every parentRef reports Accepted=True (for the route's generation)
  // A parent reports Accepted=False: which one ("namespace/name[/sectionName]") and its words.
  bool refused = false;
  std::string parent;
  std::string reason;  // e.g. NotAllowedByListeners, NoMatchingParent, NoMatchingListenerHostname
  std::string message;
  // The parentRefs without an Accepted condition yet (the Gateway has not looked).
  std::vector<std::string> waiting;
};
RouteState ReadRouteState(const Json& route, const api::Http01GatewayHTTPRoute& spec);
// The HTTPRoute's state; NotFound when there is none.
Result<RouteState> GetRouteState(kube::Client& client, const api::Challenge& ch);
// The live solver HTTPRoute with what BuildHTTPRoute made (desired) put back when someone changed
// it: its parentRefs (group and kind compared with their defaults), hostnames, the rule's path
// match and backend, and the labels. nullopt when nothing of that changed (the fields the API
// server or a Gateway fills in are not compared).
std::optional<Json> RepairedHTTPRoute(const Json& live, const Json& desired);
// Adds the challenge's path rule to an existing Ingress (idempotent).
Json AddRuleToIngress(const api::Challenge& ch, Json ingress);
// Removes what AddRuleToIngress added (idempotent).
Json RemoveRuleFromIngress(const api::Challenge& ch, Json ingress);

// Creates what is missing, the Ingress (or rule) and Service before the Pod; true when it created
// or changed anything (an ingress controller has not seen that yet), false when everything was
// already there.
Result<bool> Present(kube::Client& client, const api::Challenge& ch, const Json& challenge_obj,
                     const SolverOptions& options);
// What the solver Pod's status says. The CA must not be told to validate before it is Ready:
// it would reach a route with no endpoint yet (a 503) and fail the order.
struct SolverPodState {
  bool ready = false;
  // Phase Failed: the Pod will never run again (its process exited, or the kubelet refused it);
  // it has to be replaced.
  bool failed = false;
  // Why it cannot run, from the Pod (phase Failed) or its container (waiting with
  // ErrImagePull, ImagePullBackOff, CrashLoopBackOff, CreateContainerConfigError, ...: the kubelet
  // retries those itself); empty while it is starting normally or Ready.
  std::string reason;
  std::string message;
};
SolverPodState ReadSolverPod(const Json& pod);
// The solver Pod's state; NotFound when there is no Pod.
Result<SolverPodState> GetSolverPod(kube::Client& client, const api::Challenge& ch);
// Deletes only the solver Pod (to replace a failed one); NotFound is success.
Status DeleteSolverPod(kube::Client& client, const api::Challenge& ch);
// Deletes the Pod, Service and Ingress (or HTTPRoute) and reverts an edited Ingress; NotFound
// is success.
Status CleanUp(kube::Client& client, const api::Challenge& ch);

}  // namespace certsmith::solvers::http01
