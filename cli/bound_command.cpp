// `batchproof bound FILE --engine E [--workload W | --max-prompt P --max-output O] --sigma S
//   --rho R [--timeout S] [--seed S] [--json] [--smt2 FILE]`: a stability certificate (docs/search.md,
// "Stability certificates"): the least backlog bound B, in tokens, that the induction proves
// for every arrival pattern in the (σ, ρ) envelope, next to the largest backlog a greedy
// envelope-saturating pattern reaches in an exact run of core::step.
// Exit codes: 0 bound proven, 1 refuted, 2 unknown, 3 bad input, 4 internal (or a simulated
// backlog above the proven bound: the proof and the semantics disagree).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/length_choice.hpp"
#include "core/capacity.hpp"
#include "sim/envelope_run.hpp"
#include "solver/backlog_bound.hpp"

namespace batchproof::cli {

namespace {

struct BoundCli {
  std::string file, engine, workload, smt2;
  std::optional<std::int64_t> max_prompt, max_output, min_prompt, min_output, sigma;
  std::optional<double> rho, sim_duration_s;
  std::uint64_t seed = 1;
  int requests = 8;
  double timeout_s = 60;
  bool json = false;
};


// One deterministic envelope-saturating pattern and its exact run.
struct PatternRun {
  std::string name;
  std::int64_t prompt = 0, output = 0;
  std::size_t requests = 0;
  sim::EnvelopeRun run;
};

std::vector<PatternRun> simulate_envelope(const core::Engine& e, const solver::LengthBounds& lb,
                                          std::int64_t o_max, std::int64_t sigma, double rate, double duration_s,
                                          std::uint64_t seed) {
  std::vector<PatternRun> runs;
  auto add = [&](const char* name, std::int64_t prompt, std::int64_t output) {
    if (prompt < lb.prompt_lo || output < lb.output_lo || prompt + output > sigma) return;
    PatternRun p{name, prompt, output, 0, {}};
    auto arrivals = sim::greedy_envelope_arrivals(static_cast<double>(sigma), rate, prompt, output, duration_s);
    p.requests = arrivals.size();
    p.run = sim::run_envelope(e, arrivals);
    runs.push_back(std::move(p));
  };
  // Long outputs keep the demand low while the work piles up (the abstraction's worst case);
  // long prompts fill the budget with prefill.
  add("long outputs", lb.prompt_lo, o_max);
  add("long prompts", std::min(lb.prompt_hi, sigma - lb.output_lo), lb.output_lo);
  // Lengths drawn from the whole range, some arrivals late: the same run for a seed.
  auto arrivals = sim::random_envelope_arrivals(static_cast<double>(sigma), rate, lb.prompt_lo, lb.prompt_hi,
                                                lb.output_lo, o_max, duration_s, seed);
  if (!arrivals.empty()) {
    PatternRun p{fmt::format("random, seed {}", seed), 0, 0, arrivals.size(), sim::run_envelope(e, arrivals)};
    runs.push_back(std::move(p));
  }
  return runs;
}

const char* verdict_name(solver::BoundVerdict v) {
  switch (v) {
    case solver::BoundVerdict::Proven: return "proven";
    case solver::BoundVerdict::Refuted: return "refuted";
    case solver::BoundVerdict::Unknown: return "unknown";
    case solver::BoundVerdict::InternalError: return "internal_error";
  }
  return "unknown";
}

int run_bound(const BoundCli& o) {
  auto spec = load_spec_reporting(o.file);
  if (!spec) return kBadInput;
  auto bad = [](const std::string& m) { return usage_error("bound", m); };
  const core::Engine* e = spec->find_engine(o.engine);
  if (!e) return bad(fmt::format("no engine '{}' in {}", o.engine, o.file));
  if (!o.sigma || *o.sigma < 0 || *o.sigma > 1'000'000'000'000)
    return bad("--sigma must be a number of tokens between 0 and 10^12");
  if (!o.rho || !(*o.rho > 0) || !(*o.rho <= 100)) return bad("--rho must be positive (a fraction of C, at most 100)");
  if (!(o.timeout_s > 0)) return bad("--timeout must be positive");
  if (o.requests < 1 || o.requests > 16) return bad("--requests must be between 1 and 16");
  if (o.sim_duration_s && !(*o.sim_duration_s > 0 && *o.sim_duration_s <= 1e6))
    return bad("--sim-duration must be between 0 and 10^6 seconds");

  LengthChoice lengths;
  if (auto error = choose_lengths(*spec, o.file, {o.workload, o.min_prompt, o.max_prompt, o.min_output, o.max_output},
                                  " (capped)", lengths))
    return bad(*error);
  const solver::LengthBounds& lb = lengths.bounds;
  const std::string& lengths_from = lengths.described;

  solver::BoundOptions bo;
  bo.timeout_s = o.timeout_s;
  bo.wc_requests = o.requests;
  bo.smt2_file = o.smt2;
  solver::Envelope env{*o.sigma, *o.rho};
  solver::BoundResult r = solver::prove_backlog_bound(*e, lb, env, bo);
  const double C = r.capacity_tokens_per_s;
  const double rate = env.rho * C;

  // The simulation: for a proven bound, and for ρ > 1 (where it shows the growth).
  std::vector<PatternRun> runs;
  bool exceeded = false;
  const bool simulate = r.verdict == solver::BoundVerdict::Proven ||
                        (r.verdict == solver::BoundVerdict::Refuted && !r.witness && env.rho > 1);
  double duration = 0;
  if (simulate && C > 0) {
    std::int64_t o_max = r.output_max > 0 ? r.output_max : std::min(lb.output_hi, env.sigma_tokens - lb.prompt_lo);
    double t_full = static_cast<double>(*e->token_budget) / C;
    duration = o.sim_duration_s.value_or(std::max(60.0, 4.0 * static_cast<double>(std::max<std::int64_t>(o_max, 1)) * t_full));
    runs = simulate_envelope(*e, lb, o_max, env.sigma_tokens, rate, duration, o.seed);
    if (r.bound)
      for (const auto& p : runs) exceeded = exceeded || p.run.max_backlog > *r.bound;
  }

  int code = r.verdict == solver::BoundVerdict::Proven    ? kHolds
             : r.verdict == solver::BoundVerdict::Refuted ? kViolated
             : r.verdict == solver::BoundVerdict::Unknown ? kUnknown
                                                          : kInternal;
  if (exceeded) code = kInternal;

  if (o.json) {
    nlohmann::json j;
    j["schema_version"] = 1;
    j["command"] = "bound";
    j["engine"] = e->name;
    j["sigma_tokens"] = env.sigma_tokens;
    j["rho"] = env.rho;
    j["capacity_tokens_per_s"] = C;
    j["lengths"] = {{"prompt", {lb.prompt_lo, lb.prompt_hi}}, {"output", {lb.output_lo, lb.output_hi}}};
    j["verdict"] = verdict_name(r.verdict);
    if (r.bound) j["bound_tokens"] = *r.bound;
    j["reason"] = r.reason;
    j["seconds"] = r.seconds;
    j["queries"] = r.queries;
    if (r.output_max > 0) j["output_max"] = r.output_max;
    if (!r.rests_on.empty()) j["rests_on"] = r.rests_on;
    if (r.growth_demand > 0) j["growth_demand"] = r.growth_demand;
    if (r.below) {
      const auto& cx = *r.below;
      j["not_inductive_below"] = {{"work", cx.work},         {"credit", cx.credit},   {"idle", cx.idle},
                                  {"demand", cx.demand},     {"served", cx.served},   {"seconds", cx.seconds},
                                  {"arrived", cx.arrived},   {"work_after", cx.work_after},
                                  {"credit_after", cx.credit_after}};
    }
    nlohmann::json sims = nlohmann::json::array();
    for (const auto& p : runs) {
      nlohmann::json one = {{"pattern", p.name},
                      {"requests", p.requests},
                      {"seconds", p.run.end_s},
                      {"iterations", p.run.iterations},
                      {"max_backlog_tokens", p.run.max_backlog},
                      {"max_at_s", p.run.max_at_s},
                      {"final_backlog_tokens", p.run.final_backlog}};
      if (p.prompt > 0) {  // a greedy pattern: one length for all
        one["prompt"] = p.prompt;
        one["output"] = p.output;
      } else {
        one["seed"] = o.seed;
      }
      sims.push_back(std::move(one));
    }
    if (!runs.empty()) j["simulation"] = sims;
    if (r.witness && r.witness->witness)
      j["witness"] = {{"period", r.witness->witness->period},
                      {"load", r.witness->replay->load},
                      {"burst_tokens", r.witness_burst},
                      {"growth_tokens_per_period", r.witness->replay->growth_tokens},
                      {"inside_envelope", r.witness_burst <= static_cast<double>(env.sigma_tokens)}};
    if (exceeded) j["simulation_exceeds_bound"] = true;
    fmt::print("{}\n", j.dump(2));
    return code;
  }

  fmt::print("bound {} ({}) sigma {} tokens rho {}: ", e->name, lengths_from, env.sigma_tokens, env.rho);
  switch (r.verdict) {
    case solver::BoundVerdict::Proven: fmt::print("proven, B = {} tokens", *r.bound); break;
    case solver::BoundVerdict::Refuted: fmt::print("refuted"); break;
    case solver::BoundVerdict::Unknown: fmt::print("unknown"); break;
    case solver::BoundVerdict::InternalError: fmt::print("internal error"); break;
  }
  fmt::print(" [{:.2f} s]\n", r.seconds);
  fmt::print("envelope: over every window of w seconds at most {} + {:.1f} * w tokens arrive (rho {} of C = {:.1f} "
             "tokens/s)\n",
             env.sigma_tokens, rate, env.rho, C);
  if (r.verdict == solver::BoundVerdict::Proven && r.output_max > 0) {
    fmt::print("requests: outputs <= {} tokens (the lengths' maximum, and sigma minus the shortest prompt: one "
               "request arrives at one instant)\n",
               r.output_max);
    fmt::print("rests on (prove): {}; the profile's t(b), exactly\n", r.rests_on);
    fmt::print("induction: W + credit <= {} holds initially and after every step ({} queries)", *r.bound, r.queries);
    if (r.below) {
      const auto& cx = *r.below;
      if (cx.idle)
        fmt::print("; {} is not: an idle engine, {} tokens arrive at once\n", *r.bound - 1, cx.arrived);
      else
        fmt::print("; {} is not: from W = {}, credit {:.1f}, demand {}: {} tokens served in {:.4f} s, {} arrive, "
                   "W' = {}, credit' {:.1f}\n",
                   *r.bound - 1, cx.work, cx.credit, cx.demand, cx.served, cx.seconds, cx.arrived, cx.work_after,
                   cx.credit_after);
    } else {
      fmt::print("\n");
    }
    if (r.growth_demand > 0)
      fmt::print("growth: below b_max, a batch of up to {} tokens lets more arrive than it serves\n", r.growth_demand);
  } else {
    fmt::print("reason: {}\n", r.reason);
  }
  for (const auto& p : runs) {
    if (p.prompt > 0)
      fmt::print("simulation ({}: {} + {} tokens, {} requests, greedy in the envelope, {:.0f} s): ", p.name, p.prompt,
                 p.output, p.requests, duration);
    else
      fmt::print("simulation ({}: lengths in the ranges, {} requests, {:.0f} s): ", p.name, p.requests, duration);
    if (r.bound)
      fmt::print("largest backlog {} tokens at {:.3f} s{}\n", p.run.max_backlog, p.run.max_at_s,
                 p.run.max_backlog <= *r.bound ? fmt::format(", {:.3f} of B", static_cast<double>(p.run.max_backlog) /
                                                                         static_cast<double>(std::max<std::int64_t>(1, *r.bound)))
                                               : ", ABOVE B: the proof and the semantics disagree");
    else
      fmt::print("backlog {} tokens at {:.1f} s, {} at {:.1f} s: {:.1f} tokens/s\n", p.run.half_backlog, p.run.half_s,
                 p.run.final_backlog, p.run.end_s,
                 p.run.end_s > p.run.half_s ? static_cast<double>(p.run.final_backlog - p.run.half_backlog) /
                                                  (p.run.end_s - p.run.half_s)
                                            : 0.0);
  }
  return code;
}

}  // namespace

void add_bound_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<BoundCli>();
  CLI::App* cmd =
      app.add_subcommand("bound", "Prove a bound on the backlog under every arrival pattern in a (sigma, rho) envelope");
  cmd->add_option("file", o->file, "spec file (.bp)")->required();
  cmd->add_option("--engine", o->engine, "engine")->required();
  cmd->add_option("--workload", o->workload, "take request lengths from this workload's support");
  cmd->add_option("--min-prompt", o->min_prompt, "shortest prompt (tokens)");
  cmd->add_option("--max-prompt", o->max_prompt, "longest prompt (tokens)");
  cmd->add_option("--min-output", o->min_output, "shortest output (tokens)");
  cmd->add_option("--max-output", o->max_output, "longest output (tokens)");
  cmd->add_option("--sigma", o->sigma, "the envelope's burst, in tokens")->required();
  cmd->add_option("--rho", o->rho, "the envelope's rate, as a fraction of the compute capacity C")->required();
  cmd->add_option("--requests", o->requests, "N of the work-conservation proof the certificate rests on (default 8)");
  cmd->add_option("--timeout", o->timeout_s, "seconds for each solver query (default 60)");
  cmd->add_option("--sim-duration", o->sim_duration_s, "seconds of the envelope simulation (default: 4 lifetimes of "
                                                       "the longest request, at least 60)");
  cmd->add_option("--seed", o->seed, "seed of the random envelope pattern (default 1)");
  cmd->add_option("--smt2", o->smt2, "write the final induction query in SMT-LIB 2");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  cmd->callback([o, &exit_code] { exit_code = run_bound(*o); });
}

}  // namespace batchproof::cli
