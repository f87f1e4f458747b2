// ACME resources and problem documents as a CA sends them (RFC 8555 §7.1, §6.7): every parser
// sees the same bytes. Properties: no crash or sanitizer report; a problem survives the trip
// through a Status (as the client carries it) with its type; summaries stay bounded.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "acme/problem.h"
#include "fuzz_input.h"
#include "resource_parser.h"

using namespace certsmith;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)acme::ParseDirectory(text);
  (void)acme::ParseAccount(text);
  auto order = acme::ParseOrder(text);
  if (order.ok() && order->error) (void)order->error->Summary();
  auto authz = acme::ParseAuthorization(text);
  if (authz.ok()) {
    for (const acme::Challenge& c : authz->challenges) {
      if (c.error) (void)c.error->Summary();
    }
  }
  (void)acme::ParseChallenge(text);
  (void)acme::ParseRenewalInfo(text);

  auto problem = acme::ParseProblem(text);
  if (problem.ok()) {
    const std::string summary = problem->Summary();
    fuzz::Check(summary.size() <= 16384, "acme_resources_fuzz",
                "problem summary of " + std::to_string(summary.size()) + " bytes");
    (void)problem->ExtraFields();
    (void)acme::IsRetryable(*problem);
    Status s = acme::StatusFromProblem(*problem, 400);
    auto back = acme::ProblemFromStatus(s);
    fuzz::Check(back.has_value(), "acme_resources_fuzz", "problem lost in its Status");
    fuzz::Check(back->type == problem->type, "acme_resources_fuzz",
                "problem type changed on the way through a Status");
  }
  return 0;
}
