// The iteration lines of batchproof's own traces exactly as core::TraceWriter writes them,
// read without a JSON parser: the keys in the writer's order, no blanks, whole numbers as
// integers. Most lines of a trace are such lines, and reading them directly is several times
// faster than building a DOM for their dozens of small item objects. Anything else (another
// key order, blanks, arrivals with a class, checkpoints, a value out of range, a number written 12.0) is
// "not canonical", and the reader's general path (simdjson, then core's reader) decides.
#pragma once

#include <string_view>

#include "core/trace_format.hpp"

namespace batchproof::traces {

// Reads `line` into `it` if it is a canonical iteration line whose every value core's reader
// would accept as it is; false (with `it` in any state) otherwise.
bool read_canonical_iteration(std::string_view line, core::TraceIteration& it);

}  // namespace batchproof::traces
