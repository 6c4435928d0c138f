#include "core/workload.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace batchproof::core {

namespace {

struct Moments {
  double m1 = 0, m2 = 0;  // E[Y], E[Y²]
};

// Y = min(X, n) for X geometric on {1,2,..} with success probability p (P(X ≥ k) = q^(k−1)).
// E[Y] = Σ_{k=1..n} q^(k−1) = S0 and E[Y²] = Σ (2k−1)·q^(k−1) = 2·S1 − S0, S1 = Σ k·q^(k−1).
// The closed forms lose digits when n·p is small (1 − q^n ≈ n·p cancels), so there we expand
// q^j binomially instead: S0 = Σ_i (−p)^i·C(n, i+1), S1 = Σ_i (−p)^i·(i+1)·C(n+1, i+2), whose
// terms shrink at least by n·p/2 each step.
Moments truncated_geometric(double p, std::int64_t n) {
  if (n < 1) return {static_cast<double>(n), static_cast<double>(n) * static_cast<double>(n)};
  const double nd = static_cast<double>(n);
  double s0 = 0, s1 = 0;
  if (nd * p <= 0.5) {
    double t0 = nd;                  // i = 0 term of S0: C(n, 1)
    double t1 = nd * (nd + 1) / 2;   // i = 0 term of S1: C(n+1, 2)
    for (int i = 0; i < 200 && (t0 != 0 || t1 != 0); ++i) {
      s0 += t0;
      s1 += t1;
      const double di = i;
      t0 *= -p * (nd - di - 1) / (di + 2);
      t1 *= -p * (di + 2) * (nd - di - 1) / ((di + 1) * (di + 3));
      if (std::abs(t0) <= 1e-18 * std::abs(s0) && std::abs(t1) <= 1e-18 * std::abs(s1)) break;
    }
  } else {
    const double r = std::exp(nd * std::log1p(-p));  // q^n
    const double one_minus_r = -std::expm1(nd * std::log1p(-p));
    s0 = one_minus_r / p;
    s1 = (one_minus_r - nd * p * r) / (p * p);
  }
  return {s0, 2 * s1 - s0};
}

Moments geometric_moments(double p, const std::optional<std::int64_t>& max) {
  // A mean below 1 token (or an exponential mean ≤ 0) leaves only the value 1.
  if (!(p > 0) || p > 1) p = 1;
  if (max) return truncated_geometric(p, *max);
  return {1 / p, (2 - p) / (p * p)};
}

// Sum and sum of squares of the integers a..b (a ≤ b), without the cancellation of
// n(n+1)(2n+1)/6 differences: count·(variance + mean²) of a uniform run.
std::pair<double, double> run_sums(std::int64_t a, std::int64_t b) {
  const double count = static_cast<double>(b) - static_cast<double>(a) + 1;
  const double mid = (static_cast<double>(a) + static_cast<double>(b)) / 2;
  return {count * mid, count * ((count * count - 1) / 12 + mid * mid)};
}

Moments uniform_moments(std::int64_t lo, std::int64_t hi, const std::optional<std::int64_t>& max) {
  if (hi < lo) std::swap(lo, hi);
  const double n = static_cast<double>(hi) - static_cast<double>(lo) + 1;
  if (max && *max < lo) return {static_cast<double>(*max), static_cast<double>(*max) * static_cast<double>(*max)};
  if (!max || *max >= hi) {
    auto [s1, s2] = run_sums(lo, hi);
    return {s1 / n, s2 / n};
  }
  // lo..max−1 keep their own mass; max takes the rest, (hi − max + 1)/n.
  const double m = static_cast<double>(*max);
  const double tail = static_cast<double>(hi) - m + 1;
  double s1 = tail * m, s2 = tail * m * m;
  if (*max > lo) {
    auto [r1, r2] = run_sums(lo, *max - 1);
    s1 += r1;
    s2 += r2;
  }
  return {s1 / n, s2 / n};
}

Moments empirical_moments(const std::vector<std::int64_t>& values, const std::optional<std::int64_t>& max) {
  if (values.empty()) return {};
  // long double keeps the sums exact for any realistic column (integers up to 2^64 on x86).
  long double s1 = 0, s2 = 0;
  for (std::int64_t v : values) {
    const long double x = static_cast<long double>(max ? std::min(v, *max) : v);
    s1 += x;
    s2 += x * x;
  }
  const long double n = static_cast<long double>(values.size());
  return {static_cast<double>(s1 / n), static_cast<double>(s2 / n)};
}

Moments law_moments(const LengthLaw& law) {
  switch (law.form) {
    case LengthLaw::Form::Constant: {
      const double v = static_cast<double>(law.max ? std::min(law.lo, *law.max) : law.lo);
      return {v, v * v};
    }
    case LengthLaw::Form::Uniform:
      return uniform_moments(law.lo, law.hi, law.max);
    case LengthLaw::Form::Geometric:
      return geometric_moments(1 / law.mean_param, law.max);
    case LengthLaw::Form::Exponential:
      // ⌈Exp(m)⌉ = k exactly when X ∈ (k−1, k]: geometric with p = 1 − e^(−1/m).
      return geometric_moments(law.mean_param > 0 ? -std::expm1(-1 / law.mean_param) : 1.0, law.max);
    case LengthLaw::Form::Empirical:
      return empirical_moments(law.values, law.max);
  }
  return {};
}

// Class weights as shares summing to 1; non-positive weights count as none, and if no class
// has a positive weight the classes share equally (validation reports the bad weights).
std::vector<double> class_shares(const std::vector<RequestClass>& classes) {
  std::vector<double> shares;
  double total = 0;
  for (const auto& c : classes) {
    const double w = std::isfinite(c.weight) && c.weight > 0 ? c.weight : 0.0;
    shares.push_back(w);
    total += w;
  }
  for (auto& s : shares) s = total > 0 ? s / total : 1.0 / static_cast<double>(shares.size());
  return shares;
}

enum class Side { Prompt, Output };

std::int64_t length_of(const Arrival& a, Side side) { return side == Side::Prompt ? a.prompt : a.output; }
const LengthLaw& class_law(const RequestClass& c, Side side) { return side == Side::Prompt ? c.prompt : c.output; }

// Averages of f over the trace's actual requests (0 for an empty trace).
template <typename F>
double trace_mean(const std::vector<Arrival>& trace, F f) {
  if (trace.empty()) return 0.0;
  long double sum = 0;
  for (const auto& a : trace) sum += f(a);
  return static_cast<double>(sum / static_cast<long double>(trace.size()));
}

Moments side_moments(const Workload& w, Side side) {
  const auto& law = side == Side::Prompt ? w.prompt : w.output;
  if (law) return law_moments(*law);
  if (!w.classes.empty()) {
    Moments mix;
    const auto shares = class_shares(w.classes);
    for (std::size_t i = 0; i < w.classes.size(); ++i) {
      const Moments m = law_moments(class_law(w.classes[i], side));
      mix.m1 += shares[i] * m.m1;
      mix.m2 += shares[i] * m.m2;
    }
    return mix;
  }
  const auto& trace = w.arrivals.trace;
  return {trace_mean(trace, [&](const Arrival& a) { return static_cast<long double>(length_of(a, side)); }),
          trace_mean(trace, [&](const Arrival& a) {
            const auto x = static_cast<long double>(length_of(a, side));
            return x * x;
          })};
}

std::optional<std::int64_t> side_largest(const Workload& w, Side side) {
  const auto& law = side == Side::Prompt ? w.prompt : w.output;
  if (law) return law->largest();
  if (!w.classes.empty()) {
    std::int64_t most = 0;
    for (const auto& c : w.classes) {
      const auto l = class_law(c, side).largest();
      if (!l) return std::nullopt;  // one unbounded class makes the mixture unbounded
      most = std::max(most, *l);
    }
    return most;
  }
  std::int64_t most = 0;
  for (const auto& a : w.arrivals.trace) most = std::max(most, length_of(a, side));
  return most;
}

}  // namespace

double LengthLaw::mean() const { return law_moments(*this).m1; }

double LengthLaw::second_moment() const { return law_moments(*this).m2; }

std::optional<std::int64_t> LengthLaw::largest() const {
  std::optional<std::int64_t> top;
  switch (form) {
    case Form::Constant: top = lo; break;
    case Form::Uniform: top = std::max(lo, hi); break;
    case Form::Geometric:
    case Form::Exponential: break;  // unbounded unless truncated
    case Form::Empirical:
      // An empty column has no values at all; 0 bounds it without claiming a length.
      top = values.empty() ? 0 : *std::max_element(values.begin(), values.end());
      break;
  }
  if (max) return top ? std::min(*top, *max) : *max;
  return top;
}

double ArrivalProcess::mean_rate() const {
  switch (form) {
    case Form::Poisson: return rate_per_s;
    case Form::Fixed: return gap_s > 0 ? 1 / gap_s : 0.0;
    case Form::Bursts: return gap_s > 0 ? static_cast<double>(burst_size) / gap_s : 0.0;
    case Form::Trace: {
      // n arrivals span n − 1 gaps; a single arrival or a zero span has no rate to speak of.
      if (trace.size() < 2) return 0.0;
      const double span = trace.back().time_s - trace.front().time_s;
      if (!(span > 0) || !std::isfinite(span)) return 0.0;
      return static_cast<double>(trace.size() - 1) / span;
    }
  }
  return 0.0;
}

double Workload::mean_prompt() const { return side_moments(*this, Side::Prompt).m1; }

double Workload::mean_output() const { return side_moments(*this, Side::Output).m1; }

std::optional<std::int64_t> Workload::max_prompt() const { return side_largest(*this, Side::Prompt); }

std::optional<std::int64_t> Workload::max_output() const { return side_largest(*this, Side::Output); }

double Workload::mean_prompt_output() const {
  // A workload-level law is drawn apart from everything else, so it factors out.
  if (prompt || output) return mean_prompt() * mean_output();
  if (!classes.empty()) {
    const auto shares = class_shares(classes);
    double sum = 0;
    for (std::size_t i = 0; i < classes.size(); ++i)
      sum += shares[i] * classes[i].prompt.mean() * classes[i].output.mean();
    return sum;
  }
  // A trace keeps its pairs: long prompts may well come with long outputs.
  return trace_mean(arrivals.trace, [](const Arrival& a) {
    return static_cast<long double>(a.prompt) * static_cast<long double>(a.output);
  });
}

double Workload::mean_output_squared() const { return side_moments(*this, Side::Output).m2; }

}  // namespace batchproof::core
