// `batchproof fit TRACE... [--format F] [--name N] [--form best|staircase|linear|table]
//   [--from T] [--to T] [--json]`: fits the iteration-time profile of the GPU that produced a
// log, from each iteration's tokens and measured time, and prints a `profile` block that
// `batchproof check` reads, ready for gpu_profiles/.
#include <cstdio>
#include <memory>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/audit_output.hpp"
#include "cli/command_support.hpp"
#include "cli/commands.hpp"
#include "cli/diagnostics_output.hpp"
#include "cli/exit_codes.hpp"
#include "cli/profile_block.hpp"
#include "traces/profile_fit.hpp"
#include "traces/reader.hpp"

namespace batchproof::cli {

namespace {

struct FitOptions {
  std::vector<std::string> traces;
  std::string format, name = "fitted", form = "best";
  std::optional<double> from_s, to_s;
  bool json = false;
};

int bad(const std::string& message) { return usage_error("fit", message); }

std::string fit_summary(const traces::ProfileFit& f) {
  return fmt::format("R^2 {:.4f}, RMSE {:.3f} ms, largest residual {:.3f} ms", f.r2, 1e3 * f.rmse_s,
                     1e3 * f.max_abs_residual_s);
}

int run_fit(const FitOptions& o) {
  if (!std::regex_match(o.name, std::regex("[A-Za-z_][A-Za-z0-9_]*")))
    return bad(fmt::format("--name '{}' is not a name of the language ([A-Za-z_][A-Za-z0-9_]*)", o.name));
  std::optional<core::TimeModel::Form> wanted;
  if (o.form == "staircase") wanted = core::TimeModel::Form::Staircase;
  else if (o.form == "linear") wanted = core::TimeModel::Form::Linear;
  else if (o.form == "table") wanted = core::TimeModel::Form::Table;
  else if (o.form != "best") return bad(fmt::format("--form '{}': best, staircase, linear or table", o.form));
  std::optional<traces::Format> given;
  if (!o.format.empty() && !(given = traces::parse_format(o.format)))
    return bad(fmt::format("unknown format '{}'", o.format));

  traces::TimingSamples samples;
  std::int64_t records = 0, malformed = 0;
  std::optional<traces::Format> format;
  for (const auto& path : o.traces) {
    auto input = open_log_reporting(path);
    if (!input) return kBadInput;
    auto f = given ? given : traces::detect_format(input->head());
    if (!f) {
      fmt::print(stderr, "{}: error: not a log batchproof reads: {}\n", path, traces::undetected_reason(input->head()));
      return kBadInput;
    }
    if (format && *format != *f) return bad("the inputs are logs of different formats");
    format = f;
    auto reader = traces::make_reader(*f, std::move(input));
    traces::Iteration r;
    while (reader->next(r)) {
      ++records;
      if (r.start_s && ((o.from_s && *r.start_s < *o.from_s) || (o.to_s && *r.start_s > *o.to_s))) continue;
      auto tokens = r.tokens();
      if (tokens && r.duration_s && r.steps == 1) samples.add(*tokens, *r.duration_s);
    }
    print_diagnostics(reader->diagnostics());
    if (reader->fatal()) return kBadInput;
    malformed += reader->malformed_count();
  }

  auto fits = traces::fit_profile(samples);
  if (!fits) {
    fmt::print(stderr,
               "batchproof fit: cannot fit: {} of {} iterations have their tokens and time, over {} batch size{} (3 "
               "are needed){}\n",
               samples.count(), records, samples.sizes(), samples.sizes() == 1 ? "" : "s",
               traces::format_support(*format).durations ? "" : " (this format logs no iteration times)");
    return kUnknown;
  }
  const auto form = wanted.value_or(fits->best);
  const traces::ProfileFit& chosen = fits->get(form);

  std::string inputs;
  for (const auto& t : o.traces) inputs.append(inputs.empty() ? "" : ", ").append(t);
  std::vector<std::string> comments{
      fmt::format("fitted by batchproof fit from {} ({} format): {} iterations with tokens and times, {} batch sizes",
                  inputs, traces::format_name(*format), samples.count(), samples.sizes()),
      fmt::format("staircase {}: {}", time_model_text(fits->staircase.model), fit_summary(fits->staircase)),
      fmt::format("linear    {}: {}", time_model_text(fits->linear.model), fit_summary(fits->linear)),
      fmt::format("table     {} points: {}", fits->table.model.table.size(), fit_summary(fits->table))};
  std::string provenance = fmt::format("batchproof fit of {} ({} format): {} fit over {} iterations, {}", inputs,
                                       traces::format_name(*format), traces::form_name(form), chosen.samples,
                                       fit_summary(chosen));
  core::Diagnostics diags;
  auto block = profile_block(o.name, chosen.model, provenance, comments, diags);
  if (!block) {
    print_diagnostics(diags);
    fmt::print(stderr, "batchproof fit: internal error: the fitted profile does not load\n");
    return kInternal;
  }
  if (o.json) {
    nlohmann::json j{{"schema_version", 1},
                     {"command", "fit"},
                     {"format", traces::format_name(*format)},
                     {"inputs", o.traces},
                     {"records", records},
                     {"malformed", malformed},
                     {"samples", samples.count()},
                     {"batch_sizes", samples.sizes()},
                     {"best", traces::form_name(fits->best)},
                     {"chosen", traces::form_name(form)},
                     {"staircase", render_fit_json(fits->staircase)},
                     {"linear", render_fit_json(fits->linear)},
                     {"table", render_fit_json(fits->table)},
                     {"profile", *block}};
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("{}", *block);
  }
  return kHolds;
}

}  // namespace

void add_fit_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<FitOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fit", "Fit the iteration-time profile t(b) of the GPU that produced a log; prints a profile block");
  cmd->add_option("traces", o->traces, "the log, in parts if rotated (- reads stdin; gzip is read directly)")
      ->required();
  cmd->add_option("--format", o->format, "the log's format (default: detected)");
  cmd->add_option("--name", o->name, "the profile's name (default: fitted)");
  cmd->add_option("--form", o->form, "best (default: the closed form with the smaller error), staircase, linear, table");
  cmd->add_option("--from", o->from_s, "use iterations starting at or after T seconds (the log's clock)");
  cmd->add_option("--to", o->to_s, "use iterations starting at or before T seconds");
  cmd->add_flag("--json", o->json, "one JSON document on stdout (the block under \"profile\")");
  cmd->callback([o, &exit_code] { exit_code = run_fit(*o); });
}

}  // namespace batchproof::cli
