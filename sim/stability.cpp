#include "sim/stability.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace batchproof::sim {

namespace {

// t_{0.975}(ν) for ν = 1..30, to 9 digits (integrating Student's density; they agree with the
// printed tables). Beyond 30 the Cornish–Fisher expansion below is within 3e-8.
constexpr std::array<double, 30> kT975 = {
    12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
    2.364624252,  2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830,
    2.160368656,  2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040,
    2.093024054,  2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
    2.059538553,  2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456};

bool usable(const BacklogSample& s) { return std::isfinite(s.time_s) && std::isfinite(s.backlog_tokens); }

}  // namespace

double t_quantile_975(std::size_t dof) {
  if (dof == 0) return std::numeric_limits<double>::infinity();
  if (dof <= kT975.size()) return kT975[dof - 1];
  // Abramowitz & Stegun 26.7.5: t = z + g1/ν + g2/ν² + g3/ν³ + g4/ν⁴ with z the normal quantile.
  const double z = 1.959963984540054;
  const double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
  const double g1 = (z3 + z) / 4;
  const double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
  const double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
  const double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
  const double v = static_cast<double>(dof);
  return z + (g1 + (g2 + (g3 + g4 / v) / v) / v) / v;
}

double fluid_slope(double offered_tokens_per_s, double usable_capacity_tokens_per_s) {
  return offered_tokens_per_s - usable_capacity_tokens_per_s;
}

StabilityVerdict stability_verdict(std::span<const BacklogSample> samples, double offered_tokens_per_s) {
  StabilityVerdict v;
  // A NaN or negative offered rate gives a zero threshold: then any significant growth counts.
  v.threshold_tokens_per_s = offered_tokens_per_s > 0 ? 0.01 * offered_tokens_per_s : 0.0;

  double t_first = std::numeric_limits<double>::infinity();
  double t_last = -std::numeric_limits<double>::infinity();
  for (const auto& s : samples) {
    if (!usable(s)) continue;
    t_first = std::min(t_first, s.time_s);
    t_last = std::max(t_last, s.time_s);
  }
  const double t_mid = t_first + (t_last - t_first) / 2;
  auto in_fit = [&](const BacklogSample& s) { return usable(s) && s.time_s >= t_mid; };

  // Centred sums in separate passes: times of 10⁴ s and backlogs of 10⁶ tokens would lose
  // most of their digits in the one-pass Σt², Σty formulas.
  std::size_t n = 0;
  double sum_t = 0, sum_y = 0;
  for (const auto& s : samples) {
    if (!in_fit(s)) continue;
    ++n;
    sum_t += s.time_s;
    sum_y += s.backlog_tokens;
  }
  v.points_used = n;
  if (n < kMinStabilityPoints) {
    v.insufficient_data = true;
    return v;
  }
  const double mean_t = sum_t / static_cast<double>(n), mean_y = sum_y / static_cast<double>(n);
  double sxx = 0, sxy = 0;
  for (const auto& s : samples) {
    if (!in_fit(s)) continue;
    const double dt = s.time_s - mean_t;
    sxx += dt * dt;
    sxy += dt * (s.backlog_tokens - mean_y);
  }
  if (!(sxx > 0)) {  // every point at one instant: no slope to fit
    v.insufficient_data = true;
    return v;
  }
  const double slope = sxy / sxx;
  double ssr = 0;
  for (const auto& s : samples) {
    if (!in_fit(s)) continue;
    const double r = s.backlog_tokens - (mean_y + slope * (s.time_s - mean_t));
    ssr += r * r;
  }
  // Ordinary least squares treats the points as independent; a backlog is autocorrelated, so
  // the interval is narrower than the truth. The 1%-of-offered floor on the slope is what
  // keeps a stable run's slow wander from being called unstable.
  const double se = std::sqrt(ssr / static_cast<double>(n - 2) / sxx);
  const double half = t_quantile_975(n - 2) * se;
  v.slope_tokens_per_s = slope;
  v.ci_low = slope - half;
  v.ci_high = slope + half;
  const bool excludes_zero = v.ci_low > 0 || v.ci_high < 0;
  v.stable = !(slope > v.threshold_tokens_per_s && excludes_zero);
  return v;
}

}  // namespace batchproof::sim
