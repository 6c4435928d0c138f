// The `fcfs` property on one iteration (MODEL.md §2, made precise in docs/verifier.md): no
// request gets a token of its phase while a request that arrived earlier, of the same phase
// as the iteration starts (waiting, started or decoding: the candidates of the same rules),
// gets none although it could have taken its tokens in the later one's place.
//
// "In its place": the earlier request's smallest take fits in the later one's tokens plus the
// budget the batch leaves: 1 token for a decode, 1 prompt token where some rule chunks the
// phase's prompts, the whole remaining prompt where every rule for the phase takes whole
// prompts. Engines with a KV limit or a padded budget are not decided (fcfs_unsupported).
#pragma once

#include <optional>
#include <string>

#include "core/engine.hpp"
#include "core/state.hpp"

namespace batchproof::solver {

// Why fcfs is not decided for this engine, or "".
std::string fcfs_unsupported(const core::Engine& engine);

// The concrete check: what is wrong with the iteration, if anything.
std::optional<std::string> fcfs_violation(const core::Engine& engine, const core::EngineState& before,
                                          const core::Batch& batch);

// True when every prefill rule that reads waiting (started) requests takes whole prompts.
bool whole_prompts_only(const core::Engine& engine, bool waiting);

}  // namespace batchproof::solver
