// The discrete-event simulation of a network of engines (MODEL.md §4, §7): classes of jobs
// arrive, each walks its route of hops (a fork runs its hops in parallel and joins them),
// each hop a request at a station of one or more engine replicas behind a dispatcher.
// Engines run asynchronously: each starts its next iteration as soon as it is free. Events are
// ordered by time, ties by engine (stations in declaration order, replicas in order), then
// by arrival order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/network.hpp"
#include "core/spec.hpp"
#include "sim/arrival_times.hpp"
#include "sim/latency_recorder.hpp"
#include "sim/stability.hpp"

namespace batchproof::sim {

// One job of an explicit arrival list (a replay, e.g. of an instability witness): its class,
// when it arrives, the stage of its route it enters at (0: the first; a later one places the
// job part-way along its route, as a witness's start state does), and optionally the lengths
// of its hops from that stage on, in route order (empty: drawn from the hops' laws).
struct NetworkArrival {
  double time_s = 0;
  std::size_t cls = 0;
  std::size_t stage = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> lengths;  // (prompt, output) per hop
};

struct NetworkSimOptions {
  std::uint64_t seed = 1;
  // When set, these jobs (sorted by time, classes and stages valid for the network) replace the
  // classes' arrival processes, and every job arriving at one instant is in before an engine
  // starts its next iteration. rate_scale and jobs do not apply to them.
  const std::vector<NetworkArrival>* arrivals = nullptr;
  double rate_scale = 1;                  // multiplies every class's arrival rate
  std::optional<std::uint64_t> jobs;      // stop the arrivals after this many jobs
  std::optional<double> duration_s;       // or at this time
  std::size_t backlog_samples = 2000;
};

struct StationResult {
  std::string name, engine;
  std::int64_t replicas = 1;
  std::int64_t tokens = 0;                      // processed, all replicas
  std::vector<std::int64_t> tokens_per_replica;
  std::uint64_t iterations = 0, preemptions = 0;
  double offered_tokens_per_s = 0;              // work sent to it, per second
  std::vector<BacklogSample> backlog;           // tokens present at the station over time
  StabilityVerdict verdict;
};

struct ClassResult {
  std::string name;
  std::uint64_t arrived = 0, completed = 0;
  Histogram e2e;  // job: arrival to the end of its last hop
};

struct NetworkSimResult {
  double end_time_s = 0;
  std::uint64_t jobs_arrived = 0, jobs_completed = 0;
  std::int64_t tokens = 0;
  double offered_tokens_per_s = 0;
  double offered_second_half_tokens_per_s = 0;
  std::vector<StationResult> stations;
  std::vector<ClassResult> classes;
  Latencies hops;                          // per-request latencies, over all hops
  std::vector<BacklogSample> backlog;      // all stations together
  StabilityVerdict verdict;                // of the whole network's backlog

  double throughput_tokens_per_s() const { return end_time_s > 0 ? static_cast<double>(tokens) / end_time_s : 0; }
};

// `spec` resolves the stations' engines.
NetworkSimResult simulate_network(const core::Spec& spec, const core::Network& network, const NetworkSimOptions& options);

}  // namespace batchproof::sim
