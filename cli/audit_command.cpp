// `batchproof audit TRACE... [--format F] [--spec FILE --engine E] [--arrivals FILE]
//   [--from T] [--to T] [--json] [--max-violations N] [--strict]`: checks logs from real runs.
// The inputs are parts of one log, read in the order given (a rotated log); `-` is stdin and
// gzip is read directly. Exit 1 on a violation, 0 when clean; 3 when an input is unreadable or
// not the format (and, with --strict, when a record is malformed). --arrivals with a trace of
// several replicas reads the trace twice: a first pass places each request in its replica.
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/audit_output.hpp"
#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/diagnostics_output.hpp"
#include "cli/exit_codes.hpp"
#include "core/arrivals_file.hpp"
#include "traces/arrival_placement.hpp"
#include "traces/audit_run.hpp"
#include "traces/input_stream.hpp"
#include "traces/read_ahead.hpp"

namespace batchproof::cli {

namespace {

struct AuditCommandOptions {
  std::vector<std::string> traces;
  std::string format, spec, engine, arrivals;
  std::optional<double> from_s, to_s;
  std::int64_t max_violations = 10;
  bool json = false, strict = false;
};

int bad(const std::string& message) { return usage_error("audit", message); }

std::string format_names() {
  std::string out;
  for (auto f : traces::all_formats()) {
    if (!out.empty()) out.append(", ");
    out.append(traces::format_name(f));
  }
  return out;
}

// Opens every input and settles its format: the one given, or the one detected.
struct OpenInputs {
  std::vector<std::unique_ptr<traces::Input>> inputs;
  traces::Format format = traces::Format::Batchproof;
};
std::optional<OpenInputs> open_inputs(const AuditCommandOptions& o) {
  OpenInputs out;
  std::optional<traces::Format> given;
  if (!o.format.empty()) given = traces::parse_format(o.format);
  std::optional<traces::Format> seen;
  for (const auto& path : o.traces) {
    auto input = open_log_reporting(path);
    if (!input) return std::nullopt;
    traces::Format f;
    if (given) {
      f = *given;
    } else if (auto detected = traces::detect_format(input->head())) {
      f = *detected;
    } else {
      fmt::print(stderr, "{}: error: not a log batchproof reads: {} (formats: {}; --format names one)\n", path,
                 traces::undetected_reason(input->head()), format_names());
      return std::nullopt;
    }
    if (seen && *seen != f) {
      fmt::print(stderr, "{}: error: this input is a {} log, and the ones before it are {}: audit one log at a time\n",
                 path, traces::format_name(f), traces::format_name(*seen));
      return std::nullopt;
    }
    seen = f;
    out.inputs.push_back(std::move(input));
  }
  out.format = *seen;
  return out;
}

// batchproof's own trace, read with core's reader: every detail, for the replay.
std::optional<traces::AuditReport> audit_own_fully(traces::Input& input, const traces::AuditOptions& options,
                                                   std::int64_t& malformed) {
  input.set_max_line(std::size_t{256} << 20);  // as core's reader: a state record may be long
  traces::InputStream in(input);
  core::Diagnostics diags;
  auto out = traces::audit_own_trace(in, input.path(), options, diags);
  print_diagnostics(diags);
  if (!out.report) return std::nullopt;
  malformed = out.report->malformed;
  return out.report;
}

bool has_stdin(const std::vector<std::string>& paths) {
  for (const auto& p : paths)
    if (p == "-") return true;
  return false;
}

// Where each arrival went in a trace of several replicas: the first pass over the trace.
std::optional<traces::ArrivalPlacement> place_arrivals(const std::vector<std::string>& paths, traces::Format format,
                                                       const std::vector<core::Arrival>& arrivals) {
  traces::PlacementPass pass(arrivals.size(), traces::arrival_ids_of(format));
  for (const auto& path : paths) {
    core::Diagnostics diags;
    auto input = traces::Input::open(path, diags);
    if (!input) return std::nullopt;
    auto reader = traces::make_reader(format, std::move(input));
    traces::Iteration record;
    while (reader->next(record)) pass.add(record);
    // Its diagnostics are the second pass's to print.
  }
  return pass.finish();
}

// The inputs through the format's reader and an Auditor.
struct ReaderAudit {
  std::optional<traces::AuditReport> report;
  bool bad_input = false;        // an input was unreadable or not the format (printed)
  std::string unusable;          // the audit cannot go on with the options given
  bool needs_placement = false;  // ... unless the arrivals are placed in a first pass
};
ReaderAudit audit_with_reader(traces::Format format, const traces::AuditOptions& options,
                              const std::optional<core::TraceHeader>& header,
                              std::vector<std::unique_ptr<traces::Input>>& inputs, std::int64_t& malformed) {
  ReaderAudit out;
  traces::Auditor auditor(traces::audit_setup(format, options, header));
  std::vector<std::string> paths;
  for (auto& input : inputs) {
    paths.push_back(input->path());
    auto reader = traces::make_reader(format, std::move(input));
    if (traces::worth_reading_ahead(format)) reader = traces::read_ahead(std::move(reader));
    traces::Iteration record;
    while (reader->next(record)) {
      auditor.add(record, paths.back());
      if (auditor.unusable()) {
        reader->close();
        break;
      }
    }
    if (auditor.needs_placement()) {  // read again: its diagnostics are printed then
      out.needs_placement = true;
      out.unusable = *auditor.unusable();
      return out;
    }
    print_diagnostics(reader->diagnostics());
    if (reader->fatal()) {
      out.bad_input = true;
      return out;
    }
    malformed += reader->malformed_count();
    if (auditor.unusable()) {
      out.unusable = *auditor.unusable();
      return out;
    }
  }
  out.report = auditor.finish(malformed);
  out.report->inputs = paths;
  return out;
}

int run_audit(const AuditCommandOptions& o) {
  if (!o.format.empty() && !traces::parse_format(o.format))
    return bad(fmt::format("unknown format '{}' (formats: {})", o.format, format_names()));
  if (o.spec.empty() != o.engine.empty()) return bad("--spec and --engine go together");
  if (o.max_violations < 0) return bad("--max-violations must not be negative");
  if (o.from_s && o.to_s && *o.to_s < *o.from_s) return bad("--to is before --from");

  std::optional<core::Spec> spec;
  traces::AuditOptions options;
  options.from_s = o.from_s;
  options.to_s = o.to_s;
  options.max_violations = o.max_violations;
  if (!o.spec.empty()) {
    spec = load_spec_reporting(o.spec);
    if (!spec) return kBadInput;
    options.engine = spec->find_engine(o.engine);
    if (!options.engine) {
      std::vector<std::string> names;
      for (const auto& e : spec->engines) names.push_back(e.name);
      return bad(fmt::format("no engine '{}' in {}{}", o.engine, o.spec, core::did_you_mean(o.engine, names)));
    }
    options.spec_file = o.spec;
  }

  auto opened = open_inputs(o);
  if (!opened) return kBadInput;
  const traces::Format format = opened->format;
  const bool takes_arrivals = format == traces::Format::VidurChrome || format == traces::Format::SarathiChrome ||
                              format == traces::Format::TrtllmIterStats;
  std::optional<std::vector<core::Arrival>> arrivals;
  if (!o.arrivals.empty()) {
    if (!takes_arrivals)
      return bad(fmt::format("--arrivals is for Vidur and Sarathi-Serve traces, which log no arrivals, and "
                             "TensorRT-LLM's request stats, which log no prompt lengths; this is a {} log",
                             traces::format_name(format)));
    core::Diagnostics diags;
    arrivals = core::read_arrivals(o.arrivals, core::TraceFormat::Auto, diags);
    print_diagnostics(diags);
    if (!arrivals) return kBadInput;
    options.arrivals = &*arrivals;
  }

  std::optional<traces::AuditReport> report;
  std::optional<core::TraceHeader> header;
  std::int64_t malformed = 0;
  if (format == traces::Format::Batchproof) {
    if (opened->inputs.size() != 1) return bad("a batchproof trace is one run: audit one trace at a time");
    traces::Input& input = *opened->inputs.front();
    core::Diagnostics head_diags;
    auto head = traces::read_own_trace_head(input.head(), input.path(), head_diags);
    if (!head.header) {
      print_diagnostics(head_diags);
      return kBadInput;
    }
    header = head.header;
    if (head.needs_full_reader) {
      report = audit_own_fully(input, options, malformed);
      if (!report) return kBadInput;
    }
  }
  if (!report) {
    auto audited = audit_with_reader(format, options, header, opened->inputs, malformed);
    if (audited.needs_placement) {
      // Several replicas with --arrivals: a first pass finds where each request went.
      std::optional<traces::ArrivalPlacement> placement;
      if (arrivals && !has_stdin(o.traces)) placement = place_arrivals(o.traces, format, *arrivals);
      if (!placement) return bad(audited.unusable);
      if (placement->unplaced > 0)
        fmt::print(stderr, "batchproof audit: warning: {} of the {} arrivals of {} are in no batch of the trace, so "
                           "in no replica: they are not replayed\n",
                   placement->unplaced, arrivals->size(), o.arrivals);
      options.placement = &*placement;
      std::vector<std::unique_ptr<traces::Input>> again;
      for (const auto& path : o.traces) {
        auto input = open_log_reporting(path);
        if (!input) return kBadInput;
        again.push_back(std::move(input));
      }
      malformed = 0;
      audited = audit_with_reader(format, options, header, again, malformed);
    }
    if (audited.bad_input) return kBadInput;
    if (!audited.unusable.empty()) return bad(audited.unusable);
    report = std::move(audited.report);
  }

  if (o.json) fmt::print("{}\n", render_audit_json(*report).dump(2));
  else fmt::print("{}", render_audit_text(*report));
  int code = report->violated() ? kViolated : kHolds;
  if (o.strict && malformed > 0) code = worst(code, kBadInput);
  return code;
}

}  // namespace

void add_audit_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<AuditCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "audit", "Check logs from real runs (TensorRT-LLM, SGLang, vLLM, Vidur, Sarathi-Serve, batchproof traces): "
               "budget, batch limit, KV, work conservation, mixing, clock, gaps, lifecycles, conformance to a spec");
  cmd->add_option("traces", o->traces, "the log, in parts if rotated (- reads stdin; gzip is read directly)")
      ->required();
  cmd->add_option("--format", o->format, "the log's format (default: detected): " + format_names());
  cmd->add_option("--spec", o->spec, "a spec file whose engine gives the limits and the policy to replay");
  cmd->add_option("--engine", o->engine, "the engine of --spec that ran the log");
  cmd->add_option("--arrivals", o->arrivals,
                  "arrivals file for Vidur and Sarathi-Serve traces (request i = line i) and TensorRT-LLM request "
                  "stats (the first id listed = line 0)");
  cmd->add_option("--from", o->from_s, "judge iterations starting at or after T seconds (the log's clock)");
  cmd->add_option("--to", o->to_s, "judge iterations starting at or before T seconds");
  cmd->add_option("--max-violations", o->max_violations, "violations and notes shown in full per kind (default 10)");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  cmd->add_flag("--strict", o->strict, "a malformed record is bad input (exit 3)");
  cmd->callback([o, &exit_code] { exit_code = run_audit(*o); });
}

}  // namespace batchproof::cli
