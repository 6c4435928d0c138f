#include "sim/network_replay.hpp"

#include <algorithm>
#include <cmath>

namespace batchproof::sim {

std::vector<NetworkArrival> deterministic_arrivals(const core::Network& n, const DeterministicReplay& rp) {
  std::vector<NetworkArrival> out;
  for (const auto& s : rp.start)
    for (std::int64_t j = 0; j < s.jobs; ++j) out.push_back(NetworkArrival{0.0, s.cls, s.stage, {}});
  std::size_t first_arrival = out.size();
  for (std::size_t k = 0; k < n.classes.size(); ++k) {
    double rate = n.classes[k].arrivals.mean_rate() * rp.rate_scale;
    if (!(rate > 0) || !std::isfinite(rate)) continue;
    const std::vector<HopLengths>* pattern = k < rp.pattern.size() && !rp.pattern[k].empty() ? &rp.pattern[k] : nullptr;
    for (std::size_t j = 1;; ++j) {
      double t = static_cast<double>(j) / rate;  // j / rate, never summed: no drift
      if (t > rp.duration_s) break;
      NetworkArrival a{t, k, 0, {}};
      if (pattern) a.lengths = (*pattern)[(j - 1) % pattern->size()];
      out.push_back(std::move(a));
    }
  }
  std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first_arrival), out.end(),
                   [](const NetworkArrival& a, const NetworkArrival& b) { return a.time_s < b.time_s; });
  return out;
}

NetworkSimResult replay_network(const core::Spec& spec, const core::Network& n, const DeterministicReplay& rp,
                                std::uint64_t seed) {
  std::vector<NetworkArrival> arrivals = deterministic_arrivals(n, rp);
  NetworkSimOptions o;
  o.seed = seed;
  o.arrivals = &arrivals;
  o.duration_s = rp.duration_s;
  return simulate_network(spec, n, o);
}

}  // namespace batchproof::sim
