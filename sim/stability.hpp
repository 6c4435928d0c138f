// The stability verdict of a simulation (MODEL.md §8): a least-squares line through the
// backlog over the second half of the run; unstable when it climbs faster than 1% of the
// offered work rate and its 95% confidence interval excludes 0.
#pragma once

#include <cstddef>
#include <span>

namespace batchproof::sim {

struct BacklogSample {
  double time_s = 0;
  double backlog_tokens = 0;
};

struct StabilityVerdict {
  double slope_tokens_per_s = 0;  // fitted growth of the backlog
  double ci_low = 0, ci_high = 0;  // 95% confidence interval of the slope
  double threshold_tokens_per_s = 0;  // 1% of the offered work rate
  std::size_t points_used = 0;     // samples in the second half
  bool stable = true;
  // Fewer than kMinPoints samples (or no spread of times) in the second half: no fit, and
  // the verdict defaults to stable, with this flag saying it is not evidence of anything.
  bool insufficient_data = false;
};

// At least 3 points are needed for a slope with an interval (n − 2 degrees of freedom).
inline constexpr std::size_t kMinStabilityPoints = 3;

// `samples` need not be sorted (the caller downsamples; 10⁵ points are fine). The run spans
// the samples' earliest to latest time; the fit uses those at or after its midpoint. Samples
// with a non-finite time or backlog are ignored. `offered_tokens_per_s` is λ(m_p + m_d).
StabilityVerdict stability_verdict(std::span<const BacklogSample> samples, double offered_tokens_per_s);

// The backlog's slope in the fluid limit, λ(m_p + m_d) − usable capacity: negative below
// capacity (the backlog drains), positive above (it grows at this rate whatever the policy).
double fluid_slope(double offered_tokens_per_s, double usable_capacity_tokens_per_s);

// The 0.975 quantile of Student's t with `dof` degrees of freedom (the 95% two-sided
// interval's half-width in standard errors): exact to 6 digits for every dof ≥ 1; +inf for 0.
double t_quantile_975(std::size_t dof);

}  // namespace batchproof::sim
