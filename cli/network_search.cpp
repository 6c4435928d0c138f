// `batchproof search FILE --network NET [--load R] [--phases K] [--json] [--svg FILE]`: the
// rendering of a network search (cli/network_witness.hpp; docs/search.md "Networks").
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command_support.hpp"
#include "cli/exit_codes.hpp"
#include "cli/network_search.hpp"
#include "cli/svg_plot.hpp"
#include "cli/text_table.hpp"

namespace batchproof::cli {

namespace {

const char* verdict_word(NetworkVerdict v) {
  switch (v) {
    case NetworkVerdict::Witness: return "found";
    case NetworkVerdict::NotConfirmed: return "not_confirmed";
    case NetworkVerdict::NoCycle: return "none";
    case NetworkVerdict::Stable: return "stable";
    case NetworkVerdict::Unknown: return "unknown";
  }
  return "unknown";
}

std::string headline(const NetworkSearchResult& r) {
  switch (r.verdict) {
    case NetworkVerdict::Witness: return "witness found";
    case NetworkVerdict::NotConfirmed: return "a fluid cycle that the replay does not confirm (not a witness)";
    case NetworkVerdict::NoCycle: return "no witness";
    case NetworkVerdict::Stable: return "stable";
    case NetworkVerdict::Unknown: return "unknown";
  }
  return "unknown";
}

std::string served_by(const solver::FluidNetwork& fn, const solver::FluidCycle& c, std::size_t phase, std::size_t station) {
  std::string s;
  double cap = fn.capacity_tokens_per_s[station] * c.durations_s[phase];
  for (std::size_t b = 0; b < fn.buffers.size(); ++b) {
    if (fn.buffers[b].station != station || !(c.served[phase][b] > 1e-9 * std::max(1.0, cap))) continue;
    if (!s.empty()) s.append(", ");
    s.append(fmt::format("{} {:.0f}%", fn.buffers[b].label, cap > 0 ? 100 * c.served[phase][b] / cap : 0.0));
  }
  return s.empty() ? "-" : s;
}

void print_fluid(const NetworkSearchResult& r) {
  const solver::FluidNetwork& fn = *r.fluid_network;
  TableRows t{{"buffer", "station", "tokens/hop", "arrivals tok/s", "priority rank"}};
  for (const auto& b : fn.buffers)
    t.push_back({b.label, fn.stations[b.station], fmt::format("{:.1f}", b.hop_tokens),
                 fmt::format("{:.1f}", b.arrival_tokens_per_s), std::to_string(b.rank)});
  fmt::print("fluid model (rates x {:.4f})\n{}", fn.rate_scale, render_table(t));
  const auto& f = *r.fluid;
  if (!f.phases_without_cycle.empty()) {
    std::string ks;
    for (int k : f.phases_without_cycle) ks.append(fmt::format("{}{}", ks.empty() ? "" : ",", k));
    fmt::print("no cycle of {} phase{} [{:.2f} s]\n", ks, f.phases_without_cycle.size() == 1 ? "" : "s", f.seconds);
  }
  if (!f.cycle) return;
  const solver::FluidCycle& c = *f.cycle;
  fmt::print("fluid cycle: {} phases over 1 s (normalised), all fluid in {}: {:.2f} -> {:.2f} tokens, x{:.4f} a cycle\n",
             c.durations_s.size(), fn.buffers[c.start_buffer].label, c.start_tokens, c.end_tokens, c.growth_factor());
  TableRows p{{"phase", "duration (s)"}};
  for (const auto& s : fn.stations) p.front().push_back(s + " serves (% of capacity)");
  p.front().push_back("levels at its end (tokens)");
  std::string start;
  for (std::size_t b = 0; b < fn.buffers.size(); ++b)
    start.append(fmt::format("{}{} {:.2f}", b ? ", " : "", fn.buffers[b].label, c.levels[0][b]));
  fmt::print("  start: {}\n", start);
  for (std::size_t k = 0; k < c.durations_s.size(); ++k) {
    std::vector<std::string> row{std::to_string(k + 1), fmt::format("{:.4f}", c.durations_s[k])};
    for (std::size_t s = 0; s < fn.stations.size(); ++s) row.push_back(served_by(fn, c, k, s));
    std::string lv;
    for (std::size_t b = 0; b < fn.buffers.size(); ++b) lv.append(fmt::format("{}{:.2f}", b ? ", " : "", c.levels[k + 1][b]));
    row.push_back(lv);
    p.push_back(std::move(row));
  }
  fmt::print("{}", render_table(p));
  fmt::print("growth: fluid models are scale-invariant, so the cycle repeats x{:.4f} larger and longer each time: "
             "the fluid backlog grows at {:.1f} tokens/s on average\n",
             c.growth_factor(), c.slope_tokens_per_s());
}

void print_replay(const NetworkSearchResult& r) {
  const NetworkReplayFigures& f = *r.replay;
  if (r.fluid && r.fluid->cycle) {
    const auto& fn = *r.fluid_network;
    fmt::print("replay (simulator, every engine's own policy): {} jobs in {} at time 0 ({:.0f} tokens), arrivals evenly "
               "spaced at the rates above, for one cycle ({:.1f} s, {} jobs in all)\n",
               f.start_jobs, fn.buffers[r.fluid->cycle->start_buffer].label, f.start_tokens, f.duration_s, f.jobs);
    TableRows t{{"boundary", "time (s)"}};
    for (const auto& s : fn.stations) t.front().push_back(s + " fluid / replay (tokens)");
    for (std::size_t k = 0; k < f.boundary_s.size(); ++k) {
      std::vector<std::string> row{k == 0 ? "start" : fmt::format("after phase {}", k), fmt::format("{:.1f}", f.boundary_s[k])};
      for (std::size_t s = 0; s < fn.stations.size(); ++s)
        row.push_back(fmt::format("{:.0f} / {:.0f}", f.fluid_station_tokens[k][s], f.replay_station_tokens[k][s]));
      t.push_back(std::move(row));
    }
    fmt::print("{}", render_table(t));
    fmt::print("after one cycle: {:.0f} tokens (x{:.2f}; the fluid cycle x{:.2f}); with the same arrivals and no start "
               "state {:.0f} (mean {:.0f} over the cycle): {}\n",
               f.end_tokens, f.end_tokens / f.start_tokens, f.predicted_end_tokens / f.start_tokens,
               f.control_end_tokens, f.control_mean_tokens,
               f.confirms ? "the growth is confirmed"
                          : "NOT CONFIRMED (the start's work did not grow by half the predicted growth beyond "
                            "what the arrivals alone build, or the start is not twice their mean backlog): not a witness");
  } else {
    fmt::print("replay (simulator, every engine's own policy; the system empty at time 0; arrivals evenly spaced at "
               "the rate above; {:.1f} s, {} jobs): backlog {:.0f} -> {:.0f} tokens, slope {:.1f} tokens/s (95% CI "
               "{:.1f} .. {:.1f}; predicted {:.1f}): {}\n",
               f.duration_s, f.jobs, f.sim.backlog.empty() ? 0.0 : f.sim.backlog.front().backlog_tokens,
               f.sim.backlog.empty() ? 0.0 : f.sim.backlog.back().backlog_tokens, f.sim.verdict.slope_tokens_per_s,
               f.sim.verdict.ci_low, f.sim.verdict.ci_high, f.predicted_slope_tokens_per_s,
               f.confirms ? "grows, as predicted" : "DOES NOT grow: not a witness");
  }
  fmt::print("(simulate --network takes no arrivals file, so the replay's arrivals are not written out)\n");
}

nlohmann::json result_json(const NetworkSearchResult& r) {
  nlohmann::json j{{"verdict", verdict_word(r.verdict)}, {"method", r.method}, {"reason", r.reason},
                   {"seconds", r.seconds}, {"rate_scale", r.rate_scale}};
  nlohmann::json loads = nlohmann::json::array();
  for (const auto& l : r.loads)
    loads.push_back({{"station", l.station}, {"engine", l.engine}, {"replicas", l.replicas},
                     {"offered_tokens_per_s", l.offered_tokens_per_s}, {"capacity_tokens_per_s", l.capacity_tokens_per_s},
                     {"load", l.load}});
  j["station_loads"] = loads;
  if (r.fluid) {
    nlohmann::json f{{"phases_without_cycle", r.fluid->phases_without_cycle}, {"seconds", r.fluid->seconds}};
    nlohmann::json buffers = nlohmann::json::array();
    for (const auto& b : r.fluid_network->buffers)
      buffers.push_back({{"label", b.label}, {"station", r.fluid_network->stations[b.station]}, {"hop_tokens", b.hop_tokens},
                         {"arrival_tokens_per_s", b.arrival_tokens_per_s}, {"rank", b.rank}});
    f["buffers"] = buffers;
    if (const auto& c = r.fluid->cycle)
      f["cycle"] = {{"phases", c->durations_s.size()}, {"start_buffer", r.fluid_network->buffers[c->start_buffer].label},
                    {"start_tokens", c->start_tokens}, {"end_tokens", c->end_tokens}, {"growth_factor", c->growth_factor()},
                    {"slope_tokens_per_s", c->slope_tokens_per_s()}, {"durations_s", c->durations_s},
                    {"levels", c->levels}, {"served", c->served}};
    j["fluid"] = f;
  }
  if (const auto& a = r.round_robin)
    j["round_robin"] = {{"station", a->station}, {"replicas", a->replicas},
                        {"long", {a->long_prompt, a->long_output}}, {"short", {a->short_prompt, a->short_output}},
                        {"rate_per_s", a->rate_per_s}, {"station_load", a->station_load},
                        {"replica_load", a->replica_load}, {"fluid_slope_tokens_per_s", a->fluid_slope_tokens_per_s}};
  if (const auto& f = r.replay)
    j["replay"] = {{"start_jobs", f->start_jobs}, {"start_tokens", f->start_tokens}, {"duration_s", f->duration_s},
                   {"jobs", f->jobs}, {"predicted_slope_tokens_per_s", f->predicted_slope_tokens_per_s},
                   {"slope_tokens_per_s", f->sim.verdict.slope_tokens_per_s}, {"ci_low", f->sim.verdict.ci_low},
                   {"ci_high", f->sim.verdict.ci_high}, {"end_tokens", f->end_tokens},
                   {"control_end_tokens", f->control_end_tokens},
                   {"control_mean_tokens", f->control_mean_tokens},
                   {"predicted_end_tokens", f->predicted_end_tokens}, {"boundary_s", f->boundary_s},
                   {"fluid_station_tokens", f->fluid_station_tokens}, {"replay_station_tokens", f->replay_station_tokens},
                   {"grows", f->confirms}};
  return j;
}

}  // namespace

int run_network_search(const core::Spec& spec, const core::Network& n, const NetworkSearchOptions& o, bool json,
                       const std::string& svg) {
  NetworkSearchResult r = search_network(spec, n, o);
  if (!svg.empty() && r.replay) {
    std::vector<PlotSeries> series;
    PlotSeries all{"all stations", {}};
    for (const auto& s : r.replay->sim.backlog) all.points.emplace_back(s.time_s, s.backlog_tokens);
    series.push_back(std::move(all));
    for (const auto& st : r.replay->sim.stations) {
      PlotSeries one{st.name, {}};
      for (const auto& s : st.backlog) one.points.emplace_back(s.time_s, s.backlog_tokens);
      series.push_back(std::move(one));
    }
    std::ofstream f(svg, std::ios::binary | std::ios::trunc);
    f << render_svg(fmt::format("{}: backlog under the witness replay (load {:.3f})", n.name, o.load), "time (s)",
                    "backlog (tokens)", series);
    if (!f) return usage_error("search", fmt::format("cannot write '{}'", svg));
  }
  int code = r.verdict == NetworkVerdict::Witness                                      ? kViolated
             : r.verdict == NetworkVerdict::NoCycle || r.verdict == NetworkVerdict::Stable ? kHolds
                                                                                          : kUnknown;
  if (json) {
    nlohmann::json j = result_json(r);
    j["schema_version"] = 1;
    j["command"] = "search";
    j["network"] = n.name;
    j["load_bound"] = o.load;
    fmt::print("{}\n", j.dump(2));
    return code;
  }
  fmt::print("search network {} at load <= {} ({}): {} [{:.2f} s]\n", n.name, o.load, r.method, headline(r), r.seconds);
  fmt::print("  {}\n", r.reason);
  TableRows t{{"station", "engine", "replicas", "offered tok/s", "capacity tok/s", "load"}};
  for (const auto& l : r.loads)
    t.push_back({l.station, l.engine, std::to_string(l.replicas), fmt::format("{:.1f}", l.offered_tokens_per_s),
                 fmt::format("{:.1f}", l.capacity_tokens_per_s), fmt::format("{:.3f}", l.load)});
  fmt::print("station loads (class rates x {:.4f})\n{}", r.rate_scale, render_table(t));
  if (const auto& a = r.round_robin)
    fmt::print("round-robin adversary at {}: arrival k is long ({} + {} tokens) when k mod {} = 0, else short ({} + {} "
               "tokens), {:.2f} req/s: the station at load {:.3f}, replica 0 at {:.3f} of {:.1f} tokens/s (fluid "
               "growth {:.1f} tokens/s)\n",
               a->station, a->long_prompt, a->long_output, a->replicas, a->short_prompt, a->short_output, a->rate_per_s,
               a->station_load, a->replica_load, a->replica_capacity_tokens_per_s, a->fluid_slope_tokens_per_s);
  if (r.fluid) print_fluid(r);
  if (r.replay) print_replay(r);
  return code;
}

}  // namespace batchproof::cli
