// Proofs for every number of requests (docs/verifier.md, "Proofs for every N").
//
// core::step forms the batch as a fold over the candidates, rule by rule, with a small running
// state (tokens, items, free KV, prefill items, the largest prefill item, admitted requests)
// whose parts only grow (free KV only shrinks). A lemma about ONE symbolic request's visit,
// from ANY running state that satisfies what every reachable running state satisfies, is a
// statement about every queue, whatever its length: Z3 checks it once, for all N.
//
// - budget, batch_limit, memory_safe: an inductive invariant of the running state (tokens
//   ≤ b_max; items ≤ max_batch; free KV ≥ 0): it holds initially, and one visit of any
//   request, eligible or not, taken or not, keeps it.
//   An engine that preempts by recompute (outside the bounded encoding) gets these three
//   lemmas too, over-approximated: before any visit, evictions may have freed any amount of KV.
// - work_conserving, progress: one request r, its visits in every rule from free running
//   states ordered as the fold orders them, a "blocker" request for each rule that ends at
//   the first candidate that does not fit, and a free final running state after all of
//   them: r cannot have a token that fits in the final batch.
// - fcfs: two requests i (earlier) and j of the same phase, their visits ordered as the
//   rule's order visits them (only for rules in FCFS order).
//
// A lemma that fails proves nothing either way (its running states may be unreachable): the
// caller falls back to the bounded search, which alone reports violations.
#pragma once

#include <string>

#include "core/check.hpp"
#include "core/engine.hpp"

namespace batchproof::solver {

struct LemmaResult {
  bool proved = false;
  std::string why_not;  // when not proved: which obligation failed, or that the solver gave up
};

LemmaResult fold_lemma(const core::Engine& engine, core::Property property, double timeout_s);

}  // namespace batchproof::solver
