#include "sim/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace batchproof::sim {

namespace {

// A positive double's top bits, sign (0), 11 exponent bits and the first 6 mantissa bits,
// number its log-linear bucket directly: 64 buckets per power of two, each 1/64 of the
// octave's start wide, in increasing order across octaves.
constexpr int kSubBits = 6;
constexpr int kShift = 52 - kSubBits;

constexpr std::uint64_t key_of(double v) { return std::bit_cast<std::uint64_t>(v) >> kShift; }

// constexpr, so a Histogram built during another file's static initialisation sees them set.
constexpr std::uint64_t kFirstKey = key_of(Histogram::kSmallest);
constexpr std::uint64_t kEndKey = key_of(Histogram::kLargest);

constexpr double key_start(std::uint64_t key) { return std::bit_cast<double>(key << kShift); }

}  // namespace

Histogram::Histogram() : buckets_(1 + (kEndKey - kFirstKey), 0) {}

void Histogram::add_to_sum(double x) {
  // Neumaier's variant of Kahan summation: the error term also catches an addend larger
  // than the running sum, so the mean stays exact to rounding over 10⁹ samples.
  const double t = sum_ + x;
  if (std::abs(sum_) >= std::abs(x)) {
    sum_error_ += (sum_ - t) + x;
  } else {
    sum_error_ += (x - t) + sum_;
  }
  sum_ = t;
}

void Histogram::record(double value, std::uint64_t times) {
  if (times == 0) return;
  if (!std::isfinite(value)) {
    rejected_ += times;
    return;
  }
  if (value < 0) value = 0;
  if (value < kSmallest) {
    buckets_[0] += times;
  } else if (value >= kLargest) {
    overflow_ += times;
  } else {
    buckets_[1 + (key_of(value) - kFirstKey)] += times;
  }
  min_ = count_ ? std::min(min_, value) : value;
  max_ = count_ ? std::max(max_, value) : value;
  count_ += times;
  add_to_sum(value * static_cast<double>(times));
}

void Histogram::merge(const Histogram& other) {
  if (&other == this) {
    const Histogram copy = other;  // merging into itself would read counts as it doubles them
    merge(copy);
    return;
  }
  if (other.count_ == 0) {
    rejected_ += other.rejected_;
    return;
  }
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  overflow_ += other.overflow_;
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
  rejected_ += other.rejected_;
  add_to_sum(other.sum_);
  add_to_sum(other.sum_error_);
}

void Histogram::clear() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  overflow_ = count_ = rejected_ = 0;
  sum_ = sum_error_ = min_ = max_ = 0;
}

double Histogram::mean() const { return count_ ? sum() / static_cast<double>(count_) : 0.0; }

double Histogram::quantile(double q) const {
  if (count_ == 0) return 0.0;
  if (!(q > 0)) return min_;
  if (q >= 1) return max_;
  // Rank of the sample wanted, 1-based. The small slack keeps q·n that should be a whole
  // number (0.99 · 100) from rounding up past it.
  const double n = static_cast<double>(count_);
  const double r = std::ceil(q * n - 1e-9 * std::max(1.0, q * n));
  const std::uint64_t rank = r < 1 ? 1 : (r >= n ? count_ : static_cast<std::uint64_t>(r));
  std::uint64_t seen = buckets_[0];
  if (seen >= rank) return min_;  // below kSmallest: min is within kSmallest of the sample
  for (std::size_t i = 1; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      // The bucket's midpoint is within half a bucket, 1/128 of its start, of any value in it;
      // the exact extremes can only be closer.
      const std::uint64_t key = kFirstKey + (i - 1);
      const double mid = (key_start(key) + key_start(key + 1)) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;  // in the overflow bucket
}

std::size_t Histogram::memory_bytes() const {
  return sizeof(*this) + buckets_.capacity() * sizeof(std::uint64_t);
}

}  // namespace batchproof::sim
