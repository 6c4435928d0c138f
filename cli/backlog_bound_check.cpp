// backlog_bound(engine[, workload]) sigma S rho R: not decided yet (issue 5, part 4).
#include "cli/check_runners.hpp"

namespace batchproof::cli {

solver::ProofResult backlog_bound_check(const core::Spec&, const core::Check&, double) {
  solver::ProofResult r;
  r.verdict = solver::Verdict::Unknown;
  r.reason = "backlog_bound is not decided by verify yet";
  return r;
}

}  // namespace batchproof::cli
