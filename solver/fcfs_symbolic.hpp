// fcfs (solver/fcfs.hpp) on the symbolic batch: the twin of fcfs_violation, term for term.
// Internal to solver/ (it includes z3++.h).
#pragma once

#include <z3++.h>

#include "core/engine.hpp"
#include "solver/symbolic_step.hpp"

namespace batchproof::solver {

// Some request j of the state gets tokens of its phase while an earlier request i of the same
// phase gets none and its smallest take fits in j's tokens plus the budget the batch leaves.
z3::expr fcfs_violated(z3::context& ctx, const core::Engine& e, const SymbolicState& s, const SymbolicBatch& b);

}  // namespace batchproof::solver
