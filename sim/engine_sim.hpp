// The discrete-event simulation of one engine under a workload: arrivals join the waiting
// queue at batch boundaries, and core::step runs each iteration (the one semantics).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.hpp"
#include "core/trace_format.hpp"
#include "core/workload.hpp"
#include "sim/arrival_times.hpp"
#include "sim/histogram.hpp"
#include "sim/latency_recorder.hpp"
#include "sim/stability.hpp"

namespace batchproof::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  RateChoice rate;                      // the workload's rate unless overridden or scaled
  std::optional<std::uint64_t> requests;  // stop the arrivals after this many requests
  std::optional<double> duration_s;       // or at this time
  std::size_t backlog_samples = 2000;   // points of the backlog series over the run
  // Replaces the workload's arrivals (an arrivals file); lengths and times as given.
  const std::vector<core::Arrival>* arrivals = nullptr;
  // Called now and then with the fraction done (for a progress line).
  std::function<void(double)> progress;
  // When set, the run is written there in batchproof's trace format (docs/trace-format.md):
  // a header, the initial state, then every iteration with the arrivals before it.
  core::TraceWriter* trace = nullptr;
  std::string spec_file;  // for the trace's header
};

struct SimResult {
  std::uint64_t arrived = 0, completed = 0, iterations = 0, idle_iterations = 0, preemptions = 0;
  double end_time_s = 0;              // when the last arrival came (the run's length)
  double busy_time_s = 0;             // time spent in iterations
  std::int64_t tokens = 0;            // tokens processed
  double budget_tokens = 0;           // Σ b_max over iterations (for utilisation)
  double offered_tokens_per_s = 0;    // λ (m_p + m_d), measured over the arrivals
  double rate_per_s = 0;              // arrival rate
  Latencies latency;
  std::vector<BacklogSample> backlog;            // tokens over time
  std::vector<BacklogSample> backlog_requests;   // requests present over time
  std::vector<double> offered_cumulative;        // tokens arrived by each sample's time
  // λ (m_p + m_d) over the second half of the run, the window the backlog slope is fitted
  // over: the fluid slope to compare that slope with.
  double offered_second_half_tokens_per_s = 0;
  StabilityVerdict verdict;
  bool frozen = false;                // work present, nothing schedulable, no more arrivals
  double frozen_at_s = 0;

  double throughput_tokens_per_s() const { return end_time_s > 0 ? static_cast<double>(tokens) / end_time_s : 0; }
  double utilisation() const { return budget_tokens > 0 ? static_cast<double>(tokens) / budget_tokens : 0; }
};

SimResult simulate_engine(const core::Engine& engine, const core::Workload& workload, const SimOptions& options);

}  // namespace batchproof::sim
