// Rebuilding an engine's state from a log with request-level detail: the requests of a state
// record, arrivals joining the queue, and a logged batch applied as the log says it happened
// (which need not be what the policy would have done). The conformance replay and the exact
// work-conservation check judge each batch against the state rebuilt before it.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.hpp"
#include "core/state.hpp"
#include "core/trace_format.hpp"

namespace batchproof::traces {

// The class rank that `priority` orders read: the class's position in the engine's
// class_priority, past the end when it is not listed.
std::int32_t class_rank(const core::Engine& engine, const std::string& cls);

// The state a state record (or an iteration's checkpoint) describes.
core::EngineState state_from_trace(const core::Engine& engine, const std::vector<core::TraceRequestState>& requests);

// An arrival joins the back of the waiting queue.
void arrive_from_trace(const core::Engine& engine, core::EngineState& state, const core::TraceArrival& arrival);

// The batch a record logs, with its token counts.
core::Batch batch_from_trace(const core::TraceIteration& record);
void batch_from_trace(const core::TraceIteration& record, core::Batch& batch);  // into a reused one

// Applies a logged iteration to `state`: its items (admitting waiting requests, with the
// engine's reservation at admission), its preemptions (restart by recompute, back to the front
// of the queue), its departures, and the KV in use it logs (a negative kv_used: the log does
// not say, and the requests' holdings are summed). Items for requests the state does
// not hold are ignored (the lifecycle check reports them). Returns how many items were ignored.
// `scratch` is work space kept between calls, so that a replay allocates nothing once warm.
struct ReplayScratch {
  std::vector<std::pair<std::int64_t, core::EngineState::Ref>> where;  // (id, place); sorted when not dense
  std::vector<std::int64_t> dense;  // id − lowest id -> index in `where`, or -1
  // Set by apply_logged_iteration: the batch gave every request present all it could take
  // (its whole remaining prompt, or its next decode token), so no token was left out at all.
  bool every_request_served = false;
  std::vector<core::Request> running, admitted, preempted;
  std::vector<std::int64_t> departed;
};
std::int64_t apply_logged_iteration(const core::Engine& engine, core::EngineState& state,
                                    const core::TraceIteration& record, ReplayScratch& scratch);

}  // namespace batchproof::traces
