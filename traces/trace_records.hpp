// batchproof's own trace records (core/trace_format.hpp) as normalised records: what the fast
// reader makes of every iteration, and the auditor of those core's reader reads when a replay
// needs every detail (a state's progress, checkpoints). The replay takes normalised records.
#pragma once

#include <cstdint>
#include <vector>

#include "core/trace_format.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

// As the fast reader (make_reader) fills it: the header's limits on the record, preempted
// requests as items with scheduled = false and paused = true.
void iteration_from_trace(const core::TraceIteration& in, const core::TraceHeader& header, std::int64_t line,
                          Iteration& out);

// The parts of that record both it and the fast reader's own (traces/batchproof_canonical.hpp)
// fill the same way: the limits the header states, and the preempted requests (an item in the
// batch marked paused; one outside it added as an item with scheduled = false, paused = true).
void limits_from_header(const core::TraceHeader& header, Iteration& out);
void mark_preempted(const std::vector<std::int64_t>& preempted, Iteration& out);

}  // namespace batchproof::traces
