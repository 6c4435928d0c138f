// Rebuilding an engine's state from a log with request-level detail: the requests of a state
// record, arrivals joining the queue, and a logged batch applied as the log says it happened
// (which need not be what the policy would have done). The conformance replay and the exact
// work-conservation check judge each batch against the state rebuilt before it. The batches
// are the normalised records every reader makes (traces/record.hpp), whatever the format:
// batchproof's own trace included, so that its records are not converted back on the way.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.hpp"
#include "core/state.hpp"
#include "core/trace_format.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

// The class rank that `priority` orders read: the class's position in the engine's
// class_priority, past the end when it is not listed.
std::int32_t class_rank(const core::Engine& engine, const std::string& cls);

// The state a state record (or an iteration's checkpoint) describes.
core::EngineState state_from_trace(const core::Engine& engine, const std::vector<core::TraceRequestState>& requests);

// An arrival joins the back of the waiting queue (with no progress: a request seen part-way
// comes from a state record, which replaces the state).
void arrive(const core::Engine& engine, core::EngineState& state, const ArrivalItem& arrival);

// Whether an item is in the batch: it gets prompt tokens or a decode token (an item that only
// says its request was preempted, or was left out, is not).
inline bool in_batch(const RequestItem& item) { return item.prefill > 0 || item.decode; }

// The batch a record logs (its items in the batch), with its token counts, into a reused one.
void batch_of(const Iteration& record, core::Batch& batch);

// Applies a logged iteration to `state`: its items in the batch (admitting waiting requests,
// with the engine's reservation at admission), its preemptions (items marked paused: restart
// by recompute, back to the front of the queue, the last in the record first), its departures,
// and the KV in use it logs (none: the log does not say, and the requests' holdings are
// summed). Items for requests the state does not hold are ignored (the lifecycle check reports
// them). Returns how many items were ignored.
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
                                    const Iteration& record, ReplayScratch& scratch);

}  // namespace batchproof::traces
