// `batchproof bound` as a user runs it: the proven bound with its induction and simulation
// lines, refutation above capacity, no certificate outside the abstraction, bad input.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "run_binary.hpp"

using batchproof::test::run_batchproof;

namespace {
std::string line_starting(const std::string& out, const std::string& prefix) {
  auto at = out.find("\n" + prefix);
  if (out.rfind(prefix, 0) == 0) at = 0;
  else if (at != std::string::npos) ++at;
  else return "";
  return out.substr(at, out.find('\n', at) - at);
}
}  // namespace

TEST_CASE("bound: a proven bound, the step below it, and the simulation beside it", "[cli][bound]") {
  auto r = run_batchproof(
      "bound tests/solver/data/bound.bp --engine tiny_sarathi --workload tiny_chat --sigma 8 --rho 0.5 --requests 4 "
      "--sim-duration 1");
  CHECK(r.exit_code == 0);
  CHECK(line_starting(r.out, "bound ").rfind(
            "bound tiny_sarathi (workload tiny_chat: prompt 1..4, output 3..3) sigma 8 tokens rho 0.5: proven, B = 17 "
            "tokens [",
            0) == 0);
  CHECK(line_starting(r.out, "envelope: ") ==
        "envelope: over every window of w seconds at most 8 + 1333.3 * w tokens arrive (rho 0.5 of C = 2666.7 "
        "tokens/s)");
  CHECK(line_starting(r.out, "requests: ") ==
        "requests: outputs <= 3 tokens (the lengths' maximum, and sigma minus the shortest prompt: one request arrives "
        "at one instant)");
  CHECK(line_starting(r.out, "rests on (prove): ").rfind("rests on (prove): work_conserving(tiny_sarathi) ", 0) == 0);
  CHECK(line_starting(r.out, "induction: ").rfind(
            "induction: W + credit <= 17 holds initially and after every step (7 queries); 16 is not: from W = 8, ", 0) ==
        0);
  CHECK(line_starting(r.out, "growth: ") ==
        "growth: below b_max, a batch of up to 2 tokens lets more arrive than it serves");
  CHECK(line_starting(r.out, "simulation (long outputs") ==
        "simulation (long outputs: 1 + 3 tokens, 335 requests, greedy in the envelope, 1 s): largest backlog 9 "
        "tokens at 0.024 s, 0.529 of B");
  CHECK(line_starting(r.out, "simulation (long prompts") ==
        "simulation (long prompts: 4 + 3 tokens, 191 requests, greedy in the envelope, 1 s): largest backlog 9 "
        "tokens at 0.011 s, 0.529 of B");

  CHECK(line_starting(r.out, "simulation (random") ==
        "simulation (random, seed 1: lengths in the ranges, 175 requests, 1 s): largest backlog 10 tokens at 0.211 s, "
        "0.588 of B");

  auto j = run_batchproof(
      "bound tests/solver/data/bound.bp --engine tiny_sarathi --workload tiny_chat --sigma 8 --rho 0.5 --requests 4 "
      "--sim-duration 1 --json");
  REQUIRE(j.exit_code == 0);
  auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["verdict"] == "proven");
  CHECK(doc["bound_tokens"] == 17);
  CHECK(doc["output_max"] == 3);
  CHECK(doc["growth_demand"] == 2);
  CHECK(doc["not_inductive_below"]["demand"] == 2);
  REQUIRE(doc["simulation"].size() == 3);
  CHECK(doc["simulation"][0]["max_backlog_tokens"].get<int>() <= 17);
}

TEST_CASE("bound: above capacity refuted, no certificate outside the abstraction, bad input", "[cli][bound]") {
  auto over = run_batchproof(
      "bound tests/solver/data/bound.bp --engine tiny_sarathi --workload tiny_chat --sigma 8 --rho 1.5 --sim-duration 1");
  CHECK(over.exit_code == 1);
  CHECK(line_starting(over.out, "reason: ") ==
        "reason: rho = 1.5 > 1: the envelope lets work arrive at 1.5 x C = 4000.0 tokens/s, more than any policy "
        "serves (C = 2666.7 tokens/s, MODEL.md §3): the backlog grows by at least 1333.3 tokens/s for ever");
  CHECK(line_starting(over.out, "simulation (long outputs").rfind("simulation (long outputs: 1 + 3 tokens, ", 0) == 0);
  auto kmax = run_batchproof(
      "bound tests/solver/data/bound.bp --engine tiny_sarathi_kmax --workload tiny_chat --sigma 8 --rho 0.5");
  CHECK(kmax.exit_code == 2);
  CHECK(kmax.out ==
        "bound tiny_sarathi_kmax (workload tiny_chat: prompt 1..4, output 3..3) sigma 8 tokens rho 0.5: unknown [0.00 "
        "s]\n"
        "envelope: over every window of w seconds at most 8 + 1333.3 * w tokens arrive (rho 0.5 of C = 2666.7 "
        "tokens/s)\n"
        "reason: no certificate: the engine limits a batch to k_max requests: a work-conserving batch need not be full "
        "when the demand is at least b_max (MODEL.md §3)\n");
  auto no_rho = run_batchproof("bound tests/solver/data/bound.bp --engine tiny_sarathi --sigma 8 --rho 0");
  CHECK(no_rho.exit_code == 3);
  CHECK(no_rho.err == "batchproof bound: error: --rho must be positive (a fraction of C, at most 100)\n");
  CHECK(run_batchproof("bound tests/solver/data/bound.bp --engine nope --sigma 8 --rho 0.5").exit_code == 3);
}
