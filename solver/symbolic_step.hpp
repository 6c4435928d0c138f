// The symbolic step: the batch that core::step forms, as Z3 terms over a symbolic state of up
// to N requests. Internal to solver/ (it includes z3++.h).
//
// Encoded fragment (unsupported() in prove.hpp says what falls outside): engines without a KV
// limit or static batching. Within it the encoding
// follows core/step.hpp rule by rule: `when` conditions on the counters as the iteration
// starts, guards on the live counters, candidates in the order of the rule's source (running
// in arrival order; the waiting queue in its order; `pending` = started, then waiting; lifo
// reverses it; the key orders visit by a selection that picks, at each step, the unvisited
// candidate with the smallest key, ties in FCFS order, as core's stable sort), whole
// and chunk grains, chunk_max, limit, stop and skip, unbudgeted rules, plain and padded
// budgets, max_batch, max_running.
#pragma once

#include <cstdint>
#include <vector>

#include <z3++.h>

#include "core/engine.hpp"

namespace batchproof::solver {

// Request i of the symbolic state: queue position i (running requests by index are the
// running set in arrival order; waiting ones by index are the waiting queue in its order).
struct SymbolicRequest {
  z3::expr present, admitted;   // Bool
  z3::expr prompt, prefilled;   // Int: P ≥ 1, 0 ≤ p ≤ P
  z3::expr output, decoded;     // Int: O ≥ 1, 0 ≤ d < O
  z3::expr priority;            // Int ≥ 0: class rank for `priority` orders
};

struct SymbolicState {
  std::vector<SymbolicRequest> requests;
  z3::expr since_prefill;       // Int ≥ 0: iterations since the last one with a prefill token
  z3::expr well_formed;         // the constraints every state satisfies
};

struct SymbolicBatch {
  std::vector<z3::expr> prefill;  // Int per request: prompt tokens in the batch
  std::vector<z3::expr> decode;   // Bool per request: a decode token in the batch
  z3::expr tokens;                // Int
  z3::expr items;                 // Int: requests in the batch
  // KV memory (engines with a KV limit): what each request holds after the batch is formed,
  // the free KV left, and what every state of this engine satisfies (its KV fits).
  std::vector<z3::expr> held;
  z3::expr free_kv;
  z3::expr assumptions;
};

// The KV tokens a request holds in a state of this engine: its admission reservation or its
// processed tokens, block-rounded, whichever is more (core::step keeps this invariant when the
// engine does not preempt).
z3::expr held_kv(z3::context& ctx, const core::Engine& engine, const SymbolicRequest& r);

SymbolicState make_state(z3::context& ctx, int n);
SymbolicBatch symbolic_batch(z3::context& ctx, const core::Engine& engine, const SymbolicState& state);

// Large enough for "no limit", small enough for linear arithmetic to stay exact.
constexpr int64_t kSymbolicUnlimited = int64_t{1} << 40;

}  // namespace batchproof::solver
