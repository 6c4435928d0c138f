// Which replica each request of an arrivals file went to, for a trace of several replicas
// (Vidur's and Sarathi-Serve's replicas, TensorRT-LLM's attention-DP ranks), which does not
// say: each request is placed in the stream whose batches first show its id. A first pass over
// the trace (PlacementPass) learns it; the audit then replays each replica with its own
// arrivals. A request that no batch shows is placed nowhere (it is not replayed: nothing says
// where it waited).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "traces/record.hpp"

namespace batchproof::traces {

// How the requests of an arrivals file are matched to the log's request ids.
enum class ArrivalIds {
  // Request id i is the file's i-th arrival: Vidur and Sarathi-Serve number requests in arrival
  // order from 0.
  Ordinal,
  // The lowest id of the first record that lists requests is the file's first arrival, and ids
  // count up by one in arrival order from there (TensorRT-LLM numbers requests as they are
  // enqueued, from 1 in the C++ executor).
  FromFirstListed,
};

struct ArrivalPlacement {
  std::vector<std::string> streams;                  // in the order they first appear
  std::vector<std::vector<std::size_t>> arrivals_of;  // per stream: its arrivals' indices, in order
  std::optional<std::int64_t> id_base;               // the id of arrival 0 (FromFirstListed)
  std::size_t unplaced = 0;                          // arrivals no batch shows
  // The index in `streams` of `name`, or none.
  std::optional<std::size_t> stream_index(const std::string& name) const;
};

class PlacementPass {
 public:
  PlacementPass(std::size_t arrivals, ArrivalIds ids) : stream_of_(arrivals, -1), ids_(ids) {}
  void add(const Iteration& record);
  ArrivalPlacement finish() const;

 private:
  std::vector<std::int32_t> stream_of_;  // per arrival: its stream, or -1
  std::vector<std::string> streams_;
  std::unordered_map<std::string, std::int32_t> index_;
  ArrivalIds ids_;
  std::optional<std::int64_t> base_;
};

// The arrival index of request `id`, or none when it is not one of the file's `count`.
std::optional<std::size_t> arrival_index(std::int64_t id, std::int64_t base, std::size_t count);

}  // namespace batchproof::traces
