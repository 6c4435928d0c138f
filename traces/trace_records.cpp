#include "traces/trace_records.hpp"

#include "traces/reader_support.hpp"

namespace batchproof::traces {

void iteration_from_trace(const core::TraceIteration& it, const core::TraceHeader& header, std::int64_t line,
                          Iteration& r) {
  reset_record(r);  // keeps the vectors' capacity: the own-format reader calls this per record
  r.line = line;
  r.index = it.index;
  r.start_s = it.start_s;
  r.duration_s = it.end_s - it.start_s;
  r.has_items = true;
  std::int64_t prefill_requests = 0, prefill_tokens = 0, decodes = 0;
  r.items.reserve(it.items.size() + it.preempted.size());
  for (const auto& x : it.items) {
    r.items.push_back({x.id, x.prefill, x.decode, std::nullopt, std::nullopt});
    prefill_requests += x.prefill > 0 ? 1 : 0;
    prefill_tokens += x.prefill;
    decodes += x.decode ? 1 : 0;
  }
  mark_preempted(it.preempted, r);
  r.prefill_requests = prefill_requests;
  r.prefill_tokens = prefill_tokens;
  r.decode_requests = decodes;
  r.decode_tokens = decodes;
  r.running = it.running;
  r.waiting = it.waiting;
  r.kv_used_tokens = it.kv_used;
  limits_from_header(header, r);
  for (const auto& a : it.arrivals) r.arrivals.push_back({a.id, a.time_s, a.prompt, a.output, 0, 0, a.cls});
  r.departures.assign(it.departures.begin(), it.departures.end());
}

void limits_from_header(const core::TraceHeader& header, Iteration& r) {
  r.kv_total_tokens = header.kv_capacity_tokens;
  r.budget_tokens = header.token_budget;
  r.budget_requests = header.max_batch;
}

void mark_preempted(const std::vector<std::int64_t>& preempted, Iteration& r) {
  const std::size_t batch = r.items.size();
  for (std::int64_t id : preempted) {
    bool in_batch = false;
    for (std::size_t k = 0; k < batch; ++k)
      if (r.items[k].id == id) {
        r.items[k].paused = true;
        in_batch = true;
      }
    if (!in_batch) r.items.push_back({id, 0, false, false, true});
  }
  r.preempted = static_cast<std::int64_t>(preempted.size());
}

}  // namespace batchproof::traces
