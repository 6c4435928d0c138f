// What a log says about the run, beside its violations: the iteration-time samples for the
// profile fit, the arrival rate and offered load, the capacity the fitted profile gives the
// budget, the budget's utilisation, and the trend of the waiting queue (a least-squares line
// of waiting requests against time). Streaming sums only: bounded memory.
#pragma once

#include <cstdint>
#include <optional>

#include "traces/audit_limits.hpp"
#include "traces/audit_report.hpp"
#include "traces/profile_fit.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

// A least-squares line fitted as points come, from running sums.
class RunningLine {
 public:
  void add(double x, double y);
  std::int64_t points() const { return n_; }
  std::optional<LineFit> fit() const;
  double mean_y() const { return n_ ? sy_ / static_cast<double>(n_) : 0; }

 private:
  std::int64_t n_ = 0;
  double sx_ = 0, sy_ = 0, sxx_ = 0, sxy_ = 0, syy_ = 0;
  double x0_ = 0;  // the first x, subtracted for precision on epoch clocks
};

class AnalyticsCollector {
 public:
  explicit AnalyticsCollector(AuditLimits limits) : limits_(std::move(limits)) {}

  // A record inside the window.
  void add(const Iteration& record);
  const TimingSamples& timings() const { return timings_; }

  // The analytics, with the capacity from the fitted profile when there is one.
  Analytics finish(const std::optional<ProfileFits>& fits) const;

 private:
  AuditLimits limits_;
  TimingSamples timings_;
  Analytics a_;
  std::optional<double> first_start_, last_end_;
  std::optional<std::int64_t> budget_seen_;  // the one budget in force, if it never changed
  bool budget_varied_ = false;
  double budget_sum_ = 0;          // Σ budget over records with tokens and a budget
  std::int64_t budget_tokens_ = 0; // Σ tokens over those records
  std::int64_t arrivals_ = 0;
  double arrival_tokens_ = 0;
  RunningLine queue_;
};

}  // namespace batchproof::traces
