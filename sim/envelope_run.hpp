// The simulation side of a stability certificate (docs/search.md, "Stability certificates"):
// an arrival pattern that saturates a (σ, ρ) envelope, and an exact run of an engine under it
// that records the backlog at every batch boundary (the quantity the certificate bounds), not
// on the sampling grid of simulate_engine. Deterministic: no randomness at all.
#pragma once

#include <cstdint>
#include <vector>

#include "core/engine.hpp"
#include "core/workload.hpp"

namespace batchproof::sim {

// Greedy arrivals for the envelope σ + rate·w (core/token_bucket.hpp): identical requests of
// `prompt` + `output` tokens, each at the earliest time the bucket (depth σ, full at time 0)
// holds its work: a burst of ⌊σ / work⌋ at time 0, then one every work / rate seconds. Up to
// `duration_s`. Empty when one request's work exceeds σ.
std::vector<core::Arrival> greedy_envelope_arrivals(double sigma_tokens, double rate_tokens_per_s,
                                                    std::int64_t prompt, std::int64_t output, double duration_s);

// Random arrivals in the same envelope, for soundness checks: prompt and output lengths uniform
// on their ranges (narrowed so that one request's work is at most σ), each request at the
// earliest time the bucket holds its work or, every other request on average, later by an
// exponential delay of mean work / rate. Up to `duration_s`; the same arrivals for a seed.
std::vector<core::Arrival> random_envelope_arrivals(double sigma_tokens, double rate_tokens_per_s,
                                                    std::int64_t prompt_lo, std::int64_t prompt_hi,
                                                    std::int64_t output_lo, std::int64_t output_hi, double duration_s,
                                                    std::uint64_t seed);

struct EnvelopeRun {
  std::int64_t max_backlog = 0;   // tokens present at a batch boundary (arrivals joined), largest
  double max_at_s = 0;            // when
  std::int64_t final_backlog = 0; // at the last boundary, when the arrivals end
  std::int64_t half_backlog = 0;  // at the first boundary past half the arrivals' span
  double half_s = 0, end_s = 0;
  std::uint64_t iterations = 0, arrived = 0, completed = 0;
};

// Runs core::step from the empty system as simulate_engine does (arrivals join at batch
// boundaries; an idle engine waits for the next arrival) until the arrivals end.
EnvelopeRun run_envelope(const core::Engine& engine, const std::vector<core::Arrival>& arrivals);

}  // namespace batchproof::sim
