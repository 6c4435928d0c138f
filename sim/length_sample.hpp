// Drawing a length from a core::LengthLaw: the one sampler that the simulator, the witness
// search and the tests share, so that a law means the same thing everywhere. Each form draws
// exactly the distribution whose moments core::LengthLaw::mean() and second_moment() compute.
#pragma once

#include <cstdint>

#include "core/workload.hpp"
#include "sim/random.hpp"

namespace batchproof::sim {

// One draw, truncated at law.max when it has one:
//   Constant: lo.  Uniform: an integer in lo..hi.  Geometric on {1,2,..} with mean m:
//   p = 1/m, by inversion 1 + ⌊ln U / ln(1−p)⌋.  Exponential: ⌈X⌉ with X ~ Exp(mean), at least 1.
//   Empirical: one of the values, equally likely.
// Degenerate laws follow mean(): a mean below 1 (geometric) or not positive (exponential)
// gives 1, and an empirical law without values gives 0 (validation rejects both).
// Unbounded draws are capped at INT64_MAX rather than overflowing.
std::int64_t sample_length(const core::LengthLaw& law, Random& rng);

}  // namespace batchproof::sim
