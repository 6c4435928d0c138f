// A streaming histogram of latencies (seconds), in the spirit of HdrHistogram: log-linear
// buckets (each power of two split into 64 equal buckets) give every quantile a relative
// error of at most 1/128 < 1%, in constant memory whatever the number of samples, and two
// histograms merge by adding their counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace batchproof::sim {

class Histogram {
 public:
  // Quantiles are within this relative error of the true sample at their rank, for samples
  // in [kSmallest, kLargest). Below kSmallest (including 0) the error is below kSmallest in
  // absolute terms; at or above kLargest the quantile reports the exact maximum.
  static constexpr double kRelativeError = 1.0 / 128;
  static constexpr double kSmallest = 0x1.0p-30;  // about 0.93 ns
  static constexpr double kLargest = 0x1.0p33;    // about 272 years

  Histogram();

  // Records `value` `times` times. A negative value (rounding in t_end − t_start) counts as 0;
  // NaN and infinities are not recorded but counted in rejected().
  void record(double value, std::uint64_t times = 1);
  // Adds every sample of `other` to this one.
  void merge(const Histogram& other);
  void clear();

  std::uint64_t count() const { return count_; }
  std::uint64_t rejected() const { return rejected_; }
  // The exact sum and mean of the recorded values (compensated summation), not bucket estimates.
  double sum() const { return sum_ + sum_error_; }
  // Empty histogram: mean, min, max and every quantile are 0 (count() tells it apart).
  double mean() const;
  double min() const { return count_ ? min_ : 0.0; }
  double max() const { return count_ ? max_ : 0.0; }
  // The q-quantile (q in [0, 1], clamped; NaN counts as 0): an estimate of the smallest
  // sample x with at least q·count samples ≤ x. quantile(0) = min(), quantile(1) = max().
  double quantile(double q) const;

  // Bytes held, fixed at construction: the same for 0 samples and for 10⁹.
  std::size_t memory_bytes() const;

 private:
  void add_to_sum(double x);

  std::vector<std::uint64_t> buckets_;  // [0] holds values below kSmallest; then log-linear
  std::uint64_t overflow_ = 0;          // values ≥ kLargest
  std::uint64_t count_ = 0;
  std::uint64_t rejected_ = 0;
  double sum_ = 0, sum_error_ = 0;      // Neumaier's compensated sum
  double min_ = 0, max_ = 0;
};

}  // namespace batchproof::sim
