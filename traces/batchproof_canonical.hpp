// The iteration lines of batchproof's own traces exactly as core::TraceWriter writes them,
// read without a JSON parser, straight into the normalised record: the keys in the writer's
// order, no blanks, whole numbers as integers. Most lines of a trace are such lines, and
// reading them directly is several times faster than building a DOM for their dozens of small
// item objects (and than reading them into core's record and converting that). Anything else
// (another key order, blanks, arrivals with a class, checkpoints, a value out of range, a
// number written 12.0) is "not canonical", and the reader's general path (simdjson, then
// core's reader) decides.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "traces/record.hpp"

namespace batchproof::traces {

// Reads `line` into `r` if it is a canonical iteration line whose every value core's reader
// would accept as it is, as iteration_from_trace (traces/trace_records.hpp) makes the record
// of what core's reader reads, but for the line number and the header's limits, which the
// caller sets; false (with `r` in any state) otherwise. `preempted` is work space.
bool read_canonical_iteration(std::string_view line, Iteration& r, std::vector<std::int64_t>& preempted);

}  // namespace batchproof::traces
