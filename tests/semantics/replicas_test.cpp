// Dispatch over replicas (MODEL.md §3): identical work-conserving engines behind
// join-the-shortest-queue have K times one engine's capacity.
#include <catch2/catch.hpp>

#include "dsl/dsl.hpp"
#include "sim/capacity_search.hpp"
#include "sim/network_sim.hpp"

using namespace batchproof;

namespace {
core::Spec replicas_spec() {
  // One engine's capacity is 512 / 153.16 ms = 3342.9 tokens/s, 16.71 requests of 200 tokens.
  core::Diagnostics diags;
  auto spec = dsl::load_spec_text(
      "tests/semantics/replicas.bp",
      "import \"../../gpu_profiles/a100-80gb.bp\"\n"
      "engine sarathi {\n"
      "  profile codellama34b_a100\n"
      "  token_budget 512 tokens\n"
      "  policy { decode running fcfs prefill started fcfs chunk prefill waiting fcfs chunk }\n"
      "}\n"
      "network one {\n"
      "  station s = sarathi\n"
      "  class c { arrivals poisson 16.71 req/s hop s { prompt constant 100 tokens output constant 100 tokens } }\n"
      "}\n"
      "network two {\n"
      "  station s = sarathi replicas 2 dispatch jsq_tokens\n"
      "  class c { arrivals poisson 33.43 req/s hop s { prompt constant 100 tokens output constant 100 tokens } }\n"
      "}\n",
      diags);
  for (const auto& d : diags.all()) UNSCOPED_INFO(core::render(d));
  REQUIRE(spec);
  return *spec;
}
}  // namespace

TEST_CASE("two Sarathi replicas behind JSQ reach twice one engine's empirical capacity, within 5%") {
  core::Spec spec = replicas_spec();
  sim::CapacitySearchOptions o;
  o.seeds = 2;
  o.lowest = 0.7;
  o.highest = 1.3;
  o.precision = 0.02;
  auto one = sim::search_capacity(sim::network_probe(spec, *spec.find_network("one"), 8000), o);
  auto two = sim::search_capacity(sim::network_probe(spec, *spec.find_network("two"), 16000), o);
  INFO("one engine: " << one.load() << " of 16.71 req/s; two: " << two.load() << " of 33.43 req/s");
  REQUIRE_FALSE(one.unstable_everywhere);
  REQUIRE_FALSE(two.unstable_everywhere);
  double rate_one = one.load() * 16.71, rate_two = two.load() * 33.43;
  CHECK(rate_two / rate_one == Approx(2.0).epsilon(0.05));
}

TEST_CASE("JSQ spreads the work evenly over the replicas") {
  core::Spec spec = replicas_spec();
  sim::NetworkSimOptions o;
  o.rate_scale = 0.8;
  o.jobs = 8000;
  auto r = sim::simulate_network(spec, *spec.find_network("two"), o);
  REQUIRE(r.stations.size() == 1);
  const auto& per = r.stations[0].tokens_per_replica;
  REQUIRE(per.size() == 2);
  CHECK(static_cast<double>(per[0]) == Approx(static_cast<double>(per[1])).epsilon(0.05));
  CHECK(r.verdict.stable);
}
