#include "cli/network_witness.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "cli/length_choice.hpp"
#include "core/policy.hpp"
#include "sim/network_replay.hpp"
#include "solver/prove.hpp"

namespace batchproof::cli {

namespace {

constexpr double kMaxReplayArrivals = 200000;     // a replay that needs more is not run (it would take minutes)
constexpr double kStartHopsOfLongest = 8;         // the replay's start state: at first this many longest hops of work
constexpr std::uint64_t kRoundRobinArrivals = 6000;
constexpr int kWorkConservingRequests = 4;        // the bounded proof, where the inductive lemma does not apply

std::int64_t smallest(const core::LengthLaw& l) {
  switch (l.form) {
    case core::LengthLaw::Form::Constant:
    case core::LengthLaw::Form::Uniform: return std::max<std::int64_t>(1, l.lo);
    case core::LengthLaw::Form::Empirical:
      return l.values.empty() ? 1 : std::max<std::int64_t>(1, *std::min_element(l.values.begin(), l.values.end()));
    default: return 1;
  }
}
std::int64_t largest(const core::LengthLaw& l) { return std::max<std::int64_t>(1, l.largest().value_or(kUnboundedLengthCap)); }

std::size_t station_index(const core::Network& n, const std::string& name) {
  for (std::size_t s = 0; s < n.stations.size(); ++s)
    if (n.stations[s].name == name) return s;
  return 0;
}

// Whether some station's work can come back to it (a cycle in the graph of consecutive hops).
bool feeds_back(const core::Network& n) {
  const std::size_t S = n.stations.size();
  std::vector<std::set<std::size_t>> next(S);
  for (const auto& c : n.classes)
    for (std::size_t h = 0; h + 1 < c.route.size(); ++h)
      for (const auto& a : c.route[h].hops)
        for (const auto& b : c.route[h + 1].hops) next[station_index(n, a.station)].insert(station_index(n, b.station));
  // Kahn's algorithm: the graph is acyclic exactly when every station can be removed.
  std::vector<int> indegree(S, 0);
  for (const auto& out : next)
    for (std::size_t t : out) ++indegree[t];
  std::vector<std::size_t> ready;
  for (std::size_t s = 0; s < S; ++s)
    if (indegree[s] == 0) ready.push_back(s);
  std::size_t removed = 0;
  while (!ready.empty()) {
    std::size_t s = ready.back();
    ready.pop_back();
    ++removed;
    for (std::size_t t : next[s])
      if (--indegree[t] == 0) ready.push_back(t);
  }
  return removed < S;
}

void scale_loads(std::vector<core::StationLoad>& loads, double scale) {
  for (auto& l : loads) {
    l.offered_tokens_per_s *= scale;
    l.load *= scale;
  }
}

void round_robin(const core::Spec& spec, const core::Network& n, const NetworkSearchOptions& o, NetworkSearchResult& r) {
  r.method = "round-robin adversary";
  const core::NetworkClass& cl = n.classes.front();
  const core::Hop& hop = cl.route.front().hops.front();
  const core::Station& st = n.stations[station_index(n, hop.station)];
  const core::Engine& e = *spec.find_engine(st.engine);
  RoundRobinAdversary a;
  a.station = st.name;
  a.replicas = st.replicas;
  // Long: the longest prompt with the shortest output (prefill fills whole batches, so the
  // replica works at its compute capacity; long outputs would be decode-limited and only
  // slower); short: the shortest of both.
  a.long_prompt = largest(hop.prompt);
  a.long_output = smallest(hop.output);
  a.short_prompt = smallest(hop.prompt);
  a.short_output = smallest(hop.output);
  a.replica_capacity_tokens_per_s = core::compute_capacity(e).tokens_per_s;
  const double n_rep = static_cast<double>(st.replicas);
  const double L = static_cast<double>(a.long_prompt + a.long_output), S = static_cast<double>(a.short_prompt + a.short_output);
  const double mean = (L + (n_rep - 1) * S) / n_rep;
  a.station_load = o.load;
  a.rate_per_s = o.load * n_rep * a.replica_capacity_tokens_per_s / mean;
  a.replica_load = a.rate_per_s / n_rep * L / a.replica_capacity_tokens_per_s;
  a.fluid_slope_tokens_per_s = a.rate_per_s / n_rep * L - a.replica_capacity_tokens_per_s;
  r.rate_scale = a.rate_per_s / cl.arrivals.mean_rate();
  r.loads = {core::StationLoad{st.name, st.engine, st.replicas, a.rate_per_s * mean, n_rep * a.replica_capacity_tokens_per_s,
                               o.load}};
  r.round_robin = a;
  if (a.replica_load <= 1) {
    r.verdict = NetworkVerdict::NoCycle;
    r.reason = fmt::format("no round-robin adversary at load <= {}: the long requests' replica is at {:.3f}", o.load,
                           a.replica_load);
    return;
  }
  sim::DeterministicReplay rp;
  rp.rate_scale = r.rate_scale;
  rp.duration_s = static_cast<double>(kRoundRobinArrivals) / a.rate_per_s;
  std::vector<sim::HopLengths> pattern{{{a.long_prompt, a.long_output}}};
  for (std::int64_t k = 1; k < st.replicas; ++k) pattern.push_back({{a.short_prompt, a.short_output}});
  rp.pattern = {pattern};
  NetworkReplayFigures f;
  f.duration_s = rp.duration_s;
  f.predicted_slope_tokens_per_s = a.fluid_slope_tokens_per_s;
  f.sim = sim::replay_network(spec, n, rp);
  f.jobs = f.sim.jobs_arrived;
  f.confirms = !f.sim.verdict.stable && !f.sim.verdict.insufficient_data;
  r.replay = std::move(f);
  r.verdict = r.replay->confirms ? NetworkVerdict::Witness : NetworkVerdict::NotConfirmed;
  r.reason = fmt::format("every {}th arrival long ({} + {} tokens) at {:.1f} req/s: station load {:.3f}, replica {} at {:.3f}{}",
                         st.replicas, a.long_prompt, a.long_output, a.rate_per_s, o.load, "0", a.replica_load,
                         r.replay->confirms ? ", replay grows" : ", but the replay does not grow");
}

// Why some engine of the network is not known to be work-conserving, or "": the theorem and the
// fluid model both assume it. `consequence` ends the reason. `every_n` says whether every
// engine's proof covers every number of requests (the inductive lemma), or only small states.
std::string not_work_conserving(const core::Spec& spec, const core::Network& n, const NetworkSearchOptions& o,
                                const std::string& consequence, bool& every_n) {
  every_n = true;
  std::set<std::string> engines;
  for (const auto& st : n.stations) engines.insert(st.engine);
  for (const auto& name : engines) {
    solver::ProveOptions po;
    po.requests = kWorkConservingRequests;
    po.timeout_s = o.timeout_s;
    solver::ProofResult pr = solver::prove(*spec.find_engine(name), core::Property::WorkConserving, po);
    if (pr.verdict == solver::Verdict::Violated)
      return fmt::format("engine {} is not work-conserving, so {}", name, consequence);
    if (pr.verdict != solver::Verdict::Holds)
      return fmt::format("engine {}: work conservation not decided ({}), so {}", name, pr.reason, consequence);
    every_n = every_n && pr.scope == solver::Scope::AllN;
  }
  return "";
}

void feed_forward(const core::Spec& spec, const core::Network& n, const NetworkSearchOptions& o, NetworkSearchResult& r) {
  r.method = "feed-forward theorem";
  for (const auto& st : n.stations)
    if (st.replicas > 1 && st.dispatch != core::Dispatch::ShortestQueueTokens) {
      r.verdict = NetworkVerdict::Unknown;
      r.reason = fmt::format("station {}: {} replicas behind join-the-shortest-queue in requests: the theorem covers "
                             "one engine, or replicas behind join-the-shortest-queue in tokens",
                             st.name, st.replicas);
      return;
    }
  bool every_n = false;
  if (std::string why = not_work_conserving(spec, n, o, "the feed-forward theorem does not apply", every_n); !why.empty()) {
    r.verdict = NetworkVerdict::Unknown;
    r.reason = why;
    return;
  }
  double busiest = 0;
  for (const auto& l : r.loads) busiest = std::max(busiest, l.load);
  r.verdict = NetworkVerdict::Stable;
  r.reason = fmt::format("feed-forward network, every station at load <= {:.3f} < 1, every engine work-conserving "
                         "({}): stable by Dai et al.'s theorems (MODEL.md §3, §7)",
                         busiest, every_n ? std::string("proved for every number of requests")
                                          : fmt::format("proved for up to {} requests only", kWorkConservingRequests));
}

void fluid(const core::Spec& spec, const core::Network& n, const NetworkSearchOptions& o, NetworkSearchResult& r) {
  r.method = "fluid cycle";
  for (const auto& st : n.stations)
    if (st.replicas > 1) {
      r.verdict = NetworkVerdict::Unknown;
      r.reason = fmt::format("station {} has {} replicas in a network that feeds back: the fluid model does not "
                             "pool replicas there",
                             st.name, st.replicas);
      return;
    }
  if (std::string why = solver::fluid_unsupported(spec, n); !why.empty()) {
    r.verdict = NetworkVerdict::Unknown;
    r.reason = why;
    return;
  }
  r.fluid_network = solver::fluid_network(spec, n, r.rate_scale);
  solver::FluidSearchOptions fo;
  fo.max_phases = o.max_phases;
  fo.timeout_s = o.timeout_s;
  r.fluid = solver::search_fluid_cycle(*r.fluid_network, fo);
  if (r.fluid->verdict == solver::FluidVerdict::Unknown) {
    r.verdict = NetworkVerdict::Unknown;
    r.reason = r.fluid->reason;
    return;
  }
  if (r.fluid->verdict == solver::FluidVerdict::NotFound) {
    // The fluid model serves work-conservingly; for an engine that is not, "no cycle" says nothing.
    bool every_n = false;
    if (std::string why = not_work_conserving(spec, n, o, "the fluid model (work-conserving) does not describe it and "
                                                          "finding no fluid cycle says nothing",
                                            every_n);
        !why.empty()) {
      r.verdict = NetworkVerdict::Unknown;
      r.reason = why;
      return;
    }
    r.verdict = NetworkVerdict::NoCycle;
    r.reason = fmt::format("no fluid cycle of 1..{} phases at load <= {} (a bounded search, not a proof of stability)",
                           o.max_phases, o.load);
    return;
  }
  // The replay: the cycle's start state as whole jobs, scaled up (the fluid model is
  // scale-invariant); arrivals evenly spaced at the fluid rates.
  const solver::FluidCycle& c = *r.fluid->cycle;
  const solver::FluidBuffer& b = r.fluid_network->buffers[c.start_buffer];
  double longest = 0;
  for (const auto& fb : r.fluid_network->buffers) longest = std::max(longest, fb.hop_tokens);
  NetworkReplayFigures f;
  const double g = c.growth_factor();
  sim::DeterministicReplay rp;
  rp.rate_scale = r.rate_scale;
  // The start state must stand out from the queue the arrivals alone build (the control run):
  // while it is under twice the control's mean backlog over the cycle, it is doubled (at most 3
  // times), so that transients cannot pass for growth.
  double rate = 0;
  for (const auto& cl : n.classes) rate += cl.arrivals.mean_rate() * r.rate_scale;
  auto too_long = [&](double start_tokens) { return start_tokens / c.start_tokens * rate > kMaxReplayArrivals; };
  if (too_long(kStartHopsOfLongest * longest)) {
    r.verdict = NetworkVerdict::NotConfirmed;
    r.reason = fmt::format("fluid cycle of {} phases at load {:.3f}, growth x{:.3f} a cycle, but one cycle from whole jobs "
                           "needs more than {:.0f} arrivals: not replayed, so not a witness",
                           r.fluid->phases, o.load, g, kMaxReplayArrivals);
    return;
  }
  double scale = 0;
  for (std::int64_t jobs = static_cast<std::int64_t>(std::ceil(kStartHopsOfLongest * longest / b.hop_tokens)), round = 0;;
       jobs *= 2, ++round) {
    f.start_jobs = jobs;
    f.start_tokens = static_cast<double>(jobs) * b.hop_tokens;
    scale = f.start_tokens / c.start_tokens;  // the normalised cycle lasts 1 s from c tokens
    f.duration_s = scale;                     // one cycle
    rp.duration_s = f.duration_s;
    rp.start.clear();
    sim::NetworkSimResult control = sim::replay_network(spec, n, rp);
    f.control_end_tokens = control.backlog.empty() ? 0 : control.backlog.back().backlog_tokens;
    f.control_mean_tokens = 0;
    for (const auto& x : control.backlog) f.control_mean_tokens += x.backlog_tokens / static_cast<double>(control.backlog.size());
    if (f.start_tokens >= 2 * f.control_mean_tokens || round == 3 || too_long(2 * f.start_tokens)) break;
  }
  f.predicted_slope_tokens_per_s = c.slope_tokens_per_s();
  f.predicted_end_tokens = g * f.start_tokens;
  rp.start = {sim::ReplayStart{b.cls, b.stage, f.start_jobs}};
  f.sim = sim::replay_network(spec, n, rp);
  f.jobs = f.sim.jobs_arrived;
  const std::size_t S = n.stations.size();
  auto at = [](const std::vector<sim::BacklogSample>& v, double t) {
    double best = 0, gap = std::numeric_limits<double>::infinity();
    for (const auto& x : v)
      if (std::abs(x.time_s - t) < gap) gap = std::abs(x.time_s - t), best = x.backlog_tokens;
    return best;
  };
  double t = 0;
  for (std::size_t k = 0; k <= c.durations_s.size(); ++k) {
    f.boundary_s.push_back(t);
    std::vector<double> fl(S, 0), rl(S, 0);
    for (std::size_t q = 0; q < c.levels[k].size(); ++q) fl[r.fluid_network->buffers[q].station] += scale * c.levels[k][q];
    for (std::size_t st = 0; st < S && st < f.sim.stations.size(); ++st) rl[st] = at(f.sim.stations[st].backlog, t);
    if (k == 0) rl = fl;  // at time 0 the replay holds exactly the start state
    f.fluid_station_tokens.push_back(fl);
    f.replay_station_tokens.push_back(rl);
    if (k < c.durations_s.size()) t += scale * c.durations_s[k];
  }
  f.end_tokens = f.sim.backlog.empty() ? 0 : f.sim.backlog.back().backlog_tokens;
  f.confirms = f.start_tokens >= 2 * f.control_mean_tokens &&
               f.end_tokens - f.control_end_tokens >= f.start_tokens * (1 + (g - 1) / 2);
  r.replay = std::move(f);
  r.verdict = r.replay->confirms ? NetworkVerdict::Witness : NetworkVerdict::NotConfirmed;
  r.reason = fmt::format("fluid cycle of {} phases at load {:.3f}, growth x{:.3f} a cycle; {}", r.fluid->phases, o.load, g,
                         r.replay->confirms
                             ? fmt::format("one cycle replayed: {:.0f} -> {:.0f} tokens (x{:.2f})", r.replay->start_tokens,
                                           r.replay->end_tokens, r.replay->end_tokens / r.replay->start_tokens)
                             : fmt::format("the replay ends one cycle at {:.0f} tokens from {:.0f}, short of half the "
                                           "predicted growth, so it is not a witness",
                                           r.replay->end_tokens, r.replay->start_tokens));
}

}  // namespace

NetworkSearchResult search_network(const core::Spec& spec, const core::Network& n, const NetworkSearchOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  NetworkSearchResult r;
  r.loads = core::station_loads(spec, n);
  double busiest = 0;
  for (const auto& l : r.loads) busiest = std::max(busiest, l.load);
  bool round_robin_station = false;
  for (const auto& st : n.stations) round_robin_station |= st.replicas > 1 && st.dispatch == core::Dispatch::RoundRobin;
  if (round_robin_station) {
    if (n.classes.size() == 1 && n.classes.front().route.size() == 1 && n.classes.front().route.front().hops.size() == 1 &&
        n.classes.front().arrivals.mean_rate() > 0)
      round_robin(spec, n, o, r);
    else {
      r.method = "round-robin adversary";
      r.reason = "a round-robin station: the adversary is built for one class with one hop only";
    }
  } else if (!(busiest > 0) || !std::isfinite(busiest)) {
    r.reason = "the network has no finite, positive station load to scale";
  } else {
    r.rate_scale = o.load / busiest;
    scale_loads(r.loads, r.rate_scale);
    if (!feeds_back(n)) feed_forward(spec, n, o, r);
    else fluid(spec, n, o, r);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace batchproof::cli
