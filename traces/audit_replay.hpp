// The replay of a log with request-level detail. Before each iteration it rebuilds the
// engine's state (requests present, their progress, KV) and then
//  - decides work conservation exactly: core::check_batch on the logged batch, with the work
//    left out for reasons the engine's configuration allows reported as notes;
//  - with the spec's engine, checks conformance: core::step from that state, and the first
//    iterations where the logged batch differs from the policy's are reported with both.
// After each iteration the state follows the log (the policy's own next state where the two
// batches agree), so one divergence does not make every later iteration differ.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/engine.hpp"
#include "core/state.hpp"
#include "core/trace_format.hpp"
#include "traces/audit_tally.hpp"
#include "traces/record.hpp"
#include "traces/replay_state.hpp"

namespace batchproof::traces {

struct ReplayConfig {
  // The engine whose limits and memory the batches are judged against: the spec's, or one
  // made from the trace header (traces/audit_limits.hpp).
  core::Engine engine;
  // The engine is the spec's: its policy is replayed and its configuration explains waiting.
  bool from_spec = false;
  std::string label;  // "engine sarathi of examples/paper_policies.bp", for messages
  // The log's waiting and running counts are the model's queues, and are compared with the
  // state its batches lead to: batchproof's own trace. (TensorRT-LLM's active requests
  // include some the model would call waiting: such counts are not compared.)
  bool counts_are_queues = false;
};

class Replay {
 public:
  Replay(ReplayConfig config, AuditTally& tally);

  // A state record: the requests present (replaces the state).
  void start(const std::vector<core::TraceRequestState>& requests);
  // Requests that join the waiting queue before the next iteration.
  void arrive(const std::vector<ArrivalItem>& arrivals);
  // One iteration, its arrivals first but for the first `present` of them (already in the
  // state: given to arrive(), or a state record's requests given to start()); `ordinal` is its
  // position in the log. `checkpoint`: every request present after it, where the log gives them
  // (batchproof's trace read by core's reader).
  void add(const Iteration& record, const std::string& file, std::int64_t ordinal, bool in_window,
           std::size_t present = 0, const std::vector<core::TraceRequestState>* checkpoint = nullptr);
  void finish();

  const core::EngineState& state() const { return state_; }

 private:
  // What follows an applied iteration: the checkpoint it carries, and the log's counts
  // against the state reached.
  void settle(core::EngineState& after, const Iteration& record, const std::vector<core::TraceRequestState>* checkpoint,
              const std::string& file, std::int64_t number);
  void check_work(const Iteration& record, const core::Batch& batch, const core::EngineState& after,
                  const std::string& file, std::int64_t number);

  ReplayConfig config_;
  AuditTally& tally_;
  core::EngineState state_;
  core::EngineState predicted_;  // reused: the policy's run from state_
  core::StepOutcome outcome_;
  core::EngineState after_with_departed_;  // reused: see check_work
  core::EngineState after_;                // reused: the state after each iteration
  ReplayScratch scratch_;
  core::Batch batch_;  // reused: the logged batch
  std::int64_t ignored_items_ = 0;
  bool counts_mismatch_reported_ = false;
};

}  // namespace batchproof::traces
