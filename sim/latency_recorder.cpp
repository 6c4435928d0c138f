#include "sim/latency_recorder.hpp"

namespace batchproof::sim {

void LatencyRecorder::submitted(std::int64_t id, double time_s) {
  auto index = static_cast<std::size_t>(id);
  if (times_.size() <= index) times_.resize(index + 1);
  times_[index] = Times{time_s, -1, false};
}

void LatencyRecorder::iteration(const core::StepOutcome& o, double start, double end) {
  for (auto id : o.admitted) {
    Times& t = at(id);
    if (!t.scheduled) {  // a request restarted after preemption keeps its first admission
      t.scheduled = true;
      out_.queueing.record(start - t.arrival);
    }
  }
  // Requests that decoded in the same earlier iteration have the same gap: record runs of
  // equal gaps at once (a decoding batch is mostly one such run).
  double gap = 0;
  std::uint64_t run = 0;
  for (const auto& item : o.batch.items) {
    if (!item.decode) continue;
    Times& t = at(item.request);
    if (t.last_token >= 0) {
      double g = end - t.last_token;
      if (run > 0 && g != gap) {
        out_.tbt.record(gap, run);
        run = 0;
      }
      gap = g;
      ++run;
    }
    t.last_token = end;
  }
  if (run > 0) out_.tbt.record(gap, run);
  for (auto id : o.first_tokens) {
    Times& t = at(id);
    out_.ttft.record(end - t.arrival);
    t.last_token = end;
  }
  for (const auto& f : o.finished) out_.e2e.record(end - at(f.id).arrival);
}

}  // namespace batchproof::sim
