// Stability certificates (MODEL.md §4, "the converse certificate"; docs/search.md, "Stability
// certificates"): a bound B on the backlog, in tokens, that holds at every batch boundary for
// ever, under every arrival pattern in the (σ, ρ) envelope (over every window of duration w,
// arriving prompt + output tokens ≤ σ + ρ·C·w, C = b_max / t(b_max)), for requests whose
// output is at most the given maximum.
//
// The proof is on an aggregate abstraction (W = tokens in the system, c = the token bucket's
// credit, the demand existential), whose soundness rests on facts proved separately: the
// engine is work-conserving and keeps its budget (solver::prove), its iteration time is the
// profile's, and each request present carries at most O_max output tokens. Z3 proves the
// invariant W + c ≤ B inductive over that abstraction for the least integer B, by bisection,
// every query under a timeout; a timeout is "unknown", never a bound.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/engine.hpp"
#include "solver/prove.hpp"
#include "solver/witness.hpp"

namespace batchproof::solver {

struct Envelope {
  std::int64_t sigma_tokens = 0;  // σ: the burst
  double rho = 0.9;               // ρ: the long-run rate, as a fraction of C
};

struct BoundOptions {
  double timeout_s = 60;        // for each solver query
  unsigned rlimit = 0;          // Z3's deterministic resource limit per query (0: none); for tests
  int wc_requests = 8;          // N of the work-conservation and budget proofs the certificate rests on
  std::string smt2_file;        // when set, the final induction query is written there
};

enum class BoundVerdict { Proven, Refuted, Unknown, InternalError };

// The step from which B − 1 is not inductive (a counterexample to induction): the state before
// (W, c, the demand), the iteration, the arrivals during it, the state after.
struct InductionCounterexample {
  std::int64_t work = 0, demand = 0, served = 0, arrived = 0, work_after = 0;
  double credit = 0, seconds = 0, credit_after = 0;
  bool idle = false;
};

struct BoundResult {
  BoundVerdict verdict = BoundVerdict::Unknown;
  std::optional<std::int64_t> bound;   // B, tokens (Proven)
  std::string rests_on;                // for which states work conservation and the budget were proved
  std::string reason;                  // what the verdict rests on, or why none
  double seconds = 0;
  int queries = 0;                     // induction queries
  double capacity_tokens_per_s = 0;    // C
  std::int64_t output_max = 0;         // O_max used: min(the lengths' maximum, σ − the shortest prompt)
  std::int64_t growth_demand = 0;      // D*: the largest demand below b_max at which a batch serves less than arrives
  std::optional<InductionCounterexample> below;  // why B − 1 is not inductive
  std::optional<SearchResult> witness;           // not work-conserving: the search at load ρ
  double witness_burst = 0;                      // σ that the witness's arrivals need
};

// Why the certificate's abstraction does not apply to this engine, or "".
std::string bound_unsupported(const core::Engine& engine);

// Proves the least bound, or refutes (ρ > 1; or a replayed instability witness whose arrivals
// fit the envelope), or says why not.
BoundResult prove_backlog_bound(const core::Engine& engine, const LengthBounds& lengths, const Envelope& envelope,
                                const BoundOptions& options);

}  // namespace batchproof::solver
