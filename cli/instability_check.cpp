// no_instability(engine, workload) load <= R period L: a witness search over periods 1..L
// (default 6) with lengths from the workload's support. "Holds" means no witness in that
// bounded space, and the reason says so; "violated" comes with a replayed witness.
#include <fmt/format.h>

#include "cli/check_runners.hpp"
#include "core/capacity.hpp"
#include "solver/witness.hpp"

namespace batchproof::cli {

solver::ProofResult instability_check(const core::Spec& spec, const core::Check& c, double default_timeout) {
  const core::Engine& e = *spec.find_engine(c.engine);
  const core::Workload* w = spec.find_workload(c.workload);
  solver::SearchOptions so;
  so.load = c.load.value_or(0.9);
  so.periods.clear();
  for (int L = 1; L <= static_cast<int>(c.period.value_or(6)); ++L) so.periods.push_back(L);
  so.timeout_s = c.timeout_s.value_or(default_timeout);
  solver::LengthBounds lb{1, 4096, 1, 4096};
  if (w) lb = solver::workload_support(*w, 4096).bounds;
  solver::SearchResult sr = solver::search_witness(e, core::compute_capacity(e, w).tokens_per_s, lb, so);
  solver::ProofResult r;
  r.seconds = sr.seconds;
  switch (sr.verdict) {
    case solver::SearchVerdict::Found:
      r.verdict = solver::Verdict::Violated;
      r.reason = fmt::format("witness: period {} at load {:.3f}, +{} tokens a period, replayed {} periods",
                             sr.witness->period, sr.replay->load, sr.replay->growth_tokens, sr.replay->periods);
      break;
    case solver::SearchVerdict::NotFound:
      r.verdict = solver::Verdict::Holds;
      r.reason = fmt::format("no witness at load <= {} for periods 1..{} (a bounded search)", so.load, so.periods.size());
      break;
    case solver::SearchVerdict::Unknown: r.verdict = solver::Verdict::Unknown; r.reason = sr.reason; break;
    case solver::SearchVerdict::InternalError: r.verdict = solver::Verdict::InternalError; r.reason = sr.reason; break;
  }
  return r;
}

}  // namespace batchproof::cli
