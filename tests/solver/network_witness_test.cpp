// Instability witnesses for networks (docs/search.md "Networks"): the Rybko–Stolyar network of
// examples/rybko_stolyar.bp has a fluid cycle with the exit-first priority, confirmed by a
// replay in the simulator, and none with the entry-first priority; the k_max bound
// (core/kmax_bound.hpp) on a small engine.
#include <catch2/catch.hpp>

#include "core/capacity.hpp"
#include "core/kmax_bound.hpp"
#include "dsl/dsl.hpp"
#include "sim/network_replay.hpp"
#include "solver/network_fluid.hpp"

using namespace batchproof;

namespace {
const core::Spec& load(const char* path) {
  static std::map<std::string, core::Spec> specs;
  auto it = specs.find(path);
  if (it == specs.end()) {
    core::Diagnostics diags;
    auto loaded = dsl::load_spec(path, diags);
    REQUIRE(loaded);
    it = specs.emplace(path, std::move(*loaded)).first;
  }
  return it->second;
}
const core::Spec& rs() { return load("examples/rybko_stolyar.bp"); }

// The per-engine capacity 512 / t(512) = 512 / 153.16 ms; each engine gets 2.5 × 68 + 2.5 × 1040.
constexpr double kCapacity = 512 / 0.15316;
constexpr double kLoad = 2770 / kCapacity;  // 0.8286
}  // namespace

TEST_CASE("network witness: the Rybko-Stolyar stations are at load 0.829, below 1") {
  auto loads = core::station_loads(rs(), *rs().find_network("rs_exit_first"));
  REQUIRE(loads.size() == 2);
  for (const auto& l : loads) {
    CHECK(l.offered_tokens_per_s == Approx(2770.0));
    CHECK(l.capacity_tokens_per_s == Approx(kCapacity));
    CHECK(l.load == Approx(kLoad));
    CHECK(l.load == Approx(0.8286).epsilon(1e-3));
  }
}

TEST_CASE("network witness: the fluid model of Rybko-Stolyar, exit-first priority") {
  const core::Network& n = *rs().find_network("rs_exit_first");
  CHECK(solver::fluid_unsupported(rs(), n).empty());
  solver::FluidNetwork fn = solver::fluid_network(rs(), n, 0.9 / kLoad);
  REQUIRE(fn.buffers.size() == 4);
  CHECK(fn.buffers[0].label == "A@e1 (hop 1)");
  CHECK(fn.buffers[0].hop_tokens == 68);
  CHECK(fn.buffers[0].arrival_tokens_per_s == Approx(2.5 * 0.9 / kLoad * 68));
  CHECK(fn.buffers[0].rank == 1);  // e1: B > A
  CHECK(fn.buffers[1].label == "A@e2 (hop 2)");
  CHECK(fn.buffers[1].arrival_tokens_per_s == 0);
  CHECK(fn.buffers[1].rank == 0);  // e2: A > B: the class that leaves through it
  CHECK(fn.buffers[3].label == "B@e1 (hop 2)");
  CHECK(fn.buffers[3].rank == 0);
  REQUIRE(fn.capacity_tokens_per_s.size() == 2);
  CHECK(fn.capacity_tokens_per_s[0] == Approx(kCapacity));
  CHECK(fn.capacity_tokens_per_s[1] == Approx(kCapacity));
}

TEST_CASE("network witness: exit-first Rybko-Stolyar has a growing fluid cycle of 4 phases, and the replay grows") {
  const core::Network& n = *rs().find_network("rs_exit_first");
  const double scale = 0.9 / kLoad;
  solver::FluidNetwork fn = solver::fluid_network(rs(), n, scale);
  solver::FluidSearchOptions o;
  o.max_phases = 4;
  solver::FluidSearchResult r = solver::search_fluid_cycle(fn, o);
  REQUIRE(r.verdict == solver::FluidVerdict::Found);
  CHECK(r.phases == 4);
  CHECK(r.phases_without_cycle == std::vector<int>{1, 2, 3});
  const solver::FluidCycle& c = *r.cycle;
  CHECK(c.growth_factor() > 1);
  CHECK(c.growth_factor() == Approx(29.61).epsilon(0.01));
  double total = 0;
  for (double d : c.durations_s) total += d;
  CHECK(total == Approx(1.0));
  // The cycle's end holds all fluid in its start buffer, d > c.
  for (std::size_t b = 0; b < fn.buffers.size(); ++b) {
    CHECK(c.levels.front()[b] == Approx(b == c.start_buffer ? c.start_tokens : 0.0).margin(1e-9));
    CHECK(c.levels.back()[b] == Approx(b == c.start_buffer ? c.end_tokens : 0.0).margin(1e-9));
  }
  // Replay one cycle in the simulator from the start buffer, scaled to whole jobs.
  const solver::FluidBuffer& start = fn.buffers[c.start_buffer];
  const std::int64_t jobs = 62;  // about four long hops of work (the CLI starts from eight)
  const double start_tokens = static_cast<double>(jobs) * start.hop_tokens;
  sim::DeterministicReplay rp;
  rp.rate_scale = scale;
  rp.start = {sim::ReplayStart{start.cls, start.stage, jobs}};
  rp.duration_s = start_tokens / c.start_tokens;
  sim::NetworkSimResult sr = sim::replay_network(rs(), n, rp);
  REQUIRE(!sr.backlog.empty());
  double end = sr.backlog.back().backlog_tokens;
  CHECK(end > start_tokens * (1 + (c.growth_factor() - 1) / 2));
  CHECK(end / start_tokens == Approx(c.growth_factor()).epsilon(0.1));
  // The same arrivals without the start state build far less: the growth is the start's.
  rp.start.clear();
  sim::NetworkSimResult control = sim::replay_network(rs(), n, rp);
  REQUIRE(!control.backlog.empty());
  CHECK(end - control.backlog.back().backlog_tokens > start_tokens * (1 + (c.growth_factor() - 1) / 2));
}

TEST_CASE("network witness: entry-first Rybko-Stolyar has no fluid cycle of up to 4 phases") {
  const core::Network& n = *rs().find_network("rs_entry_first");
  solver::FluidSearchOptions o;
  o.max_phases = 4;
  solver::FluidSearchResult r = solver::search_fluid_cycle(solver::fluid_network(rs(), n, 0.9 / kLoad), o);
  CHECK(r.verdict == solver::FluidVerdict::NotFound);
  CHECK(!r.cycle);
  CHECK(r.phases_without_cycle == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("network witness: the fluid model has no join, so forks are unsupported") {
  const core::Spec& fj = load("examples/fork_join.bp");
  CHECK(solver::fluid_unsupported(fj, *fj.find_network("fork_join_agent")) ==
        "class task forks: the fluid model here has no join (a minimum of the branches)");
}

TEST_CASE("network witness: deterministic replay arrivals are the start state, then evenly spaced by class") {
  const core::Network& n = *rs().find_network("rs_exit_first");
  sim::DeterministicReplay rp;
  rp.start = {sim::ReplayStart{1, 1, 2}};
  rp.duration_s = 0.8;
  auto a = sim::deterministic_arrivals(n, rp);
  REQUIRE(a.size() == 6);  // 2 at time 0, then A and B at 0.4 s and 0.8 s (2.5 req/s)
  CHECK(a[0].time_s == 0);
  CHECK(a[0].cls == 1);
  CHECK(a[0].stage == 1);
  CHECK(a[2].time_s == Approx(0.4));
  CHECK(a[2].cls == 0);
  CHECK(a[3].time_s == Approx(0.4));
  CHECK(a[3].cls == 1);
  CHECK(a[5].time_s == Approx(0.8));
  CHECK(a[5].stage == 0);
}

TEST_CASE("k_max bound: 16 requests a batch let 3.96 req/s through, inside a compute capacity of 3938 tokens/s") {
  const core::Spec& s = load("tests/cli/data/kmax_small.bp");
  auto k = core::kmax_bound(*s.find_engine("capped"), *s.find_workload("steady"));
  REQUIRE(k);
  CHECK(k->k_max == 16);
  CHECK(k->best_batch == 16);
  CHECK(k->slots_per_s == Approx(16 / 0.040));   // t(16) = 10 ms + 30 ms
  CHECK(k->slots_per_request == Approx(101.0));  // 100 decode iterations and 1 of prefill
  CHECK(k->requests_per_s == Approx(400.0 / 101));
  CHECK(k->tokens_per_s == Approx(400.0 / 101 * 200));
  CHECK(core::compute_capacity(*s.find_engine("capped")).tokens_per_s == Approx(512 / 0.130));
}
