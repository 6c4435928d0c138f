// The fluid-cycle search (solver/network_fluid.hpp): K phases of linear real arithmetic, with
// cumulative amounts (not rates) so that everything stays linear in the phase durations.
#include "solver/network_fluid.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <z3++.h>

#include "core/capacity.hpp"
#include "core/policy.hpp"

namespace batchproof::solver {

namespace {

bool uses_priority(const std::vector<core::PolicyStmt>& body) {
  for (const auto& st : body) {
    if (st.rule && st.rule->order == core::Order::Priority) return true;
    for (const auto& w : st.when) {
      for (const auto& br : w.branches)
        if (uses_priority(br.body)) return true;
      if (uses_priority(w.otherwise)) return true;
    }
  }
  return false;
}

std::size_t station_of(const core::Network& n, const std::string& name) {
  for (std::size_t s = 0; s < n.stations.size(); ++s)
    if (n.stations[s].name == name) return s;
  return 0;  // lowering guarantees every hop names a station
}

// A double as an exact rational for Z3 (nine decimals are far below every figure's precision).
z3::expr real(z3::context& ctx, double x) {
  auto n = static_cast<long long>(std::llround(x * 1e9));
  return ctx.real_val(fmt::format("{}/1000000000", n).c_str());
}

struct Encoding {
  std::vector<z3::expr> tau;                   // [phase]
  std::vector<std::vector<z3::expr>> x;        // [boundary][buffer]
  std::vector<std::vector<z3::expr>> y;        // [phase][buffer]
  std::vector<z3::expr> pick;                  // [buffer]: the start buffer
  z3::expr c, d;
  explicit Encoding(z3::context& ctx) : c(ctx), d(ctx) {}
};

Encoding encode(z3::context& ctx, z3::solver& s, const FluidNetwork& fn, int K) {
  const std::size_t B = fn.buffers.size();
  Encoding e(ctx);
  z3::expr zero = ctx.real_val(0);
  for (int k = 0; k <= K; ++k) {
    e.x.emplace_back();
    for (std::size_t b = 0; b < B; ++b) {
      e.x.back().push_back(ctx.real_const(fmt::format("x@{}_{}", k, b).c_str()));
      s.add(e.x.back().back() >= zero);
    }
  }
  z3::expr total_time = zero;
  for (int p = 0; p < K; ++p) {
    z3::expr tau = ctx.real_const(fmt::format("tau@{}", p).c_str());
    s.add(tau >= zero);
    total_time = total_time + tau;
    e.tau.push_back(tau);
    e.y.emplace_back();
    std::vector<z3::expr> pos;
    for (std::size_t b = 0; b < B; ++b) {
      e.y.back().push_back(ctx.real_const(fmt::format("y@{}_{}", p, b).c_str()));
      s.add(e.y.back().back() >= zero);
      pos.push_back(ctx.bool_const(fmt::format("pos@{}_{}", p, b).c_str()));
    }
    for (std::size_t b = 0; b < B; ++b) {
      const FluidBuffer& fb = fn.buffers[b];
      // Balance: level after = level before + arrivals + what the previous stage sends − served.
      z3::expr in = real(ctx, fb.arrival_tokens_per_s) * tau;
      if (fb.stage > 0)
        for (std::size_t u = 0; u < B; ++u)
          if (fn.buffers[u].cls == fb.cls && fn.buffers[u].stage + 1 == fb.stage)
            in = in + real(ctx, fb.hop_tokens / fn.buffers[u].hop_tokens) * e.y[p][u];
      s.add(e.x[p + 1][b] == e.x[p][b] + in - e.y[p][b]);
      // Rates are constant in a phase, so a level is linear there: positive inside the phase
      // exactly when positive at one of its ends.
      s.add(z3::implies(!pos[b], e.x[p][b] == zero && e.x[p + 1][b] == zero));
      s.add(z3::implies(pos[b], e.x[p][b] + e.x[p + 1][b] > zero));
    }
    for (std::size_t st = 0; st < fn.stations.size(); ++st) {
      z3::expr served = zero, busy = ctx.bool_val(false);
      for (std::size_t b = 0; b < B; ++b) {
        if (fn.buffers[b].station != st) continue;
        served = served + e.y[p][b];
        busy = busy || pos[b];
        // Preemptive priority: while b is positive, every buffer of lower priority gets nothing.
        for (std::size_t l = 0; l < B; ++l)
          if (fn.buffers[l].station == st && fn.buffers[l].rank > fn.buffers[b].rank)
            s.add(z3::implies(pos[b], e.y[p][l] == zero));
      }
      z3::expr cap = real(ctx, fn.capacity_tokens_per_s[st]) * tau;
      s.add(served <= cap);
      s.add(z3::implies(busy, served == cap));  // work-conserving
    }
  }
  s.add(total_time == ctx.real_val(1));
  // All fluid in one buffer at the start (c) and at the end (d > c).
  e.c = ctx.real_const("c");
  e.d = ctx.real_const("d");
  z3::expr_vector picks(ctx);
  for (std::size_t b = 0; b < B; ++b) {
    e.pick.push_back(ctx.bool_const(fmt::format("start@{}", b).c_str()));
    picks.push_back(e.pick.back());
    s.add(z3::implies(e.pick[b], e.x[0][b] == e.c && e.x[static_cast<std::size_t>(K)][b] == e.d));
    s.add(z3::implies(!e.pick[b], e.x[0][b] == zero && e.x[static_cast<std::size_t>(K)][b] == zero));
  }
  s.add(z3::atleast(picks, 1));
  s.add(z3::atmost(picks, 1));
  s.add(e.c > zero);
  s.add(e.d > e.c);
  return e;
}

double value(const z3::model& m, const z3::expr& x) { return m.eval(x, true).as_double(); }

FluidCycle read_cycle(const z3::model& m, const Encoding& e, std::size_t B, int K) {
  FluidCycle c;
  for (std::size_t b = 0; b < B; ++b)
    if (m.eval(e.pick[b], true).is_true()) c.start_buffer = b;
  c.start_tokens = value(m, e.c);
  c.end_tokens = value(m, e.d);
  for (int p = 0; p < K; ++p) c.durations_s.push_back(value(m, e.tau[static_cast<std::size_t>(p)]));
  for (int k = 0; k <= K; ++k) {
    c.levels.emplace_back();
    for (std::size_t b = 0; b < B; ++b) c.levels.back().push_back(value(m, e.x[static_cast<std::size_t>(k)][b]));
  }
  for (int p = 0; p < K; ++p) {
    c.served.emplace_back();
    for (std::size_t b = 0; b < B; ++b) c.served.back().push_back(value(m, e.y[static_cast<std::size_t>(p)][b]));
  }
  return c;
}

}  // namespace

std::string fluid_unsupported(const core::Spec& spec, const core::Network& n) {
  for (const auto& c : n.classes)
    for (const auto& st : c.route)
      if (st.fork || st.hops.size() != 1)
        return fmt::format("class {} forks: the fluid model here has no join (a minimum of the branches)", c.name);
  for (const auto& st : n.stations) {
    const core::Engine* e = spec.find_engine(st.engine);
    if (!e || !(core::compute_capacity(*e).tokens_per_s > 0))
      return fmt::format("station {}: engine {} has no finite compute capacity", st.name, st.engine);
  }
  return "";
}

FluidNetwork fluid_network(const core::Spec& spec, const core::Network& n, double rate_scale) {
  FluidNetwork fn;
  fn.rate_scale = rate_scale;
  std::vector<bool> by_priority;
  for (const auto& st : n.stations) {
    fn.stations.push_back(st.name);
    const core::Engine* e = spec.find_engine(st.engine);
    fn.capacity_tokens_per_s.push_back(e ? static_cast<double>(st.replicas) * core::compute_capacity(*e).tokens_per_s : 0);
    by_priority.push_back(e && uses_priority(e->policy.body));
  }
  for (std::size_t k = 0; k < n.classes.size(); ++k) {
    const auto& cl = n.classes[k];
    for (std::size_t h = 0; h < cl.route.size(); ++h) {
      const core::Hop& hop = cl.route[h].hops.front();
      FluidBuffer b;
      b.cls = k;
      b.stage = h;
      b.station = station_of(n, hop.station);
      b.label = fmt::format("{}@{} (hop {})", cl.name, hop.station, h + 1);
      b.hop_tokens = hop.prompt.mean() + hop.output.mean();
      if (h == 0) b.arrival_tokens_per_s = cl.arrivals.mean_rate() * rate_scale * b.hop_tokens;
      // The simulator's rank (sim/network_sim.cpp): the position in the station's priority
      // list, classes not listed after all listed ones, equal among themselves.
      b.rank = 0;
      if (by_priority[b.station]) {
        auto it = n.priority.find(hop.station);
        if (it != n.priority.end()) {
          const auto& order = it->second;
          b.rank = static_cast<std::int32_t>(std::find(order.begin(), order.end(), cl.name) - order.begin());
        }
      }
      fn.buffers.push_back(std::move(b));
    }
  }
  return fn;
}

FluidSearchResult search_fluid_cycle(const FluidNetwork& fn, const FluidSearchOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  FluidSearchResult r;
  r.verdict = FluidVerdict::NotFound;
  auto done = [&] {
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  for (int K = o.min_phases; K <= o.max_phases; ++K) {
    z3::context ctx;
    z3::solver s(ctx);
    z3::params p(ctx);
    p.set("timeout", static_cast<unsigned>(std::max(1.0, o.timeout_s * 1000)));
    s.set(p);
    Encoding e = encode(ctx, s, fn, K);
    r.phases = K;
    z3::check_result cr = s.check();
    if (cr == z3::unknown) {
      r.verdict = FluidVerdict::Unknown;
      r.reason = fmt::format("the solver gave up at {} phases ({})", K, s.reason_unknown());
      return done();
    }
    if (cr == z3::unsat) {
      r.phases_without_cycle.push_back(K);
      continue;
    }
    FluidCycle best = read_cycle(s.get_model(), e, fn.buffers.size(), K);
    for (int round = 0; round < o.improve_rounds; ++round) {
      s.push();
      s.add(e.d - e.c >= real(ctx, 1.25 * best.slope_tokens_per_s()));
      if (s.check() != z3::sat) {
        s.pop();
        break;
      }
      best = read_cycle(s.get_model(), e, fn.buffers.size(), K);
      s.pop();
    }
    r.verdict = FluidVerdict::Found;
    r.cycle = std::move(best);
    return done();
  }
  return done();
}

}  // namespace batchproof::solver
