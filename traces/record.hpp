// The normalised per-iteration record every log reader produces (TRACE-FORMATS.md §8), and
// what the auditor's checks, conformance replay and profile fitting consume. A format fills
// what it logs and leaves the rest empty: a check that needs an empty field reports "not
// checked" for that format, never "passed".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace batchproof::traces {

// One request's share of an iteration, for formats with request-level detail (batchproof's
// own, Vidur, Sarathi-Serve, TensorRT-LLM with requestStats).
struct RequestItem {
  std::int64_t id = 0;
  std::int64_t prefill = 0;  // prompt tokens processed in this iteration
  bool decode = false;       // one output token produced in this iteration
  // Lifecycle facts where the format gives them (TensorRT-LLM stage, own-format state).
  std::optional<bool> scheduled;  // false: active but left out of this batch
  std::optional<bool> paused;     // evicted/preempted at this iteration
};

// A request that became visible (arrived) at or before this iteration's start.
struct ArrivalItem {
  std::int64_t id = 0;
  double time_s = 0;
  std::int64_t prompt = 0;
  std::int64_t output = 0;
  // Progress when first seen part-way (a request of a state record that was already running).
  std::int64_t prefilled = 0;
  std::int64_t decoded = 0;
  // Its class, where the log or the arrivals file names one ("" if none): a policy that orders
  // by class priority is replayed with it.
  std::string cls;
};

struct Iteration {
  // Where the record came from: the input (file name or "-"), its 1-based line, and the
  // stream within it ("" for a single-stream log; "TP0", "DP1", "Engine 000", "replica 2"...).
  std::string stream;
  std::int64_t line = 0;

  std::optional<std::int64_t> index;  // the engine's iteration counter, when logged
  std::optional<double> start_s;      // on the log's own clock
  std::optional<double> duration_s;   // measured iteration time

  // Batch composition.
  std::optional<std::int64_t> prefill_requests;
  std::optional<std::int64_t> prefill_tokens;
  std::optional<std::int64_t> decode_requests;
  std::optional<std::int64_t> decode_tokens;
  std::optional<std::int64_t> cached_tokens;  // prefix-cache hits (SGLang, TRT-LLM)

  // Queue and memory after (or as logged at) the iteration.
  std::optional<std::int64_t> running;
  std::optional<std::int64_t> waiting;
  std::optional<std::int64_t> waiting_tokens;   // prompt tokens waiting (SGLang #pending-token)
  std::optional<std::int64_t> preempted;        // requests preempted/paused/retracted
  std::optional<std::int64_t> kv_used_tokens;
  std::optional<std::int64_t> kv_total_tokens;
  std::optional<double> kv_usage;               // fraction in [0, 1] when only that is logged

  // Limits in force at this iteration, when the log states them (TRT-LLM runtime caps).
  std::optional<std::int64_t> budget_tokens;
  std::optional<std::int64_t> budget_requests;

  // Request-level detail: empty when the format has none (has_items says which).
  bool has_items = false;
  std::vector<RequestItem> items;
  std::vector<ArrivalItem> arrivals;
  std::vector<std::int64_t> departures;

  // Decode lines that summarise several steps (SGLang logs 1 decode line in 40): the number
  // of engine steps this record stands for.
  std::int64_t steps = 1;

  std::optional<std::int64_t> tokens() const {
    if (!prefill_tokens && !decode_tokens) return std::nullopt;
    return prefill_tokens.value_or(0) + decode_tokens.value_or(0);
  }
};

}  // namespace batchproof::traces
