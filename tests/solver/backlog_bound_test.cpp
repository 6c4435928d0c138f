// Stability certificates (docs/search.md, "Stability certificates"): the least inductive bound
// for a small Sarathi-Serve worked out by hand, the simulated envelope pattern below it, ρ > 1
// refuted, a non-work-conserving engine and an engine outside the abstraction without a
// certificate, and a solver that gives up reported as unknown.
#include <catch2/catch.hpp>

#include "core/capacity.hpp"
#include "core/token_bucket.hpp"
#include "dsl/dsl.hpp"
#include "sim/envelope_run.hpp"
#include "solver/backlog_bound.hpp"

using namespace batchproof;

namespace {
const core::Spec& tiny() {
  static const core::Spec s = [] {
    core::Diagnostics diags;
    auto loaded = dsl::load_spec("tests/solver/data/bound.bp", diags);
    REQUIRE(loaded);
    return *loaded;
  }();
  return s;
}
const core::Engine& engine(const char* name) { return *tiny().find_engine(name); }

// The tiny_chat workload's support: prompt 1..4, output 3.
const solver::LengthBounds kTiny{1, 4, 3, 3};

solver::BoundResult bound(const char* name, std::int64_t sigma, double rho, unsigned rlimit = 0) {
  solver::BoundOptions o;
  o.timeout_s = 10;
  o.rlimit = rlimit;
  o.wc_requests = 4;
  return solver::prove_backlog_bound(engine(name), kTiny, solver::Envelope{sigma, rho}, o);
}
}  // namespace

TEST_CASE("bound: the least inductive bound of a small Sarathi-Serve, by hand") {
  // b_max = 8, t(b) = 2 ms for b <= 4 and 3 ms for 5..8, so C = 8 / 3 ms and at rho = 0.5 the
  // refill is r = 4/3 tokens per ms. sigma = 8 and outputs <= 3 (8 - 1 would allow more).
  // A full batch serves 8 while at most 4 more tokens of credit come in: W + c falls. Below
  // b_max, a demand D serves D tokens in t(D) while r·t(D) may arrive: more than D only for
  // D = 1, 2 (r·2 ms = 8/3). From W <= (O + 1)·D = 4·2 = 8 and c <= 8, a step with D = 2 ends at
  // W + c <= 8 - 2 + 8 + 8/3 = 16.67: the least integer B for which W + c <= B is inductive is 17.
  auto r = bound("tiny_sarathi", 8, 0.5);
  INFO(r.reason);
  REQUIRE(r.verdict == solver::BoundVerdict::Proven);
  CHECK(*r.bound == 17);
  CHECK(r.output_max == 3);
  CHECK(r.growth_demand == 2);
  // What it rests on is what prove says of work conservation and the budget (for every N by the
  // inductive lemma where it applies, else for states of up to N = 4 requests).
  solver::ProveOptions po;
  po.requests = 4;
  auto scope = [](const solver::ProofResult& p) {
    return p.reason.empty() ? std::string("for every state of up to 4 requests") : p.reason;
  };
  std::string rests_on = "work_conserving(tiny_sarathi) " +
                         scope(solver::prove(engine("tiny_sarathi"), core::Property::WorkConserving, po)) +
                         "; budget(tiny_sarathi) " +
                         scope(solver::prove(engine("tiny_sarathi"), core::Property::Budget, po));
  CHECK(r.rests_on == rests_on);
  CHECK(r.reason == "B = 17 tokens (W + credit <= B is inductive, 16 is not; outputs <= 3 tokens; " + rests_on + ")");
  REQUIRE(r.below);  // the step that leaves W + c <= 16: demand 2 from W = 8
  CHECK(r.below->demand == 2);
  CHECK(r.below->work == 8);
  CHECK(r.below->seconds == Approx(0.002));
  CHECK(static_cast<double>(r.below->work_after) + r.below->credit_after > 16);

  // The greedy envelope pattern (a burst of 2 requests of 1 + 3 tokens, then one every 3 ms) in
  // an exact run of core::step stays below B; it conforms to the envelope.
  const double rate = 0.5 * core::compute_capacity(engine("tiny_sarathi")).tokens_per_s;
  auto arrivals = sim::greedy_envelope_arrivals(8, rate, 1, 3, 1.0);
  REQUIRE(arrivals.size() == 335);  // 2 at 0 s, then 333 up to 1 s
  CHECK(core::envelope_burst(arrivals, rate) <= 8.0);
  CHECK(core::envelope_burst(arrivals, rate) > 7.999);
  sim::EnvelopeRun run = sim::run_envelope(engine("tiny_sarathi"), arrivals);
  CHECK(run.max_backlog <= 17);
  CHECK(run.max_backlog == 9);  // the third request joins two that have one output token left each
  auto prompts = sim::greedy_envelope_arrivals(8, rate, 4, 3, 1.0);
  CHECK(sim::run_envelope(engine("tiny_sarathi"), prompts).max_backlog <= 17);
}

TEST_CASE("bound: random patterns in the envelope stay below the bound (seeds 1..20)") {
  // Outputs up to 6 (the user's bounds): O_max = min(6, 8 - 1) = 6, and the growing demands are
  // still D = 1, 2, so B = ceil(8 + 6·2 + 8/3) = ceil(22.67) = 23.
  const solver::LengthBounds lb{1, 4, 1, 6};
  solver::BoundOptions o;
  o.wc_requests = 4;
  auto r = solver::prove_backlog_bound(engine("tiny_sarathi"), lb, solver::Envelope{8, 0.5}, o);
  REQUIRE(r.verdict == solver::BoundVerdict::Proven);
  REQUIRE(*r.bound == 23);
  const double rate = 0.5 * core::compute_capacity(engine("tiny_sarathi")).tokens_per_s;
  std::int64_t largest = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    auto arrivals = sim::random_envelope_arrivals(8, rate, 1, 4, 1, 6, 0.5, seed);
    REQUIRE(arrivals.size() > 50);
    CHECK(core::envelope_burst(arrivals, rate) <= 8 + 1e-9);
    largest = std::max(largest, sim::run_envelope(engine("tiny_sarathi"), arrivals).max_backlog);
  }
  auto greedy = sim::greedy_envelope_arrivals(8, rate, 1, 6, 0.5);
  largest = std::max(largest, sim::run_envelope(engine("tiny_sarathi"), greedy).max_backlog);
  CHECK(largest <= 23);
  CHECK(largest == 14);  // the abstraction lets every request hold O_max at once; runs do not
}

TEST_CASE("bound: at rho = 1 a work-conserving engine still has a bound; above 1 none") {
  // r = C = 8/3 per ms: every D of 1..7 lets more arrive than it serves (r·2 ms = 5.33 > 4,
  // r·3 ms = 8 > 7); the largest, D = 7 from W = 4·7 = 28 and c = 8, ends at 28 - 7 + 8 + 8 = 37.
  auto one = bound("tiny_sarathi", 8, 1.0);
  REQUIRE(one.verdict == solver::BoundVerdict::Proven);
  CHECK(*one.bound == 37);
  auto over = bound("tiny_sarathi", 8, 1.5);
  CHECK(over.verdict == solver::BoundVerdict::Refuted);
  CHECK(over.reason ==
        "rho = 1.5 > 1: the envelope lets work arrive at 1.5 x C = 4000.0 tokens/s, more than any policy serves (C = "
        "2666.7 tokens/s, MODEL.md §3): the backlog grows by at least 1333.3 tokens/s for ever");
}

TEST_CASE("bound: no certificate without work conservation, or outside the abstraction") {
  auto vllm = bound("tiny_vllm", 8, 0.9);
  INFO(vllm.reason);
  CHECK(vllm.verdict == solver::BoundVerdict::Refuted);
  CHECK(vllm.reason.rfind("no certificate: not work-conserving (a ", 0) == 0);
  auto kmax = bound("tiny_sarathi_kmax", 8, 0.5);
  CHECK(kmax.verdict == solver::BoundVerdict::Unknown);
  CHECK(kmax.reason ==
        "no certificate: the engine limits a batch to k_max requests: a work-conserving batch need not be full when the "
        "demand is at least b_max (MODEL.md §3)");
}

TEST_CASE("bound: no request fits a tiny envelope, so nothing arrives") {
  auto r = bound("tiny_sarathi", 3, 0.5);
  REQUIRE(r.verdict == solver::BoundVerdict::Proven);
  CHECK(*r.bound == 0);
}

TEST_CASE("bound: a solver that gives up is unknown, never a bound") {
  auto r = bound("tiny_sarathi", 8, 0.5, 1);  // a resource limit of 1: every query gives up
  CHECK(r.verdict == solver::BoundVerdict::Unknown);
  CHECK_FALSE(r.bound);
  CHECK(r.reason.rfind("the solver gave up on the induction at B = ", 0) == 0);
}
