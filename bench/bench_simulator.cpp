// The simulator's speed on the reference case: Sarathi-Serve on the paper's A100
// profile, b_max = 512, requests of 100 prompt + 100 output tokens, Poisson arrivals at 0.9 of
// capacity. Reports wall time, simulated tokens per second and the process's peak memory.
//
//   build/bench/bench_simulator --benchmark_repetitions=5
#include <sys/resource.h>

#include <benchmark/benchmark.h>

#include "core/capacity.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"

using namespace batchproof;

namespace {

const core::Spec& spec() {
  static const core::Spec s = [] {
    core::Diagnostics diags;
    auto loaded = dsl::load_spec_text(
        std::string(BATCHPROOF_SOURCE_DIR) + "/bench/reference.bp",
        "import \"../gpu_profiles/a100-80gb.bp\"\n"
        "engine sarathi {\n"
        "  profile codellama34b_a100\n"
        "  token_budget 512 tokens\n"
        "  policy { decode running fcfs prefill started fcfs chunk prefill waiting fcfs chunk }\n"
        "}\n"
        "workload fixed { arrivals poisson 1 req/s prompt constant 100 tokens output constant 100 tokens }\n",
        diags);
    if (!loaded) std::abort();
    return *loaded;
  }();
  return s;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

void BM_SarathiPoisson(benchmark::State& state) {
  const core::Engine& e = *spec().find_engine("sarathi");
  const core::Workload& w = *spec().find_workload("fixed");
  const double load = static_cast<double>(state.range(1)) / 100.0;
  sim::SimOptions o;
  o.rate.rate_per_s = load * core::compute_capacity(e).tokens_per_s / 200.0;
  o.requests = static_cast<std::uint64_t>(state.range(0));
  std::int64_t tokens = 0;
  bool stable = true;
  for (auto _ : state) {
    sim::SimResult r = sim::simulate_engine(e, w, o);
    tokens += r.tokens;
    stable = r.verdict.stable;
    benchmark::DoNotOptimize(r);
  }
  state.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["requests_per_s"] =
      benchmark::Counter(static_cast<double>(o.requests.value() * state.iterations()), benchmark::Counter::kIsRate);
  state.counters["peak_rss_MB"] = peak_rss_mb();
  state.counters["stable"] = stable ? 1 : 0;
}

}  // namespace

// 1,000,000 requests at load 0.9 (the target: under 2 s on one core, under 500 MB).
BENCHMARK(BM_SarathiPoisson)->Args({1000000, 90})->Unit(benchmark::kMillisecond)->Iterations(1);
// Smaller runs, and an overloaded one (the backlog grows: the waiting queue is long).
BENCHMARK(BM_SarathiPoisson)->Args({100000, 90})->Args({100000, 110})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
