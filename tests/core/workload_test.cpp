#include "core/workload.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>

using namespace batchproof::core;

namespace {

LengthLaw constant(std::int64_t n) {
  LengthLaw l;
  l.form = LengthLaw::Form::Constant;
  l.lo = l.hi = n;
  return l;
}

LengthLaw uniform(std::int64_t lo, std::int64_t hi) {
  LengthLaw l;
  l.form = LengthLaw::Form::Uniform;
  l.lo = lo;
  l.hi = hi;
  return l;
}

LengthLaw geometric(double mean) {
  LengthLaw l;
  l.form = LengthLaw::Form::Geometric;
  l.mean_param = mean;
  return l;
}

LengthLaw exponential(double mean) {
  LengthLaw l;
  l.form = LengthLaw::Form::Exponential;
  l.mean_param = mean;
  return l;
}

LengthLaw with_max(LengthLaw l, std::int64_t max) {
  l.max = max;
  return l;
}

struct BruteMoments {
  long double m1 = 0, m2 = 0;
};

// E[min(X, max)] and E[min(X, max)²] by summing a pmf on {1..max−1} and giving max the rest:
// an independent check of the closed forms and series in workload.cpp.
BruteMoments brute(const std::function<long double(std::int64_t)>& pmf, std::int64_t max) {
  BruteMoments b;
  long double below = 0;
  for (std::int64_t k = 1; k < max; ++k) {
    const long double p = pmf(k);
    below += p;
    b.m1 += p * k;
    b.m2 += p * k * k;
  }
  const long double rest = 1 - below;
  b.m1 += rest * max;
  b.m2 += rest * max * max;
  return b;
}

std::function<long double(std::int64_t)> geometric_pmf(long double p) {
  return [p](std::int64_t k) { return p * std::pow(1 - p, static_cast<long double>(k - 1)); };
}

std::function<long double(std::int64_t)> ceil_exponential_pmf(long double mean) {
  return [mean](std::int64_t k) {
    return std::exp(-static_cast<long double>(k - 1) / mean) - std::exp(-static_cast<long double>(k) / mean);
  };
}

void check_against(const LengthLaw& law, const BruteMoments& b) {
  CHECK(law.mean() == Approx(static_cast<double>(b.m1)).epsilon(1e-12));
  CHECK(law.second_moment() == Approx(static_cast<double>(b.m2)).epsilon(1e-12));
}

Arrival arrival(double t, std::int64_t s, std::int64_t o) {
  Arrival a;
  a.time_s = t;
  a.prompt = s;
  a.output = o;
  return a;
}

}  // namespace

TEST_CASE("constant law, with and without a maximum") {
  CHECK(constant(64).mean() == 64);
  CHECK(constant(64).second_moment() == 4096);
  CHECK(constant(64).largest() == 64);
  const auto capped = with_max(constant(100), 50);
  CHECK(capped.mean() == 50);
  CHECK(capped.second_moment() == 2500);
  CHECK(capped.largest() == 50);
}

TEST_CASE("uniform law is exact on {lo..hi}") {
  const auto u = uniform(10, 248);
  CHECK(u.mean() == 129);
  // variance (239² − 1)/12 = 4760, plus 129².
  CHECK(u.second_moment() == 21401);
  CHECK(u.largest() == 248);
  CHECK(uniform(7, 7).mean() == 7);
  CHECK(uniform(7, 7).second_moment() == 49);

  // Truncated: 10..99 keep 1/239 each, 100 takes the other 149/239.
  const auto t = with_max(uniform(10, 248), 100);
  const auto b = brute([](std::int64_t k) { return k >= 10 && k <= 248 ? 1.0L / 239 : 0.0L; }, 100);
  check_against(t, b);
  CHECK(t.largest() == 100);
  CHECK(with_max(uniform(10, 248), 500).mean() == 129);
  CHECK(with_max(uniform(10, 248), 5).mean() == 5);  // everything is cut to the maximum
  CHECK(with_max(uniform(10, 248), 10).mean() == 10);
}

TEST_CASE("uniform law far from zero keeps its digits") {
  const auto u = uniform(1'000'000'000, 1'000'000'002);
  CHECK(u.mean() == 1'000'000'001);
  CHECK(u.second_moment() == Approx(1e18 + 2e9 + 1 + 2.0 / 3).epsilon(1e-15));
}

TEST_CASE("geometric law: mean 112 truncated at 4096") {
  const auto g = geometric(112);
  CHECK(g.mean() == Approx(112).epsilon(1e-15));
  // E[X²] = (2 − p)/p² with p = 1/112.
  CHECK(g.second_moment() == Approx(24976).epsilon(1e-15));
  CHECK_FALSE(g.largest().has_value());

  const auto t = with_max(geometric(112), 4096);
  // E[min(X, 4096)] = 112·(1 − (111/112)^4096): the tail beyond 4096 is below 1e-15.
  CHECK(t.mean() == Approx(112 * -std::expm1(4096 * std::log1p(-1.0 / 112))).epsilon(1e-15));
  check_against(t, brute(geometric_pmf(1.0L / 112), 4096));
  CHECK(t.largest() == 4096);
}

TEST_CASE("geometric law: a maximum that matters") {
  check_against(with_max(geometric(112), 128), brute(geometric_pmf(1.0L / 112), 128));
  check_against(with_max(geometric(112), 1), brute(geometric_pmf(1.0L / 112), 1));
  check_against(with_max(geometric(3), 2), brute(geometric_pmf(1.0L / 3), 2));
  // A maximum far below the mean: the series branch, where 1 − q^max would cancel.
  check_against(with_max(geometric(1e6), 10), brute(geometric_pmf(1.0L / 1e6), 10));
  check_against(with_max(geometric(5000), 2000), brute(geometric_pmf(1.0L / 5000), 2000));
  check_against(with_max(geometric(2000), 1000), brute(geometric_pmf(1.0L / 2000), 1000));
}

TEST_CASE("geometric law with mean 1 is the constant 1") {
  CHECK(geometric(1).mean() == 1);
  CHECK(geometric(1).second_moment() == 1);
  CHECK(with_max(geometric(1), 50).mean() == 1);
  CHECK(with_max(geometric(1), 50).second_moment() == 1);
  CHECK(geometric(0.5).mean() == 1);  // below 1 token: nothing but 1 is possible
}

TEST_CASE("exponential law is the ceiling of Exp(mean)") {
  const auto e = exponential(112);
  const double p = -std::expm1(-1.0 / 112);
  CHECK(e.mean() == Approx(1 / p).epsilon(1e-15));
  CHECK(e.mean() == Approx(112.500744).epsilon(1e-8));  // m + 1/2 + 1/(12m) + ..
  CHECK(e.second_moment() == Approx((2 - p) / (p * p)).epsilon(1e-15));
  CHECK_FALSE(e.largest().has_value());
  check_against(with_max(exponential(112), 4096), brute(ceil_exponential_pmf(112), 4096));
  check_against(with_max(exponential(112), 100), brute(ceil_exponential_pmf(112), 100));
  check_against(with_max(exponential(0.25), 8), brute(ceil_exponential_pmf(0.25), 8));
  CHECK(with_max(exponential(112), 100).largest() == 100);
}

TEST_CASE("empirical law averages its values, cut at the maximum") {
  LengthLaw l;
  l.form = LengthLaw::Form::Empirical;
  l.values = {1, 5, 10};
  CHECK(l.mean() == Approx(16.0 / 3));
  CHECK(l.second_moment() == Approx(126.0 / 3));
  CHECK(l.largest() == 10);
  l.max = 6;
  CHECK(l.mean() == 4);
  CHECK(l.second_moment() == Approx(62.0 / 3));
  CHECK(l.largest() == 6);

  LengthLaw empty;
  empty.form = LengthLaw::Form::Empirical;
  CHECK(empty.mean() == 0);
  CHECK(empty.second_moment() == 0);
  CHECK(empty.largest() == 0);
}

TEST_CASE("mean arrival rates") {
  ArrivalProcess a;
  a.form = ArrivalProcess::Form::Poisson;
  a.rate_per_s = 14;
  CHECK(a.mean_rate() == 14);

  a.form = ArrivalProcess::Form::Fixed;
  a.gap_s = 0.4675;
  CHECK(a.mean_rate() == Approx(1 / 0.4675));
  a.gap_s = 0;
  CHECK(a.mean_rate() == 0);

  a.form = ArrivalProcess::Form::Bursts;
  a.burst_size = 8;
  a.gap_s = 2;
  CHECK(a.mean_rate() == 4);

  a.form = ArrivalProcess::Form::Trace;
  CHECK(a.mean_rate() == 0);  // empty
  a.trace = {arrival(5, 1, 1)};
  CHECK(a.mean_rate() == 0);  // one arrival has no span
  a.trace = {arrival(5, 1, 1), arrival(5, 1, 1)};
  CHECK(a.mean_rate() == 0);  // zero span
  a.trace = {arrival(0, 1, 1), arrival(1, 1, 1), arrival(3, 1, 1)};
  CHECK(a.mean_rate() == Approx(2.0 / 3));
}

TEST_CASE("workload lengths from its laws") {
  Workload w;
  w.prompt = uniform(10, 248);
  w.output = with_max(geometric(112), 4096);
  CHECK(w.mean_prompt() == 129);
  CHECK(w.mean_output() == Approx(112).epsilon(1e-14));
  CHECK(w.max_prompt() == 248);
  CHECK(w.max_output() == 4096);
  CHECK(w.mean_prompt_output() == Approx(129 * 112).epsilon(1e-14));
  CHECK(w.mean_output_squared() == Approx(w.output->second_moment()));

  w.output = geometric(112);
  CHECK_FALSE(w.max_output().has_value());
}

TEST_CASE("workload lengths from weighted classes") {
  Workload w;
  RequestClass short_class;
  short_class.name = "short";
  short_class.weight = 3;
  short_class.prompt = constant(64);
  short_class.output = constant(16);
  RequestClass long_class;
  long_class.name = "long";
  long_class.weight = 1;
  long_class.prompt = constant(2048);
  long_class.output = geometric(256);
  w.classes = {short_class, long_class};

  CHECK(w.mean_prompt() == 560);  // ¾·64 + ¼·2048
  CHECK(w.mean_output() == 76);   // ¾·16 + ¼·256
  // Independent within a class, not across: ¾·64·16 + ¼·2048·256.
  CHECK(w.mean_prompt_output() == 131840);
  // ¾·16² + ¼·(2 − 1/256)·256².
  CHECK(w.mean_output_squared() == 32896);
  CHECK(w.max_prompt() == 2048);
  CHECK_FALSE(w.max_output().has_value());

  w.classes[1].output = with_max(geometric(256), 1000);
  CHECK(w.max_output() == 1000);
}

TEST_CASE("workload lengths from a trace keep the pairs") {
  Workload w;
  w.arrivals.form = ArrivalProcess::Form::Trace;
  w.arrivals.trace = {arrival(0, 10, 2), arrival(1, 20, 4), arrival(3, 30, 6)};
  CHECK(w.mean_prompt() == 20);
  CHECK(w.mean_output() == 4);
  CHECK(w.mean_prompt_output() == Approx(280.0 / 3));  // not 20·4: long prompts had long outputs
  CHECK(w.mean_output_squared() == Approx(56.0 / 3));
  CHECK(w.max_prompt() == 30);
  CHECK(w.max_output() == 6);
}
