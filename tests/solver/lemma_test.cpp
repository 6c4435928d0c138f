// Verdicts for every N (the inductive lemma of solver/fold_lemma.hpp) or bounded, for the four
// stylised policies and the mutants; fcfs held and violated; the lemma refused where the
// property holds only for small N.
#include <tuple>

#include <catch2/catch.hpp>

#include "core/step.hpp"
#include "dsl/dsl.hpp"
#include "solver/fold_lemma.hpp"
#include "solver/prove.hpp"
#include "spec_cache.hpp"

using namespace batchproof;

namespace {
const core::Engine& engine(const char* file, const char* name) {
  const core::Engine* e = test::cached_spec(file).find_engine(name);
  REQUIRE(e);
  return *e;
}

solver::ProofResult prove(const char* file, const char* name, core::Property p, int n, bool lemma = true) {
  solver::ProveOptions o;
  o.requests = n;
  o.timeout_s = 60;
  o.lemma = lemma;
  return solver::prove(engine(file, name), p, o);
}

// "all" (the inductive lemma), "up to N", or "violated from n".
std::string scope(const solver::ProofResult& r) {
  switch (r.verdict) {
    case solver::Verdict::Holds:
      if (r.scope == solver::Scope::AllN) return r.by_lemma ? "all N (lemma)" : "all N (" + r.reason + ")";
      return "up to " + std::to_string(r.requests);
    case solver::Verdict::Violated:
      return "violated from " +
             std::to_string(r.counterexample->state.running.size() + r.counterexample->state.waiting.size());
    default: return "unknown: " + r.reason;
  }
}
}  // namespace

TEST_CASE("scope: the stylised policies and the mutants, every property, at N = 32") {
  const char* paper = "examples/paper_policies.bp";
  const char* mutants = "tests/solver/policies.bp";
  using core::Property;
  const std::string all = "all N (lemma)";
  // (file, engine, property, verdict and scope)
  std::vector<std::tuple<const char*, const char*, Property, std::string>> cases{
      {paper, "sarathi", Property::WorkConserving, all},
      {paper, "orca_split", Property::WorkConserving, all},
      {paper, "orca", Property::WorkConserving, "violated from 1"},
      {paper, "vllm_vanilla", Property::WorkConserving, "violated from 1"},
      {paper, "faster_transformer", Property::WorkConserving, "violated from 1"},
      {paper, "sarathi", Property::Progress, all},
      {paper, "orca_split", Property::Progress, all},
      {paper, "orca", Property::Progress, "violated from 1"},
      {paper, "vllm_vanilla", Property::Progress, "violated from 1"},
      {paper, "faster_transformer", Property::Progress, "violated from 1"},
      {paper, "sarathi", Property::Budget, all},
      {paper, "orca_split", Property::Budget, all},
      {paper, "orca", Property::Budget, all},
      {paper, "vllm_vanilla", Property::Budget, all},
      {paper, "faster_transformer", Property::Budget, all},
      {paper, "sarathi", Property::Fcfs, all},
      {paper, "orca_split", Property::Fcfs, all},
      {paper, "orca", Property::Fcfs, all},
      {paper, "vllm_vanilla", Property::Fcfs, all},
      {paper, "faster_transformer", Property::Fcfs, all},
      {paper, "sarathi", Property::BatchLimit, "all N (the engine has no max_batch)"},
      {paper, "sarathi", Property::MemorySafe, "all N (the engine has no KV-cache limit)"},
      {mutants, "sarathi_short_chunk", Property::WorkConserving, "violated from 1"},
      {mutants, "sarathi_short_chunk", Property::Progress, all},
      {mutants, "orca_forgets_decodes", Property::WorkConserving, "violated from 2"},
      {mutants, "orca_forgets_decodes", Property::Progress, all},
      {mutants, "sarathi_over_budget", Property::Budget, "violated from 2"},
      {mutants, "sarathi_over_budget", Property::WorkConserving, all},
      {mutants, "key_orders", Property::Fcfs, "violated from 2"},
      {mutants, "forms", Property::Fcfs, "violated from 2"},
      {mutants, "memory_grow", Property::MemorySafe, all},
      {mutants, "memory_prompt_reserve", Property::MemorySafe, all},
      {mutants, "forms", Property::BatchLimit, all},
      // Static batching (Vidur's faster_transformer): admission waits for the running cohort.
      {"examples/vidur_engines.bp", "vidur_ft", Property::MemorySafe, all},
      {"examples/vidur_engines.bp", "vidur_ft", Property::BatchLimit, all},
      // Preemption: only the invariant lemmas decide, with evictions over-approximated.
      {"examples/vidur_engines.bp", "vidur_vllm", Property::MemorySafe, all},
      {"examples/vidur_engines.bp", "vidur_sarathi", Property::MemorySafe, all},
      // ... and a counterexample of the engine without preemption that replays refutes.
      {"examples/vidur_engines.bp", "vidur_vllm", Property::WorkConserving, "violated from 2"},
      // Vidur's Sarathi never cuts decodes (`unbudgeted`): within the budget because they come
      // before any prompt and max_batch 128 < 512 (the strengthened invariant knows it).
      {"examples/vidur_engines.bp", "vidur_sarathi", Property::Budget, all},
      // Unbudgeted decodes only while the batch is empty (the guard) or before any prompt.
      {mutants, "padded_whole", Property::Budget, all},
      // LightLLM's peak-estimate admission: a subset of `admission prompt`'s, for the invariants.
      {"examples/vidur_engines.bp", "vidur_lightllm", Property::Budget, all},
      {"examples/vidur_engines.bp", "vidur_lightllm", Property::MemorySafe, all},
  };
  for (const auto& [file, name, p, expected] : cases) {
    auto r = prove(file, name, p, 32);
    INFO(name << " " << core::property_name(p) << ": " << r.reason << " " << r.lemma_note);
    CHECK(scope(r) == expected);
  }
}

TEST_CASE("fcfs: a priority order serves a later request over an earlier one, with the exact counterexample") {
  auto r = prove("tests/solver/policies.bp", "key_orders", core::Property::Fcfs, 8);
  REQUIRE(r.verdict == solver::Verdict::Violated);
  const auto& cx = *r.counterexample;
  // Two waiting prompts, the later one shorter: `shortest_prompt whole skip` takes it, and the
  // earlier one no longer fits the 700-token budget.
  REQUIRE(cx.state.running.empty());
  REQUIRE(cx.state.waiting.size() == 2);
  CHECK(cx.state.waiting[0].prompt == 351);
  CHECK(cx.state.waiting[1].prompt == 350);
  REQUIRE(cx.batch.items.size() == 1);
  CHECK(cx.batch.items[0].request == 1);
  CHECK(cx.batch.items[0].prefill == 350);
  CHECK(cx.witness ==
        "request 1 (waiting) got 350 prompt tokens while request 0, waiting too and arrived earlier, got none although "
        "its 351 prompt tokens in its place would fit: the batch holds 350 of 700 tokens");
  // The same state replays through core::step to the same batch.
  core::EngineState s = cx.state;
  auto out = core::step(engine("tests/solver/policies.bp", "key_orders"), s);
  REQUIRE(out.batch.items.size() == 1);
  CHECK(out.batch.items[0].request == 1);
}

TEST_CASE("the lemma is refused where the property holds only for small N") {
  const char* file = "tests/solver/policies.bp";
  CHECK_FALSE(solver::fold_lemma(engine(file, "unbudgeted_decodes"), core::Property::Budget, 30).proved);
  auto small = prove(file, "unbudgeted_decodes", core::Property::Budget, 16);
  CHECK(scope(small) == "up to 16");
  CHECK(small.lemma_note == "rule 1 may break the invariant tokens ≤ b_max");
  // Rightly so: 17 decoding requests take 17 tokens of a 16-token budget.
  core::EngineState s;
  for (int i = 0; i < 17; ++i) {
    core::Request q;
    q.id = i;
    q.arrival_s = i;
    q.prompt = q.prefilled = 1;
    q.output = 2;
    q.admitted_seq = s.next_admission++;
    s.running.push_back(q);
  }
  CHECK(core::step(engine(file, "unbudgeted_decodes"), s).batch.tokens == 17);
  // A violation that needs three requests: the lemma refuses (the rule's limit may end it before
  // r), the search finds the smallest counterexample.
  auto limit = prove(file, "limit_two_admissions", core::Property::WorkConserving, 8);
  REQUIRE(limit.verdict == solver::Verdict::Violated);
  CHECK(limit.lemma_note == "one request's visits leave a token that may fit");
  CHECK(limit.counterexample->state.waiting.size() == 3);
  CHECK(limit.counterexample->batch.items.size() == 2);
  // And a lemma that fails is never a violation by itself: whole-prompt Orca's is refused,
  // the bounded search finds the smallest counterexample.
  auto orca = solver::fold_lemma(engine("examples/paper_policies.bp", "orca"), core::Property::WorkConserving, 30);
  CHECK_FALSE(orca.proved);
  CHECK(orca.why_not == "one request's visits leave a token that may fit");
}

TEST_CASE("bounded and lemma verdicts agree on the stylised policies at N = 4") {
  for (const char* name : {"sarathi", "orca_split", "orca", "vllm_vanilla", "faster_transformer"})
    for (auto p : {core::Property::WorkConserving, core::Property::Fcfs}) {
      auto with = prove("examples/paper_policies.bp", name, p, 4);
      auto without = prove("examples/paper_policies.bp", name, p, 4, false);
      INFO(name << " " << core::property_name(p));
      CHECK(with.verdict == without.verdict);
      CHECK(without.scope == solver::Scope::UpToN);
    }
}
