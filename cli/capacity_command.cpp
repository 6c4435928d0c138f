// `batchproof capacity FILE.bp [--engine E] [--workload W] [--network N] [--requests N]
//   [--seeds K] [--precision P] [--json]`: compute, memory and usable capacity per (engine,
// workload) (MODEL.md §3), and the empirical capacity: the largest load the simulator finds
// stable, by bisection over seeded runs in parallel. For networks, the per-station loads and
// the largest stable scaling of the declared arrival rates.
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/text_table.hpp"
#include "core/capacity.hpp"
#include "core/kmax_bound.hpp"
#include "sim/capacity_search.hpp"

namespace batchproof::cli {

namespace {

struct CapacityOptions {
  std::string file, engine, workload, network;
  std::uint64_t requests = 20000;
  int seeds = 3;
  double precision = 0.01;
  bool json = false;
};

std::string opt_rate(double v) { return v > 0 && std::isfinite(v) ? fmt::format("{:.1f}", v) : "-"; }

int run_capacity(const CapacityOptions& o) {
  auto spec = load_spec_reporting(o.file);
  if (!spec) return kBadInput;
  auto bad = [](const std::string& m) { return usage_error("capacity", m); };
  if (!o.engine.empty() && !spec->find_engine(o.engine)) return bad(fmt::format("no engine '{}' in {}", o.engine, o.file));
  if (!o.workload.empty() && !spec->find_workload(o.workload))
    return bad(fmt::format("no workload '{}' in {}", o.workload, o.file));
  if (!o.network.empty() && !spec->find_network(o.network))
    return bad(fmt::format("no network '{}' in {}", o.network, o.file));
  if (o.seeds < 1 || o.requests < 100 || !(o.precision > 0)) return bad("--seeds ≥ 1, --requests ≥ 100, --precision > 0");

  sim::CapacitySearchOptions so;
  so.requests = o.requests;
  so.seeds = o.seeds;
  so.precision = o.precision;
  nlohmann::json j{{"schema_version", 1}, {"command", "capacity"}, {"file", o.file}, {"pairs", nlohmann::json::array()},
                   {"networks", nlohmann::json::array()}};
  std::string text = fmt::format("capacity: {} (empirical: {} requests a probe, {} seeds, bisection to {})\n", o.file,
                                 o.requests, o.seeds, o.precision);
  std::vector<std::vector<std::string>> rows{{"engine", "workload", "compute tok/s", "memory tok/s", "usable tok/s",
                                              "offered tok/s", "load", "empirical tok/s", "empirical req/s", "load"}};
  bool only_networks = !o.network.empty() && o.engine.empty() && o.workload.empty();
  std::string kmax_notes;  // the batch-size limit's bound (core/kmax_bound.hpp), per pair with max_batch
  for (const auto& w : spec->workloads) {
    if (only_networks || (!o.workload.empty() && w.name != o.workload)) continue;
    for (const auto& e : spec->engines) {
      if (!o.engine.empty() && e.name != o.engine) continue;
      core::LoadFigures f = core::load_on(e, w);
      double mean_tokens = w.mean_prompt() + w.mean_output();
      nlohmann::json jp{{"engine", e.name},
                        {"workload", w.name},
                        {"compute_capacity_tokens_per_s", f.compute.tokens_per_s},
                        {"memory_capacity_tokens_per_s", f.memory ? nlohmann::json(f.memory->tokens_per_s) : nlohmann::json(nullptr)},
                        {"usable_capacity_tokens_per_s", f.usable_tokens_per_s},
                        {"offered_tokens_per_s", f.offered_tokens_per_s},
                        {"load", std::isfinite(f.load) ? nlohmann::json(f.load) : nlohmann::json(nullptr)}};
      std::vector<std::string> row{e.name, w.name, opt_rate(f.compute.tokens_per_s),
                                   f.memory ? opt_rate(f.memory->tokens_per_s) : "-", opt_rate(f.usable_tokens_per_s),
                                   opt_rate(f.offered_tokens_per_s), std::isfinite(f.load) ? fmt::format("{:.3f}", f.load) : "-"};
      if (f.usable_tokens_per_s > 0) {
        sim::CapacityEstimate est = sim::search_capacity(sim::engine_probe(e, w, f.usable_tokens_per_s, o.requests), so);
        // The stability verdict tolerates a backlog slope below 1% of the offered work, so a
        // load up to about 1% above the true capacity can pass for stable: the uncertainty is
        // at least that, whatever the bisection's bracket.
        double pm = std::max(est.uncertainty(), 0.01 * est.load());
        double tokens = est.load() * f.usable_tokens_per_s, tokens_pm = pm * f.usable_tokens_per_s;
        std::string qualifier = est.unstable_everywhere ? "< " : est.stable_everywhere ? "> " : "";
        row.push_back(qualifier + (qualifier.empty() ? fmt::format("{:.1f} ± {:.1f}", tokens, tokens_pm)
                                                     : fmt::format("{:.1f}", est.load_unstable * f.usable_tokens_per_s)));
        row.push_back(qualifier + fmt::format("{:.3f}", (qualifier.empty() ? tokens : est.load_unstable * f.usable_tokens_per_s) / mean_tokens));
        row.push_back(qualifier + (qualifier.empty() ? fmt::format("{:.3f} ± {:.3f}", est.load(), pm)
                                                     : fmt::format("{:.3f}", est.load_unstable)));
        jp["empirical"] = {{"load_stable", est.load_stable},
                           {"load_unstable", est.load_unstable},
                           {"tokens_per_s", tokens},
                           {"tokens_per_s_uncertainty", tokens_pm},
                           {"load", est.load()},
                           {"load_uncertainty", pm},
                           {"requests_per_s", tokens / mean_tokens},
                           {"unstable_at_lowest_load", est.unstable_everywhere},
                           {"stable_at_highest_load", est.stable_everywhere},
                           {"probes", est.probes}};
      } else {
        row.insert(row.end(), {"-", "-", "-"});
        jp["empirical"] = nullptr;
      }
      if (auto k = core::kmax_bound(e, w)) {
        double rate = w.arrivals.mean_rate();
        bool inside_compute = f.usable_tokens_per_s > 0 && f.load < 1;
        jp["kmax"] = {{"k_max", k->k_max}, {"requests_per_s", k->requests_per_s}, {"tokens_per_s", k->tokens_per_s},
                      {"unstable_inside_compute_capacity", inside_compute && rate >= k->requests_per_s}};
        kmax_notes.append(fmt::format("  {} with {}: max_batch {} lets at most {:.3f} req/s through = {:.1f} tokens/s{}\n",
                                      e.name, w.name, k->k_max, k->requests_per_s, k->tokens_per_s,
                                      inside_compute && rate >= k->requests_per_s
                                          ? fmt::format("; {:.3f} req/s is unstable inside the compute capacity because "
                                                        "of k_max",
                                                        rate)
                                          : ""));
      }
      rows.push_back(row);
      j["pairs"].push_back(jp);
    }
  }
  if (rows.size() > 1) text += "\n" + render_table(rows);
  if (!kmax_notes.empty()) {
    text.append("k_max bound: no policy completes more requests per second (docs/search.md)\n");
    text.append(kmax_notes);
  }
  for (const auto& n : spec->networks) {
    if (!o.network.empty() && n.name != o.network) continue;
    if (o.network.empty() && (!o.engine.empty() || !o.workload.empty())) continue;
    auto loads = core::station_loads(*spec, n);
    std::vector<std::vector<std::string>> srows{{"station", "engine", "replicas", "offered tok/s", "capacity tok/s", "load"}};
    nlohmann::json jn{{"network", n.name}, {"stations", nlohmann::json::array()}};
    for (const auto& l : loads) {
      srows.push_back({l.station, l.engine, std::to_string(l.replicas), opt_rate(l.offered_tokens_per_s),
                       opt_rate(l.capacity_tokens_per_s), std::isfinite(l.load) ? fmt::format("{:.3f}", l.load) : "-"});
      jn["stations"].push_back({{"station", l.station},
                                {"engine", l.engine},
                                {"replicas", l.replicas},
                                {"offered_tokens_per_s", l.offered_tokens_per_s},
                                {"capacity_tokens_per_s", l.capacity_tokens_per_s},
                                {"load", std::isfinite(l.load) ? nlohmann::json(l.load) : nlohmann::json(nullptr)}});
    }
    sim::CapacityEstimate est = sim::search_capacity(sim::network_probe(*spec, n, o.requests), so);
    text += fmt::format("\nnetwork {} (per-station loads at the declared rates, MODEL.md §7)\n", n.name) + render_table(srows);
    std::string scale = est.unstable_everywhere ? fmt::format("< {:.3f}", est.load_unstable)
                        : est.stable_everywhere  ? fmt::format("> {:.3f}", est.load_stable)
                                                 : fmt::format("{:.3f} ± {:.3f}", est.load(), est.uncertainty());
    text += fmt::format("  empirical: stable up to {} × the declared arrival rates\n", scale);
    jn["empirical_rate_scale"] = {{"stable", est.load_stable}, {"unstable", est.load_unstable}, {"probes", est.probes}};
    j["networks"].push_back(jn);
  }
  if (o.json) fmt::print("{}\n", j.dump(2));
  else fmt::print("{}", text);
  return kHolds;
}

}  // namespace

void add_capacity_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CapacityOptions>();
  CLI::App* cmd = app.add_subcommand("capacity", "Compute, memory, usable and empirical capacity");
  cmd->add_option("file", o->file, "spec file (.bp)")->required();
  cmd->add_option("--engine", o->engine, "only this engine");
  cmd->add_option("--workload", o->workload, "only this workload");
  cmd->add_option("--network", o->network, "only this network");
  cmd->add_option("--requests", o->requests, "requests per probe and seed (default 20000)");
  cmd->add_option("--seeds", o->seeds, "seeds per probe, run in parallel (default 3)");
  cmd->add_option("--precision", o->precision, "bisection stops at this width in load (default 0.01)");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  cmd->callback([o, &exit_code] { exit_code = run_capacity(*o); });
}

}  // namespace batchproof::cli
