// An engine: one GPU replica with its profile, limits, memory model and policy. MODEL.md §1, §5-6.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/policy.hpp"
#include "core/profile.hpp"
#include "core/source.hpp"

namespace batchproof::core {

struct KvCache {
  enum class Form { Unlimited, Tokens, Blocks, Derived };
  Form form = Form::Unlimited;
  std::int64_t tokens = 0;  // Tokens
  std::int64_t blocks = 0;  // Blocks (tokens = blocks × block_size)
};

// What admission sets aside for a request: nothing beyond what it processes, its whole
// prompt (vLLM, Sarathi), its maximum length (Orca, FasterTransformer), or LightLLM's
// estimate of the peak future memory of the running set.
enum class Admission { None, Prompt, MaxLength, PeakEstimate };
enum class Preemption { None, RecomputeYoungest };
enum class Batching { Continuous, Static };
// paper: P prefill tokens then D decode iterations. vidur: the iteration that finishes the
// prompt also yields the first output token, so D − 1 decode iterations follow.
enum class Accounting { Paper, Vidur };
// plain: tokens in the batch ≤ budget. padded: (n + 1) · max(prompt) ≤ budget over the
// prefills admitted so far (Vidur's vllm).
enum class BudgetForm { Plain, Padded };

struct Engine {
  std::string name;
  Profile profile;
  std::optional<std::int64_t> token_budget;  // b_max
  BudgetForm budget_form = BudgetForm::Plain;
  std::optional<std::int64_t> max_batch;     // k_max: requests in one batch
  std::optional<std::int64_t> max_running;   // requests holding KV at once (Vidur's batch_size_cap)
  KvCache kv;
  std::int64_t block_size = 1;               // tokens per KV block; 1 means no block rounding
  double watermark = 0;                      // fraction of KV blocks kept free at admission
  double memory_utilization = 0.9;           // share of GPU memory usable (Derived KV only)
  Admission admission = Admission::None;
  std::optional<std::int64_t> max_seq_len;
  Preemption preemption = Preemption::None;
  Batching batching = Batching::Continuous;
  Accounting accounting = Accounting::Paper;
  Policy policy;
  std::vector<std::string> class_priority;   // highest first; read by `priority` orders
  SourceLoc loc;

  // KV capacity in tokens, or nullopt when memory is not modelled.
  std::optional<std::int64_t> kv_tokens() const;
};

// `tokens` rounded up to whole KV blocks of `block` tokens (block <= 1: no rounding). A block of
// a power of two (16 and 32 in the engines we model) takes a mask rather than a division: the
// step and the audit's replay round every request of every batch.
inline std::int64_t round_up_to_block(std::int64_t tokens, std::int64_t block) {
  if (block <= 1) return tokens;
  if (tokens >= 0 && (block & (block - 1)) == 0) return (tokens + block - 1) & -block;
  return (tokens + block - 1) / block * block;
}

}  // namespace batchproof::core
