#include "core/kmax_bound.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/capacity.hpp"

namespace batchproof::core {

std::optional<KmaxBound> kmax_bound(const Engine& e, const Workload& w) {
  if (!e.max_batch || *e.max_batch < 1) return std::nullopt;
  const double mp = w.mean_prompt(), md = w.mean_output();
  if (!(mp > 0) || !(md > 0)) return std::nullopt;
  KmaxBound k;
  k.k_max = *e.max_batch;
  // The largest batch, in tokens: the budget, or batch_bound's stand-in, and at least k_max.
  const std::int64_t largest = std::max(k.k_max, batch_bound(e, &w).tokens.value_or(k.k_max));
  // t_min(j) for j ≤ k_max: a suffix minimum of t over [j, largest] (t need not be monotone in a table).
  std::vector<double> t_min(static_cast<std::size_t>(k.k_max) + 1, std::numeric_limits<double>::infinity());
  double m = std::numeric_limits<double>::infinity();
  for (std::int64_t b = largest; b >= 1; --b) {
    m = std::min(m, e.profile.time.seconds(b));
    if (b <= k.k_max) t_min[static_cast<std::size_t>(b)] = m;
  }
  for (std::int64_t j = 1; j <= k.k_max; ++j) {
    double t = t_min[static_cast<std::size_t>(j)];
    if (t > 0 && static_cast<double>(j) / t > k.slots_per_s) {
      k.slots_per_s = static_cast<double>(j) / t;
      k.best_batch = j;
    }
  }
  if (!(k.slots_per_s > 0)) return std::nullopt;
  const double budget = e.token_budget ? static_cast<double>(*e.token_budget) : static_cast<double>(largest);
  const double prefill_slots = std::max(1.0, mp / budget);
  k.slots_per_request = (e.accounting == Accounting::Vidur ? std::max(0.0, md - 1) : md) + prefill_slots;
  k.requests_per_s = k.slots_per_s / k.slots_per_request;
  k.tokens_per_s = k.requests_per_s * (mp + md);
  return k;
}

}  // namespace batchproof::core
