// Verdicts of the verifier (MODEL.md §5) with their minimal counterexamples, and mutants that
// the right property catches.

#include <catch2/catch.hpp>

#include "dsl/dsl.hpp"
#include "solver/prove.hpp"
#include "spec_cache.hpp"

using namespace batchproof;

namespace {
const core::Spec& spec(const char* file) { return test::cached_spec(file); }

solver::ProofResult prove(const char* file, const char* engine, core::Property p, int n = 8) {
  solver::ProveOptions o;
  o.requests = n;
  o.timeout_s = 60;
  return solver::prove(*spec(file).find_engine(engine), p, o);
}
}  // namespace

TEST_CASE("work conservation: holds for Sarathi-Serve and split Orca, for every N, and bounded up to 8 requests") {
  for (const char* e : {"sarathi", "orca_split"}) {
    auto r = prove("examples/paper_policies.bp", e, core::Property::WorkConserving, 12);
    INFO(e << ": " << r.reason);
    CHECK(r.verdict == solver::Verdict::Holds);
    CHECK(r.scope == solver::Scope::AllN);
    CHECK(r.by_lemma);
    solver::ProveOptions o;
    o.requests = 8;
    o.lemma = false;
    auto b = solver::prove(*spec("examples/paper_policies.bp").find_engine(e), core::Property::WorkConserving, o);
    CHECK(b.verdict == solver::Verdict::Holds);
    CHECK(b.scope == solver::Scope::UpToN);
    CHECK(b.requests == 8);
  }
}

TEST_CASE("work conservation: violated by FasterTransformer, vanilla vLLM and whole-prompt Orca, minimally") {
  for (const char* e : {"faster_transformer", "vllm_vanilla", "orca"}) {
    auto r = prove("examples/paper_policies.bp", e, core::Property::WorkConserving);
    INFO(e << ": " << r.reason);
    REQUIRE(r.verdict == solver::Verdict::Violated);
    const auto& cx = *r.counterexample;
    // The smallest counterexample: one waiting prompt of 513 tokens, one more than the budget,
    // which a whole-prompt policy can never schedule.
    REQUIRE(cx.state.running.empty());
    REQUIRE(cx.state.waiting.size() == 1);
    CHECK(cx.state.waiting[0].prompt == 513);
    CHECK(cx.state.waiting[0].output == 1);
    CHECK(cx.batch.empty());
    CHECK(cx.witness.rfind("not maximal: request 0 (waiting) could take one more prompt token", 0) == 0);
  }
}

TEST_CASE("progress: violated by whole-prompt policies when a prompt may exceed the budget") {
  for (const char* e : {"faster_transformer", "vllm_vanilla", "orca"})
    CHECK(prove("examples/paper_policies.bp", e, core::Property::Progress).verdict == solver::Verdict::Violated);
  CHECK(prove("examples/paper_policies.bp", "sarathi", core::Property::Progress).verdict == solver::Verdict::Holds);
}

TEST_CASE("mutants are caught by the right property") {
  auto short_chunk = prove("tests/solver/policies.bp", "sarathi_short_chunk", core::Property::WorkConserving);
  REQUIRE(short_chunk.verdict == solver::Verdict::Violated);
  CHECK(short_chunk.counterexample->batch.tokens == 511);
  auto forgets = prove("tests/solver/policies.bp", "orca_forgets_decodes", core::Property::WorkConserving);
  REQUIRE(forgets.verdict == solver::Verdict::Violated);
  // A decoding request and a prompt that does not fill the budget: the decode is left out.
  const auto& cx = *forgets.counterexample;
  CHECK(cx.state.running.size() + cx.state.waiting.size() == 2);
  REQUIRE(cx.batch.items.size() == 1);
  CHECK(cx.batch.items[0].prefill > 0);
  CHECK(cx.witness.find("could take its decode token") != std::string::npos);
  CHECK(prove("tests/solver/policies.bp", "orca_forgets_decodes", core::Property::Budget).verdict == solver::Verdict::Holds);
  auto over = prove("tests/solver/policies.bp", "sarathi_over_budget", core::Property::Budget);
  REQUIRE(over.verdict == solver::Verdict::Violated);
  CHECK(over.counterexample->batch.tokens == 513);
  CHECK(prove("tests/solver/policies.bp", "sarathi_over_budget", core::Property::WorkConserving).verdict ==
        solver::Verdict::Holds);
}

TEST_CASE("outside the encoded fragment the verdict is unknown, with the reason") {
  auto r = prove("examples/vidur_engines.bp", "vidur_sarathi", core::Property::WorkConserving, 2);
  CHECK(r.verdict == solver::Verdict::Unknown);
  CHECK(r.reason == "the engine preempts when KV memory runs out (preemption is not encoded yet); the engine "
                    "without them has no counterexample of up to 2 requests, which proves nothing about the engine "
                    "itself");
  auto fcfs = prove("tests/solver/policies.bp", "padded_whole", core::Property::Fcfs);
  CHECK(fcfs.verdict == solver::Verdict::Unknown);
  CHECK(fcfs.reason == "fcfs is not encoded for a padded budget yet");
  auto trivially = prove("examples/paper_policies.bp", "sarathi", core::Property::MemorySafe);
  CHECK(trivially.verdict == solver::Verdict::Holds);
  CHECK(trivially.reason == "the engine has no KV-cache limit");
}

// Preemption is outside the encoding, but a counterexample of the engine without it that the
// engine itself, replayed by core::step, reproduces is a counterexample of the engine.
TEST_CASE("outside the encoded fragment a counterexample of the approximation that replays refutes") {
  auto r = prove("examples/vidur_engines.bp", "vidur_vllm", core::Property::WorkConserving);
  REQUIRE(r.verdict == solver::Verdict::Violated);
  const auto& cx = *r.counterexample;
  REQUIRE(cx.state.running.size() == 1);
  REQUIRE(cx.state.waiting.size() == 1);
  // vLLM v0 in Vidur: a prefill-only batch while a request decodes.
  CHECK(cx.state.running[0].prefilled == cx.state.running[0].prompt);
  CHECK(cx.state.running[0].decoded == cx.state.running[0].output - 1);
  REQUIRE(cx.batch.items.size() == 1);
  CHECK(cx.batch.items[0].request == 1);
  CHECK(cx.batch.items[0].prefill == 1);
  CHECK_FALSE(cx.batch.items[0].decode);
  CHECK(cx.witness == "not maximal: request 0 (decoding) could take its decode token: the batch holds 1 of 4096 tokens");
}
