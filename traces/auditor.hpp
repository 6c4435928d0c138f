// The audit of one log: every record goes through the record checks, the replay (where the
// log has request-level detail to rebuild the state from), the analytics and the timing
// samples; finish() fits the profile and returns the report. Reading is the caller's (the
// CLI picks the reader); this is where the checks meet.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/engine.hpp"
#include "core/trace_format.hpp"
#include "core/workload.hpp"
#include "traces/audit_analytics.hpp"
#include "traces/audit_checks.hpp"
#include "traces/audit_limits.hpp"
#include "traces/audit_replay.hpp"
#include "traces/audit_report.hpp"
#include "traces/audit_tally.hpp"
#include "traces/reader.hpp"

namespace batchproof::traces {

struct AuditSetup {
  Format format = Format::Batchproof;
  AuditLimits limits;                   // from the spec, or the log's header
  const core::Engine* spec_engine = nullptr;
  std::string spec_label;               // "engine E of FILE"
  // Replay the log: the engine whose limits judge it (the spec's, or the header's). None: the
  // format has no request-level detail (or its arrivals are unknown); work conservation is
  // then judged from the logged queue.
  std::optional<core::Engine> replay_engine;
  bool arrivals_complete = false;       // the records list every request's arrival
  // Vidur and Sarathi-Serve traces log no arrivals: --arrivals gives them, request i being the
  // i-th arrival (both simulators number requests in arrival order). Each joins the first
  // record that starts at or after it, and the items' prompt and decode tokens are then
  // told apart from the rebuilt state rather than guessed.
  const std::vector<core::Arrival>* arrivals = nullptr;
  std::optional<double> from_s, to_s;   // the window of start times judged
  std::int64_t max_violations = 10;     // kept in full per kind
};

class Auditor {
 public:
  explicit Auditor(AuditSetup setup);
  ~Auditor();

  // A normalised record. With a replay, it is rebuilt as a trace record and replayed.
  void add(const Iteration& record, const std::string& file);
  // batchproof's own records read by core's reader: every detail, for the replay.
  void add_state(const core::TraceState& state);
  void add_trace(const core::TraceIteration& record, const Iteration& normalised, const std::string& file);

  AuditReport finish(std::int64_t malformed);

  // Why the audit cannot go on with what it was given (--arrivals with a trace of several
  // replicas: the arrivals file does not say which replica each request went to), if so.
  const std::optional<std::string>& unusable() const { return unusable_; }

 private:
  bool in_window(const Iteration& record) const;

  AuditSetup setup_;
  AuditTally tally_;
  RecordChecks checks_;
  std::unique_ptr<Replay> replay_;
  AnalyticsCollector analytics_;
  void inject_arrivals(Iteration& record);
  void classify_items(Iteration& record) const;

  core::TraceIteration scratch_;  // reused for replays from normalised records
  Iteration injected_;            // reused: a record with the arrivals it is the first to see
  std::size_t next_arrival_ = 0;
  std::optional<std::string> first_stream_;
  std::optional<std::string> unusable_;
  std::int64_t records_ = 0;
};

}  // namespace batchproof::traces
