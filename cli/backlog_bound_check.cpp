// backlog_bound(engine[, workload]) sigma S rho R: a stability certificate (docs/search.md,
// "Stability certificates"). "Holds" is a proven bound, with "B = ... tokens" in the reason;
// "violated" is ρ > 1 or a replayed instability witness inside the envelope; otherwise unknown
// with the reason (not work-conserving, outside the abstraction, a solver timeout).
#include "cli/check_runners.hpp"
#include "solver/backlog_bound.hpp"

namespace batchproof::cli {

solver::ProofResult backlog_bound_check(const core::Spec& spec, const core::Check& c, double default_timeout) {
  const core::Engine& e = *spec.find_engine(c.engine);
  const core::Workload* w = c.workload.empty() ? nullptr : spec.find_workload(c.workload);
  solver::LengthBounds lb{1, 4096, 1, 4096};
  if (w) lb = solver::workload_support(*w, 4096).bounds;
  solver::BoundOptions o;
  o.timeout_s = c.timeout_s.value_or(default_timeout);
  solver::Envelope env{c.sigma_tokens.value_or(0), c.rho.value_or(0.9)};
  solver::BoundResult b = solver::prove_backlog_bound(e, lb, env, o);
  solver::ProofResult r;
  r.seconds = b.seconds;
  r.reason = b.reason;
  switch (b.verdict) {
    case solver::BoundVerdict::Proven: r.verdict = solver::Verdict::Holds; break;
    case solver::BoundVerdict::Refuted: r.verdict = solver::Verdict::Violated; break;
    case solver::BoundVerdict::Unknown: r.verdict = solver::Verdict::Unknown; break;
    case solver::BoundVerdict::InternalError: r.verdict = solver::Verdict::InternalError; break;
  }
  return r;
}

}  // namespace batchproof::cli
