// Findings of `batchproof check`: facts about a spec that make an engine misbehave whatever
// its arrivals (a prompt that can never be scheduled, a profile whose full batches are not the
// most efficient, ...). Warnings: they never change the exit code.
#pragma once

#include <string>
#include <vector>

#include "core/source.hpp"
#include "core/spec.hpp"

namespace batchproof::core {

struct Finding {
  std::string kind;  // freeze, kv_too_small, inefficient_profile, ...
  SourceLoc loc;
  std::string message;
};

std::vector<Finding> find_issues(const Spec& spec);

// The batch size in 1..b_max with the highest throughput b / t(b), and that throughput.
struct BestBatch {
  std::int64_t tokens = 0;
  double tokens_per_s = 0;
};
BestBatch most_efficient_batch(const TimeModel& t, std::int64_t b_max);

}  // namespace batchproof::core
