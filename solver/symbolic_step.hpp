// The symbolic step: the batch that core::step forms, as Z3 terms over a symbolic state of up
// to N requests. Internal to solver/ (it includes z3++.h).
//
// Encoded fragment (unsupported() in prove.hpp says what falls outside): engines that do not
// preempt and do not admit by LightLLM's peak estimate. Within it the encoding
// follows core/step.hpp rule by rule: `when` conditions on the counters as the iteration
// starts, guards on the live counters, candidates in the order of the rule's source (running
// in arrival order; the waiting queue in its order; `pending` = started, then waiting; lifo
// reverses it; the key orders visit by a selection that picks, at each step, the unvisited
// candidate with the smallest key, ties in FCFS order, as core's stable sort), whole
// and chunk grains, chunk_max, limit, stop and skip, unbudgeted rules, plain and padded
// budgets, max_batch, max_running, KV memory and static batching. One candidate's visit
// (offer, fold_after, slot_after) is exposed for the inductive lemmas (fold_lemma.hpp).
#pragma once

#include <cstdint>
#include <string>
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
  // the free KV left, and what every state of this engine satisfies (its KV fits). Static
  // batching: finished members of the running cohort still hold `cohort_kv` (the Int constant
  // "cohort_kv"; 0 for other engines), and admission waits until no request runs.
  std::vector<z3::expr> held;
  z3::expr free_kv;
  z3::expr assumptions;
  z3::expr cohort_kv;
};

// The KV tokens a request holds in a state of this engine: its admission reservation or its
// processed tokens, block-rounded, whichever is more (core::step keeps this invariant when the
// engine does not preempt).
z3::expr held_kv(z3::context& ctx, const core::Engine& engine, const SymbolicRequest& r);

SymbolicState make_state(z3::context& ctx, int n);
// One request with its own names (request_well_formed: the constraints of make_state's).
SymbolicRequest fresh_request(z3::context& ctx, const std::string& tag);
z3::expr request_well_formed(const SymbolicRequest& r);
SymbolicBatch symbolic_batch(z3::context& ctx, const core::Engine& engine, const SymbolicState& state);

// Phases as the iteration starts.
z3::expr is_waiting(const SymbolicRequest& r);
z3::expr is_started(const SymbolicRequest& r);
z3::expr is_decoding(const SymbolicRequest& r);

// The batch is a fold over the candidates, rule by rule, in each rule's order. Its running
// state is small and each part only grows (tokens, items, prefill items, the largest prefill
// item, admitted requests) or only shrinks (free KV). The inductive lemmas (fold_lemma.hpp)
// reason about one request's visit from an arbitrary running state, so the step exposes it.
struct FoldState {
  z3::expr used, items, free_kv, prefill_items, max_prefill, running;
  z3::expr admission_open;  // Bool, fixed for the iteration: false while a static cohort runs
};
// One request's share of the batch so far: prompt tokens, a decode token, the KV it holds.
struct Slot {
  z3::expr prefill, decode, held;
};
// What a rule gives a candidate it reaches in running state `at`: whether the candidate is
// eligible (right phase and source, not yet in the batch), whether its tokens fit, how many
// (n) and what it then holds.
struct Offer {
  z3::expr eligible, fits, n, new_held;
};
// `padded_cases`: the largest number of prefill items a padded budget must consider (a case
// split keeps the arithmetic linear); 0 for an exact (nonlinear) division, for any number.
Offer offer(z3::context& ctx, const core::Engine& e, const core::Rule& rule, const SymbolicRequest& r, bool from_queue,
            const Slot& slot, const FoldState& at, int padded_cases);
// The running state and the candidate's share after it takes the offer if `take`.
FoldState fold_after(z3::context& ctx, const core::Engine& e, const core::Rule& rule, bool from_queue, const Slot& slot,
                     const FoldState& at, const Offer& o, const z3::expr& take);
Slot slot_after(z3::context& ctx, const core::Engine& e, const core::Rule& rule, const Slot& slot, const Offer& o,
                const z3::expr& take);

// The counters that `when` conditions and guards read (core/step.cpp's Counters).
struct SymbolicCounters {
  z3::expr waiting, running, decoding, started, budget_left, free_kv, batch_tokens, batch_requests, since;
};
z3::expr condition_holds(z3::context& ctx, const core::Condition& c, const SymbolicCounters& k);

// A token of request r that fits and was left out of a batch of `tokens` tokens and `items`
// requests that leaves `free_kv` free (MODEL.md §2; core/batch_check.cpp's left_out_token).
z3::expr left_out_token(z3::context& ctx, const core::Engine& e, const SymbolicRequest& r, const Slot& slot,
                        const z3::expr& tokens, const z3::expr& items, const z3::expr& free_kv);

// The token budget as a term (kSymbolicUnlimited without one).
z3::expr budget_term(z3::context& ctx, const core::Engine& e);

// Large enough for "no limit", small enough for linear arithmetic to stay exact.
constexpr int64_t kSymbolicUnlimited = int64_t{1} << 40;

}  // namespace batchproof::solver
