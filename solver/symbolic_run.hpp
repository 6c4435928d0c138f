// Several iterations of the symbolic step, with requests joining between them: the unrolling
// behind the witness search (solver/witness.hpp). Internal to solver/ (it includes z3++.h).
//
// Slots keep their index for the whole run, in arrival order, so that the running set and the
// waiting queue are both in slot order, as core::step keeps them for engines that neither
// preempt nor reorder admissions. Each iteration's state is a fresh set of constants tied to
// the previous one by equations (`definitions`), so terms stay flat however long the run.
#pragma once

#include <string>
#include <vector>

#include <z3++.h>

#include "core/engine.hpp"
#include "core/profile.hpp"
#include "solver/symbolic_step.hpp"

namespace batchproof::solver {

// A slot that is absent at the start and joins the waiting queue before iteration `iteration`
// when `arrives` holds.
struct JoiningSlot {
  std::size_t slot = 0;
  int iteration = 0;
  z3::expr arrives;
};

struct SymbolicRun {
  std::vector<SymbolicState> states;   // states[j]: before iteration j; states.back(): after the run
  std::vector<SymbolicBatch> batches;  // batches[j]: iteration j
  z3::expr definitions;                // equations tying each state to the previous one
};

// `start` has every slot of the run (joining ones absent, with their lengths); `tag` keeps the
// constants of several runs in one context apart.
SymbolicRun unroll(z3::context& ctx, const core::Engine& engine, const SymbolicState& start,
                   const std::vector<JoiningSlot>& joining, int iterations, const std::string& tag);

// t(b) in seconds as a real term, as core::TimeModel::seconds computes it (for b ≥ 1), with the
// auxiliary constraints it needs (the staircase's step count).
struct SymbolicDuration {
  z3::expr seconds;
  z3::expr constraints;
};
SymbolicDuration symbolic_seconds(z3::context& ctx, const core::TimeModel& time, const z3::expr& tokens,
                                  const std::string& name);

// A double as an exact-enough real numeral (17 significant decimals).
z3::expr real_of(z3::context& ctx, double value);

}  // namespace batchproof::solver
