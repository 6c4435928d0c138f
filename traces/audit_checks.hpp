// The checks on normalised per-iteration records (traces/record.hpp), for every format, each
// only as far as the record's fields allow: budget, batch limit, KV memory, work conservation
// from the logged queue (when no replay decides it exactly), mixing of phases, clock, gaps in
// the iteration counter, and request lifecycles where requests are visible. A record that
// lacks what a check needs is counted as undecided, never as passing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/engine.hpp"
#include "traces/audit_lifecycle.hpp"
#include "traces/audit_limits.hpp"
#include "traces/audit_tally.hpp"
#include "traces/reader.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

struct RecordCheckConfig {
  Format format = Format::Batchproof;
  FormatSupport support;
  AuditLimits limits;
  // The spec's engine, when given: its configuration may allow waiting (reservation at
  // admission, max_running), which is then a note rather than a violation.
  const core::Engine* engine = nullptr;
  // A replay rebuilds the queues and decides work conservation exactly (core::check_batch):
  // the check from logged counts is then off.
  bool exact_work_conservation = false;
  // Every request's arrival (prompt and output lengths) is in the records: a request in a
  // batch that never arrived is a lifecycle error, and prompts are known.
  bool arrivals_complete = false;
};

class RecordChecks {
 public:
  RecordChecks(RecordCheckConfig config, AuditTally& tally);
  ~RecordChecks();

  // Every record of the log, in order, from `file`. Records outside the --from/--to window
  // (`in_window` false) update what the checks remember but are not judged.
  void add(const Iteration& record, const std::string& file, bool in_window);
  // Says which checks this log cannot support at all.
  void finish();

  const RecordCheckConfig& config() const { return config_; }

 private:
  struct Stream;
  // The stream of a record: inline for the one before's (most logs have one stream).
  Stream& stream(const std::string& name) { return last_ && name == last_name_ ? *last_ : open_stream(name); }
  Stream& open_stream(const std::string& name);
  void report(CheckKind kind, const Iteration& record, const std::string& file, std::int64_t number,
              std::string message, bool as_note = false);
  void check_logged_work(const Iteration& record, const std::string& file, std::int64_t number);
  // Whether the engine sets KV aside at admission (the spec says; else the format's default).
  bool reserves_at_admission() const;
  std::string reservation_text() const;

  RecordCheckConfig config_;
  AuditTally& tally_;
  std::unordered_map<std::string, std::unique_ptr<Stream>> streams_;
  Stream* last_ = nullptr;
  std::string last_name_;
  bool logged_limits_named_ = false;
  // Vidur's batch ids: skips held until a second replica shows (they are then another
  // replica's batches) or the end (they were records dropped); the first kept_per_kind() in
  // full, the rest counted.
  bool shared_counter_ = false;
  std::vector<Finding> held_gaps_;
  std::int64_t held_more_ = 0;
};

}  // namespace batchproof::traces
