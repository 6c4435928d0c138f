#include "traces/audit_tally.hpp"

#include <fmt/format.h>

namespace batchproof::traces {

void AuditTally::not_checkable(CheckKind kind, std::string why) {
  auto& k = at(kind);
  if (k.unavailable.empty()) k.unavailable = std::move(why);
}

void AuditTally::violation(Finding finding) {
  auto& k = at(finding.kind);
  ++violation_count_;
  if (k.violations++ < keep_) violations_.push_back(std::move(finding));
}

void AuditTally::note(Finding finding) {
  auto& k = at(finding.kind);
  ++note_count_;
  if (k.notes++ < keep_) notes_.push_back(std::move(finding));
}

void AuditTally::fill(AuditReport& report) const {
  report.checks.clear();
  for (CheckKind kind : kAllChecks) {
    const auto& k = kinds_[static_cast<std::size_t>(kind)];
    CheckResult r;
    r.kind = kind;
    r.checked = k.checked;
    r.violations = k.violations;
    r.notes = k.notes;
    r.limit = k.limit;
    if (k.violations > 0) r.status = CheckStatus::Violated;
    else if (k.checked > 0) r.status = CheckStatus::Clean;
    else r.status = CheckStatus::NotChecked;
    if (r.status == CheckStatus::NotChecked) {
      r.reason = !k.unavailable.empty() ? k.unavailable
                 : k.undecided > 0      ? k.undecided_reason
                                        : "no iteration records";
    } else if (k.undecided > 0) {
      r.reason = fmt::format("{} of {} records not decided: {}", k.undecided, k.undecided + k.checked,
                             k.undecided_reason);
    }
    report.checks.push_back(std::move(r));
  }
  // In the order they were found: input by input, record by record.
  report.violations = violations_;
  report.notes = notes_;
  report.violation_count = violation_count_;
  report.note_count = note_count_;
  report.shown_per_kind = keep_;
}

}  // namespace batchproof::traces
