// The state of one engine between iterations, and the batch of one iteration. The concrete
// step (core/step.hpp) maps a state to a batch and the next state; everything that runs a
// policy (the simulator, the auditor's replay, the solver's counterexample check) uses it.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

namespace batchproof::core {

struct Request {
  // (Fields that every iteration reads come first, within one cache line.)
  std::int64_t id = 0;
  // Prompt tokens to prefill, and output tokens to produce, in all. A request preempted by
  // recompute restarts with prompt = every token it had processed and output = the rest of its
  // work, prompt tokens it had not reached included (Vidur's restart(); MODEL.md §6).
  std::int64_t prompt = 0;
  std::int64_t output = 0;
  std::int64_t prefilled = 0;  // prompt tokens processed
  std::int64_t decoded = 0;    // output tokens produced
  std::int64_t kv_held = 0;    // KV tokens held, block-rounded, reservation included
  // Work space of the step (meaningless between iterations): the request's item in the batch
  // being formed, or -1; and whether it was preempted while the batch was formed.
  std::int32_t slot = -1;
  bool evicted = false;
  std::int32_t priority = 0;   // class rank for `priority` orders: 0 is the highest
  std::int64_t admitted_seq = -1;  // order of admission (for "youngest"); -1 while waiting
  double arrival_s = 0;
  std::int32_t cohort = -1;    // static batching: the batch this request belongs to
  std::int32_t restarts = 0;   // times preempted

  std::int64_t remaining_prompt() const { return prompt - prefilled; }
  bool prompt_done() const { return prefilled >= prompt; }
  bool finished() const { return prompt_done() && decoded >= output; }
  // Tokens of work left: remaining prompt plus remaining output (the backlog measure).
  std::int64_t remaining_work() const { return (prompt - prefilled) + (output - decoded); }
};

struct EngineState {
  std::vector<Request> running;  // admitted (holding KV), in queue order
  std::deque<Request> waiting;   // not admitted, in queue order (preempted requests at the front)
  std::int64_t kv_used = 0;      // Σ kv_held over running requests (and a static cohort's finished members)
  std::int64_t iterations_since_prefill = 0;
  std::int64_t next_admission = 0;
  std::int32_t cohort = -1;      // static batching: the cohort in progress, -1 if none
  std::int64_t cohort_kv = 0;    // static batching: KV still held by finished members of the cohort
  std::int64_t iteration = 0;    // iterations run so far
  // Running requests with their prompt partly done, and decoding, as the step left them
  // (valid when counted_at == iteration; anything else recounts).
  std::int64_t started_count = 0, decoding_count = 0, counted_at = -1;

  // Work space of the step, kept here so that an iteration allocates nothing once warm.
  // Not state: its contents mean nothing between iterations.
  struct Ref {
    bool waiting;       // in `waiting` (admitted by this batch) or in `running`
    std::size_t index;
  };
  struct Scratch {
    std::vector<Ref> item_refs;   // per batch item: where its request is
    std::vector<Ref> candidates;  // a rule's candidates, for orders other than FCFS
    std::vector<Ref> evicted;     // preempted while forming the batch, in order
    std::vector<Request> admitted;
    std::vector<Request> kept;
  } scratch;
};

// One request's share of a batch.
struct BatchItem {
  std::int64_t request = 0;  // id
  std::int64_t prefill = 0;  // prompt tokens in this batch
  bool decode = false;       // one output token in this batch
};

struct Batch {
  std::vector<BatchItem> items;
  std::int64_t tokens = 0;          // prefill + decode tokens
  std::int64_t prefill_tokens = 0;
  std::int64_t decode_tokens = 0;
  double duration_s = 0;            // t(tokens) from the engine's profile
  bool empty() const { return items.empty(); }
};

// What one iteration did, besides the batch.
struct StepOutcome {
  Batch batch;
  std::vector<Request> finished;          // left the engine this iteration (their final state)
  std::vector<std::int64_t> admitted;     // ids admitted this iteration
  std::vector<std::int64_t> preempted;    // ids preempted by recompute this iteration
  // Ids of requests whose first output token came out of this iteration (for TTFT).
  std::vector<std::int64_t> first_tokens;
};

}  // namespace batchproof::core
