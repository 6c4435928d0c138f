// The audit of one log: every record goes through the record checks, the replay (where the
// log has request-level detail to rebuild the state from), the analytics and the timing
// samples; finish() fits the profile and returns the report. Reading is the caller's (the
// CLI picks the reader); this is where the checks meet.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/engine.hpp"
#include "core/trace_format.hpp"
#include "core/workload.hpp"
#include "traces/audit_analytics.hpp"
#include "traces/audit_checks.hpp"
#include "traces/audit_limits.hpp"
#include "traces/audit_replay.hpp"
#include "traces/audit_report.hpp"
#include "traces/audit_tally.hpp"
#include "traces/arrival_placement.hpp"
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
  // Vidur and Sarathi-Serve traces log no arrivals, TensorRT-LLM's request stats no prompt
  // lengths: --arrivals gives them (`arrival_ids` says which id is which arrival). Each joins
  // the first record that starts at or after it, and the items' prompt and decode tokens are
  // then told apart from the rebuilt state rather than guessed.
  const std::vector<core::Arrival>* arrivals = nullptr;
  ArrivalIds arrival_ids = ArrivalIds::Ordinal;
  // The log's clock is not the arrivals file's (TensorRT-LLM's wall-clock timestamps): the
  // first arrival is placed at the start of the first record, the others after it as the
  // file spaces them.
  bool align_arrival_clock = false;
  // A trace of several replicas: where each arrival went (traces/arrival_placement.hpp); each
  // replica is replayed apart. Null: one replica (a second stream makes the audit unusable()).
  const ArrivalPlacement* placement = nullptr;
  std::optional<double> from_s, to_s;   // the window of start times judged
  std::int64_t max_violations = 10;     // kept in full per kind
};

class Auditor {
 public:
  explicit Auditor(AuditSetup setup);
  ~Auditor();

  // A normalised record (replayed, where the log has request-level detail). `checkpoint`:
  // every request present after it, where the log gives them (batchproof's trace read by
  // core's reader, as add_state's records).
  void add(const Iteration& record, const std::string& file,
           const std::vector<core::TraceRequestState>* checkpoint = nullptr);
  // A state record of batchproof's trace read by core's reader: the requests present, which
  // replace the replay's state and are the next record's first arrivals (with their progress,
  // for the record checks).
  void add_state(const core::TraceState& state);

  AuditReport finish(std::int64_t malformed);

  // Why the audit cannot go on with what it was given, if so: --arrivals with a TensorRT-LLM
  // log without request stats; or with a trace of several replicas and no placement, when
  // needs_placement() also says so (the caller may learn the placement in a first pass over
  // the trace, and audit again with it).
  const std::optional<std::string>& unusable() const { return unusable_; }
  bool needs_placement() const { return needs_placement_; }

 private:
  // One replica's replay, and the next of its arrivals to join it.
  struct Lane {
    std::unique_ptr<Replay> replay;
    std::size_t next_arrival = 0;
    const std::vector<std::size_t>* arrivals = nullptr;  // its arrivals' indices; null: every one
  };

  bool in_window(const Iteration& record) const;
  // The lane of a record's stream: inline for the whole log's, once its replay (if any) is built.
  Lane* lane(const std::string& stream) {
    return !setup_.placement && (single_.replay || !setup_.replay_engine) ? &single_ : open_lane(stream);
  }
  Lane* open_lane(const std::string& stream);
  bool check_arrivals_usable(const Iteration& record);
  void inject_arrivals(Iteration& record, Lane& lane);
  void classify_items(Iteration& record, const Replay& replay) const;

  AuditSetup setup_;
  AuditTally tally_;
  RecordChecks checks_;
  AnalyticsCollector analytics_;
  // A single lane (the whole log) unless a placement splits the log by stream.
  std::unordered_map<std::string, Lane> lanes_;
  Lane single_;
  const std::vector<std::size_t> no_arrivals_;  // a stream the placement does not know

  Iteration injected_;            // reused: a record with the arrivals it is the first to see
  std::optional<std::string> first_stream_;
  std::optional<std::int64_t> id_base_;   // the id of arrival 0
  std::optional<double> clock_offset_;    // added to the arrivals file's times
  std::optional<std::string> unusable_;
  bool needs_placement_ = false;
  std::int64_t records_ = 0;
  std::size_t state_requests_ = 0;  // the last state record's requests, not yet in a record
};

}  // namespace batchproof::traces
