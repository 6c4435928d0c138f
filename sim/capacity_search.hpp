// The empirical capacity (MODEL.md §3): the largest arrival rate the simulator finds stable,
// by bisection on the load, each probe run with several seeds in parallel.
#pragma once

#include <cstdint>
#include <functional>

#include "core/engine.hpp"
#include "core/spec.hpp"
#include "core/workload.hpp"

namespace batchproof::sim {

struct CapacitySearchOptions {
  std::uint64_t requests = 20000;  // per probe and seed
  int seeds = 3;                   // a probe is stable if most of its seeds are
  std::uint64_t first_seed = 1;
  double precision = 0.01;         // stop when the bracket is this narrow (in load)
  double lowest = 0.02, highest = 1.6;  // the load range searched
  unsigned threads = 0;            // 0: all cores
};

// Loads are relative to a reference throughput (the usable capacity, or for a network the
// arrival rates as declared): stable at load_stable, unstable at load_unstable.
struct CapacityEstimate {
  double load_stable = 0;
  double load_unstable = 0;
  int probes = 0;
  bool unstable_everywhere = false;  // unstable even at `lowest`
  bool stable_everywhere = false;    // stable even at `highest`
  double load() const { return (load_stable + load_unstable) / 2; }
  double uncertainty() const { return (load_unstable - load_stable) / 2; }
};

// A probe: is the system stable at this load, for this seed?
using StabilityProbe = std::function<bool(double load, std::uint64_t seed)>;

CapacityEstimate search_capacity(const StabilityProbe& probe, const CapacitySearchOptions& options);

// Probes for an engine under a workload (load relative to `reference_tokens_per_s`), and for a
// network (load = the factor on every class's arrival rate).
StabilityProbe engine_probe(const core::Engine& engine, const core::Workload& workload,
                            double reference_tokens_per_s, std::uint64_t requests);
StabilityProbe network_probe(const core::Spec& spec, const core::Network& network, std::uint64_t jobs);

}  // namespace batchproof::sim
