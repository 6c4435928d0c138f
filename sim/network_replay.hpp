// A deterministic replay of a network (docs/search.md "Networks"): jobs placed in the network
// at time 0 (a witness's start state), then every class's arrivals evenly spaced at its rate,
// with lengths drawn from the hops' laws or given as a repeating pattern. Used to confirm an
// instability witness in the concrete simulator (core::step on every engine).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/network.hpp"
#include "core/spec.hpp"
#include "sim/network_sim.hpp"

namespace batchproof::sim {

using HopLengths = std::vector<std::pair<std::int64_t, std::int64_t>>;  // (prompt, output) per hop of a route

struct ReplayStart {
  std::size_t cls = 0, stage = 0;  // jobs of this class waiting at this stage of its route at time 0
  std::int64_t jobs = 0;
};

struct DeterministicReplay {
  double rate_scale = 1;            // multiplies every class's mean rate
  std::vector<ReplayStart> start;
  double duration_s = 0;            // arrivals stop here (and so does the run)
  // Per class (empty, or one entry per class): the hop lengths of its k-th arrival are
  // pattern[k % size]; an empty pattern draws them from the hops' laws.
  std::vector<std::vector<HopLengths>> pattern;
};

// The jobs: the start state at time 0, then class k's j-th arrival (j = 1, 2, ...) at
// j / (λ_k × rate_scale), all sorted by time (ties by class).
std::vector<NetworkArrival> deterministic_arrivals(const core::Network& network, const DeterministicReplay& replay);

NetworkSimResult replay_network(const core::Spec& spec, const core::Network& network, const DeterministicReplay& replay,
                                std::uint64_t seed = 1);

}  // namespace batchproof::sim
