// Setting up an audit from what the user gave (the spec's engine, arrivals, a window) and what
// the log states (batchproof's own header), and reading batchproof's own trace with core's
// reader when the replay needs every detail. The CLI drives the readers of other formats
// record by record through an Auditor built from audit_setup().
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine.hpp"
#include "core/source.hpp"
#include "core/trace_format.hpp"
#include "core/workload.hpp"
#include "traces/arrival_placement.hpp"
#include "traces/auditor.hpp"
#include "traces/reader.hpp"

namespace batchproof::traces {

struct AuditOptions {
  const core::Engine* engine = nullptr;  // --spec FILE --engine E
  std::string spec_file;
  const std::vector<core::Arrival>* arrivals = nullptr;  // --arrivals (Vidur, Sarathi-Serve, TensorRT-LLM)
  const ArrivalPlacement* placement = nullptr;            // several replicas: where each arrival went
  std::optional<double> from_s, to_s;
  std::int64_t max_violations = 10;
};

// How a format's request ids match an arrivals file's requests.
ArrivalIds arrival_ids_of(Format format);

// The audit's setup for a log of `format`; `header` is batchproof's own header, when the log
// is in that format.
AuditSetup audit_setup(Format format, const AuditOptions& options, const std::optional<core::TraceHeader>& header);

// What the first 64 KiB of a batchproof trace say: its header, and whether the replay needs
// core's reader (a state record whose requests have progress or KV that the normalised records
// do not carry, or one too long to see; an iteration with a checkpoint). Null header: not
// readable (the message is in diags).
struct OwnTraceHead {
  std::optional<core::TraceHeader> header;
  bool needs_full_reader = false;
};
OwnTraceHead read_own_trace_head(std::string_view head, const std::string& path, core::Diagnostics& diags);

// Reads a batchproof trace with core's reader and audits it. Diagnostics (malformed lines,
// a bad header) go to `diags`; `fatal` when the input is not a trace this batchproof reads.
struct OwnTraceAudit {
  std::optional<AuditReport> report;  // none when fatal
};
OwnTraceAudit audit_own_trace(std::istream& in, const std::string& path, const AuditOptions& options,
                              core::Diagnostics& diags);

}  // namespace batchproof::traces
