// Work left out of a batch for a reason the model's maximality (core::check_batch) does not
// see. Each function removes, from a copy of the state before the batch, the requests whose
// left-out tokens it explains; the batch is then checked again, and a violation that remains
// is real.
//
// - The padded budget of Vidur's vllm ((n + 1) · max(prefill) ≤ budget): a prompt token that
//   would break it did not fit the budget at all. Not a finding.
// - What the engine's configuration allows (TRACE-FORMATS.md §8), reported as a note:
//   reservation at admission (vLLM, Sarathi, GUARANTEED_NO_EVICT), the watermark, max_running
//   (Vidur's batch_size_cap), head-of-line blocking on KV at the front of the queue, a chunk
//   cap per request (vLLM's long_prefill_token_threshold) and a cap on prompts per batch
//   (max_num_partial_prefills).
#pragma once

#include <string>
#include <vector>

#include "core/engine.hpp"
#include "core/state.hpp"

namespace batchproof::traces {

void drop_outside_padded_budget(const core::Engine& engine, core::EngineState& before, const core::Batch& batch);

// Appends one sentence per allowance that explained something.
void drop_allowed_by_configuration(const core::Engine& engine, core::EngineState& before, const core::Batch& batch,
                                   const core::EngineState& after, std::vector<std::string>& reasons);

}  // namespace batchproof::traces
