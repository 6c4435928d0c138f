// Time to prove (or refute) each per-iteration property of the paper's four policies at
// N = 4, 8, 16, 32 requests.
//
//   build/bench/bench_solver --benchmark_filter='WorkConserving'
#include <benchmark/benchmark.h>

#include "dsl/dsl.hpp"
#include "solver/prove.hpp"

using namespace batchproof;

namespace {

const core::Spec& spec() {
  static const core::Spec s = [] {
    core::Diagnostics diags;
    auto loaded = dsl::load_spec(std::string(BATCHPROOF_SOURCE_DIR) + "/examples/paper_policies.bp", diags);
    if (!loaded) std::abort();
    return *loaded;
  }();
  return s;
}

const char* kEngines[] = {"sarathi", "orca_split", "orca", "vllm_vanilla", "faster_transformer"};

void run(benchmark::State& state, core::Property p) {
  const core::Engine& e = *spec().find_engine(kEngines[state.range(0)]);
  solver::ProveOptions o;
  o.requests = static_cast<int>(state.range(1));
  o.timeout_s = 120;
  solver::Verdict v = solver::Verdict::Unknown;
  for (auto _ : state) v = solver::prove(e, p, o).verdict;
  state.SetLabel(std::string(kEngines[state.range(0)]) + (v == solver::Verdict::Holds      ? " holds"
                                                          : v == solver::Verdict::Violated ? " violated"
                                                                                           : " unknown"));
}

void BM_WorkConserving(benchmark::State& s) { run(s, core::Property::WorkConserving); }
void BM_Progress(benchmark::State& s) { run(s, core::Property::Progress); }
void BM_Budget(benchmark::State& s) { run(s, core::Property::Budget); }

void args(benchmark::internal::Benchmark* b) {
  for (int e = 0; e < 5; ++e)
    for (int n : {4, 8, 16, 32}) b->Args({e, n});
  b->Unit(benchmark::kMillisecond)->Iterations(1);
}

}  // namespace

BENCHMARK(BM_WorkConserving)->Apply(args);
BENCHMARK(BM_Progress)->Apply(args);
BENCHMARK(BM_Budget)->Apply(args);

BENCHMARK_MAIN();
