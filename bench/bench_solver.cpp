// Time to prove (or refute) each per-iteration property of the paper's four policies (five
// engines: Orca with and without split prompts) and of the mutants of tests/solver/policies.bp:
// bounded at N = 4, 8, 16, 32 requests (the search N = 1, 2, 4, ... without the lemma), and
// "for all N" (the inductive lemma, with the bounded search at N = 32 where it does not apply).
//
//   build/bench/bench_solver --benchmark_filter='AllN'            # median of 3, the table's last column
//   build/bench/bench_solver --benchmark_filter='Total'           # every proof of the table, for all N
//   build/bench/bench_solver --benchmark_filter='Bounded/.*/32'   # one column of the bounded search
#include <benchmark/benchmark.h>

#include <map>
#include <string>

#include "dsl/dsl.hpp"
#include "solver/prove.hpp"

using namespace batchproof;

namespace {

const core::Spec& spec(const char* file) {
  static std::map<std::string, core::Spec> cache;
  auto it = cache.find(file);
  if (it == cache.end()) {
    core::Diagnostics diags;
    auto loaded = dsl::load_spec(std::string(BATCHPROOF_SOURCE_DIR) + "/" + file, diags);
    if (!loaded) std::abort();
    it = cache.emplace(file, *loaded).first;
  }
  return it->second;
}

struct Subject {
  const char* file;
  const char* engine;
};
const Subject kEngines[] = {
    {"examples/paper_policies.bp", "sarathi"},
    {"examples/paper_policies.bp", "orca_split"},
    {"examples/paper_policies.bp", "orca"},
    {"examples/paper_policies.bp", "vllm_vanilla"},
    {"examples/paper_policies.bp", "faster_transformer"},
    {"tests/solver/policies.bp", "sarathi_short_chunk"},
    {"tests/solver/policies.bp", "orca_forgets_decodes"},
    {"tests/solver/policies.bp", "sarathi_over_budget"},
};
const core::Property kProperties[] = {core::Property::WorkConserving, core::Property::Progress, core::Property::Budget,
                                      core::Property::BatchLimit,     core::Property::MemorySafe, core::Property::Fcfs};

std::string describe(const solver::ProofResult& r) {
  switch (r.verdict) {
    case solver::Verdict::Holds:
      return r.scope == solver::Scope::AllN ? (r.by_lemma ? "holds, all N (lemma)" : "holds, all N (trivially)")
                                            : "holds up to " + std::to_string(r.requests);
    case solver::Verdict::Violated:
      return "violated from " +
             std::to_string(r.counterexample->state.running.size() + r.counterexample->state.waiting.size());
    case solver::Verdict::Unknown: return "unknown";
    case solver::Verdict::InternalError: return "internal error";
  }
  return "";
}

solver::ProofResult prove(int engine, int property, int n, bool lemma) {
  const Subject& s = kEngines[engine];
  solver::ProveOptions o;
  o.requests = n;
  o.timeout_s = 300;
  o.lemma = lemma;
  return solver::prove(*spec(s.file).find_engine(s.engine), kProperties[property], o);
}

// Args: property, engine, N (0: for all N, the lemma first, else bounded at 32).
void BM_Bounded(benchmark::State& state) {
  solver::ProofResult r;
  for (auto _ : state) r = prove(static_cast<int>(state.range(1)), static_cast<int>(state.range(0)),
                                 static_cast<int>(state.range(2)), false);
  state.SetLabel(std::string(core::property_name(kProperties[state.range(0)])) + " " + kEngines[state.range(1)].engine +
                 ": " + describe(r));
}
void BM_AllN(benchmark::State& state) {
  solver::ProofResult r;
  for (auto _ : state) r = prove(static_cast<int>(state.range(1)), static_cast<int>(state.range(0)), 32, true);
  state.SetLabel(std::string(core::property_name(kProperties[state.range(0)])) + " " + kEngines[state.range(1)].engine +
                 ": " + describe(r));
}
// Every property of every engine above, for all N (or at N = 32 where only bounded): the
// figure the 60 s target is about.
void BM_Total(benchmark::State& state) {
  int decided = 0;
  for (auto _ : state) {
    decided = 0;
    for (int p = 0; p < 6; ++p)
      for (int e = 0; e < 8; ++e) {
        auto v = prove(e, p, 32, true).verdict;
        decided += v == solver::Verdict::Holds || v == solver::Verdict::Violated;
      }
  }
  state.SetLabel(std::to_string(decided) + " of 48 decided");
}

void bounded_args(benchmark::internal::Benchmark* b) {
  for (int p = 0; p < 6; ++p)
    for (int e = 0; e < 8; ++e)
      for (int n : {4, 8, 16, 32}) b->Args({p, e, n});
  b->Unit(benchmark::kMillisecond)->Iterations(1);
}
void all_args(benchmark::internal::Benchmark* b) {
  for (int p = 0; p < 6; ++p)
    for (int e = 0; e < 8; ++e) b->Args({p, e});
  b->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
}

}  // namespace

BENCHMARK(BM_AllN)->Apply(all_args);
BENCHMARK(BM_Total)->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_Bounded)->Apply(bounded_args);

BENCHMARK_MAIN();
