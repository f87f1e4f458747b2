// Challenge: presents one ACME challenge, self-checks it, tells the CA to validate (RFC 8555
// §7.5.1), polls the authorization, and cleans up on every terminal path and on deletion (a
// finalizer keeps the Challenge until its solver objects are gone) (ARCHITECTURE.md "Flow of one
// certificate", step 4). At most options.max_concurrent_challenges are presented at once; the
// rest wait with a delayed requeue. dns-01 is not implemented yet and fails clearly.
#pragma once

#include <mutex>
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
  SyncResult SolverPodFailed(const Json& obj, api::Challenge ch,
                             const solvers::http01::SolverPodState& pod);
  // Records that the CA was told to validate; Poll takes over after poll_in.
  SyncResult Accepted(const Json& obj, api::Challenge ch, Duration poll_in);
  SyncResult Poll(const Json& obj, api::Challenge ch);
  // Cleans up and writes the final state.
  SyncResult Finish(const Json& obj, api::Challenge ch, api::OrderState state,
                    const std::string& reason);
  SyncResult Write(const Json& obj, const api::Challenge& ch, SyncResult then);
  SyncResult Delete(const Json& obj, const api::Challenge& ch);
  bool Acquire(const std::string& key);
  void Release(const std::string& key);

  Context& ctx_;
  mutable std::mutex mu_;
  std::set<std::string> presented_;
};

}  // namespace certsmith::reconcilers
