// `batchproof arrivals FILE.bp --workload W [--rate X] (--duration T | --requests N)
//   [--seed S] [-o FILE]`: writes a workload's arrivals as a batchproof arrivals file (JSON
// Lines), for replays (`simulate --arrivals`) and for the real-run collector.
#include <fstream>

#include <fmt/format.h>

#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/arrivals_file.hpp"
#include "sim/arrival_stream.hpp"

namespace batchproof::cli {

namespace {
struct ArrivalsOptions {
  std::string file, workload, output;
  std::optional<double> rate, duration_s;
  std::optional<std::uint64_t> requests;
  std::uint64_t seed = 1;
};

int run_arrivals(const ArrivalsOptions& o) {
  auto spec = load_spec_reporting(o.file);
  if (!spec) return kBadInput;
  auto bad = [](const std::string& m) { return usage_error("arrivals", m); };
  const core::Workload* w = spec->find_workload(o.workload);
  if (!w) return bad(fmt::format("no workload '{}' in {}", o.workload, o.file));
  if (!o.duration_s && !o.requests) return bad("give --duration T or --requests N");
  if (o.rate && *o.rate <= 0) return bad("--rate must be positive");
  sim::ArrivalOptions ao;
  ao.seed = o.seed;
  if (o.rate) ao.rate.rate_per_s = *o.rate;
  sim::ArrivalStream stream(*w, ao);
  std::vector<core::Arrival> out;
  while (const core::Arrival* a = stream.peek()) {
    if (o.duration_s && a->time_s > *o.duration_s) break;
    if (o.requests && out.size() >= *o.requests) break;
    out.push_back(*stream.next());
  }
  std::string text = core::write_arrivals_jsonl(out);
  if (o.output.empty() || o.output == "-") {
    fmt::print("{}", text);
  } else {
    std::ofstream f(o.output, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) return bad(fmt::format("cannot write '{}'", o.output));
    fmt::print(stderr, "{}: {} arrivals of workload '{}'\n", o.output, out.size(), w->name);
  }
  return kHolds;
}
}  // namespace

void add_arrivals_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ArrivalsOptions>();
  CLI::App* cmd = app.add_subcommand("arrivals", "Write a workload's arrivals as an arrivals file (JSON Lines)");
  cmd->add_option("file", o->file, "spec file (.bp)")->required();
  cmd->add_option("--workload", o->workload, "workload")->required();
  cmd->add_option("--rate", o->rate, "arrival rate in requests per second (default: the workload's)");
  cmd->add_option("--duration", o->duration_s, "arrivals up to T seconds");
  cmd->add_option("--requests", o->requests, "at most N arrivals");
  cmd->add_option("--seed", o->seed, "random seed (default 1)");
  cmd->add_option("-o,--output", o->output, "file to write (default: stdout)");
  cmd->callback([o, &exit_code] { exit_code = run_arrivals(*o); });
}

}  // namespace batchproof::cli
