// How `verify` decides each kind of check that is not a per-iteration property: one function
// per kind, each in its own file (instability_check.cpp, backlog_bound_check.cpp,
// network_instability_check.cpp). Each returns a ProofResult whose `reason` says what the
// verdict covers (a bounded search, a proven bound, ...).
#pragma once

#include "core/check.hpp"
#include "core/spec.hpp"
#include "solver/prove.hpp"

namespace batchproof::cli {

// no_instability(engine, workload) load <= R period L
solver::ProofResult instability_check(const core::Spec& spec, const core::Check& check, double default_timeout_s);
// backlog_bound(engine[, workload]) sigma S rho R
solver::ProofResult backlog_bound_check(const core::Spec& spec, const core::Check& check, double default_timeout_s);
// no_instability(network) load <= R period L
solver::ProofResult network_instability_check(const core::Spec& spec, const core::Check& check, double default_timeout_s);

}  // namespace batchproof::cli
