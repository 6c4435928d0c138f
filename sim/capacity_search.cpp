#include "sim/capacity_search.hpp"

#include <algorithm>
#include <thread>
#include <vector>

#include "sim/engine_sim.hpp"
#include "sim/network_sim.hpp"

namespace batchproof::sim {

namespace {
// Runs the probe for every seed, in parallel; stable if at least half of the seeds are.
bool stable_at(const StabilityProbe& probe, double load, const CapacitySearchOptions& o) {
  int n = std::max(1, o.seeds);
  std::vector<char> verdicts(static_cast<std::size_t>(n), 0);
  unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  for (int first = 0; first < n; first += static_cast<int>(threads)) {
    std::vector<std::thread> pool;
    for (int k = first; k < std::min(n, first + static_cast<int>(threads)); ++k)
      pool.emplace_back([&, k] { verdicts[static_cast<std::size_t>(k)] = probe(load, o.first_seed + k) ? 1 : 0; });
    for (auto& t : pool) t.join();
  }
  int stable = static_cast<int>(std::count(verdicts.begin(), verdicts.end(), 1));
  return 2 * stable >= n;
}
}  // namespace

CapacityEstimate search_capacity(const StabilityProbe& probe, const CapacitySearchOptions& o) {
  CapacityEstimate e;
  double lo = o.lowest, hi = o.highest;
  ++e.probes;
  if (!stable_at(probe, lo, o)) {
    e.unstable_everywhere = true;
    e.load_stable = 0;
    e.load_unstable = lo;
    return e;
  }
  ++e.probes;
  if (stable_at(probe, hi, o)) {
    e.stable_everywhere = true;
    e.load_stable = e.load_unstable = hi;
    return e;
  }
  while (hi - lo > o.precision) {
    double mid = (lo + hi) / 2;
    ++e.probes;
    (stable_at(probe, mid, o) ? lo : hi) = mid;
  }
  e.load_stable = lo;
  e.load_unstable = hi;
  return e;
}

StabilityProbe engine_probe(const core::Engine& engine, const core::Workload& workload, double reference_tokens_per_s,
                            std::uint64_t requests) {
  double mean_tokens = workload.mean_prompt() + workload.mean_output();
  return [&engine, &workload, reference_tokens_per_s, requests, mean_tokens](double load, std::uint64_t seed) {
    SimOptions o;
    o.seed = seed;
    o.rate.rate_per_s = load * reference_tokens_per_s / mean_tokens;
    o.requests = requests;
    SimResult r = simulate_engine(engine, workload, o);
    return r.verdict.stable && !r.frozen;
  };
}

StabilityProbe network_probe(const core::Spec& spec, const core::Network& network, std::uint64_t jobs) {
  return [&spec, &network, jobs](double load, std::uint64_t seed) {
    NetworkSimOptions o;
    o.seed = seed;
    o.rate_scale = load;
    o.jobs = jobs;
    return simulate_network(spec, network, o).verdict.stable;
  };
}

}  // namespace batchproof::sim
