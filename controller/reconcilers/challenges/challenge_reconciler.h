// Challenge: presents one ACME challenge, self-checks it, tells the CA to validate (RFC 8555
// §7.5.1), polls the authorization, and cleans up on every terminal path and on deletion (a
// finalizer keeps the Challenge until its solver objects are gone) (ARCHITECTURE.md "Flow of one
// certificate", step 4). At most options.max_concurrent_challenges http-01 solvers are presented
// at once; the rest wait with a delayed requeue. dns-01 lives in dns01_challenge.cc: find where
// the record goes, present it, check it is visible (one round of queries per sync, then a delayed
// requeue with backoff), tell the CA, and remove the value on every path.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "api/challenge.h"
#include "reconcilers/context.h"
#include "solvers/http01/solver_resources.h"

namespace certsmith::reconcilers {

inline constexpr char kChallengeFinalizer[] = "acme.certsmith.io/finalizer";

class ChallengeReconciler {
 public:
  explicit ChallengeReconciler(Context& ctx) : ctx_(ctx) {}
  SyncResult Sync(const std::string& key);
  size_t Presented() const;

 private:
  SyncResult Present(const Json& obj, api::Challenge ch);
  // Tells the CA to validate (RFC 8555 §7.5.1), for both challenge types.
  SyncResult Respond(const Json& obj, api::Challenge ch, acme::AcmeClient& acme);
  SyncResult SolverPodFailed(const Json& obj, api::Challenge ch,
                             const solvers::http01::SolverPodState& pod);
  // The solver's HTTPRoute cannot be used (a parent Gateway refused it, the Gateway API is off
  // or not installed): condition SolverReady=False with reason, a Warning event when it
  // changes, and a look again after wait (HTTPRoute status changes also wake the Challenge).
  SyncResult RouteProblem(const Json& obj, api::Challenge ch, const std::string& event_reason,
                          const std::string& reason, const std::string& message, Duration wait);
  // Records that the CA was told to validate; Poll takes over after poll_in.
  SyncResult Accepted(const Json& obj, api::Challenge ch, Duration poll_in);
  SyncResult Poll(const Json& obj, api::Challenge ch);
  // Cleans up and writes the final state.
  SyncResult Finish(const Json& obj, api::Challenge ch, api::OrderState state,
                    const std::string& reason);
  SyncResult Write(const Json& obj, const api::Challenge& ch, SyncResult then);
  SyncResult Delete(const Json& obj, const api::Challenge& ch);

  // dns-01 (dns01_challenge.cc).
  SyncResult SyncDns01(const Json& obj, api::Challenge ch);
  // A step failed in a way a person must fix: Ready=False with reason (api::ChallengeProblem),
  // a Warning event when the message is new, and a retry with backoff.
  SyncResult Dns01Problem(const Json& obj, api::Challenge ch, const std::string& reason,
                          const std::string& message);
  SyncResult FinishDns01(const Json& obj, api::Challenge ch, api::OrderState state,
                         const std::string& reason);
  // On deletion: the TXT value removed, or a retry (and, after options.dns01_cleanup_deadline,
  // a Warning naming the record and the deletion let through). Done means "go on".
  SyncResult DeleteDns01(const Json& obj, api::Challenge ch);
  // Removes the TXT value where status.dns01 says it was presented; nothing when it says nowhere.
  Status CleanUpDns01(const api::Challenge& ch);
  bool HasSolverToCleanUp(const api::Challenge& ch) const;
  bool Acquire(const std::string& key);
  void Release(const std::string& key);
  // When this process created the http-01 solver objects of key (since its last Release);
  // nullopt when it did not. status.presented is not written by the sync that creates them.
  std::optional<Clock::TimePoint> SolverCreatedAt(const std::string& key) const;

  Context& ctx_;
  mutable std::mutex mu_;
  std::set<std::string> presented_;
  std::map<std::string, Clock::TimePoint> solver_created_;
};

}  // namespace certsmith::reconcilers
