// Per-request timing for the latency metrics (TTFT, TBT, end-to-end, queueing), shared by
// the single-engine and the network simulators. Keeps a few numbers per request id (ids are
// 0, 1, 2, ... in submission order), never one per token.
#pragma once

#include <cstdint>
#include <vector>

#include "core/state.hpp"
#include "sim/histogram.hpp"

namespace batchproof::sim {

struct Latencies {
  Histogram ttft, tbt, e2e, queueing;  // seconds
};

class LatencyRecorder {
 public:
  explicit LatencyRecorder(Latencies& out) : out_(out) {}
  void submitted(std::int64_t id, double time_s);
  // An iteration that started at `start` and ended at `end` did `outcome`.
  void iteration(const core::StepOutcome& outcome, double start, double end);

 private:
  struct Times {
    double arrival = 0;
    double last_token = -1;  // < 0: no output token yet
    bool scheduled = false;
  };
  Times& at(std::int64_t id) { return times_[static_cast<std::size_t>(id)]; }
  Latencies& out_;
  std::vector<Times> times_;
};

}  // namespace batchproof::sim
