#include "sim/arrival_stream.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/arrivals_file.hpp"

using namespace batchproof;
using namespace batchproof::sim;

namespace {

core::LengthLaw constant(std::int64_t n) {
  core::LengthLaw l;
  l.form = core::LengthLaw::Form::Constant;
  l.lo = l.hi = n;
  return l;
}

core::LengthLaw uniform(std::int64_t lo, std::int64_t hi) {
  core::LengthLaw l;
  l.form = core::LengthLaw::Form::Uniform;
  l.lo = lo;
  l.hi = hi;
  return l;
}

core::LengthLaw geometric(double mean) {
  core::LengthLaw l;
  l.form = core::LengthLaw::Form::Geometric;
  l.mean_param = mean;
  return l;
}

// The workload of docs/language.md: poisson 14 req/s, uniform 10..248, geometric mean 112.
core::Workload chat() {
  core::Workload w;
  w.name = "chat";
  w.arrivals.form = core::ArrivalProcess::Form::Poisson;
  w.arrivals.rate_per_s = 14;
  w.prompt = uniform(10, 248);
  w.output = geometric(112);
  return w;
}

core::Workload azure_conv() {
  core::Workload w;
  w.name = "conv";
  w.arrivals.form = core::ArrivalProcess::Form::Trace;
  w.arrivals.path = std::string(BATCHPROOF_SOURCE_DIR) + "/data/azure_llm_2023_conv.csv";
  core::Diagnostics diags;
  auto trace = core::read_arrivals(w.arrivals.path, core::TraceFormat::Auto, diags);
  REQUIRE(trace.has_value());
  w.arrivals.trace = std::move(*trace);
  return w;
}

bool same(const core::Arrival& a, const core::Arrival& b) {
  return a.time_s == b.time_s && a.prompt == b.prompt && a.output == b.output && a.cls == b.cls;
}

bool same(const std::vector<core::Arrival>& a, const std::vector<core::Arrival>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("poisson arrivals: rate, exponential gaps, lengths from the laws") {
  const auto w = chat();
  ArrivalStream stream(w, {});
  const std::size_t n = 200000;
  const auto arrivals = stream.take(n);
  REQUIRE(arrivals.size() == n);
  CHECK(stream.emitted() == n);
  CHECK(stream.rate_per_s() == 14.0);
  double prev = 0, sum_gap = 0, sum_gap2 = 0, sum_prompt = 0, sum_output = 0;
  for (const auto& a : arrivals) {
    REQUIRE(a.time_s > prev);  // strictly increasing: no two Poisson arrivals coincide
    const double g = a.time_s - prev;
    sum_gap += g;
    sum_gap2 += g * g;
    prev = a.time_s;
    sum_prompt += static_cast<double>(a.prompt);
    sum_output += static_cast<double>(a.output);
    REQUIRE(a.cls.empty());
  }
  const double mean_gap = sum_gap / n;
  // Rate: n/T has relative standard error 1/sqrt(n) ≈ 0.22%.
  CHECK(static_cast<double>(n) / arrivals.back().time_s == Approx(14.0).epsilon(0.012));
  // Exponential gaps: coefficient of variation 1.
  const double cv = std::sqrt(sum_gap2 / n - mean_gap * mean_gap) / mean_gap;
  CHECK(cv == Approx(1.0).epsilon(0.02));
  CHECK(sum_prompt / n == Approx(w.mean_prompt()).epsilon(0.006));
  CHECK(sum_output / n == Approx(w.mean_output()).epsilon(0.012));
}

TEST_CASE("fixed arrivals: one every gap, at exact multiples") {
  core::Workload w = chat();
  w.arrivals.form = core::ArrivalProcess::Form::Fixed;
  w.arrivals.gap_s = 0.4675;
  ArrivalStream stream(w, {});
  const auto arrivals = stream.take(1000);
  for (std::size_t k = 0; k < arrivals.size(); ++k) REQUIRE(arrivals[k].time_s == static_cast<double>(k + 1) * 0.4675);
  CHECK(stream.rate_per_s() == Approx(1 / 0.4675));
}

TEST_CASE("bursts: burst_size requests at the same instant, every gap") {
  core::Workload w = chat();
  w.arrivals.form = core::ArrivalProcess::Form::Bursts;
  w.arrivals.gap_s = 2;
  w.arrivals.burst_size = 8;
  ArrivalStream stream(w, {});
  const auto arrivals = stream.take(8 * 50);
  for (std::size_t i = 0; i < arrivals.size(); ++i) REQUIRE(arrivals[i].time_s == 2.0 * static_cast<double>(i / 8 + 1));
  CHECK(stream.rate_per_s() == 4.0);

  ArrivalStream until(w, {});
  const auto first = until.take_until(4.0);  // bursts at 2 s and 4 s, inclusive
  CHECK(first.size() == 16);
  CHECK(until.peek()->time_s == 6.0);
  CHECK(until.take_until(5.9).empty());

  // A rate of 8 req/s keeps the burst size and halves the gap.
  ArrivalStream faster(w, {.seed = 1, .rate = {.rate_per_s = 8.0}});
  CHECK(faster.take(9).back().time_s == 2.0);
}

TEST_CASE("trace replay: the azure conversation trace, record for record") {
  const auto w = azure_conv();
  const auto& trace = w.arrivals.trace;
  REQUIRE(trace.size() == 19366);
  ArrivalStream stream(w, {});
  const auto arrivals = stream.take(trace.size() + 10);
  REQUIRE(arrivals.size() == trace.size());
  CHECK_FALSE(stream.next().has_value());
  CHECK(stream.peek() == nullptr);
  for (std::size_t i = 0; i < trace.size(); ++i) REQUIRE(same(arrivals[i], trace[i]));
  // The file's first lines: 18:15:46.6805900,374,44 / 18:15:50.9951690,396,109 / 18:15:51.2224670,879,55.
  CHECK(arrivals[0].time_s == 0.0);
  CHECK(arrivals[0].prompt == 374);
  CHECK(arrivals[0].output == 44);
  CHECK(arrivals[1].time_s == Approx(4.314579).margin(1e-6));
  CHECK(arrivals[1].prompt == 396);
  CHECK(arrivals[1].output == 109);
  CHECK(arrivals[2].time_s == Approx(4.541877).margin(1e-6));
  CHECK(arrivals[2].prompt == 879);
  CHECK(arrivals[2].output == 55);
  CHECK(stream.rate_per_s() == w.arrivals.mean_rate());
}

TEST_CASE("trace replay at another rate stretches the times, keeping lengths") {
  const auto w = azure_conv();
  const double own = w.arrivals.mean_rate();
  for (double target : {own / 3, own * 2.5}) {
    ArrivalStream stream(w, {.seed = 1, .rate = {.rate_per_s = target}});
    const auto arrivals = stream.take(w.arrivals.trace.size());
    REQUIRE(arrivals.size() == w.arrivals.trace.size());
    const double span = arrivals.back().time_s - arrivals.front().time_s;
    CHECK(static_cast<double>(arrivals.size() - 1) / span == Approx(target).epsilon(1e-12));
    CHECK(stream.rate_per_s() == target);
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      REQUIRE(arrivals[i].prompt == w.arrivals.trace[i].prompt);
      REQUIRE(arrivals[i].output == w.arrivals.trace[i].output);
      if (i > 0) REQUIRE(arrivals[i].time_s >= arrivals[i - 1].time_s);
    }
  }
  // A scale factor does the same as the rate it implies.
  ArrivalStream scaled(w, {.seed = 1, .rate = {.rate_scale = 2.0}});
  const auto arrivals = scaled.take(w.arrivals.trace.size());
  const double span = arrivals.back().time_s - arrivals.front().time_s;
  CHECK(static_cast<double>(arrivals.size() - 1) / span == Approx(2 * own).epsilon(1e-12));
}

TEST_CASE("a rate override scales poisson times and keeps the requests") {
  const auto w = chat();
  ArrivalStream base(w, {.seed = 5});
  ArrivalStream doubled(w, {.seed = 5, .rate = {.rate_per_s = 28.0}});
  ArrivalStream scaled(w, {.seed = 5, .rate = {.rate_scale = 2.0}});
  for (int i = 0; i < 1000; ++i) {
    const auto a = *base.next(), b = *doubled.next(), c = *scaled.next();
    REQUIRE(b.time_s == Approx(a.time_s / 2).epsilon(1e-12));
    REQUIRE(same(b, c));
    REQUIRE(a.prompt == b.prompt);
    REQUIRE(a.output == b.output);
  }
  CHECK(doubled.rate_per_s() == 28.0);
}

TEST_CASE("classes are picked by weight, each with its own laws") {
  core::Workload w;
  w.arrivals.form = core::ArrivalProcess::Form::Poisson;
  w.arrivals.rate_per_s = 10;
  core::RequestClass small{"short", 3, constant(64), constant(16), {}};
  core::RequestClass big{"long", 1, constant(2048), geometric(256), {}};
  core::RequestClass never{"never", 0, constant(1), constant(1), {}};
  w.classes = {small, never, big};
  ArrivalStream stream(w, {});
  const int n = 100000;
  int shorts = 0;
  double prompt_sum = 0;
  for (int i = 0; i < n; ++i) {
    const auto a = *stream.next();
    REQUIRE(a.cls != "never");
    if (a.cls == "short") {
      ++shorts;
      REQUIRE(a.prompt == 64);
      REQUIRE(a.output == 16);
    } else {
      REQUIRE(a.cls == "long");
      REQUIRE(a.prompt == 2048);
    }
    prompt_sum += static_cast<double>(a.prompt);
  }
  // Binomial(n, 3/4): standard deviation ≈ 137.
  CHECK(std::abs(shorts - 75000) < 700);
  CHECK(prompt_sum / n == Approx(w.mean_prompt()).epsilon(0.01));
}

TEST_CASE("same seed, same stream: another seed, another stream") {
  const auto w = chat();
  ArrivalStream a(w, {.seed = 42}), b(w, {.seed = 42}), c(w, {.seed = 43});
  const auto xs = a.take(5000), ys = b.take(5000), zs = c.take(5000);
  CHECK(same(xs, ys));
  CHECK_FALSE(same(xs, zs));
  // take, next and peek draw the same sequence.
  ArrivalStream d(w, {.seed = 42});
  std::vector<core::Arrival> mixed;
  while (mixed.size() < 5000) {
    if (mixed.size() % 3 == 0) REQUIRE(d.peek() != nullptr);
    if (mixed.size() % 2 == 0) {
      mixed.push_back(*d.next());
    } else {
      auto more = d.take_until(d.peek()->time_s);
      for (auto& m : more) mixed.push_back(m);
    }
  }
  mixed.resize(5000);
  CHECK(same(xs, mixed));
}

TEST_CASE("a process with no usable rate yields nothing rather than hanging") {
  core::Workload w = chat();
  w.arrivals.rate_per_s = 0;
  ArrivalStream none(w, {});
  CHECK_FALSE(none.next().has_value());
  CHECK(none.take_until(1e9).empty());
  w.arrivals.form = core::ArrivalProcess::Form::Fixed;
  w.arrivals.gap_s = 0;
  ArrivalStream zero_gap(w, {});
  CHECK(zero_gap.take(10).empty());
  w.arrivals.form = core::ArrivalProcess::Form::Bursts;
  w.arrivals.gap_s = 1;
  w.arrivals.burst_size = 0;
  ArrivalStream no_burst(w, {});
  CHECK(no_burst.take(10).empty());
  w.arrivals.form = core::ArrivalProcess::Form::Poisson;
  w.arrivals.rate_per_s = 5;
  ArrivalStream overridden(w, {.seed = 1, .rate = {.rate_per_s = -1.0}});
  CHECK(overridden.take(10).empty());
}
