#include "traces/audit_report.hpp"

namespace batchproof::traces {

std::string_view violation_kind(CheckKind kind) {
  switch (kind) {
    case CheckKind::Budget: return "budget_exceeded";
    case CheckKind::BatchLimit: return "batch_limit_exceeded";
    case CheckKind::Kv: return "kv_exceeded";
    case CheckKind::WorkConservation: return "not_work_conserving";
    case CheckKind::MixedBatch: return "mixed_batch";
    case CheckKind::ClockRegression: return "clock_regression";
    case CheckKind::IterationGap: return "iteration_gap";
    case CheckKind::Lifecycle: return "lifecycle_error";
    case CheckKind::PolicyDivergence: return "policy_divergence";
  }
  return "";
}

std::optional<CheckKind> check_from_kind(std::string_view kind) {
  for (auto k : kAllChecks)
    if (violation_kind(k) == kind) return k;
  return std::nullopt;
}

std::string_view status_name(CheckStatus status) {
  switch (status) {
    case CheckStatus::Violated: return "violated";
    case CheckStatus::Clean: return "clean";
    case CheckStatus::NotChecked: return "not checked";
  }
  return "";
}

const CheckResult& AuditReport::check(CheckKind kind) const {
  for (const auto& c : checks)
    if (c.kind == kind) return c;
  static const CheckResult none;
  return none;
}

}  // namespace batchproof::traces
