#include "sim/stability.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "sim/random.hpp"

using namespace batchproof::sim;

TEST_CASE("a linearly growing backlog is unstable, with its slope") {
  std::vector<BacklogSample> series;
  // 500 tokens/s of growth on 2000 tokens/s offered (threshold 20), with noise.
  Random rng(3);
  for (int i = 0; i <= 2000; ++i) {
    const double t = 0.5 * i;
    series.push_back({t, 100 + 500 * t + 2000 * (rng.uniform() - 0.5)});
  }
  const auto v = stability_verdict(series, 2000);
  CHECK_FALSE(v.stable);
  CHECK_FALSE(v.insufficient_data);
  CHECK(v.points_used == 1001);
  CHECK(v.threshold_tokens_per_s == 20.0);
  CHECK(v.slope_tokens_per_s == Approx(500).epsilon(0.01));
  CHECK(v.ci_low < v.slope_tokens_per_s);
  CHECK(v.ci_high > v.slope_tokens_per_s);
  CHECK(v.ci_low > 0);

  // Without noise the fit is exact and the interval collapses on the slope.
  std::vector<BacklogSample> exact;
  for (int i = 0; i < 100; ++i) exact.push_back({10.0 * i, 7.0 * 10 * i});
  const auto e = stability_verdict(exact, 100);
  CHECK_FALSE(e.stable);
  CHECK(e.slope_tokens_per_s == Approx(7.0));
  CHECK(e.ci_low == Approx(7.0));
  CHECK(e.ci_high == Approx(7.0));
}

TEST_CASE("only the second half of the run counts") {
  // Rising in the first half (a warm-up), flat in the second: stable.
  std::vector<BacklogSample> series;
  Random rng(5);
  for (int i = 0; i < 1000; ++i) {
    const double t = i;
    series.push_back({t, (t < 500 ? 10 * t : 5000) + 50 * (rng.uniform() - 0.5)});
  }
  const auto v = stability_verdict(series, 1000);
  CHECK(v.stable);
  CHECK(v.points_used == 500);
  CHECK(std::abs(v.slope_tokens_per_s) < 1.0);
}

TEST_CASE("a noisy bounded backlog is stable") {
  std::vector<BacklogSample> series;
  Random rng(7);
  for (int i = 0; i < 100000; ++i) {
    const double t = 0.01 * i;
    series.push_back({t, 3000 + 1000 * std::sin(t / 7) + 800 * rng.uniform()});
  }
  const auto v = stability_verdict(series, 5000);
  CHECK(v.stable);
  CHECK_FALSE(v.insufficient_data);
  CHECK(v.ci_low <= v.slope_tokens_per_s);
  CHECK(v.slope_tokens_per_s <= v.ci_high);
}

TEST_CASE("a slope below 1% of the offered rate is stable even when significant") {
  std::vector<BacklogSample> series;
  for (int i = 0; i < 200; ++i) series.push_back({1.0 * i, 5.0 * i});
  const auto slow = stability_verdict(series, 1000);  // threshold 10 tokens/s
  CHECK(slow.stable);
  CHECK(slow.ci_low > 0);
  CHECK(stability_verdict(series, 400).stable == false);  // threshold 4 tokens/s
}

TEST_CASE("unsorted samples and non-finite points are handled") {
  std::vector<BacklogSample> series;
  for (int i = 99; i >= 0; --i) series.push_back({1.0 * i, 3.0 * i});
  series.push_back({std::numeric_limits<double>::quiet_NaN(), 1e9});
  series.push_back({50, std::numeric_limits<double>::infinity()});
  const auto v = stability_verdict(series, 100);
  CHECK(v.points_used == 50);  // times 49.5 .. 99
  CHECK(v.slope_tokens_per_s == Approx(3.0));
  CHECK_FALSE(v.stable);
}

TEST_CASE("too few points: stable, flagged as insufficient") {
  CHECK(stability_verdict({}, 100).insufficient_data);
  CHECK(stability_verdict({}, 100).stable);
  std::vector<BacklogSample> three = {{0, 0}, {1, 1000}, {2, 2000}, {3, 3000}};
  const auto v = stability_verdict(three, 10);  // second half: t = 1.5 .. 3, two points
  CHECK(v.insufficient_data);
  CHECK(v.stable);
  CHECK(v.points_used == 2);
  std::vector<BacklogSample> instant(10, BacklogSample{5, 100});
  CHECK(stability_verdict(instant, 10).insufficient_data);
  std::vector<BacklogSample> enough = {{0, 0}, {1, 1000}, {2, 2000}, {3, 3000}, {4, 4000}};
  const auto w = stability_verdict(enough, 10);
  CHECK_FALSE(w.insufficient_data);
  CHECK(w.points_used == 3);
  CHECK_FALSE(w.stable);
}

TEST_CASE("t quantiles: table for small samples, expansion beyond") {
  CHECK(t_quantile_975(1) == Approx(12.706204736));
  CHECK(t_quantile_975(2) == Approx(4.302652730));
  CHECK(t_quantile_975(10) == Approx(2.228138852));
  CHECK(t_quantile_975(30) == Approx(2.042272456));
  CHECK(t_quantile_975(31) == Approx(2.039513446).epsilon(1e-7));
  CHECK(t_quantile_975(60) == Approx(2.000297822).epsilon(1e-7));
  CHECK(t_quantile_975(1000) == Approx(1.962339081).epsilon(1e-7));
  CHECK(t_quantile_975(100000000) == Approx(1.959963985).epsilon(1e-7));
  CHECK(std::isinf(t_quantile_975(0)));
  // Decreasing in the degrees of freedom, across the table's edge too.
  for (std::size_t v = 1; v < 200; ++v) CHECK(t_quantile_975(v + 1) < t_quantile_975(v));
}

TEST_CASE("fluid slope is offered minus usable capacity") {
  CHECK(fluid_slope(900, 1000) == -100.0);
  CHECK(fluid_slope(1200, 1000) == 200.0);
}
