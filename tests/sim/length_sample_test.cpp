#include "sim/length_sample.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

using namespace batchproof;
using namespace batchproof::sim;
using core::LengthLaw;

namespace {

LengthLaw law(LengthLaw::Form form, std::int64_t lo, std::int64_t hi, double mean, std::optional<std::int64_t> max = {}) {
  LengthLaw l;
  l.form = form;
  l.lo = lo;
  l.hi = hi;
  l.mean_param = mean;
  l.max = max;
  return l;
}

LengthLaw uniform(std::int64_t lo, std::int64_t hi, std::optional<std::int64_t> max = {}) {
  return law(LengthLaw::Form::Uniform, lo, hi, 1, max);
}
LengthLaw geometric(double mean, std::optional<std::int64_t> max = {}) {
  return law(LengthLaw::Form::Geometric, 1, 1, mean, max);
}
LengthLaw exponential(double mean, std::optional<std::int64_t> max = {}) {
  return law(LengthLaw::Form::Exponential, 1, 1, mean, max);
}

struct Stats {
  double mean = 0, second = 0;
  std::int64_t min = 0, max = 0;
  std::vector<std::int64_t> draws;
};

Stats draw(const LengthLaw& l, int n = 200000, std::uint64_t seed = 11) {
  Random rng(seed);
  Stats s;
  long double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const auto x = sample_length(l, rng);
    if (i == 0 || x < s.min) s.min = x;
    if (i == 0 || x > s.max) s.max = x;
    sum += x;
    sum2 += static_cast<long double>(x) * x;
    s.draws.push_back(x);
  }
  s.mean = static_cast<double>(sum / n);
  s.second = static_cast<double>(sum2 / n);
  return s;
}

// The sample mean of n draws is within 5 standard errors of the law's exact mean; the
// standard error comes from core's own second moment, so this also checks that the sampler
// draws the distribution whose moments core computes.
void check_mean(const LengthLaw& l, const Stats& s, int n = 200000) {
  const double var = l.second_moment() - l.mean() * l.mean();
  const double tolerance = 5 * std::sqrt(var / n);
  INFO("law mean " << l.mean() << ", sample mean " << s.mean << ", tolerance " << tolerance);
  CHECK(std::abs(s.mean - l.mean()) <= tolerance);
  CHECK(std::abs(s.second - l.second_moment()) <= 0.02 * l.second_moment());
}

double fraction_equal(const Stats& s, std::int64_t v) {
  double k = 0;
  for (auto x : s.draws) k += x == v;
  return k / static_cast<double>(s.draws.size());
}

}  // namespace

TEST_CASE("constant law: always its value, truncated by max") {
  const auto s = draw(law(LengthLaw::Form::Constant, 64, 64, 1), 1000);
  CHECK(s.min == 64);
  CHECK(s.max == 64);
}

TEST_CASE("uniform 10..248: mean 129 and the whole range") {
  const auto l = uniform(10, 248);
  REQUIRE(l.mean() == Approx(129.0));
  const auto s = draw(l);
  check_mean(l, s);
  CHECK(std::abs(s.mean - 129.0) < 0.5);
  CHECK(s.min == 10);
  CHECK(s.max == 248);
}

TEST_CASE("uniform with a max below hi piles the tail on max") {
  const auto l = uniform(1, 100, 50);
  const auto s = draw(l);
  check_mean(l, s);
  CHECK(s.max == 50);
  CHECK(fraction_equal(s, 50) == Approx(0.51).margin(0.006));
}

TEST_CASE("geometric mean 112: mean, P(1) = 1/112, truncation piles the tail on max") {
  const auto l = geometric(112);
  const auto s = draw(l);
  check_mean(l, s);
  CHECK(std::abs(s.mean - 112.0) < 1.3);
  CHECK(s.min == 1);
  CHECK(fraction_equal(s, 1) == Approx(1.0 / 112).margin(0.0011));
  const auto truncated = geometric(112, 150);
  const auto st = draw(truncated);
  check_mean(truncated, st);
  CHECK(st.max == 150);
  // P(X ≥ 150) = (1 − 1/112)^149.
  CHECK(fraction_equal(st, 150) == Approx(std::pow(1 - 1.0 / 112, 149)).margin(0.005));
}

TEST_CASE("geometric with mean 1 (p = 1) is always 1") {
  const auto s = draw(geometric(1), 1000);
  CHECK(s.min == 1);
  CHECK(s.max == 1);
}

TEST_CASE("exponential mean 50 max 400: ceil of Exp, matching core's exact mean") {
  const auto l = exponential(50, 400);
  // ⌈Exp(50)⌉ has mean 1/(1 − e^(−1/50)) ≈ 50.5; the max shaves a little off.
  REQUIRE(l.mean() > 50.0);
  REQUIRE(l.mean() < 50.6);
  const auto s = draw(l);
  check_mean(l, s);
  CHECK(s.min == 1);
  CHECK(s.max == 400);
  CHECK(fraction_equal(s, 1) == Approx(1 - std::exp(-1.0 / 50)).margin(0.0012));
  const auto untruncated = exponential(50);
  check_mean(untruncated, draw(untruncated));
}

TEST_CASE("empirical law: each value equally likely, then max") {
  LengthLaw l = law(LengthLaw::Form::Empirical, 1, 1, 1);
  l.values = {5, 10, 10, 400};
  const auto s = draw(l);
  check_mean(l, s);
  CHECK(fraction_equal(s, 10) == Approx(0.5).margin(0.006));
  l.max = 100;
  const auto t = draw(l);
  check_mean(l, t);
  CHECK(t.max == 100);
  l.values.clear();
  Random rng(1);
  CHECK(sample_length(l, rng) == 0);  // like mean(): no values, no length
}

TEST_CASE("sampling is deterministic for a seed") {
  const auto a = draw(geometric(112), 1000, 99);
  const auto b = draw(geometric(112), 1000, 99);
  const auto c = draw(geometric(112), 1000, 100);
  CHECK(a.draws == b.draws);
  CHECK(a.draws != c.draws);
}

TEST_CASE("an enormous geometric mean saturates instead of overflowing") {
  const auto s = draw(geometric(1e30), 2000);
  CHECK(s.min >= 1);
  CHECK(s.max > 0);
}
