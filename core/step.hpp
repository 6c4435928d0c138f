// The concrete step: one iteration of an engine. Given the state, the policy forms a batch;
// the batch's duration comes from the profile; the state moves on (tokens processed, KV grown
// and freed, requests admitted, preempted and finished). MODEL.md §1, §5-6.
//
// This is the only definition of what a policy does. The simulator runs it, the auditor
// replays logs through it, and every solver counterexample is checked against it.
//
// Meaning of the rule forms, precisely:
// - `when` conditions read the state as the iteration starts; `if` guards read it when the
//   rule is reached (batch_tokens, budget_left, free_kv, ... include earlier rules' tokens).
// - A request gets prefill tokens from at most one rule, and at most one decode token, per
//   iteration. `started` means admitted with its prompt partly processed as the iteration
//   starts; a request admitted by this iteration's batch is not `started` until the next.
// - FCFS: running requests in arrival order; the waiting queue in its order (a preempted
//   request goes back to its front); `pending` lists started requests, then the waiting
//   queue. lifo reverses it; shortest_prompt sorts by prompt length, shortest_remaining by
//   work left (remaining prompt + output), priority by class rank; ties keep FCFS order.
// - A request fits if, after adding its tokens: the batch stays within the token budget
//   (unless the rule is `unbudgeted`; a padded budget checks (n + 1) · max(prefill) over
//   the prefill items), within max_batch requests, within max_running admitted requests,
//   and within KV memory. `whole` needs the whole remaining prompt to fit; `chunk` takes as
//   much as fits (at most chunk_max), and does not fit when that is 0 tokens. When a request
//   does not fit, `stop` ends the rule and `skip` goes on with the next candidate.
// - KV: a request holds ⌈(prefilled + decoded) / block⌉ blocks, and at least what admission
//   reserved: the whole prompt (`prompt`), max_seq_len (`max_length`), or, for
//   `peak_estimate`, the prompt after LightLLM's check that the running set's peak future
//   KV stays below capacity. Admission also leaves `watermark` of the blocks free. A decode
//   token that finds no free block preempts, under `recompute_youngest`, the most recently
//   admitted running request not in the batch (or, failing one, the request itself): it
//   frees its KV and goes back to the front of the waiting queue with prompt = the tokens it
//   had processed and output = what it had left.
// - Vidur accounting: the iteration that finishes a prompt also yields the first output
//   token. Paper accounting: the first output token comes from the first decode.
// - Static batching: requests admitted together form a cohort; while a cohort has
//   unfinished members, nobody else is admitted, and its KV is freed when its last member
//   finishes.
#pragma once

#include "core/engine.hpp"
#include "core/state.hpp"

namespace batchproof::core {

// Runs one iteration of `engine` on `state`, in place. An empty batch leaves the state as
// it was (but for iteration counters): the engine idles until something arrives.
StepOutcome step(const Engine& engine, EngineState& state);
// The same, filling `outcome` (its vectors are reused: a loop that keeps one allocates nothing).
void step(const Engine& engine, EngineState& state, StepOutcome& outcome);

// Adds an arrived request to the back of the waiting queue.
void arrive(EngineState& state, Request request);

// Tokens of work waiting and running (remaining prompt + remaining output).
std::int64_t backlog_tokens(const EngineState& state);

}  // namespace batchproof::core
