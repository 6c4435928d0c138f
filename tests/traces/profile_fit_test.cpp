// Profile fitting recovers the parameters of a known profile from noisy samples drawn with an
// explicit seed, and says how well each form fits.
#include <catch2/catch.hpp>

#include <cmath>

#include "sim/random.hpp"
#include "traces/profile_fit.hpp"

using namespace batchproof;
using traces::fit_profile;
using traces::TimingSamples;

namespace {

// Normal noise (Box-Muller) from the simulator's generator: the same draws everywhere.
double normal(sim::Random& rng, double sd) {
  return sd * std::sqrt(-2 * std::log(rng.uniform_open())) * std::cos(2 * M_PI * rng.uniform());
}

TimingSamples samples_of(const core::TimeModel& truth, std::uint64_t seed, double noise_sd, int n,
                         std::int64_t max_tokens) {
  sim::Random rng(seed);
  TimingSamples s;
  for (int i = 0; i < n; ++i) {
    std::int64_t b = rng.uniform_int(1, max_tokens);
    s.add(b, truth.seconds(b) + normal(rng, noise_sd));
  }
  return s;
}

}  // namespace

TEST_CASE("the staircase fit recovers the paper's profile from noisy samples", "[profile_fit]") {
  core::TimeModel truth;  // Dai et al.: 11.28 ms + 35.47 ms * ceil(b / 128)
  truth.form = core::TimeModel::Form::Staircase;
  truth.c_s = 0.01128;
  truth.a_s = 0.03547;
  truth.b0 = 128;
  auto fits = fit_profile(samples_of(truth, 7, 0.001, 4000, 512));
  REQUIRE(fits);
  const auto& s = fits->staircase;
  CHECK(s.model.form == core::TimeModel::Form::Staircase);
  CHECK(s.model.b0 == 128);
  CHECK(s.model.c_s == Approx(0.01128).margin(0.0003));
  CHECK(s.model.a_s == Approx(0.03547).margin(0.0002));
  CHECK(s.samples == 4000);
  CHECK(s.r2 > 0.99);
  CHECK(s.rmse_s == Approx(0.001).epsilon(0.05));  // the noise, nothing more
  CHECK(fits->best == core::TimeModel::Form::Staircase);
  // Residuals by powers of two of the batch size: no bias anywhere.
  REQUIRE_FALSE(s.residuals.empty());
  for (const auto& bin : s.residuals)
    if (bin.samples > 50) CHECK(std::abs(bin.mean_s) < 0.0006);
}

TEST_CASE("the staircase fit finds other granularities", "[profile_fit]") {
  for (std::int64_t b0 : {16, 64, 256}) {
    core::TimeModel truth;
    truth.form = core::TimeModel::Form::Staircase;
    truth.c_s = 0.005;
    truth.a_s = 0.002 * static_cast<double>(b0) / 16;
    truth.b0 = b0;
    auto fits = fit_profile(samples_of(truth, 11, 0.0002, 3000, 1024));
    REQUIRE(fits);
    CHECK(fits->staircase.model.b0 == b0);
    CHECK(fits->staircase.model.a_s == Approx(truth.a_s).epsilon(0.02));
  }
}

TEST_CASE("the piecewise linear fit recovers its knee and slope, and wins over the staircase", "[profile_fit]") {
  core::TimeModel truth;  // the shape of the llama2-70b fits: flat, then linear past the knee
  truth.form = core::TimeModel::Form::Linear;
  truth.c_s = 0.06159;
  truth.a_s = 0.00036584;
  truth.b0 = 95;
  auto fits = fit_profile(samples_of(truth, 3, 0.0005, 4000, 2048));
  REQUIRE(fits);
  const auto& l = fits->linear;
  CHECK(l.model.form == core::TimeModel::Form::Linear);
  CHECK(l.model.b0 == Approx(95).margin(8));
  CHECK(l.model.c_s == Approx(0.06159).margin(0.001));
  CHECK(l.model.a_s == Approx(0.00036584).epsilon(0.02));
  CHECK(l.r2 > 0.999);
  CHECK(fits->best == core::TimeModel::Form::Linear);
  CHECK(fits->linear.rmse_s < fits->staircase.rmse_s);
}

TEST_CASE("the table fit has one point per power-of-two range of sizes", "[profile_fit]") {
  TimingSamples s;
  for (std::int64_t b : {1, 3, 3, 5, 7, 100}) s.add(b, 0.01 * static_cast<double>(b));
  auto fits = fit_profile(s);
  REQUIRE(fits);
  // Bins [1], [2, 3], [4, 7], [64, 127]: the mean size (rounded) and the mean time of each.
  std::vector<std::pair<std::int64_t, double>> expected{{1, 0.01}, {3, 0.03}, {6, 0.06}, {100, 1.0}};
  REQUIRE(fits->table.model.table.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(fits->table.model.table[i].first == expected[i].first);
    CHECK(fits->table.model.table[i].second == Approx(expected[i].second));
  }
}

TEST_CASE("exact samples fit exactly; too few sizes fit nothing", "[profile_fit]") {
  TimingSamples exact;
  for (std::int64_t b = 1; b <= 512; ++b) exact.add(b, 0.01 + 0.02 * static_cast<double>((b + 63) / 64));
  auto fits = fit_profile(exact);
  REQUIRE(fits);
  CHECK(fits->staircase.model.b0 == 64);
  CHECK(fits->staircase.model.c_s == Approx(0.01));
  CHECK(fits->staircase.model.a_s == Approx(0.02));
  CHECK(fits->staircase.r2 == Approx(1.0));
  CHECK(fits->staircase.max_abs_residual_s == Approx(0).margin(1e-12));

  TimingSamples two;
  two.add(10, 0.1);
  two.add(10, 0.1);
  two.add(20, 0.2);
  CHECK_FALSE(fit_profile(two));
  // Samples without a batch or without a finite time are not samples.
  two.add(0, 0.1);
  two.add(30, std::nan(""));
  CHECK(two.count() == 3);
}
