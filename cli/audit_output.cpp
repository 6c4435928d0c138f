#include "cli/audit_output.hpp"

#include <fmt/format.h>

#include "cli/profile_block.hpp"
#include "cli/text_table.hpp"

namespace batchproof::cli {

namespace {

using traces::AuditReport;
using traces::CheckStatus;
using traces::Finding;

nlohmann::json optional_number(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

std::string finding_text(const Finding& f) {
  std::string out = fmt::format("  {}:{}: {}: ", f.file, f.line, traces::violation_kind(f.kind));
  if (!f.stream.empty()) out.append(fmt::format("{} ", f.stream));
  out.append(fmt::format("iteration {}: {}\n", f.iteration, f.message));
  for (const auto& d : f.details) out.append(fmt::format("      {}\n", d));
  return out;
}

nlohmann::json finding_json(const Finding& f) {
  return {{"kind", traces::violation_kind(f.kind)}, {"file", f.file},     {"stream", f.stream},
          {"iteration", f.iteration},              {"line", f.line},     {"message", f.message},
          {"records", f.details}};
}

std::string fit_line(const traces::ProfileFit& fit) {
  return fmt::format("{}: R^2 {:.4f}, RMSE {:.3f} ms, largest residual {:.3f} ms", time_model_text(fit.model),
                     fit.r2, 1e3 * fit.rmse_s, 1e3 * fit.max_abs_residual_s);
}

}  // namespace

std::string render_audit_text(const AuditReport& r) {
  std::string out;
  std::string inputs;
  for (const auto& i : r.inputs) {
    if (!inputs.empty()) inputs.append(" ");
    inputs.append(i);
  }
  out.append(fmt::format("audit {} ({} format): {} iterations, {} malformed\n\n", inputs, r.format, r.records,
                         r.malformed));
  TableRows rows{{"check", "status", "checked", "violations", "notes", "limit / reason"}};
  for (const auto& c : r.checks) {
    std::string why = c.limit;
    if (!c.reason.empty()) {
      if (!why.empty()) why.append("; ");
      why.append(c.reason);
    }
    bool decided = c.status != CheckStatus::NotChecked;
    rows.push_back({std::string(traces::violation_kind(c.kind)), std::string(traces::status_name(c.status)),
                    decided ? std::to_string(c.checked) : "-", decided ? std::to_string(c.violations) : "-",
                    decided ? std::to_string(c.notes) : "-", why});
  }
  out.append("checks\n").append(render_table(rows));

  if (!r.violations.empty()) {
    out.append(fmt::format("\nviolations ({} in all; at most the first {} of each kind shown)\n", r.violation_count,
                           r.shown_per_kind));
    for (const auto& f : r.violations) out.append(finding_text(f));
  }
  if (!r.notes.empty()) {
    out.append(fmt::format("\nnotes: work left out that the engine's configuration allows ({} in all; at most the "
                           "first {} of each kind shown)\n",
                           r.note_count, r.shown_per_kind));
    for (const auto& f : r.notes) out.append(finding_text(f));
  }

  const auto& a = r.analytics;
  out.append("\nanalytics\n");
  out.append(fmt::format("  {} iterations over {:.3f} s, busy {:.3f} s", a.iterations, a.span_s, a.busy_s));
  if (a.throughput_tokens_per_s) out.append(fmt::format(", {:.1f} tokens/s", *a.throughput_tokens_per_s));
  out.append("\n");
  if (a.capacity_tokens_per_s)
    out.append(fmt::format("  capacity {:.1f} tokens/s: {}\n", *a.capacity_tokens_per_s, a.capacity_basis));
  else
    out.append(fmt::format("  capacity not computed: {}\n", a.capacity_basis));
  if (a.arrival_rate_per_s) {
    out.append(fmt::format("  arrivals {} at {:.3f} req/s, offering {:.1f} tokens/s", *a.arrivals, *a.arrival_rate_per_s,
                           *a.offered_tokens_per_s));
    if (a.load) out.append(fmt::format("; load {:.3f}", *a.load));
    out.append("\n");
  } else {
    out.append("  arrivals not visible in this log\n");
  }
  if (a.budget_utilisation) out.append(fmt::format("  budget utilisation {:.1f}%\n", 100 * *a.budget_utilisation));
  if (a.queue_trend)
    out.append(fmt::format("  waiting queue {}: {:+.4f} requests/s (R^2 {:.3f}, {})\n",
                           *a.queue_growing ? "growing" : "not growing", a.queue_trend->slope, a.queue_trend->r2,
                           a.queue_basis));
  else
    out.append(fmt::format("  waiting queue trend not computed: {}\n", a.queue_basis));
  if (r.profile_fit) {
    const auto& f = *r.profile_fit;
    out.append(fmt::format("  profile fit over {} iterations:\n", f.staircase.samples));
    out.append(fmt::format("    staircase {}{}\n", fit_line(f.staircase),
                           f.best == core::TimeModel::Form::Staircase ? " (best)" : ""));
    out.append(fmt::format("    linear    {}{}\n", fit_line(f.linear),
                           f.best == core::TimeModel::Form::Linear ? " (best)" : ""));
  } else {
    out.append("  profile fit: fewer than 3 batch sizes with times\n");
  }

  out.append(fmt::format("\naudit: {} violation{}", r.violation_count, r.violation_count == 1 ? "" : "s"));
  std::string by_kind;
  for (const auto& c : r.checks)
    if (c.violations > 0) {
      by_kind.append(by_kind.empty() ? " (" : ", ");
      by_kind.append(fmt::format("{} {}", traces::violation_kind(c.kind), c.violations));
    }
  if (!by_kind.empty()) by_kind.append(")");
  out.append(by_kind);
  out.append(fmt::format(", {} note{}", r.note_count, r.note_count == 1 ? "" : "s"));
  std::int64_t unchecked = 0;
  for (const auto& c : r.checks) unchecked += c.status == CheckStatus::NotChecked ? 1 : 0;
  out.append(fmt::format(", {} check{} not checked\n", unchecked, unchecked == 1 ? "" : "s"));
  return out;
}

nlohmann::json render_fit_json(const traces::ProfileFit& fit) {
  nlohmann::json j{{"form", traces::form_name(fit.model.form)},
                   {"t", time_model_text(fit.model)},
                   {"samples", fit.samples},
                   {"r2", fit.r2},
                   {"rmse_s", fit.rmse_s},
                   {"max_abs_residual_s", fit.max_abs_residual_s}};
  if (fit.model.form == core::TimeModel::Form::Table) {
    nlohmann::json points = nlohmann::json::array();
    for (const auto& [b, t] : fit.model.table) points.push_back({{"tokens", b}, {"seconds", t}});
    j["table"] = points;
  } else {
    j["c_s"] = fit.model.c_s;
    j["a_s"] = fit.model.a_s;
    j["b0"] = fit.model.b0;
  }
  nlohmann::json residuals = nlohmann::json::array();
  for (const auto& bin : fit.residuals)
    residuals.push_back({{"from_tokens", bin.from_tokens},
                         {"to_tokens", bin.to_tokens},
                         {"samples", bin.samples},
                         {"mean_s", bin.mean_s},
                         {"rms_s", bin.rms_s}});
  j["residuals"] = residuals;
  return j;
}

nlohmann::json render_audit_json(const AuditReport& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks)
    checks.push_back({{"kind", traces::violation_kind(c.kind)},
                      {"status", traces::status_name(c.status)},
                      {"checked", c.checked},
                      {"violations", c.violations},
                      {"notes", c.notes},
                      {"limit", c.limit},
                      {"reason", c.reason}});
  nlohmann::json violations = nlohmann::json::array(), notes = nlohmann::json::array();
  for (const auto& f : r.violations) violations.push_back(finding_json(f));
  for (const auto& f : r.notes) notes.push_back(finding_json(f));
  const auto& a = r.analytics;
  nlohmann::json analytics{{"iterations", a.iterations},
                           {"tokens", a.tokens},
                           {"span_s", a.span_s},
                           {"busy_s", a.busy_s},
                           {"throughput_tokens_per_s", optional_number(a.throughput_tokens_per_s)},
                           {"capacity_tokens_per_s", optional_number(a.capacity_tokens_per_s)},
                           {"capacity_basis", a.capacity_basis},
                           {"arrivals", a.arrivals ? nlohmann::json(*a.arrivals) : nlohmann::json()},
                           {"arrival_rate_per_s", optional_number(a.arrival_rate_per_s)},
                           {"offered_tokens_per_s", optional_number(a.offered_tokens_per_s)},
                           {"load", optional_number(a.load)},
                           {"budget_utilisation", optional_number(a.budget_utilisation)},
                           {"queue_basis", a.queue_basis}};
  if (a.queue_trend)
    analytics["queue_trend"] = {{"slope_requests_per_s", a.queue_trend->slope},
                                {"intercept_requests", a.queue_trend->intercept},
                                {"r2", a.queue_trend->r2},
                                {"points", a.queue_trend->points},
                                {"growing", *a.queue_growing}};
  else
    analytics["queue_trend"] = nullptr;
  nlohmann::json fit;
  if (r.profile_fit)
    fit = {{"best", traces::form_name(r.profile_fit->best)},
           {"staircase", render_fit_json(r.profile_fit->staircase)},
           {"linear", render_fit_json(r.profile_fit->linear)},
           {"table", render_fit_json(r.profile_fit->table)}};
  return {{"schema_version", 1},
          {"command", "audit"},
          {"format", r.format},
          {"inputs", r.inputs},
          {"records", r.records},
          {"malformed", r.malformed},
          {"violation_count", r.violation_count},
          {"note_count", r.note_count},
          {"checks", checks},
          {"violations", violations},
          {"notes", notes},
          {"analytics", analytics},
          {"profile_fit", fit}};
}

}  // namespace batchproof::cli
