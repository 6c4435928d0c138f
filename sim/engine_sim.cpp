#include "sim/engine_sim.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/step.hpp"
#include "sim/arrival_stream.hpp"

namespace batchproof::sim {

namespace {

// The arrivals of a run, from the workload's process or from a given list.
class Source {
 public:
  Source(const core::Workload& w, const SimOptions& o) : options_(o) {
    if (!o.arrivals) stream_.emplace(w, ArrivalOptions{o.seed, o.rate});
  }
  const core::Arrival* peek() {
    if (exhausted()) return nullptr;
    if (options_.arrivals) return &(*options_.arrivals)[index_];
    const core::Arrival* a = stream_->peek();
    if (a && options_.duration_s && a->time_s > *options_.duration_s) return nullptr;
    return a;
  }
  core::Arrival pop() {
    ++index_;
    if (options_.arrivals) return (*options_.arrivals)[index_ - 1];
    return *stream_->next();
  }
  double rate_per_s() const { return stream_ ? stream_->rate_per_s() : 0; }
  bool exhausted() const {
    if (options_.requests && index_ >= *options_.requests) return true;
    if (options_.arrivals) return index_ >= options_.arrivals->size();
    return false;
  }

 private:
  const SimOptions& options_;
  std::optional<ArrivalStream> stream_;
  std::size_t index_ = 0;
};

}  // namespace

SimResult simulate_engine(const core::Engine& engine, const core::Workload& workload, const SimOptions& options) {
  SimResult res;
  Source source(workload, options);
  core::EngineState state;
  LatencyRecorder latency(res.latency);
  const double budget = engine.token_budget ? static_cast<double>(*engine.token_budget) : 0;

  // The backlog series is sampled on a fixed grid of simulated time; the grid is set by the
  // run's expected length, or doubled when the run outlives it (keeping every other point).
  double horizon = options.duration_s.value_or(0);
  if (horizon <= 0 && options.requests && source.rate_per_s() > 0)
    horizon = static_cast<double>(*options.requests) / source.rate_per_s();
  if (horizon <= 0 && options.arrivals && !options.arrivals->empty()) horizon = options.arrivals->back().time_s;
  double sample_every = horizon > 0 ? horizon / static_cast<double>(options.backlog_samples) : 1.0;
  double next_sample = 0;
  double offered_tokens = 0;
  double t = 0;
  std::int64_t present = 0;
  auto sample = [&](double now) {
    while (next_sample <= now) {
      res.backlog.push_back({next_sample, static_cast<double>(core::backlog_tokens(state))});
      res.backlog_requests.push_back({next_sample, static_cast<double>(present)});
      res.offered_cumulative.push_back(offered_tokens);
      next_sample += sample_every;
      if (res.backlog.size() >= 2 * options.backlog_samples) {  // thin to half, double the step
        std::size_t k = 0;
        for (std::size_t i = 0; i < res.backlog.size(); i += 2, ++k) {
          res.backlog[k] = res.backlog[i];
          res.backlog_requests[k] = res.backlog_requests[i];
          res.offered_cumulative[k] = res.offered_cumulative[i];
        }
        res.backlog.resize(k);
        res.backlog_requests.resize(k);
        res.offered_cumulative.resize(k);
        sample_every *= 2;
        next_sample = res.backlog.back().time_s + sample_every;
      }
    }
  };

  std::uint64_t progress_every = 4096;
  core::StepOutcome out;  // reused: the loop allocates nothing once warm
  core::TraceIteration record;
  std::vector<core::TraceArrival> trace_arrivals;
  std::int64_t trace_index = 0;
  if (options.trace) {
    options.trace->write_header(core::trace_header(engine, "simulate", options.spec_file));
    options.trace->write_state(core::trace_state(state, 0));
  }
  for (;;) {
    // Arrivals up to now join the queue (at the batch boundary).
    while (const core::Arrival* a = source.peek()) {
      if (a->time_s > t) break;
      core::Arrival arr = source.pop();
      core::Request r;
      r.id = static_cast<std::int64_t>(res.arrived++);
      r.arrival_s = arr.time_s;
      r.prompt = std::max<std::int64_t>(1, arr.prompt);
      r.output = std::max<std::int64_t>(1, arr.output);
      // `priority` orders rank classes by the engine's class_priority (unlisted classes last).
      const auto& order = engine.class_priority;
      r.priority = static_cast<std::int32_t>(std::find(order.begin(), order.end(), arr.cls) - order.begin());
      offered_tokens += static_cast<double>(r.prompt + r.output);
      latency.submitted(r.id, arr.time_s);
      if (options.trace) trace_arrivals.push_back({r.id, arr.time_s, r.prompt, r.output, arr.cls});
      core::arrive(state, std::move(r));
      ++present;
      res.end_time_s = arr.time_s;
    }
    // The run ends with its arrivals: an unstable system never drains, so the metrics
    // cover the arrival period.
    if (!source.peek()) break;
    core::step(engine, state, out);
    ++res.iterations;
    if (out.batch.empty()) {
      ++res.idle_iterations;
      const core::Arrival* next = source.peek();
      if (!next) {
        if (present > 0) {
          res.frozen = true;
          res.frozen_at_s = t;
        }
        break;
      }
      sample(next->time_s);
      t = next->time_s;
      continue;
    }
    double end = t + out.batch.duration_s;
    if (options.trace) {
      core::fill_iteration(record, out, state);
      record.index = trace_index++;
      record.start_s = t;
      record.end_s = end;
      record.arrivals.swap(trace_arrivals);
      trace_arrivals.clear();
      record.requests.reset();
      options.trace->write_iteration(record);
    }
    res.busy_time_s += out.batch.duration_s;
    res.tokens += out.batch.tokens;
    res.budget_tokens += budget;
    res.preemptions += out.preempted.size();
    latency.iteration(out, t, end);
    res.completed += out.finished.size();
    present -= static_cast<std::int64_t>(out.finished.size());
    sample(t);
    t = end;
    if (options.progress && res.iterations % progress_every == 0) {
      double done = 0;
      if (options.requests) done = static_cast<double>(res.arrived) / static_cast<double>(*options.requests);
      else if (options.duration_s) done = t / *options.duration_s;
      else if (options.arrivals) done = static_cast<double>(res.arrived) / static_cast<double>(options.arrivals->size());
      options.progress(std::min(1.0, done));
    }
  }
  if (res.end_time_s <= 0) res.end_time_s = t;
  res.rate_per_s = res.end_time_s > 0 ? static_cast<double>(res.arrived) / res.end_time_s : 0;
  res.offered_tokens_per_s = res.end_time_s > 0 ? offered_tokens / res.end_time_s : 0;
  res.verdict = stability_verdict(res.backlog, res.offered_tokens_per_s);
  if (res.backlog.size() >= 2) {
    std::size_t mid = res.backlog.size() / 2, last = res.backlog.size() - 1;
    double span = res.backlog[last].time_s - res.backlog[mid].time_s;
    if (span > 0) res.offered_second_half_tokens_per_s = (res.offered_cumulative[last] - res.offered_cumulative[mid]) / span;
  }
  return res;
}

}  // namespace batchproof::sim
