// Fluid cycles of a network of engines (MODEL.md §7, docs/search.md "Networks"): J. G. Dai's
// fluid-model approach to the stability of multiclass networks, as an SMT search (Z3, linear
// real arithmetic).
//
// The fluid model: a buffer per (class, stage) of a route, holding the remaining tokens of
// that hop; station e serves its buffers at most at C_e = replicas × b_max / t(b_max) tokens/s
// in all, by the station's class priority (preemptive: while a buffer is positive, buffers of
// lower priority get nothing), work-conserving (while any of its buffers is positive, it
// serves at C_e). Class k's fluid enters its first buffer at λ_k × (tokens of the hop); the
// work served from stage h flows into stage h + 1, scaled by the ratio of the two hops' tokens.
//
// A cycle: K phases of constant rates, of total duration 1 s, from a state with all fluid in
// one buffer (c tokens there) to a state with all fluid in the same buffer, d > c tokens.
// Fluid models are scale-invariant (if Q(t) is a fluid path, so is γ·Q(t/γ)), so the cycle
// repeats from d, taking d/c times as long each time: the fluid grows without bound, at a mean
// of d − c tokens per second. (Requiring the end state to be γ × an arbitrary start state is
// bilinear; a start concentrated in one buffer keeps the search linear, and is the shape of
// the Rybko–Stolyar cycle: each long hop drains before the other's begins.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/spec.hpp"

namespace batchproof::solver {

struct FluidBuffer {
  std::size_t cls = 0, stage = 0, station = 0;
  std::string label;                // "A@e1 (hop 1)"
  double hop_tokens = 0;            // mean prompt + output of the hop
  double arrival_tokens_per_s = 0;  // λ_k × hop_tokens for a first hop, else 0
  std::int32_t rank = 0;            // priority at its station, 0 the highest; equal ranks share in any split
};

struct FluidNetwork {
  std::vector<std::string> stations;
  std::vector<double> capacity_tokens_per_s;  // per station, all replicas
  std::vector<FluidBuffer> buffers;
  double rate_scale = 1;                      // applied to every class's arrival rate
};

// Why the fluid search cannot model this network, or "": fork stages (a join is a minimum,
// which the linear encoding does not have), stations whose engine has no compute capacity.
std::string fluid_unsupported(const core::Spec& spec, const core::Network& network);

// The fluid model of the network with every class's rate multiplied by `rate_scale`. A station
// whose engine's policy has no `priority` rule treats every buffer alike (any split: more
// behaviours than the engine has, so a cycle found there must be confirmed by a replay).
FluidNetwork fluid_network(const core::Spec& spec, const core::Network& network, double rate_scale);

struct FluidCycle {
  std::size_t start_buffer = 0;
  double start_tokens = 0, end_tokens = 0;     // c and d: the cycle is 1 s long
  std::vector<double> durations_s;             // per phase, summing to 1
  std::vector<std::vector<double>> levels;     // [phase boundary 0..K][buffer], tokens
  std::vector<std::vector<double>> served;     // [phase][buffer], tokens served in the phase
  double growth_factor() const { return end_tokens / start_tokens; }
  double slope_tokens_per_s() const { return end_tokens - start_tokens; }  // the cycle lasts 1 s
};

enum class FluidVerdict { Found, NotFound, Unknown };

struct FluidSearchResult {
  FluidVerdict verdict = FluidVerdict::Unknown;
  std::optional<FluidCycle> cycle;
  int phases = 0;                 // K of the cycle found, or the largest K searched
  std::vector<int> phases_without_cycle;
  double seconds = 0;
  std::string reason;             // for Unknown
};

struct FluidSearchOptions {
  int min_phases = 1, max_phases = 6;
  double timeout_s = 60;          // for each solver query
  int improve_rounds = 6;         // after a cycle is found: ask for a 25% steeper one, up to this often
};

// Searches K = min_phases..max_phases in order; the first K with a cycle wins, and its cycle is
// made as steep as the improvement rounds allow (so that a replay sees the growth quickly).
FluidSearchResult search_fluid_cycle(const FluidNetwork& network, const FluidSearchOptions& options);

}  // namespace batchproof::solver
