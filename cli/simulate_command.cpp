// `batchproof simulate FILE --engine E --workload W [--load R | --rate X]
//   [--requests N | --duration T] [--seed S] [--arrivals FILE] [--expect stable|unstable]
//   [--json] [--csv FILE] [--trace FILE [--trace-format batchproof|trtllm|sglang|vllm]]`: a
//   discrete-event run of one engine.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/diagnostics_output.hpp"
#include "cli/exit_codes.hpp"
#include "cli/svg_plot.hpp"
#include "core/arrivals_file.hpp"
#include "core/capacity.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"
#include "sim/network_sim.hpp"
#include "traces/foreign_trace_stream.hpp"

namespace batchproof::cli {

namespace {

struct SimulateOptions {
  std::string file, workload, network, arrivals, expect, csv, trace, svg;
  std::string trace_format = "batchproof";  // or a foreign format (traces/foreign_writers.hpp)
  std::vector<std::string> engines;
  std::optional<double> load, rate, duration_s;
  std::optional<std::uint64_t> requests;
  std::uint64_t seed = 1;
  bool json = false;
};

nlohmann::json quantiles(const sim::Histogram& h) {
  return {{"count", h.count()}, {"mean", h.mean()}, {"p50", h.quantile(0.5)}, {"p90", h.quantile(0.9)},
          {"p99", h.quantile(0.99)}, {"max", h.max()}};
}

std::string latency_row(const char* name, const sim::Histogram& h) {
  if (h.count() == 0) return fmt::format("    {:<12}  {:>9}\n", name, "-");
  return fmt::format("    {:<12}  {:>9.3f}  {:>9.3f}  {:>9.3f}  {:>9.3f}\n", name, h.mean(), h.quantile(0.5),
                     h.quantile(0.9), h.quantile(0.99));
}

// A progress line on stderr, for runs longer than a second, when stderr is a terminal.
struct Progress {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool shown = false;
  bool tty = ::isatty(STDERR_FILENO) != 0;
  void operator()(double fraction) {
    if (!tty) return;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed < 1.0) return;
    shown = true;
    fmt::print(stderr, "\rsimulating: {:3.0f}% ({:.1f} s)", 100 * fraction, elapsed);
  }
  void done() {
    if (shown) fmt::print(stderr, "\r{:40}\r", "");
  }
};

int bad_usage(const std::string& message) { return usage_error("simulate", message); }

std::string verdict_text(bool stable, const SimulateOptions& o, int code) {
  return fmt::format("{}{}", stable ? "stable" : "unstable",
                     o.expect.empty() ? "" : (code == kHolds ? " (as expected)" : fmt::format(" (expected {})", o.expect)));
}

// A network: every class's arrivals scaled by --load (relative to the busiest station's load).
int run_network(const SimulateOptions& o, const core::Spec& spec, const core::Network& n) {
  if (o.rate || !o.arrivals.empty() || !o.workload.empty() || !o.engines.empty())
    return bad_usage("with --network, give only --load, --requests or --duration, --seed");
  auto loads = core::station_loads(spec, n);
  double busiest = 0;
  for (const auto& l : loads) busiest = std::max(busiest, l.load);
  sim::NetworkSimOptions so;
  so.seed = o.seed;
  if (o.load) {
    if (!(busiest > 0) || !std::isfinite(busiest)) return bad_usage("the network has no finite station load to scale");
    so.rate_scale = *o.load / busiest;
  }
  so.jobs = o.requests;
  so.duration_s = o.duration_s;
  if (!so.jobs && !so.duration_s) so.jobs = 100000;
  sim::NetworkSimResult r = sim::simulate_network(spec, n, so);
  bool stable = r.verdict.stable;
  int code = kHolds;
  if (!o.expect.empty() && (o.expect == "stable") != stable) code = kViolated;
  if (o.json) {
    nlohmann::json j{{"schema_version", 1},
                     {"command", "simulate"},
                     {"network", n.name},
                     {"seed", o.seed},
                     {"rate_scale", so.rate_scale},
                     {"jobs_arrived", r.jobs_arrived},
                     {"completed", r.jobs_completed},
                     {"duration_s", r.end_time_s},
                     {"offered_tokens_per_s", r.offered_tokens_per_s},
                     {"throughput_tokens_per_s", r.throughput_tokens_per_s()},
                     {"stable", stable},
                     {"backlog_slope_tokens_per_s", r.verdict.slope_tokens_per_s},
                     {"backlog_slope_ci", {r.verdict.ci_low, r.verdict.ci_high}},
                     {"stations", nlohmann::json::array()},
                     {"classes", nlohmann::json::array()},
                     {"latency_s", {{"ttft", quantiles(r.hops.ttft)}, {"tbt", quantiles(r.hops.tbt)}, {"e2e", quantiles(r.hops.e2e)}, {"queueing", quantiles(r.hops.queueing)}}}};
    for (std::size_t s = 0; s < r.stations.size(); ++s) {
      const auto& st = r.stations[s];
      j["stations"].push_back({{"station", st.name},
                               {"engine", st.engine},
                               {"replicas", st.replicas},
                               {"offered_tokens_per_s", st.offered_tokens_per_s},
                               {"throughput_tokens_per_s", r.end_time_s > 0 ? static_cast<double>(st.tokens) / r.end_time_s : 0},
                               {"tokens_per_replica", st.tokens_per_replica},
                               {"load", loads[s].load * so.rate_scale},
                               {"stable", st.verdict.stable},
                               {"backlog_slope_tokens_per_s", st.verdict.slope_tokens_per_s}});
    }
    for (const auto& c : r.classes)
      j["classes"].push_back({{"class", c.name}, {"arrived", c.arrived}, {"completed", c.completed}, {"e2e_s", quantiles(c.e2e)}});
    if (!o.expect.empty()) j["expect"] = o.expect;
    fmt::print("{}\n", j.dump(2));
    return code;
  }
  std::string out = fmt::format("simulate network {}: arrival rates × {:.3f}, seed {}\n", n.name, so.rate_scale, o.seed);
  out += fmt::format("  {:.1f} s simulated: {} jobs arrived, {} completed; offered {:.1f} tokens/s, throughput {:.1f} tokens/s\n",
                     r.end_time_s, r.jobs_arrived, r.jobs_completed, r.offered_tokens_per_s, r.throughput_tokens_per_s());
  out += "  station       engine            replicas  load     offered tok/s  throughput tok/s  backlog slope  verdict\n";
  for (std::size_t s = 0; s < r.stations.size(); ++s) {
    const auto& st = r.stations[s];
    out += fmt::format("  {:<12}  {:<16}  {:>8}  {:>6.3f}  {:>13.1f}  {:>16.1f}  {:>13.1f}  {}\n", st.name, st.engine, st.replicas,
                       loads[s].load * so.rate_scale, st.offered_tokens_per_s,
                       r.end_time_s > 0 ? static_cast<double>(st.tokens) / r.end_time_s : 0, st.verdict.slope_tokens_per_s,
                       st.verdict.stable ? "stable" : "unstable");
  }
  out += "  class         arrived  completed  end-to-end mean (s)  p99 (s)\n";
  for (const auto& c : r.classes)
    out += fmt::format("  {:<12}  {:>7}  {:>9}  {:>19.3f}  {:>7.3f}\n", c.name, c.arrived, c.completed, c.e2e.mean(),
                       c.e2e.quantile(0.99));
  out += fmt::format("  network backlog slope {:.1f} tokens/s (95% CI {:.1f} .. {:.1f})\n", r.verdict.slope_tokens_per_s,
                     r.verdict.ci_low, r.verdict.ci_high);
  out += fmt::format("  verdict: {}\n", verdict_text(stable, o, code));
  fmt::print("{}", out);
  return code;
}

// One engine's run, rendered.
struct EngineRun {
  int code = kHolds;
  nlohmann::json json;
  std::string text;
  PlotSeries backlog;
  std::string csv;
};

// The arrivals of a run: the workload's process, or an arrivals file.
struct Inputs {
  const core::Workload* workload = nullptr;
  core::Workload from_file;
  std::vector<core::Arrival> replay;
};

std::optional<EngineRun> run_engine(const SimulateOptions& o, const core::Engine& engine, Inputs& in) {
  const core::Workload& workload = *in.workload;
  core::LoadFigures figures = core::load_on(engine, workload);
  double mean_tokens = workload.mean_prompt() + workload.mean_output();
  sim::SimOptions so;
  so.seed = o.seed;
  if (o.rate) so.rate.rate_per_s = *o.rate;
  if (o.load) {
    if (figures.usable_tokens_per_s <= 0) {
      bad_usage(fmt::format("engine '{}' has no finite capacity to take a load of", engine.name));
      return std::nullopt;
    }
    so.rate.rate_per_s = *o.load * figures.usable_tokens_per_s / mean_tokens;
  }
  std::vector<core::Arrival> replay = in.replay;
  if (!replay.empty() && so.rate.rate_per_s) {  // a replay at another rate: stretch its times
    double span = replay.back().time_s - replay.front().time_s;
    double own = span > 0 ? static_cast<double>(replay.size() - 1) / span : 0;
    if (own > 0)
      for (auto& a : replay) a.time_s = replay.front().time_s + (a.time_s - replay.front().time_s) * own / *so.rate.rate_per_s;
  }
  if (!replay.empty()) so.arrivals = &replay;
  so.requests = o.requests;
  so.duration_s = o.duration_s;
  if (!so.requests && !so.duration_s && replay.empty()) so.requests = 100000;
  Progress progress;
  so.progress = std::ref(progress);
  std::ofstream trace_file;
  std::unique_ptr<traces::ForeignTraceStream> foreign;  // the trace rewritten in another format
  std::optional<core::TraceWriter> trace;
  if (!o.trace.empty()) {
    trace_file.open(o.trace, std::ios::binary | std::ios::trunc);
    if (!trace_file) {
      bad_usage(fmt::format("cannot write '{}'", o.trace));
      return std::nullopt;
    }
    if (o.trace_format != "batchproof")
      foreign = std::make_unique<traces::ForeignTraceStream>(*traces::parse_format(o.trace_format), trace_file);
    trace.emplace(foreign ? static_cast<std::ostream&>(*foreign) : trace_file);
    so.trace = &*trace;
    so.spec_file = o.file;
  }
  sim::SimResult r = sim::simulate_engine(engine, workload, so);
  progress.done();
  if (trace) {
    trace->flush();
    if (!trace->ok() || (foreign && !foreign->finish())) {
      const std::string why = foreign ? foreign->error() : std::string();
      bad_usage(why.empty() ? fmt::format("cannot write '{}'", o.trace) : fmt::format("cannot write '{}': {}", o.trace, why));
      return std::nullopt;
    }
  }

  EngineRun run;
  // Over the window the slope is fitted on (the second half), so that the arrivals' own
  // fluctuation does not show as a difference between the two.
  double fluid = sim::fluid_slope(r.offered_second_half_tokens_per_s, figures.usable_tokens_per_s);
  double load = figures.usable_tokens_per_s > 0 ? r.offered_tokens_per_s / figures.usable_tokens_per_s : INFINITY;
  bool stable = r.verdict.stable && !r.frozen;
  if (!o.expect.empty() && (o.expect == "stable") != stable) run.code = kViolated;
  run.backlog.label = engine.name;
  for (std::size_t i = 0; i < r.backlog.size(); ++i) {
    run.backlog.points.emplace_back(r.backlog[i].time_s, r.backlog[i].backlog_tokens);
    run.csv += fmt::format("{},{},{},{}\n", engine.name, r.backlog[i].time_s, r.backlog[i].backlog_tokens,
                           r.backlog_requests[i].backlog_tokens);
  }
  run.json = {{"engine", engine.name},
              {"workload", workload.name},
              {"seed", o.seed},
              {"rate_per_s", r.rate_per_s},
              {"offered_tokens_per_s", r.offered_tokens_per_s},
              {"usable_capacity_tokens_per_s", figures.usable_tokens_per_s},
              {"load", std::isfinite(load) ? nlohmann::json(load) : nlohmann::json(nullptr)},
              {"arrived", r.arrived},
              {"completed", r.completed},
              {"iterations", r.iterations},
              {"preemptions", r.preemptions},
              {"duration_s", r.end_time_s},
              {"throughput_tokens_per_s", r.throughput_tokens_per_s()},
              {"budget_utilisation", r.utilisation()},
              {"stable", stable},
              {"frozen", r.frozen},
              {"backlog_slope_tokens_per_s", r.verdict.slope_tokens_per_s},
              {"backlog_slope_ci", {r.verdict.ci_low, r.verdict.ci_high}},
              {"fluid_slope_tokens_per_s", fluid},
              {"latency_s",
               {{"ttft", quantiles(r.latency.ttft)},
                {"tbt", quantiles(r.latency.tbt)},
                {"e2e", quantiles(r.latency.e2e)},
                {"queueing", quantiles(r.latency.queueing)}}}};
  if (!o.expect.empty()) run.json["expect"] = o.expect;
  std::string& out = run.text;
  out = fmt::format("simulate {} with {}: {:.3f} req/s, offered {:.1f} tokens/s, load {:.3f} of usable {:.1f} tokens/s, seed {}\n",
                    engine.name, workload.name, r.rate_per_s, r.offered_tokens_per_s, load, figures.usable_tokens_per_s,
                    o.seed);
  out += fmt::format("  {:.1f} s simulated: {} arrived, {} completed, {} iterations, {} preemptions\n", r.end_time_s,
                     r.arrived, r.completed, r.iterations, r.preemptions);
  out += fmt::format("  throughput {:.1f} tokens/s", r.throughput_tokens_per_s());
  if (engine.token_budget) out += fmt::format(", budget utilisation {:.3f}", r.utilisation());
  out += "\n  latency (s)        mean        p50        p90        p99\n";
  out += latency_row("TTFT", r.latency.ttft) + latency_row("TBT", r.latency.tbt) +
         latency_row("end-to-end", r.latency.e2e) + latency_row("queueing", r.latency.queueing);
  out += fmt::format("  backlog slope {:.1f} tokens/s (95% CI {:.1f} .. {:.1f}), fluid slope {:.1f} tokens/s\n",
                     r.verdict.slope_tokens_per_s, r.verdict.ci_low, r.verdict.ci_high, fluid);
  if (r.frozen) out += fmt::format("  frozen at {:.3f} s: work present and nothing schedulable\n", r.frozen_at_s);
  out += fmt::format("  verdict: {}\n", verdict_text(stable, o, run.code));
  return run;
}

int run_simulate(const SimulateOptions& o) {
  auto spec = load_spec_reporting(o.file);
  if (!spec) return kBadInput;
  auto bad = bad_usage;
  if (!o.expect.empty() && o.expect != "stable" && o.expect != "unstable")
    return bad(fmt::format("--expect takes 'stable' or 'unstable', not '{}'", o.expect));
  if (o.requests && o.duration_s) return bad("give --requests or --duration, not both");
  if (o.load && *o.load <= 0) return bad("--load must be positive");
  if (!o.network.empty()) {
    const core::Network* n = spec->find_network(o.network);
    if (!n) return bad(fmt::format("no network '{}' in {}", o.network, o.file));
    return run_network(o, *spec, *n);
  }
  if (o.engines.empty()) return bad("give --engine E (or --network N)");
  if (o.engines.size() > 1 && !o.trace.empty()) return bad("--trace takes one engine");
  if (o.trace_format != "batchproof") {
    auto format = traces::parse_format(o.trace_format);
    if (!format || !traces::has_foreign_writer(*format))
      return bad(fmt::format("--trace-format takes batchproof, trtllm, sglang or vllm, not '{}'", o.trace_format));
    if (o.trace.empty()) return bad("--trace-format goes with --trace FILE");
  }
  std::vector<const core::Engine*> engines;
  for (const auto& name : o.engines) {
    const core::Engine* e = spec->find_engine(name);
    if (!e) return bad(fmt::format("no engine '{}' in {}", name, o.file));
    engines.push_back(e);
  }
  Inputs in;
  if (!o.arrivals.empty()) {
    core::Diagnostics arr_diags;
    auto read = core::read_arrivals(o.arrivals, core::TraceFormat::Auto, arr_diags);
    print_diagnostics(arr_diags);
    if (!read) return kBadInput;
    in.replay = std::move(*read);
    in.from_file.name = o.arrivals;
    in.from_file.arrivals.form = core::ArrivalProcess::Form::Trace;
    in.from_file.arrivals.trace = in.replay;
    in.workload = &in.from_file;
  } else {
    if (o.workload.empty()) return bad("give --workload W (or --arrivals FILE)");
    in.workload = spec->find_workload(o.workload);
    if (!in.workload) return bad(fmt::format("no workload '{}' in {}", o.workload, o.file));
  }
  if (o.load && o.rate) return bad("give --load or --rate, not both");
  if (o.rate && *o.rate <= 0) return bad("--rate must be positive");

  int code = kHolds;
  std::vector<EngineRun> runs;
  for (const core::Engine* e : engines) {
    auto run = run_engine(o, *e, in);
    if (!run) return kBadInput;
    code = worst(code, run->code);
    runs.push_back(std::move(*run));
  }
  if (!o.csv.empty()) {
    std::ofstream csv(o.csv);
    csv << "engine,time_s,backlog_tokens,backlog_requests\n";
    for (const auto& r : runs) csv << r.csv;
    if (!csv) return bad(fmt::format("cannot write '{}'", o.csv));
  }
  if (!o.svg.empty()) {
    std::vector<PlotSeries> series;
    for (const auto& r : runs) series.push_back(r.backlog);
    std::ofstream svg(o.svg);
    svg << render_svg(fmt::format("backlog under {} ({})", in.workload->name, o.file), "time (s)", "backlog (tokens)",
                      series);
    if (!svg) return bad(fmt::format("cannot write '{}'", o.svg));
  }
  if (o.json) {
    nlohmann::json j{{"schema_version", 1}, {"command", "simulate"}};
    if (runs.size() == 1) j.update(runs[0].json);
    else for (const auto& r : runs) j["runs"].push_back(r.json);
    fmt::print("{}\n", j.dump(2));
  } else {
    for (std::size_t i = 0; i < runs.size(); ++i) fmt::print("{}{}", i ? "\n" : "", runs[i].text);
  }
  return code;
}

}  // namespace

void add_simulate_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand("simulate", "Discrete-event run of one engine: backlog, throughput, latency, stability");
  cmd->add_option("file", o->file, "spec file (.bp)")->required();
  cmd->add_option("--engine", o->engines, "engine to run (repeat to compare several on one plot)");
  cmd->add_option("--network", o->network, "network to run (instead of an engine)");
  cmd->add_option("--workload", o->workload, "workload to run");
  cmd->add_option("--load", o->load, "arrival rate as a fraction of the usable capacity");
  cmd->add_option("--rate", o->rate, "arrival rate in requests per second");
  cmd->add_option("--requests", o->requests, "stop arrivals after N requests (default 100000)");
  cmd->add_option("--duration", o->duration_s, "stop arrivals after T seconds");
  cmd->add_option("--seed", o->seed, "random seed (default 1)");
  cmd->add_option("--arrivals", o->arrivals, "replay an arrivals file instead of the workload");
  cmd->add_option("--expect", o->expect, "exit 1 unless the verdict is this (stable|unstable)");
  cmd->add_option("--csv", o->csv, "write the backlog time series as CSV");
  cmd->add_option("--svg", o->svg, "plot the backlog over time (every engine on one plot)");
  cmd->add_option("--trace", o->trace, "write the run in batchproof's trace format (JSON Lines)");
  cmd->add_option("--trace-format", o->trace_format,
                  "format of --trace: batchproof (default), or a real engine's log: trtllm (IterationStats JSON "
                  "lines), sglang, vllm");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  cmd->callback([o, &exit_code] { exit_code = run_simulate(*o); });
}

}  // namespace batchproof::cli
