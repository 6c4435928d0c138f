// What an audit concludes: per check a status (violated, clean, or not checked and why), the
// violations and notes it found (the first few kept in full, all counted), and the analytics
// of the log. The vocabulary of kinds is DESIGN.md's table; the CLI renders this as text or
// JSON, nothing here prints.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "traces/profile_fit.hpp"

namespace batchproof::traces {

// Every kind of finding the auditor reports, in the order the report lists them.
enum class CheckKind {
  Budget,            // budget_exceeded
  BatchLimit,        // batch_limit_exceeded
  Kv,                // kv_exceeded
  WorkConservation,  // not_work_conserving
  MixedBatch,        // mixed_batch
  ClockRegression,   // clock_regression
  IterationGap,      // iteration_gap
  Lifecycle,         // lifecycle_error
  PolicyDivergence,  // policy_divergence (conformance replay)
};
inline constexpr std::array kAllChecks{CheckKind::Budget,          CheckKind::BatchLimit,  CheckKind::Kv,
                                       CheckKind::WorkConservation, CheckKind::MixedBatch,  CheckKind::ClockRegression,
                                       CheckKind::IterationGap,    CheckKind::Lifecycle,   CheckKind::PolicyDivergence};

// The violation kind ("budget_exceeded", ...): the name of the check in reports.
std::string_view violation_kind(CheckKind kind);
std::optional<CheckKind> check_from_kind(std::string_view kind);

// One finding: a violation, or a note (work left out that the engine's configuration allows).
struct Finding {
  CheckKind kind = CheckKind::Budget;
  std::string file;                      // the input it was found in
  std::string stream;                    // "" for a single-stream log
  std::int64_t iteration = 0;            // the logged index, or the record's ordinal in its stream
  std::int64_t line = 0;                 // 1-based line of the record
  std::string message;
  std::vector<std::string> details;      // the records involved, one line each
};

enum class CheckStatus { Violated, Clean, NotChecked };
std::string_view status_name(CheckStatus status);  // "violated", "clean", "not checked"

struct CheckResult {
  CheckKind kind = CheckKind::Budget;
  CheckStatus status = CheckStatus::NotChecked;
  std::int64_t checked = 0;     // records the check could decide
  std::int64_t violations = 0;  // all of them, reported or not
  std::int64_t notes = 0;
  std::string limit;            // the limit checked against and where it came from, if any
  std::string reason;           // why not checked, or what was not checkable ("" if nothing)
};

// Least-squares line y = intercept + slope * x, and how well it fits.
struct LineFit {
  std::int64_t points = 0;
  double intercept = 0, slope = 0;
  double r2 = 0;
};

struct Analytics {
  std::int64_t iterations = 0;           // engine steps the records inside the window stand for
  std::int64_t tokens = 0;               // tokens processed, where logged
  double span_s = 0;                     // from the first start to the last end seen
  double busy_s = 0;                     // Σ iteration durations
  std::optional<double> throughput_tokens_per_s;     // tokens / span
  std::optional<double> capacity_tokens_per_s;       // budget / fitted t(budget)
  std::string capacity_basis;                        // how the capacity was obtained, or why not
  std::optional<std::int64_t> arrivals;              // requests that arrived, where visible
  std::optional<double> arrival_rate_per_s;
  std::optional<double> offered_tokens_per_s;        // arrival rate × (prompt + output)
  std::optional<double> load;                        // offered / capacity
  std::optional<double> budget_utilisation;          // tokens / (iterations × budget)
  std::optional<LineFit> queue_trend;                // waiting requests against time (s)
  std::optional<bool> queue_growing;
  std::string queue_basis;                           // what the trend was fitted on, or why not
};

struct AuditReport {
  std::string format;               // the format's name
  std::vector<std::string> inputs;
  std::int64_t records = 0;         // iteration records read (all of them, window or not)
  std::int64_t malformed = 0;
  std::vector<CheckResult> checks;  // one per CheckKind, in kAllChecks order
  std::vector<Finding> violations;  // the first max_violations
  std::vector<Finding> notes;       // the first max_violations
  std::int64_t violation_count = 0;
  std::int64_t note_count = 0;
  std::int64_t shown_per_kind = 0;  // --max-violations
  Analytics analytics;
  std::optional<ProfileFits> profile_fit;  // none: fewer than 3 batch sizes with times

  const CheckResult& check(CheckKind kind) const;
  bool violated() const { return violation_count > 0; }
};

}  // namespace batchproof::traces
