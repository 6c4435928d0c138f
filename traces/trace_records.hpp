// batchproof's own trace records (core/trace_format.hpp) and the normalised record, each from
// the other: the auditor reads its own format with core's reader when a replay needs every
// detail (a state's progress, checkpoints), and replays from normalised records otherwise.
#pragma once

#include <cstdint>

#include "core/trace_format.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

// As the fast reader (make_reader) fills it: the header's limits on the record, preempted
// requests as items with scheduled = false and paused = true.
void iteration_from_trace(const core::TraceIteration& in, const core::TraceHeader& header, std::int64_t line,
                          Iteration& out);

// The batch, arrivals, departures, preemptions and counts of a normalised record; kv_used is
// -1 where the record does not log it. Arrivals keep their class; progress that a state
// record's requests had made is not carried (the replay reads such a trace with core's reader).
void trace_from_iteration(const Iteration& in, core::TraceIteration& out);

}  // namespace batchproof::traces
