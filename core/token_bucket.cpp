#include "core/token_bucket.hpp"

#include <algorithm>

namespace batchproof::core {

double envelope_burst(const std::vector<Arrival>& arrivals, double rate) {
  // With A(t) the work arrived at times ≤ t and A(t−) before t, a window [s, t] receives
  // A(t) − A(s−); the largest excess ends at an arrival and starts at one:
  //   max over s ≤ t of (A(t) − rate·t) + (rate·s − A(s−)), kept as a running maximum.
  double best = 0, best_start = -1e300, arrived = 0;
  std::size_t i = 0;
  while (i < arrivals.size()) {
    const double t = arrivals[i].time_s;
    best_start = std::max(best_start, rate * t - arrived);  // windows starting at t
    while (i < arrivals.size() && arrivals[i].time_s == t) {
      arrived += static_cast<double>(arrivals[i].prompt + arrivals[i].output);
      ++i;
    }
    best = std::max(best, arrived - rate * t + best_start);
  }
  return best;
}

}  // namespace batchproof::core
