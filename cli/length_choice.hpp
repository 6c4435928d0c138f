// The request lengths a search or a certificate may use (`search`, `bound`): the workload's
// support (unbounded laws capped at 4096 tokens), narrowed by the user's --min/--max bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/spec.hpp"
#include "solver/witness.hpp"

namespace batchproof::cli {

struct LengthFlags {
  std::string workload;  // may be empty
  std::optional<std::int64_t> min_prompt, max_prompt, min_output, max_output;
};

struct LengthChoice {
  solver::LengthBounds bounds;
  std::string described;                     // "workload chat: prompt 10..248, output 1..4096 (capped)"
  const core::Workload* workload = nullptr;  // when one was named
};

constexpr std::int64_t kUnboundedLengthCap = 4096;

// The lengths, or the error to report (an unknown workload, an empty range). `capped_note`
// follows a bound that stands for an unbounded law.
std::optional<std::string> choose_lengths(const core::Spec& spec, const std::string& file, const LengthFlags& flags,
                                          const std::string& capped_note, LengthChoice& out);

}  // namespace batchproof::cli
