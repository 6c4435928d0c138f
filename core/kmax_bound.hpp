// The batch-size limit's bound on throughput (MODEL.md §3, paper §6): with at most k_max
// requests in a batch, an engine can be unstable inside its compute capacity.
//
// Each request takes a batch slot in every iteration that gives it a token: at least
// ⌈P / b_max⌉ ≥ max(1, P / b_max) iterations of prefill, then D iterations of decode (one token
// each; a decode needs its prompt done when the iteration starts), or D − 1 with Vidur's
// accounting (the last prefill iteration yields the first output token). So a request needs at
// least  s = m_d + max(1, m_p / b_max)  slots on average (m_d − 1 + ... with Vidur's accounting).
// An iteration with j requests holds at least j tokens, so it lasts at least
// t_min(j) = min { t(b) : j ≤ b ≤ the largest batch }, and it supplies j ≤ k_max slots: slots are
// supplied at most at  σ = max_{1 ≤ j ≤ k_max} j / t_min(j)  per second. No policy completes more
// than  μ_k = σ / s  requests per second, so λ ≥ μ_k is unstable whatever the policy, even when
// λ(m_p + m_d) is below the compute capacity b_max / t(b_max). (A necessary condition only: below
// μ_k a policy may still be unstable, paper §6; the bound ignores memory.)
#pragma once

#include <cstdint>
#include <optional>

#include "core/engine.hpp"
#include "core/workload.hpp"

namespace batchproof::core {

struct KmaxBound {
  std::int64_t k_max = 0;
  std::int64_t best_batch = 0;        // the j that attains σ
  double slots_per_s = 0;             // σ
  double slots_per_request = 0;       // s
  double requests_per_s = 0;          // μ_k
  double tokens_per_s = 0;            // μ_k × (m_p + m_d)
};

// nullopt when the engine has no max_batch, or the workload has no mean lengths.
std::optional<KmaxBound> kmax_bound(const Engine& e, const Workload& w);

}  // namespace batchproof::core
