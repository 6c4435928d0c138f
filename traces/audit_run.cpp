#include "traces/audit_run.hpp"

#include <istream>
#include <sstream>
#include <variant>

#include <fmt/format.h>

#include "traces/audit_limits.hpp"
#include "traces/trace_records.hpp"

namespace batchproof::traces {

ArrivalIds arrival_ids_of(Format format) {
  return format == Format::TrtllmIterStats ? ArrivalIds::FromFirstListed : ArrivalIds::Ordinal;
}

AuditSetup audit_setup(Format format, const AuditOptions& options, const std::optional<core::TraceHeader>& header) {
  AuditSetup s;
  s.format = format;
  s.from_s = options.from_s;
  s.to_s = options.to_s;
  s.max_violations = options.max_violations;
  if (options.engine) {
    s.limits = limits_from_engine(*options.engine, options.spec_file);
    s.spec_engine = options.engine;
    s.spec_label = fmt::format("engine {} of {}", options.engine->name, options.spec_file);
  } else if (header) {
    s.limits = limits_from_header(*header);
  }
  const bool chrome = format == Format::VidurChrome || format == Format::SarathiChrome;
  if (format == Format::Batchproof) {
    s.arrivals_complete = true;
    s.replay_engine = options.engine ? *options.engine : header ? engine_from_header(*header) : core::Engine{};
  } else if ((chrome || format == Format::TrtllmIterStats) && options.arrivals) {
    s.arrivals_complete = true;
    s.arrivals = options.arrivals;
    s.arrival_ids = arrival_ids_of(format);
    s.align_arrival_clock = format == Format::TrtllmIterStats;  // wall-clock timestamps
    s.placement = options.placement;
    // Without the spec nothing states the simulator's budget: the replay would judge against none.
    if (options.engine) s.replay_engine = *options.engine;
  }
  return s;
}

OwnTraceHead read_own_trace_head(std::string_view head, const std::string& path, core::Diagnostics& diags) {
  OwnTraceHead out;
  std::string text(head);
  // The head may end in the middle of a line: keep whole lines only.
  bool complete = !text.empty() && text.back() == '\n';
  if (!complete) {
    auto cut = text.rfind('\n');
    text.resize(cut == std::string::npos ? 0 : cut + 1);
  }
  std::istringstream in(text);
  core::TraceReader reader(in, path);
  core::TraceRecord record;
  bool saw_iteration = false;
  while (reader.next(record)) {
    if (auto* h = std::get_if<core::TraceHeader>(&record)) {
      out.header = *h;
    } else if (auto* s = std::get_if<core::TraceState>(&record)) {
      for (const auto& r : s->requests)
        if (r.admitted || r.prefilled > 0 || r.decoded > 0) out.needs_full_reader = true;
    } else if (auto* it = std::get_if<core::TraceIteration>(&record)) {
      saw_iteration = true;
      if (it->requests) out.needs_full_reader = true;  // checkpoints
      break;
    }
  }
  if (!out.header) {
    for (const auto& d : reader.diagnostics().all())
      if (d.severity == core::Severity::Error) {
        diags.add(d);
        break;
      }
    if (!diags.has_errors()) diags.error({path, 0, 0}, "not a batchproof trace: no header in the first 64 KiB");
    return out;
  }
  // A state record longer than the head: its contents are unknown here.
  if (!saw_iteration && !complete) out.needs_full_reader = true;
  return out;
}

OwnTraceAudit audit_own_trace(std::istream& in, const std::string& path, const AuditOptions& options,
                              core::Diagnostics& diags) {
  OwnTraceAudit out;
  core::TraceReader reader(in, path);
  core::TraceRecord record;
  std::optional<Auditor> auditor;
  std::optional<core::TraceHeader> header;
  Iteration normalised;
  // The requests of a state record are present before the next iteration: they reach the
  // record checks as that iteration's arrivals, with their progress (as the fast reader does).
  std::vector<ArrivalItem> present;
  while (reader.next(record)) {
    if (auto* h = std::get_if<core::TraceHeader>(&record)) {
      header = *h;
      auditor.emplace(audit_setup(Format::Batchproof, options, header));
    } else if (auto* s = std::get_if<core::TraceState>(&record)) {
      auditor->add_state(*s);
      present.clear();  // a state record is the whole state
      for (const auto& r : s->requests) present.push_back({r.id, r.arrival_s, r.prompt, r.output, r.prefilled, r.decoded, r.cls});
    } else if (auto* it = std::get_if<core::TraceIteration>(&record)) {
      iteration_from_trace(*it, *header, reader.location().line, normalised);
      if (!present.empty()) {
        normalised.arrivals.insert(normalised.arrivals.begin(), present.begin(), present.end());
        present.clear();
      }
      normalised.stream.clear();
      auditor->add(normalised, path, it->requests ? &*it->requests : nullptr);
    }
  }
  for (const auto& d : reader.diagnostics().all()) diags.add(d);
  if (reader.fatal() || !auditor) return out;
  out.report = auditor->finish(reader.malformed_count());
  out.report->inputs.push_back(path);
  return out;
}

}  // namespace batchproof::traces
