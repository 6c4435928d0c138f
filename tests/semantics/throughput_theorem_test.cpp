// The paper's throughput theorem in simulation (MODEL.md §3): a work-conserving policy is
// stable below the compute capacity, and above it the backlog grows at the fluid slope
// λ(m_p + m_d) − b_max / t(b_max).
#include <catch2/catch.hpp>

#include "core/capacity.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"

using namespace batchproof;

namespace {
core::Spec sarathi_spec() {
  core::Diagnostics diags;
  auto spec = dsl::load_spec_text("tests/semantics/theorem.bp",
                                  "import \"../../gpu_profiles/a100-80gb.bp\"\n"
                                  "engine sarathi {\n"
                                  "  profile codellama34b_a100\n"
                                  "  token_budget 512 tokens\n"
                                  "  policy { decode running fcfs prefill started fcfs chunk prefill waiting fcfs chunk }\n"
                                  "}\n"
                                  "workload fixed { arrivals poisson 1 req/s prompt constant 100 tokens output constant 100 tokens }\n",
                                  diags);
  for (const auto& d : diags.all()) UNSCOPED_INFO(core::render(d));
  REQUIRE(spec);
  return *spec;
}

sim::SimResult run(const core::Spec& spec, double load, std::uint64_t seed) {
  const core::Engine& e = *spec.find_engine("sarathi");
  const core::Workload& w = *spec.find_workload("fixed");
  double capacity = core::compute_capacity(e).tokens_per_s;  // 512 / 153.16 ms
  sim::SimOptions o;
  o.seed = seed;
  o.rate.rate_per_s = load * capacity / 200.0;
  o.requests = 20000;
  return sim::simulate_engine(e, w, o);
}
}  // namespace

TEST_CASE("Sarathi-Serve, A100 profile, b_max 512, 100 + 100 tokens: stable at 0.9 of capacity") {
  core::Spec spec = sarathi_spec();
  for (std::uint64_t seed : {1, 2, 3}) {
    sim::SimResult r = run(spec, 0.9, seed);
    INFO("seed " << seed << " slope " << r.verdict.slope_tokens_per_s);
    CHECK(r.verdict.stable);
    CHECK_FALSE(r.frozen);
    CHECK(r.completed > 19000);
  }
}

TEST_CASE("above capacity the backlog grows at the fluid slope, within 10%") {
  core::Spec spec = sarathi_spec();
  double capacity = 512.0 / 0.15316;
  for (double load : {1.1, 1.2}) {
    for (std::uint64_t seed : {1, 2, 3}) {
      sim::SimResult r = run(spec, load, seed);
      double fluid = sim::fluid_slope(r.offered_second_half_tokens_per_s, capacity);
      INFO("load " << load << " seed " << seed << ": slope " << r.verdict.slope_tokens_per_s << ", fluid " << fluid);
      CHECK_FALSE(r.verdict.stable);
      CHECK(r.verdict.slope_tokens_per_s == Approx(fluid).epsilon(0.10));
      CHECK(r.throughput_tokens_per_s() == Approx(capacity).epsilon(0.02));
    }
  }
}
