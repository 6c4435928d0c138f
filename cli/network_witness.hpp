// Instability witnesses for networks of engines (docs/search.md "Networks"), shared by
// `search --network` and `verify` (no_instability(network)). Three routes, by the network's
// shape:
//   round robin  a replicated station behind round robin: an adversarial length pattern (every
//                n-th arrival long) that overloads one replica while the station is below 1;
//   feed-forward no station feeds back into itself: Dai et al.'s theorem (work-conserving
//                engines, every station below load 1: stable), with each engine's work
//                conservation proved by the verifier for small states;
//   otherwise    the fluid-cycle search (solver/network_fluid.hpp), every cycle replayed in the
//                simulator (sim/network_replay.hpp) before it is called a witness.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/capacity.hpp"
#include "core/network.hpp"
#include "core/spec.hpp"
#include "sim/network_sim.hpp"
#include "solver/network_fluid.hpp"

namespace batchproof::cli {

struct NetworkSearchOptions {
  double load = 0.9;       // the class rates are scaled so that the busiest station's load is this
  int max_phases = 6;      // fluid cycles of 1..max_phases phases
  double timeout_s = 60;   // per solver query
};

enum class NetworkVerdict {
  Witness,       // a cycle (or adversary) whose replay grows
  NotConfirmed,  // a fluid cycle the replay did not confirm: not a witness
  NoCycle,       // no fluid cycle of at most max_phases phases (bounded evidence)
  Stable,        // the feed-forward theorem applies
  Unknown,
};

struct RoundRobinAdversary {
  std::string station;
  std::int64_t replicas = 0;
  std::int64_t long_prompt = 0, long_output = 0, short_prompt = 0, short_output = 0;
  double rate_per_s = 0;                 // the class's arrivals
  double station_load = 0;               // with the pattern's lengths
  double replica_load = 0;               // of the replica that gets every long request
  double replica_capacity_tokens_per_s = 0;
  double fluid_slope_tokens_per_s = 0;   // that replica's backlog growth
};

struct NetworkReplayFigures {
  std::int64_t start_jobs = 0;
  double start_tokens = 0;
  double duration_s = 0;
  std::uint64_t jobs = 0;                // arrived in all, the start state included
  double predicted_slope_tokens_per_s = 0;
  sim::NetworkSimResult sim;
  // A fluid cycle is replayed for one cycle (the next is γ times longer): the backlog at its end
  // against γ × the start, and each station's backlog at the phase boundaries against the fluid's.
  double end_tokens = 0, predicted_end_tokens = 0;
  double control_end_tokens = 0;         // the same arrivals without the start state: at the end
  double control_mean_tokens = 0;        // and on average over the cycle
  std::vector<double> boundary_s;
  std::vector<std::vector<double>> fluid_station_tokens, replay_station_tokens;  // [boundary][station]
  // Round robin: the simulator's verdict is "unstable". A fluid cycle: the start is at least twice
  // the control run's mean backlog (the same arrivals, no start state), and the end of the cycle exceeds
  // the control's by at least half the predicted growth, start × (1 + (γ − 1) / 2): the start's
  // work grew rather than drained, and not merely into the queue the arrivals alone build.
  bool confirms = false;
};

struct NetworkSearchResult {
  NetworkVerdict verdict = NetworkVerdict::Unknown;
  std::string method;                    // "round-robin adversary", "feed-forward theorem", "fluid cycle"
  std::string reason;                    // one line: what the verdict covers
  double rate_scale = 1;
  std::vector<core::StationLoad> loads;  // at the scaled rates (the spec's lengths)
  std::optional<solver::FluidNetwork> fluid_network;
  std::optional<solver::FluidSearchResult> fluid;
  std::optional<RoundRobinAdversary> round_robin;
  std::optional<NetworkReplayFigures> replay;
  double seconds = 0;
};

// `load` must be in (0, 1).
NetworkSearchResult search_network(const core::Spec& spec, const core::Network& network, const NetworkSearchOptions& options);

}  // namespace batchproof::cli
