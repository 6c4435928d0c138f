#include "sim/histogram.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/random.hpp"

using namespace batchproof::sim;

namespace {

// The sample of rank ⌈q·n⌉ (1-based), the definition Histogram::quantile estimates.
double exact_quantile(std::vector<double> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(q * n - 1e-9 * std::max(1.0, q * n)));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void check_quantiles(const Histogram& h, const std::vector<double>& values) {
  for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0}) {
    const double exact = exact_quantile(values, q);
    INFO("q = " << q << ": exact " << exact << ", histogram " << h.quantile(q));
    CHECK(std::abs(h.quantile(q) - exact) <= Histogram::kRelativeError * exact);
  }
}

}  // namespace

TEST_CASE("histogram quantiles of known distributions are within 1/128") {
  REQUIRE(Histogram::kRelativeError < 0.01);
  Random rng(17);
  SECTION("exponential latencies around 50 ms") {
    Histogram h;
    std::vector<double> values;
    for (int i = 0; i < 200000; ++i) values.push_back(rng.exponential(20));
    for (double v : values) h.record(v);
    check_quantiles(h, values);
    // Exp(20): p50 = ln 2 / 20, p99 = ln 100 / 20.
    CHECK(h.quantile(0.5) == Approx(std::log(2.0) / 20).epsilon(0.02));
    CHECK(h.quantile(0.99) == Approx(std::log(100.0) / 20).epsilon(0.03));
  }
  SECTION("log-uniform over nine decades") {
    Histogram h;
    std::vector<double> values;
    for (int i = 0; i < 100000; ++i) values.push_back(std::pow(10.0, -6 + 9 * rng.uniform()));
    for (double v : values) h.record(v);
    check_quantiles(h, values);
  }
  SECTION("uniform on [1, 2): p50 = 1.5, p90 = 1.9") {
    Histogram h;
    std::vector<double> values;
    for (int i = 0; i < 100000; ++i) values.push_back(1 + rng.uniform());
    for (double v : values) h.record(v);
    check_quantiles(h, values);
    CHECK(h.quantile(0.5) == Approx(1.5).epsilon(0.01));
    CHECK(h.quantile(0.9) == Approx(1.9).epsilon(0.01));
  }
}

TEST_CASE("histogram count, mean, min and max are exact") {
  Histogram h;
  for (int i = 1; i <= 1000; ++i) h.record(0.001 * i);
  CHECK(h.count() == 1000);
  CHECK(h.mean() == Approx(0.5005).epsilon(1e-14));
  CHECK(h.sum() == Approx(500.5).epsilon(1e-14));
  CHECK(h.min() == 0.001);
  CHECK(h.max() == 1.0);
  CHECK(h.quantile(0) == 0.001);
  CHECK(h.quantile(1) == 1.0);
  // A tiny value after a huge one survives in the compensated sum.
  Histogram big;
  big.record(1e16);
  for (int i = 0; i < 10; ++i) big.record(1.0);
  CHECK(big.sum() == 1e16 + 10);
}

TEST_CASE("histogram record with a count, zeros, negatives, non-finite values") {
  Histogram h;
  h.record(0.25, 3);
  h.record(0.0);
  h.record(-1e-17);  // rounding in a subtraction: counts as 0
  h.record(std::numeric_limits<double>::quiet_NaN());
  h.record(std::numeric_limits<double>::infinity(), 2);
  h.record(1.0, 0);
  CHECK(h.count() == 5);
  CHECK(h.rejected() == 3);
  CHECK(h.min() == 0.0);
  CHECK(h.max() == 0.25);
  CHECK(h.mean() == Approx(0.15));
  CHECK(h.quantile(0.4) == 0.0);
  CHECK(h.quantile(0.41) == Approx(0.25).epsilon(Histogram::kRelativeError));
  // Beyond kLargest: the quantile is the exact maximum.
  Histogram huge;
  huge.record(1.0);
  huge.record(1e12);
  CHECK(huge.quantile(0.99) == 1e12);
}

TEST_CASE("merged histograms equal one histogram of all the samples") {
  Random rng(23);
  Histogram a, b, all;
  std::vector<double> values;
  for (int i = 0; i < 50000; ++i) {
    const double v = rng.exponential(i % 2 ? 5 : 50);
    values.push_back(v);
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.min() == all.min());
  CHECK(a.max() == all.max());
  CHECK(a.mean() == Approx(all.mean()).epsilon(1e-14));
  for (double q : {0.5, 0.9, 0.99}) CHECK(a.quantile(q) == all.quantile(q));
  check_quantiles(a, values);

  Histogram empty;
  a.merge(empty);
  CHECK(a.count() == all.count());
  empty.merge(all);
  CHECK(empty.count() == all.count());
  CHECK(empty.min() == all.min());
  CHECK(empty.quantile(0.5) == all.quantile(0.5));

  Histogram self;
  self.record(2.0);
  self.record(4.0);
  self.merge(self);
  CHECK(self.count() == 4);
  CHECK(self.mean() == 3.0);
}

TEST_CASE("an empty histogram reports zeros") {
  Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.mean() == 0.0);
  CHECK(h.min() == 0.0);
  CHECK(h.max() == 0.0);
  CHECK(h.quantile(0.5) == 0.0);
  CHECK(h.quantile(0.99) == 0.0);
  h.record(3.0);
  h.clear();
  CHECK(h.count() == 0);
  CHECK(h.quantile(0.5) == 0.0);
}

TEST_CASE("histogram memory does not grow with the samples") {
  Histogram h;
  const std::size_t before = h.memory_bytes();
  CHECK(before < 64 * 1024);
  Random rng(29);
  for (int i = 0; i < 2000000; ++i) h.record(rng.exponential(1) * std::pow(10.0, (i % 12) - 6));
  CHECK(h.memory_bytes() == before);
  Histogram other;
  other.merge(h);
  CHECK(other.memory_bytes() == before);
}
