// The requests of a workload, one at a time in time order: arrival instants from its process,
// lengths from its laws, its classes or its trace. Deterministic for a seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/workload.hpp"
#include "sim/arrival_times.hpp"
#include "sim/random.hpp"

namespace batchproof::sim {

struct ArrivalOptions {
  std::uint64_t seed = 1;
  RateChoice rate;  // the workload's own rate unless overridden or scaled
};

class ArrivalStream {
 public:
  // The workload must outlive the stream. Lengths, side by side (prompt, output):
  //   the workload's law when it has one; else, with classes, the law of a class picked by
  //   weight (cls = its name; non-positive weights never picked, all equal if none positive);
  //   else the trace record's lengths and class (a trace replay).
  // Times, class picks, prompts and outputs draw from separate random streams of the seed,
  // so a run at another rate sees the same requests (lengths and classes), only at other times.
  ArrivalStream(const core::Workload& workload, const ArrivalOptions& options);
  ArrivalStream(core::Workload&&, const ArrivalOptions&) = delete;

  // The next request, or nullopt once a trace is exhausted (a generated process never ends).
  std::optional<core::Arrival> next();
  // The next request without consuming it.
  const core::Arrival* peek();
  // Every request arriving at or before `time_s`, consumed.
  std::vector<core::Arrival> take_until(double time_s);
  // The next `count` requests (fewer if a trace runs out), consumed.
  std::vector<core::Arrival> take(std::size_t count);

  // Requests handed out so far.
  std::size_t emitted() const { return emitted_; }
  // Mean requests per second of the stream, after the rate choice.
  double rate_per_s() const { return times_.rate_per_s(); }

 private:
  std::optional<core::Arrival> generate();

  const core::Workload* workload_;
  ArrivalTimes times_;
  Random class_rng_, prompt_rng_, output_rng_;
  std::vector<double> class_cumulative_;  // cumulative shares of the classes, last = 1
  std::optional<core::Arrival> lookahead_;
  std::size_t emitted_ = 0;
};

}  // namespace batchproof::sim
