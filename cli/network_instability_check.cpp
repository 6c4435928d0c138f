// no_instability(network) load <= R period L: not decided yet (issue 5, part 5).
#include "cli/check_runners.hpp"

namespace batchproof::cli {

solver::ProofResult network_instability_check(const core::Spec&, const core::Check&, double) {
  solver::ProofResult r;
  r.verdict = solver::Verdict::Unknown;
  r.reason = "the witness search for networks is not implemented yet";
  return r;
}

}  // namespace batchproof::cli
