// The (σ, ρ) arrival envelope of MODEL.md §4 as a token bucket: over every closed window of
// duration w, the arriving work (prompt + output tokens) is at most σ + r·w, r = ρ·C. A bucket of
// depth σ that starts full, refills at r and pays for each arrival with its work admits exactly
// these patterns (network calculus: the arrival curve σ + r·w), so "conforms" can be checked in
// one pass, and the least σ a pattern needs can be computed.
#pragma once

#include <vector>

#include "core/workload.hpp"

namespace batchproof::core {

// The least σ for which `arrivals` (sorted by time) conform to the envelope σ + rate·w:
// max over windows [s, t] of (work arriving in [s, t]) − rate·(t − s). 0 for no arrivals.
double envelope_burst(const std::vector<Arrival>& arrivals, double rate_tokens_per_s);

}  // namespace batchproof::core
