// Where every check reports: per kind, the records it decided, the records it could not
// (with the first reason), its violations and notes. Keeps the first `keep` violations and
// notes of each kind in full and counts the rest, so memory stays bounded on any log.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "traces/audit_report.hpp"

namespace batchproof::traces {

class AuditTally {
 public:
  explicit AuditTally(std::int64_t keep) : keep_(keep) {}

  void checked(CheckKind kind) { ++at(kind).checked; }
  // A record the check could not decide, and why (the first reason is kept). Inline: on a log
  // that lacks a field every record is undecided for it, several times over.
  void undecided(CheckKind kind, std::string_view why) {
    PerKind& k = at(kind);
    if (k.undecided++ == 0) k.undecided_reason = std::string(why);
  }
  // The whole check cannot run on this log (no limit known, a field the format lacks).
  void not_checkable(CheckKind kind, std::string why);
  void set_limit(CheckKind kind, std::string limit) { at(kind).limit = std::move(limit); }

  void violation(Finding finding);
  void note(Finding finding);

  // The statuses: violated if any violation; clean if some record was decided; else not
  // checked, with the reason. A check that decided only some records says how many it could not.
  void fill(AuditReport& report) const;

  std::int64_t violation_count() const { return violation_count_; }
  std::int64_t kept_per_kind() const { return keep_; }

 private:
  struct PerKind {
    std::int64_t checked = 0, undecided = 0, violations = 0, notes = 0;
    std::string undecided_reason, unavailable, limit;
  };
  PerKind& at(CheckKind kind) { return kinds_[static_cast<std::size_t>(kind)]; }

  std::int64_t keep_;
  std::array<PerKind, kAllChecks.size()> kinds_{};
  std::vector<Finding> violations_, notes_;
  std::int64_t violation_count_ = 0, note_count_ = 0;
};

}  // namespace batchproof::traces
