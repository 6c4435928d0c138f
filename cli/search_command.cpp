// `batchproof search FILE --engine E [--workload W | --max-prompt P --max-output O] [--load R] [--sigma S]
//   [--period L] [--min-load] [--witness FILE] [--svg FILE] [--json]`: look for an arrival
// pattern below capacity under which the engine's queue grows without bound (MODEL.md §4).
// `--network NET [--load R] [--phases K]`: the same for a network (cli/network_search.cpp).
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/length_choice.hpp"
#include "cli/network_search.hpp"
#include "cli/svg_plot.hpp"
#include "cli/text_table.hpp"
#include "core/arrivals_file.hpp"
#include "core/capacity.hpp"
#include "core/kmax_bound.hpp"
#include "sim/engine_sim.hpp"
#include "solver/witness.hpp"

namespace batchproof::cli {

namespace {

struct SearchCli {
  std::string file, engine, workload, witness_file, svg, smt2, network;
  int phases = 6;  // --network: fluid cycles of 1..phases phases
  std::optional<std::int64_t> max_prompt, max_output, min_prompt, min_output;
  std::optional<std::int64_t> sigma;  // the (σ, ρ) envelope on every window, ρ = load
  double load = 0.9;
  std::vector<int> periods;
  int start_requests = 4, arrivals_per_iteration = 1, replay_periods = 100;
  double timeout_s = 60;
  bool min_load = false, json = false, mixed_lengths = false;
};


// The simulator's view of the witness: the arrivals file run as `simulate --arrivals` runs it.
sim::SimResult simulate_witness(const core::Engine& e, const solver::Replay& rp) {
  core::Workload none;
  sim::SimOptions so;
  so.arrivals = &rp.arrivals;
  return sim::simulate_engine(e, none, so);
}

std::string batch_text(const core::Batch& b) {
  std::string s;
  for (const auto& it : b.items) {
    if (!s.empty()) s.append(", ");
    s.append(fmt::format("#{}", it.request));
    if (it.prefill > 0) s.append(fmt::format(" prefill {}", it.prefill));
    if (it.decode) s.append(" decode");
  }
  return s;
}

void print_witness(const solver::SearchResult& r, double capacity, const sim::SimResult& sr) {
  const auto& w = *r.witness;
  const auto& rp = *r.replay;
  fmt::print("start (time 0, the system empty before): {} request{} waiting:", w.start.size(),
             w.start.size() == 1 ? "" : "s");
  for (std::size_t i = 0; i < w.start.size(); ++i)
    fmt::print(" #{} ({} + {} tokens)", i, w.start[i].prompt, w.start[i].output);
  fmt::print("\nperiod: {} iteration{}, {:.4f} s; {} tokens arrive = load {:.4f} of {:.1f} tokens/s; the arrivals need "
             "a burst of sigma >= {:.1f} tokens at that rate\n",
             w.period, w.period == 1 ? "" : "s", rp.period_s, rp.period_work, rp.load, capacity, rp.burst_tokens);
  TableRows t{{"iter", "tokens", "time (s)", "batch (first period; request ids)", "arrives during it"}};
  for (int j = 0; j < w.period; ++j) {
    const auto& b = rp.first_period[static_cast<std::size_t>(j)];
    std::string arr;
    for (const auto& a : w.pattern)
      if (a.iteration == j) arr.append(fmt::format("{}{} + {} tokens", arr.empty() ? "" : ", ", a.prompt, a.output));
    t.push_back({std::to_string(j), std::to_string(b.tokens), fmt::format("{:.4f}", b.duration_s), batch_text(b),
           arr.empty() ? "-" : arr});
  }
  fmt::print("{}", render_table(t));
  fmt::print("growth: {} tokens and {} request{} of work per period, never read by the policy\n", rp.growth_tokens,
             rp.growth_requests, rp.growth_requests == 1 ? "" : "s");
  fmt::print("replay (core step, {} periods): every period forms the first period's batches; backlog {} -> {} "
             "tokens, {:.1f} tokens/s\n",
             rp.periods, rp.backlog.front(), rp.backlog.back(),
             static_cast<double>(rp.growth_tokens) / rp.period_s);
  // The simulator's slope is compared with the replay's growth, not with its own threshold: a
  // witness may grow by a token a period, far below 1% of the offered work.
  double expected = static_cast<double>(rp.growth_tokens) / rp.period_s;
  bool agrees = sr.verdict.ci_low > 0 && std::abs(sr.verdict.slope_tokens_per_s - expected) <= 0.05 * expected;
  fmt::print("simulate --arrivals (the witness file): backlog slope {:.1f} tokens/s (95% CI {:.1f} .. {:.1f}): {}\n",
             sr.verdict.slope_tokens_per_s, sr.verdict.ci_low, sr.verdict.ci_high,
             agrees ? "linear growth, as replayed" : "DOES NOT match the replay");
}

// k_max (core/kmax_bound.hpp): the load, relative to the compute capacity, above which no
// policy keeps up with arrivals of the workload's mean lengths; "" when it does not apply.
std::string kmax_text(const core::KmaxBound& k, const core::Workload& w, double capacity, double load) {
  double limit = capacity > 0 ? k.tokens_per_s / capacity : 0;
  std::string verdict =
      load <= limit ? fmt::format("load {} is inside it", load)
                    : fmt::format("at load {} every policy is unstable inside the compute capacity because of k_max", load);
  return fmt::format("k_max: max_batch {} lets at most {:.3f} req/s of workload {} through ({:.1f} batch slots a request, "
                     "at most {:.1f} slots/s at {} requests an iteration) = {:.1f} tokens/s = load {:.4f} of the compute "
                     "capacity; {}",
                     k.k_max, k.requests_per_s, w.name, k.slots_per_request, k.slots_per_s, k.best_batch, k.tokens_per_s,
                     limit, verdict);
}

nlohmann::json witness_json(const solver::SearchResult& r, const sim::SimResult* sr) {
  nlohmann::json j;
  j["verdict"] = r.verdict == solver::SearchVerdict::Found      ? "found"
                 : r.verdict == solver::SearchVerdict::NotFound ? "none"
                 : r.verdict == solver::SearchVerdict::Unknown  ? "unknown"
                                                                : "internal_error";
  j["seconds"] = r.seconds;
  j["periods_without_witness"] = r.periods_searched;
  j["refuted_candidates"] = r.refuted_candidates;
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.witness) {
    const auto& w = *r.witness;
    const auto& rp = *r.replay;
    nlohmann::json start = nlohmann::json::array(), pattern = nlohmann::json::array(), batches = nlohmann::json::array();
    for (const auto& a : w.start) start.push_back({{"prompt", a.prompt}, {"output", a.output}});
    for (const auto& a : w.pattern)
      pattern.push_back({{"iteration", a.iteration}, {"prompt", a.prompt}, {"output", a.output}});
    for (const auto& b : rp.first_period) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& it : b.items) items.push_back({{"id", it.request}, {"prefill", it.prefill}, {"decode", it.decode}});
      batches.push_back({{"tokens", b.tokens}, {"seconds", b.duration_s}, {"items", items}});
    }
    j["witness"] = {{"period", w.period},
                    {"start", start},
                    {"arrivals", pattern},
                    {"batches", batches},
                    {"period_s", rp.period_s},
                    {"period_work_tokens", rp.period_work},
                    {"load", rp.load},
                    {"burst_tokens", rp.burst_tokens},
                    {"growth_tokens_per_period", rp.growth_tokens},
                    {"growth_requests_per_period", rp.growth_requests},
                    {"replayed_periods", rp.periods},
                    {"replay_repeats", rp.repeats}};
    if (!rp.repeats) j["witness"]["replay_mismatch"] = rp.mismatch;
    if (sr)
      j["simulation"] = {{"stable", sr->verdict.stable},
                         {"slope_tokens_per_s", sr->verdict.slope_tokens_per_s},
                         {"ci_low", sr->verdict.ci_low},
                         {"ci_high", sr->verdict.ci_high}};
  }
  return j;
}

int run_search(const SearchCli& o) {
  auto spec = load_spec_reporting(o.file);
  if (!spec) return kBadInput;
  auto bad = [](const std::string& m) { return usage_error("search", m); };
  if (!o.network.empty()) {
    const core::Network* n = spec->find_network(o.network);
    if (!n) return bad(fmt::format("no network '{}' in {}", o.network, o.file));
    if (!o.engine.empty()) return bad("give --engine or --network, not both");
    if (!(o.load > 0 && o.load < 1)) return bad("--load must be between 0 and 1 (a load below capacity)");
    if (o.phases < 1 || o.phases > 12) return bad("--phases must be between 1 and 12");
    if (!(o.timeout_s > 0)) return bad("--timeout must be positive");
    return run_network_search(*spec, *n, NetworkSearchOptions{o.load, o.phases, o.timeout_s}, o.json, o.svg);
  }
  if (o.engine.empty()) return bad("give --engine E (or --network N)");
  const core::Engine* e = spec->find_engine(o.engine);
  if (!e) return bad(fmt::format("no engine '{}' in {}", o.engine, o.file));
  if (!(o.load > 0 && o.load < 1)) return bad("--load must be between 0 and 1 (a load below capacity)");
  if (o.start_requests < 1 || o.start_requests > 16) return bad("--start-requests must be between 1 and 16");
  if (o.arrivals_per_iteration < 1 || o.arrivals_per_iteration > 8)
    return bad("--arrivals-per-iteration must be between 1 and 8");
  if (o.replay_periods < 2 || o.replay_periods > 100000) return bad("--replay-periods must be between 2 and 100000");
  if (!(o.timeout_s > 0)) return bad("--timeout must be positive");
  if (o.sigma && *o.sigma < 1) return bad("--sigma must be at least 1 token");
  for (int L : o.periods)
    if (L < 1 || L > 64) return bad("--period must be between 1 and 64");

  // Lengths: the workload's support, or the user's bounds (which also narrow a workload's).
  LengthChoice lengths;
  if (auto error = choose_lengths(*spec, o.file, {o.workload, o.min_prompt, o.max_prompt, o.min_output, o.max_output},
                                  " (capped: the law is unbounded; --max-output to change)", lengths))
    return bad(*error);
  const solver::LengthBounds& lb = lengths.bounds;
  const std::string& lengths_from = lengths.described;
  const core::Workload* w = lengths.workload;

  core::ComputeCapacity cap = core::compute_capacity(*e, w);
  core::KmaxBound kmax;  // k_max 0: none (a plain struct: GCC 12 warns wrongly about an optional here)
  if (w)
    if (auto k = core::kmax_bound(*e, *w)) kmax = *k;
  solver::SearchOptions so;
  so.load = o.load;
  if (!o.periods.empty()) so.periods = o.periods;
  so.start_requests = o.start_requests;
  so.arrivals_per_iteration = o.arrivals_per_iteration;
  so.timeout_s = o.timeout_s;
  so.uniform_lengths = !o.mixed_lengths;
  so.smt2_file = o.smt2;
  so.sigma_tokens = o.sigma;

  solver::SearchResult r = solver::search_witness(*e, cap.tokens_per_s, lb, so, o.replay_periods);
  // --min-load: bisect on ρ between a load without a witness and the load of the best witness.
  double low = 0, high = r.verdict == solver::SearchVerdict::Found ? r.replay->load : o.load;
  int searches = 1;
  double total_s = r.seconds;
  std::string min_load_note;
  if (o.min_load && r.verdict == solver::SearchVerdict::Found) {
    solver::SearchResult best = r;
    while (high - low > 0.01) {
      solver::SearchOptions mid_opts = so;
      mid_opts.load = (low + high) / 2;
      solver::SearchResult m = solver::search_witness(*e, cap.tokens_per_s, lb, mid_opts, o.replay_periods);
      ++searches;
      total_s += m.seconds;
      if (m.verdict == solver::SearchVerdict::Found) {
        high = std::min(m.replay->load, mid_opts.load);
        best = std::move(m);
      } else if (m.verdict == solver::SearchVerdict::InternalError) {
        best = std::move(m);
        break;
      } else {
        // None found; where the solver gave up on some period, the lower end is only as good
        // as the periods it decided, and the output says so.
        if (m.verdict == solver::SearchVerdict::Unknown)
          min_load_note = fmt::format(" (at {:.4f}: {})", mid_opts.load, m.reason);
        low = mid_opts.load;
      }
    }
    r = std::move(best);
  }

  sim::SimResult sr;
  if (r.verdict == solver::SearchVerdict::Found) {
    sr = simulate_witness(*e, *r.replay);
    if (!o.witness_file.empty()) {
      std::ofstream f(o.witness_file, std::ios::binary | std::ios::trunc);
      f << core::write_arrivals_jsonl(r.replay->arrivals);
      if (!f) return bad(fmt::format("cannot write '{}'", o.witness_file));
    }
    if (!o.svg.empty()) {
      PlotSeries s{e->name, {}};
      for (std::size_t p = 0; p < r.replay->backlog.size(); ++p)
        s.points.emplace_back(static_cast<double>(p) * r.replay->period_s, static_cast<double>(r.replay->backlog[p]));
      std::ofstream f(o.svg, std::ios::binary | std::ios::trunc);
      f << render_svg(fmt::format("{}: backlog under the witness (load {:.3f})", e->name, r.replay->load), "time (s)",
                      "backlog (tokens)", {s});
      if (!f) return bad(fmt::format("cannot write '{}'", o.svg));
    }
  }
  int code = r.verdict == solver::SearchVerdict::Found      ? kViolated
             : r.verdict == solver::SearchVerdict::NotFound ? kHolds
             : r.verdict == solver::SearchVerdict::Unknown  ? kUnknown
                                                            : kInternal;
  if (o.json) {
    nlohmann::json j = witness_json(r, r.witness ? &sr : nullptr);
    j["schema_version"] = 1;
    j["command"] = "search";
    j["engine"] = e->name;
    j["load_bound"] = o.load;
    j["sigma_bound"] = o.sigma ? nlohmann::json(*o.sigma) : nlohmann::json(nullptr);
    j["capacity_tokens_per_s"] = cap.tokens_per_s;
    j["lengths"] = {{"prompt", {lb.prompt_lo, lb.prompt_hi}}, {"output", {lb.output_lo, lb.output_hi}}};
    if (kmax.k_max > 0)
      j["kmax"] = {{"k_max", kmax.k_max}, {"requests_per_s", kmax.requests_per_s}, {"tokens_per_s", kmax.tokens_per_s},
                   {"load", cap.tokens_per_s > 0 ? kmax.tokens_per_s / cap.tokens_per_s : 0.0},
                   {"slots_per_request", kmax.slots_per_request}, {"slots_per_s", kmax.slots_per_s},
                   {"unstable_inside_compute_capacity", cap.tokens_per_s > 0 && o.load > kmax.tokens_per_s / cap.tokens_per_s}};
    if (o.min_load && r.verdict == solver::SearchVerdict::Found)
      j["min_load"] = {{"low", low}, {"high", high}, {"searches", searches}, {"seconds", total_s}};
    fmt::print("{}\n", j.dump(2));
    return code;
  }
  std::string periods;
  for (int L : so.periods) periods.append(fmt::format("{}{}", periods.empty() ? "" : ",", L));
  fmt::print("search {} ({}{}; at most {} waiting at the start, {} arrival{} per iteration, periods {}) at load <= {}{}: ",
             e->name, lengths_from, so.uniform_lengths ? ", one length for all requests" : "", so.start_requests,
             so.arrivals_per_iteration, so.arrivals_per_iteration == 1 ? "" : "s", periods, o.load,
             o.sigma ? fmt::format(" within sigma {} tokens on every window", *o.sigma) : std::string());
  switch (r.verdict) {
    case solver::SearchVerdict::Found: fmt::print("witness found, period {}", r.witness->period); break;
    case solver::SearchVerdict::NotFound: fmt::print("no witness for these periods and bounds"); break;
    case solver::SearchVerdict::Unknown: fmt::print("unknown: {}", r.reason); break;
    case solver::SearchVerdict::InternalError: fmt::print("internal error: {}", r.reason); break;
  }
  fmt::print(" [{:.2f} s]\n", r.seconds);
  if (r.refuted_candidates > 0)
    fmt::print("({} candidate{} refuted by the replay: growth that the policy reads later)\n", r.refuted_candidates,
               r.refuted_candidates == 1 ? "" : "s");
  if (r.witness) print_witness(r, cap.tokens_per_s, sr);
  if (o.min_load && r.verdict == solver::SearchVerdict::Found)
    fmt::print("min-load: a witness exists at load {:.4f}; none found at {:.4f} ({} searches, {:.1f} s){}\n", high, low,
               searches, total_s, min_load_note);
  if (kmax.k_max > 0) fmt::print("{}\n", kmax_text(kmax, *w, cap.tokens_per_s, o.load));
  return code;
}

}  // namespace

void add_search_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SearchCli>();
  CLI::App* cmd = app.add_subcommand("search", "Search for arrivals below capacity that make the queue grow forever");
  cmd->add_option("file", o->file, "spec file (.bp)")->required();
  cmd->add_option("--engine", o->engine, "engine");
  cmd->add_option("--network", o->network, "a network instead of an engine: fluid cycles replayed in the simulator");
  cmd->add_option("--phases", o->phases, "--network: most phases of a fluid cycle (default 6)");
  cmd->add_option("--workload", o->workload, "take request lengths from this workload's support");
  cmd->add_option("--min-prompt", o->min_prompt, "shortest prompt a witness may use (tokens)");
  cmd->add_option("--max-prompt", o->max_prompt, "longest prompt a witness may use (tokens)");
  cmd->add_option("--min-output", o->min_output, "shortest output a witness may use (tokens)");
  cmd->add_option("--max-output", o->max_output, "longest output a witness may use (tokens)");
  cmd->add_option("--load", o->load, "largest load of the witness's arrivals, below 1 (default 0.9)");
  cmd->add_option("--sigma", o->sigma,
                  "also bound every window: at most sigma + load x capacity x w tokens in any w seconds (tokens)");
  cmd->add_option("--period", o->periods, "period lengths to try, in iterations (default 1..6)");
  cmd->add_option("--start-requests", o->start_requests, "most requests waiting at the start (default 4)");
  cmd->add_option("--arrivals-per-iteration", o->arrivals_per_iteration, "most arrivals per iteration (default 1)");
  cmd->add_option("--replay-periods", o->replay_periods, "periods the witness is replayed for (default 100)");
  cmd->add_flag("--mixed-lengths", o->mixed_lengths,
                "let the witness's requests differ in length (default: one prompt and one output length)");
  cmd->add_flag("--min-load", o->min_load, "bisect to the smallest load with a witness (to 1%)");
  cmd->add_option("--timeout", o->timeout_s, "seconds for each solver query (default 60)");
  cmd->add_option("--witness", o->witness_file, "write the witness's arrivals (JSON Lines, for simulate --arrivals)");
  cmd->add_option("--svg", o->svg, "plot the backlog over the replayed periods");
  cmd->add_option("--smt2", o->smt2, "write the last solver query in SMT-LIB 2");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  cmd->callback([o, &exit_code] { exit_code = run_search(*o); });
}

}  // namespace batchproof::cli
