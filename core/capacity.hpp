// Capacities and loads (MODEL.md §3): the compute capacity of an engine, the memory capacity
// of Nie, Si and Zhou for an (engine, workload) pair, the usable capacity and the load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/engine.hpp"
#include "core/spec.hpp"
#include "core/workload.hpp"

namespace batchproof::core {

// What stands for b_max in C = b_max / t(b_max).
struct BatchBound {
  std::optional<std::int64_t> tokens;  // nullopt: nothing bounds the batch
  bool from_budget = false;            // false: a stand-in from k_max, memory and the longest prompt
  std::string reason;                  // how a stand-in was derived
};

// The engine's own bound (its token budget), or a stand-in that needs the workload: the
// number of requests that k_max, max_running and memory admit, times the longest prompt.
BatchBound batch_bound(const Engine& e, const Workload* w = nullptr);

struct ComputeCapacity {
  BatchBound b_max;
  double t_b_max_s = 0;
  double tokens_per_s = 0;  // 0 when unbounded
};
ComputeCapacity compute_capacity(const Engine& e, const Workload* w = nullptr);

// E[g(s, o)]: KV tokens a request holds, summed over its iterations, under the engine's
// accounting and admission (no block rounding):
//   paper: Σ_{j=1..o} (s + j) = o·s + o(o+1)/2; vidur: Σ_{j=0..o−1} (s + j) = o·s + o(o−1)/2;
//   admission max_length: o · max_seq_len (the reservation is held for all o iterations).
double mean_kv_token_iterations(const Engine& e, const Workload& w);

struct MemoryCapacity {
  std::int64_t kv_tokens = 0;
  double mean_g = 0;              // E[g], token-iterations
  double concurrency = 0;         // requests that fit on average: M / (E[g] / E[iterations])
  double batch_tokens = 0;        // b̄: tokens per iteration at that concurrency, at most b_max
  double t_bar_s = 0;             // t(b̄)
  double requests_per_s = 0;      // μ = M / (t̄ · E[g])
  double tokens_per_s = 0;        // μ · (m_p + m_d)
  std::optional<double> delta;    // max(s + o) / M, when the workload is bounded
};
std::optional<MemoryCapacity> memory_capacity(const Engine& e, const Workload& w);

struct LoadFigures {
  double rate_per_s = 0;
  double offered_tokens_per_s = 0;  // λ (m_p + m_d)
  ComputeCapacity compute;
  std::optional<MemoryCapacity> memory;
  double usable_tokens_per_s = 0;
  double load = 0;  // offered / usable; infinity when usable is 0
};
LoadFigures load_on(const Engine& e, const Workload& w);

// The per-engine capacity condition of a network (MODEL.md §7): the work sent to each station
// per second against replicas × its engine's compute capacity.
struct StationLoad {
  std::string station, engine;
  std::int64_t replicas = 1;
  double offered_tokens_per_s = 0;
  double capacity_tokens_per_s = 0;
  double load = 0;  // infinity when the capacity is 0
};
std::vector<StationLoad> station_loads(const Spec& spec, const Network& network);

}  // namespace batchproof::core
