// One-line descriptions of records and batches, for the "records involved" of a finding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/state.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

// "line 12: iteration 5 at 1.234 s, 0.153 s: 512 tokens (412 prefill in 2 requests, 100
// decode in 100), waiting 3, running 102, KV 12000 of 131000 tokens": what the record logs.
std::string describe_record(const Iteration& record);

// "0:prefill 200, 1:decode, 2:prefill 100+decode" (at most `max_items` items, then "... N more").
std::string describe_items(const std::vector<core::BatchItem>& items, std::size_t max_items = 16);

// The iteration's number in findings: its logged index, else its ordinal within its stream.
inline std::int64_t iteration_number(const Iteration& record, std::int64_t ordinal) {
  return record.index ? *record.index : ordinal;
}

}  // namespace batchproof::traces
