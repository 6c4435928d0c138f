// Instability witnesses (MODEL.md §4): found for the stylised FasterTransformer and vanilla
// vLLM below capacity, replayed with exact linear growth; none for Sarathi-Serve and split
// Orca at the tested periods; the concrete replay refuses a pattern that does not repeat.
#include <catch2/catch.hpp>

#include "core/capacity.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"
#include "solver/witness.hpp"

using namespace batchproof;

namespace {
const core::Spec& paper() {
  static const core::Spec s = [] {
    core::Diagnostics diags;
    auto loaded = dsl::load_spec("examples/paper_policies.bp", diags);
    REQUIRE(loaded);
    return *loaded;
  }();
  return s;
}

const core::Engine& engine(const char* name) { return *paper().find_engine(name); }
const core::Workload& chat() { return *paper().find_workload("chat"); }
double capacity(const char* name) { return core::compute_capacity(engine(name), &chat()).tokens_per_s; }

solver::SearchResult search(const char* name, double load, std::vector<int> periods, solver::LengthBounds lb) {
  solver::SearchOptions o;
  o.load = load;
  o.periods = std::move(periods);
  o.timeout_s = 60;
  return solver::search_witness(engine(name), capacity(name), lb, o);
}

const solver::LengthBounds kChat{10, 248, 1, 64};
}  // namespace

TEST_CASE("search: the chat workload's support, with unbounded laws capped") {
  solver::SupportBounds sb = solver::workload_support(chat(), 4096);
  CHECK(sb.bounds.prompt_lo == 10);
  CHECK(sb.bounds.prompt_hi == 248);
  CHECK_FALSE(sb.prompt_capped);
  CHECK(sb.bounds.output_lo == 1);
  CHECK(sb.bounds.output_hi == 4096);
  CHECK(sb.output_capped);  // geometric without max
}

TEST_CASE("search: vanilla vLLM starves its decodes below capacity (period 1)") {
  auto r = search("vllm_vanilla", 0.9, {1, 2}, kChat);
  INFO(r.reason);
  REQUIRE(r.verdict == solver::SearchVerdict::Found);
  const auto& w = *r.witness;
  const auto& rp = *r.replay;
  CHECK(w.period == 1);
  REQUIRE(w.start.size() == 1);
  REQUIRE(w.pattern.size() == 1);
  // Every iteration is one whole prompt: the new arrival keeps a prefill pending, so the
  // decodes of everything admitted wait forever and their output tokens pile up.
  REQUIRE(rp.first_period.size() == 1);
  REQUIRE(rp.first_period[0].items.size() == 1);
  CHECK(rp.first_period[0].items[0].prefill == w.start[0].prompt);
  CHECK_FALSE(rp.first_period[0].items[0].decode);
  CHECK(rp.repeats);
  CHECK(rp.growth_tokens == w.start[0].output);  // one stuck request's output per period
  CHECK(rp.load <= 0.9);
  CHECK(rp.backlog.size() == 101);
  CHECK(rp.backlog.back() - rp.backlog.front() == 100 * rp.growth_tokens);
  // The witness file, run by the simulator from the empty system, grows at the replay's rate.
  core::Workload none;
  sim::SimOptions so;
  so.arrivals = &rp.arrivals;
  sim::SimResult sr = sim::simulate_engine(engine("vllm_vanilla"), none, so);
  double expected = static_cast<double>(rp.growth_tokens) / rp.period_s;
  CHECK(sr.verdict.slope_tokens_per_s == Approx(expected).epsilon(0.02));
}

TEST_CASE("search: FasterTransformer leaves prompts waiting while it decodes (period 3)") {
  auto r = search("faster_transformer", 0.9, {1, 2, 3}, kChat);
  INFO(r.reason);
  REQUIRE(r.verdict == solver::SearchVerdict::Found);
  CHECK(r.periods_searched == std::vector<int>{1, 2});
  const auto& rp = *r.replay;
  CHECK(r.witness->period == 3);
  CHECK(rp.repeats);
  CHECK(rp.load <= 0.9);
  CHECK(rp.growth_tokens > 0);
  // A prefill-only batch, then decode-only ones: the policy never mixes.
  for (const auto& b : rp.first_period) {
    bool prefill = b.prefill_tokens > 0, decode = b.decode_tokens > 0;
    CHECK(prefill != decode);
  }
  CHECK(rp.first_period[0].prefill_tokens > 0);
}

TEST_CASE("search: no witness for Sarathi-Serve and split Orca at load 0.95, periods 1 to 3") {
  for (const char* e : {"sarathi", "orca_split"}) {
    auto r = search(e, 0.95, {1, 2, 3}, kChat);
    INFO(e << ": " << r.reason);
    CHECK(r.verdict == solver::SearchVerdict::NotFound);
    CHECK(r.periods_searched == std::vector<int>{1, 2, 3});
  }
}

TEST_CASE("search: the least load of a vanilla vLLM witness is one shortest request per shortest iteration") {
  // (10 + 1) tokens every t(10) = 46.75 ms, against 512 tokens every t(512) = 153.16 ms.
  double least = 11.0 / (0.01128 + 0.03547) / (512.0 / (0.01128 + 4 * 0.03547));
  auto below = search("vllm_vanilla", least * 0.99, {1, 2}, kChat);
  CHECK(below.verdict == solver::SearchVerdict::NotFound);
  auto above = search("vllm_vanilla", least * 1.01, {1, 2}, kChat);
  REQUIRE(above.verdict == solver::SearchVerdict::Found);
  CHECK(above.replay->load == Approx(least).epsilon(1e-9));
}

TEST_CASE("search: the replay refuses a pattern whose growth the policy reads") {
  // One 100 + 1 token request a period of one iteration: Sarathi-Serve decodes the previous
  // one beside the next prompt, so the second period's batch differs from the first's and the
  // pattern is no witness.
  solver::Witness w;
  w.period = 1;
  w.start = {{0, 100, 1, ""}};
  w.pattern = {{0, 100, 1}};
  solver::Replay rp = solver::replay_witness(engine("sarathi"), w, capacity("sarathi"), 10);
  CHECK_FALSE(rp.repeats);
  CHECK(rp.failed_period == 2);
  CHECK(rp.mismatch == "iteration 0 of period 2 forms a batch of 101 tokens in 2 items, not the first period's 100 "
                       "tokens in 1 items");
}

// The (σ, ρ) envelope on every window (MODEL.md §4): the solver keeps the witness's arrivals,
// the start state's burst at time 0 included, inside σ + ρ·C·w, and the replay's arrivals, as
// core::envelope_burst measures them, agree. FasterTransformer's period-3 witness needs two
// 173-token requests waiting at the start (346 tokens), so it fits σ = 400 and not σ = 300.
TEST_CASE("search: a witness inside a (sigma, rho) envelope on every window") {
  solver::SearchOptions o;
  o.load = 0.9;
  o.periods = {3};
  o.timeout_s = 60;
  o.sigma_tokens = 400;
  const solver::LengthBounds lb{171, 171, 2, 2};
  auto in = solver::search_witness(engine("faster_transformer"), capacity("faster_transformer"), lb, o);
  INFO(in.reason);
  REQUIRE(in.verdict == solver::SearchVerdict::Found);
  CHECK(in.witness->start.size() == 2);
  CHECK(in.replay->burst_tokens <= 400);
  CHECK(in.replay->burst_tokens >= 346);
  CHECK(in.replay->repeats);
  o.sigma_tokens = 300;
  auto out = solver::search_witness(engine("faster_transformer"), capacity("faster_transformer"), lb, o);
  CHECK(out.verdict == solver::SearchVerdict::NotFound);
}
