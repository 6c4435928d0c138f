// Instability witnesses (MODEL.md §4): a start state, an arrival pattern over one period of L
// iterations whose work is below capacity, and a run of the policy under which the state after
// the period is the start state plus strictly more work that the policy never reads. Found by
// bounded unrolling of the symbolic step (solver/symbolic_run.hpp); every witness is replayed
// by core::step for many periods before it is reported (docs/search.md says what that proves).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.hpp"
#include "core/state.hpp"
#include "core/workload.hpp"

namespace batchproof::solver {

// The request lengths a witness may use: the workload's support, or the user's bounds.
struct LengthBounds {
  std::int64_t prompt_lo = 1, prompt_hi = 1;
  std::int64_t output_lo = 1, output_hi = 1;
};

struct SearchOptions {
  double load = 0.9;             // ρ: the period's arrivals are at most ρ × capacity × its duration
  std::vector<int> periods{1, 2, 3, 4, 5, 6};  // L values tried, in order
  int start_requests = 4;        // the most requests waiting at the start
  int arrivals_per_iteration = 1;
  // Every request of the witness has the same prompt and output length. Then the waiting queue
  // is a run of identical requests and its head looks the same in every period however far the
  // queue has grown; with mixed lengths, a FCFS queue's head changes as old growth reaches it,
  // and candidates that the replay refutes are excluded and the search goes on.
  bool uniform_lengths = true;
  int candidates_per_period = 10;  // mixed lengths: candidates tried per period before giving up
  // The (σ, ρ) envelope of MODEL.md §4 on every window, ρ = `load`: over any window of w
  // seconds at most σ + ρ·C·w tokens arrive, the start state's requests (a burst at time 0)
  // included. Unset: only the period's total is bounded.
  std::optional<std::int64_t> sigma_tokens;
  double timeout_s = 60;         // for each solver query
  std::string smt2_file;         // when set, the last query is written there
};

// One request of the pattern: it arrives during iteration `iteration` of every period (the
// batch of the next iteration is the first to see it).
struct PatternArrival {
  int iteration = 0;
  std::int64_t prompt = 0, output = 0;
};

struct Witness {
  int period = 0;                             // L iterations
  std::vector<core::Arrival> start;           // waiting at time 0 (time_s 0): the start state
  std::vector<PatternArrival> pattern;        // the arrivals of one period
};

// What the concrete replay saw (core::step, exact integers).
struct Replay {
  int periods = 0;
  bool repeats = false;          // every period formed the batches of the first, and grew alike
  std::string mismatch;          // why not, when it did not
  int failed_period = 0;         // the first period (from 1) that did not repeat, 0 if none
  std::int64_t growth_tokens = 0;     // work added to the backlog by each period
  std::int64_t growth_requests = 0;   // requests added by each period
  double period_s = 0;                // one period's duration
  std::int64_t period_work = 0;       // tokens arriving in one period
  double load = 0;                    // period_work / (capacity × period_s)
  std::vector<core::Batch> first_period;  // the batches of one period, in order
  std::vector<std::int64_t> backlog;      // tokens present at the start of each period, and at the end
  std::vector<core::Arrival> arrivals;    // the start state and every period's arrivals, by time
  double burst_tokens = 0;                 // the least σ these arrivals need at rate ρ·C (core::envelope_burst)
};

enum class SearchVerdict { Found, NotFound, Unknown, InternalError };

struct SearchResult {
  SearchVerdict verdict = SearchVerdict::Unknown;
  std::optional<Witness> witness;
  std::optional<Replay> replay;
  std::vector<int> periods_searched;  // L values with no witness (unsat)
  int refuted_candidates = 0;         // solver candidates the replay refuted (mixed lengths)
  double seconds = 0;
  std::string reason;                 // for Unknown and InternalError
};

// Why the search cannot encode this engine, or "".
std::string search_unsupported(const core::Engine& engine);

// Searches for a witness at load ≤ options.load of `capacity_tokens_per_s`, replaying any found
// for `replay_periods` periods.
SearchResult search_witness(const core::Engine& engine, double capacity_tokens_per_s, const LengthBounds& bounds,
                            const SearchOptions& options, int replay_periods = 100);

// Runs the witness from the empty system for `periods` periods with core::step.
Replay replay_witness(const core::Engine& engine, const Witness& witness, double capacity_tokens_per_s, int periods);

// The support of a workload's lengths, capped where a law is unbounded (geometric or
// exponential without max): `cap` then stands for its largest value, and `capped` says so.
struct SupportBounds {
  LengthBounds bounds;
  bool prompt_capped = false, output_capped = false;
};
SupportBounds workload_support(const core::Workload& workload, std::int64_t cap);

}  // namespace batchproof::solver
