// `batchproof prove FILE --engine E --property P [--requests N] [--timeout S] [--json]
//   [--smt2 FILE] [--bounded]`: one per-iteration property for every number of requests where
//   the inductive lemma proves it, else for every state of up to N requests.
#include <fstream>

#include <fmt/format.h>

#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/proof_report.hpp"
#include "core/step.hpp"
#include "core/trace_format.hpp"

namespace batchproof::cli {

namespace {
struct ProveOptions {
  std::string file, engine, property, smt2, trace;
  int requests = 8;
  double timeout_s = 60;
  bool json = false;
  bool no_lemma = false;
};

// The counterexample in batchproof's trace format: the header, the state, its one iteration.
bool write_trace(const ProveOptions& o, const core::Engine& e, const solver::Counterexample& cx) {
  std::ofstream f(o.trace, std::ios::binary | std::ios::trunc);
  core::TraceWriter w(f);
  core::TraceHeader h = core::trace_header(e, "prove", o.file);
  h.notes = fmt::format("counterexample to {}: {}", o.property, cx.witness);
  w.write_header(h);
  w.write_state(core::trace_state(cx.state, 0));
  core::EngineState after = cx.state;
  core::StepOutcome out = core::step(e, after);
  core::TraceIteration it;
  core::fill_iteration(it, out, after);
  it.index = 0;
  it.start_s = 0;
  it.end_s = out.batch.duration_s;
  w.write_iteration(it);
  w.flush();
  return w.ok();
}

int run_prove(const ProveOptions& o) {
  auto spec = load_spec_reporting(o.file);
  if (!spec) return kBadInput;
  auto bad = [](const std::string& m) { return usage_error("prove", m); };
  const core::Engine* e = spec->find_engine(o.engine);
  if (!e) return bad(fmt::format("no engine '{}' in {}", o.engine, o.file));
  auto p = core::property_from_name(o.property);
  if (!p || !core::is_per_iteration(*p))
    return bad(fmt::format("'{}' is not a per-iteration property (work_conserving, budget, batch_limit, memory_safe, "
                           "progress, fcfs)",
                           o.property));
  if (o.requests < 1 || o.requests > 64) return bad("--requests must be between 1 and 64");
  if (!(o.timeout_s > 0)) return bad("--timeout must be positive");
  solver::ProveOptions po{o.requests, o.timeout_s, o.smt2, !o.no_lemma};
  solver::ProofResult r = solver::prove(*e, *p, po);
  if (!o.trace.empty() && r.counterexample && !write_trace(o, *e, *r.counterexample))
    return bad(fmt::format("cannot write '{}'", o.trace));
  if (o.json) {
    nlohmann::json j = proof_json(r);
    j["schema_version"] = 1;
    j["command"] = "prove";
    j["engine"] = e->name;
    j["property"] = o.property;
    fmt::print("{}\n", j.dump(2));
    return exit_code_of(r.verdict);
  }
  std::string head = fmt::format("prove {} {}: {}", e->name, o.property, verdict_word(r.verdict));
  switch (r.verdict) {
    case solver::Verdict::Holds: head += holds_scope(r); break;
    case solver::Verdict::Violated: {
      std::size_t n = r.counterexample->state.running.size() + r.counterexample->state.waiting.size();
      head += fmt::format(" (a smallest counterexample, {} request{}: violated for every N ≥ {})", n, n == 1 ? "" : "s", n);
      break;
    }
    default:
      head += ": " + r.reason;
  }
  fmt::print("{} [{:.2f} s]\n", head, r.seconds);
  if (r.counterexample) fmt::print("{}", counterexample_text(*e, *r.counterexample));
  return exit_code_of(r.verdict);
}
}  // namespace

void add_prove_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ProveOptions>();
  CLI::App* cmd = app.add_subcommand("prove", "Prove a per-iteration property for every state, or find the smallest counterexample");
  cmd->add_option("file", o->file, "spec file (.bp)")->required();
  cmd->add_option("--engine", o->engine, "engine")->required();
  cmd->add_option("--property", o->property, "work_conserving, budget, batch_limit, memory_safe, progress, fcfs")->required();
  cmd->add_option("--requests", o->requests, "states of up to N requests (default 8)");
  cmd->add_option("--timeout", o->timeout_s, "seconds for each solver query (default 60)");
  cmd->add_option("--smt2", o->smt2, "write the query in SMT-LIB 2");
  cmd->add_option("--trace", o->trace, "write the counterexample in batchproof's trace format");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  cmd->add_flag("--bounded", o->no_lemma, "skip the inductive lemma: only the bounded search up to N");
  cmd->callback([o, &exit_code] { exit_code = run_prove(*o); });
}

}  // namespace batchproof::cli
