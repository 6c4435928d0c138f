#include "sim/envelope_run.hpp"

#include <algorithm>
#include <cmath>

#include "core/step.hpp"
#include "sim/random.hpp"

namespace batchproof::sim {

std::vector<core::Arrival> greedy_envelope_arrivals(double sigma, double rate, std::int64_t prompt,
                                                    std::int64_t output, double duration_s) {
  std::vector<core::Arrival> out;
  const double work = static_cast<double>(prompt + output);
  if (work > sigma || !(rate > 0)) return out;
  // The k-th request (from 0) needs (k + 1)·work ≤ σ + rate·t: it arrives at
  // max(0, ((k + 1)·work − σ) / rate), nudged up by one ulp so rounding never overdraws.
  for (std::int64_t k = 0;; ++k) {
    double need = static_cast<double>(k + 1) * work - sigma;
    double t = need <= 0 ? 0.0 : std::nextafter(need / rate, HUGE_VAL);
    if (t > duration_s) break;
    out.push_back({t, prompt, output, ""});
  }
  return out;
}

std::vector<core::Arrival> random_envelope_arrivals(double sigma, double rate, std::int64_t prompt_lo,
                                                    std::int64_t prompt_hi, std::int64_t output_lo,
                                                    std::int64_t output_hi, double duration_s, std::uint64_t seed) {
  std::vector<core::Arrival> out;
  const auto room = static_cast<std::int64_t>(std::floor(sigma));
  if (!(rate > 0) || prompt_lo + output_lo > room) return out;
  Random lengths = Random::for_stream(seed, 1), times = Random::for_stream(seed, 2);
  double t = 0, credit = sigma;  // the bucket's credit at time t, after the arrivals at t
  for (;;) {
    std::int64_t prompt = lengths.uniform_int(prompt_lo, std::min(prompt_hi, room - output_lo));
    std::int64_t output = lengths.uniform_int(output_lo, std::min(output_hi, room - prompt));
    const double work = static_cast<double>(prompt + output);
    double wait = work > credit ? std::nextafter((work - credit) / rate, HUGE_VAL) : 0.0;
    if (times.uniform() < 0.5) wait += times.exponential(rate / work);
    const double at = t + wait;
    if (at > duration_s) break;
    credit = std::min(sigma, credit + rate * (at - t)) - work;
    if (credit < 0) credit = 0;  // rounding only: the wait covered the work
    t = at;
    out.push_back({t, prompt, output, ""});
  }
  return out;
}

EnvelopeRun run_envelope(const core::Engine& e, const std::vector<core::Arrival>& arrivals) {
  EnvelopeRun r;
  core::EngineState s;
  core::StepOutcome out;
  std::size_t next = 0;
  double t = 0;
  const double half = arrivals.empty() ? 0 : arrivals.back().time_s / 2;
  bool half_seen = false;
  for (;;) {
    while (next < arrivals.size() && arrivals[next].time_s <= t) {
      core::Request q;
      q.id = static_cast<std::int64_t>(next);
      q.arrival_s = arrivals[next].time_s;
      q.prompt = std::max<std::int64_t>(1, arrivals[next].prompt);
      q.output = std::max<std::int64_t>(1, arrivals[next].output);
      core::arrive(s, std::move(q));
      ++next;
      ++r.arrived;
    }
    const std::int64_t backlog = core::backlog_tokens(s);
    if (backlog > r.max_backlog) {
      r.max_backlog = backlog;
      r.max_at_s = t;
    }
    if (!half_seen && t >= half) {
      half_seen = true;
      r.half_backlog = backlog;
      r.half_s = t;
    }
    r.final_backlog = backlog;
    r.end_s = t;
    if (next >= arrivals.size()) break;
    core::step(e, s, out);
    if (out.batch.empty()) {  // idle (or frozen): wait for the next arrival
      t = arrivals[next].time_s;
      continue;
    }
    ++r.iterations;
    r.completed += out.finished.size();
    t += out.batch.duration_s;
  }
  return r;
}

}  // namespace batchproof::sim
