#include "traces/audit_analytics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace batchproof::traces {

namespace {
// The queue grows when the fitted line rises, over the span seen, by at least this many
// requests and this share of its mean: a trend, not the noise of a busy queue.
constexpr double kGrowthRequests = 2;
constexpr double kGrowthShareOfMean = 0.5;
constexpr std::int64_t kMinTrendPoints = 10;
}  // namespace

void RunningLine::add(double x, double y) {
  if (n_ == 0) x0_ = x;
  x -= x0_;
  ++n_;
  sx_ += x;
  sy_ += y;
  sxx_ += x * x;
  sxy_ += x * y;
  syy_ += y * y;
}

std::optional<LineFit> RunningLine::fit() const {
  if (n_ < 2) return std::nullopt;
  double n = static_cast<double>(n_);
  double det = n * sxx_ - sx_ * sx_;
  if (det <= 0) return std::nullopt;
  LineFit f;
  f.points = n_;
  f.slope = (n * sxy_ - sx_ * sy_) / det;
  f.intercept = (sy_ - f.slope * sx_) / n - f.slope * x0_;
  double syy = syy_ - sy_ * sy_ / n, sxy = sxy_ - sx_ * sy_ / n;
  double explained = syy > 0 ? f.slope * sxy / syy : 1;
  f.r2 = std::clamp(explained, 0.0, 1.0);
  return f;
}

void AnalyticsCollector::add(const Iteration& r) {
  if (r.start_s) {
    if (!first_start_) first_start_ = r.start_s;
    double end = *r.start_s + std::max(0.0, r.duration_s.value_or(0));
    last_end_ = std::max(last_end_.value_or(end), end);
  }
  if (r.start_s && r.waiting) queue_.add(*r.start_s, static_cast<double>(*r.waiting));
  if (r.steps == 0) return;  // a snapshot, not an engine step
  // A sampled line (SGLang's decode batches) stands for `steps` steps like the one it shows.
  a_.iterations += r.steps;
  auto tokens = r.tokens();
  if (tokens) a_.tokens += *tokens * r.steps;
  if (r.duration_s && *r.duration_s > 0) a_.busy_s += *r.duration_s;
  if (tokens && r.duration_s && r.steps == 1) timings_.add(*tokens, *r.duration_s);

  auto budget = limits_.budget.or_logged(r.budget_tokens);
  if (budget.known && budget.value && tokens) {
    if (budget_seen_ && *budget_seen_ != *budget.value) budget_varied_ = true;
    budget_seen_ = budget.value;
    budget_sum_ += static_cast<double>(*budget.value) * static_cast<double>(r.steps);
    budget_tokens_ += *tokens * r.steps;
  }
  for (const auto& arrival : r.arrivals) {
    ++arrivals_;
    arrival_tokens_ += static_cast<double>(arrival.prompt + arrival.output);
  }
}

Analytics AnalyticsCollector::finish(const std::optional<ProfileFits>& fits) const {
  Analytics a = a_;
  if (first_start_ && last_end_) a.span_s = *last_end_ - *first_start_;
  if (a.span_s > 0 && a.tokens > 0) a.throughput_tokens_per_s = static_cast<double>(a.tokens) / a.span_s;
  if (budget_sum_ > 0) a.budget_utilisation = static_cast<double>(budget_tokens_) / budget_sum_;

  if (!budget_seen_) {
    a.capacity_basis = "no token budget known";
  } else if (budget_varied_) {
    a.capacity_basis = "the logged budget changes from iteration to iteration";
  } else if (!fits) {
    a.capacity_basis = "no profile fit (fewer than 3 batch sizes with times)";
  } else {
    const auto& model = fits->get(fits->best).model;
    double t = model.seconds(*budget_seen_);
    if (t > 0) {
      a.capacity_tokens_per_s = static_cast<double>(*budget_seen_) / t;
      a.capacity_basis = fmt::format("budget {} tokens / fitted t({}) = {:.3f} ms ({})", *budget_seen_, *budget_seen_,
                                     1e3 * t, form_name(fits->best));
    }
  }

  if (arrivals_ > 0 && a.span_s > 0) {
    a.arrivals = arrivals_;
    a.arrival_rate_per_s = static_cast<double>(arrivals_) / a.span_s;
    a.offered_tokens_per_s = arrival_tokens_ / a.span_s;
    if (a.capacity_tokens_per_s) a.load = *a.offered_tokens_per_s / *a.capacity_tokens_per_s;
  }

  if (queue_.points() < kMinTrendPoints) {
    a.queue_basis = queue_.points() == 0 ? "the log gives no waiting count with a time"
                                         : fmt::format("only {} records with a waiting count and a time", queue_.points());
  } else if (auto line = queue_.fit()) {
    a.queue_trend = line;
    double rise = line->slope * a.span_s;
    a.queue_growing = rise >= kGrowthRequests && rise >= kGrowthShareOfMean * queue_.mean_y();
    a.queue_basis = fmt::format("waiting requests against time over {} records", line->points);
  } else {
    a.queue_basis = "every record at the same time";
  }
  return a;
}

}  // namespace batchproof::traces
