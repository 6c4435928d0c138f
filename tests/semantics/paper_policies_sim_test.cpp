// The paper's policies under the chat workload (prompts uniform 10..248, outputs geometric
// with mean 112), b_max = 512, in simulation; and a replay of the Azure conversation trace.
#include <sstream>

#include <catch2/catch.hpp>

#include "core/capacity.hpp"
#include "core/trace_format.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"

using namespace batchproof;

namespace {
const core::Spec& paper() {
  static const core::Spec spec = [] {
    core::Diagnostics diags;
    auto s = dsl::load_spec("examples/paper_policies.bp", diags);
    REQUIRE(s);
    return *s;
  }();
  return spec;
}

sim::SimResult run(const std::string& engine, double load, std::uint64_t seed, std::uint64_t requests = 30000) {
  const core::Engine& e = *paper().find_engine(engine);
  const core::Workload& w = *paper().find_workload("chat");
  double capacity = core::compute_capacity(e).tokens_per_s;
  sim::SimOptions o;
  o.seed = seed;
  o.rate.rate_per_s = load * capacity / (w.mean_prompt() + w.mean_output());
  o.requests = requests;
  return sim::simulate_engine(e, w, o);
}
}  // namespace

TEST_CASE("chat: Sarathi-Serve and Orca with split prompts are stable at 0.95 of capacity") {
  for (const char* e : {"sarathi", "orca_split"})
    for (std::uint64_t seed : {1, 2}) {
      sim::SimResult r = run(e, 0.95, seed);
      INFO(e << " seed " << seed << ": slope " << r.verdict.slope_tokens_per_s);
      CHECK(r.verdict.stable);
      CHECK_FALSE(r.frozen);
    }
}

TEST_CASE("chat: the stylised FasterTransformer is unstable at 0.75 of capacity") {
  for (std::uint64_t seed : {1, 2}) {
    sim::SimResult r = run("faster_transformer", 0.75, seed, 10000);
    INFO("seed " << seed << ": slope " << r.verdict.slope_tokens_per_s);
    CHECK_FALSE(r.verdict.stable);
    CHECK(r.verdict.slope_tokens_per_s > 0.1 * r.offered_tokens_per_s);
  }
}

TEST_CASE("a simulated run written as a trace reads back, iteration by iteration") {
  const core::Engine& e = *paper().find_engine("sarathi");
  const core::Workload& w = *paper().find_workload("chat");
  std::stringstream buffer;
  core::TraceWriter writer(buffer);
  sim::SimOptions o;
  o.requests = 200;
  o.trace = &writer;
  o.spec_file = "examples/paper_policies.bp";
  sim::SimResult r = sim::simulate_engine(e, w, o);
  writer.flush();
  core::TraceReader reader(buffer, "run.jsonl");
  core::TraceRecord record;
  std::int64_t iterations = 0, tokens = 0, arrivals = 0;
  double last_end = 0;
  bool header = false;
  while (reader.next(record)) {
    if (const auto* h = std::get_if<core::TraceHeader>(&record)) {
      header = true;
      CHECK(h->engine == "sarathi");
      CHECK(*h->token_budget == 512);
    } else if (const auto* it = std::get_if<core::TraceIteration>(&record)) {
      ++iterations;
      CHECK(it->tokens <= 512);
      CHECK(it->start_s >= last_end - 1e-12);
      last_end = it->end_s;
      tokens += it->tokens;
      arrivals += static_cast<std::int64_t>(it->arrivals.size());
    }
  }
  CHECK(reader.malformed_count() == 0);
  CHECK(header);
  CHECK(iterations == static_cast<std::int64_t>(r.iterations - r.idle_iterations));
  CHECK(tokens == r.tokens);
  CHECK(arrivals <= 200);
}

TEST_CASE("replaying the Azure conversation trace through an example engine") {
  core::Diagnostics diags;
  auto spec = dsl::load_spec("examples/azure_conv_replay.bp", diags);
  REQUIRE(spec);
  const core::Engine& e = *spec->find_engine("sarathi_512");
  const core::Workload& w = *spec->find_workload("azure_conv");
  core::LoadFigures f = core::load_on(e, w);
  CHECK(f.rate_per_s == Approx(19365.0 / (w.arrivals.trace.back().time_s - w.arrivals.trace.front().time_s)));
  CHECK(f.load > 1);  // one A100 cannot carry Azure's conversation service
  sim::SimOptions o;
  o.requests = 2000;
  sim::SimResult r = sim::simulate_engine(e, w, o);
  CHECK(r.arrived == 2000);
  CHECK(r.completed > 0);
  CHECK_FALSE(r.verdict.stable);
}
