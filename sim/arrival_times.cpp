#include "sim/arrival_times.hpp"

#include <cmath>

namespace batchproof::sim {

namespace {

bool positive_finite(double x) { return x > 0 && std::isfinite(x); }

}  // namespace

ArrivalTimes::ArrivalTimes(const core::ArrivalProcess& process, const RateChoice& rate, Random rng)
    : process_(&process), rng_(rng) {
  const double own = process.mean_rate();
  rate_ = (rate.rate_per_s ? *rate.rate_per_s : own) * rate.rate_scale;
  using Form = core::ArrivalProcess::Form;
  switch (process.form) {
    case Form::Poisson:
      live_ = positive_finite(rate_);
      break;
    case Form::Fixed:
    case Form::Bursts: {
      // The gap straight from the spec when it applies, so that "every 467.5 ms" lands on
      // exact multiples of 0.4675 rather than of 1/(1/0.4675).
      const double per_gap = process.form == Form::Fixed ? 1.0 : static_cast<double>(process.burst_size);
      gap_s_ = (rate.rate_per_s ? per_gap / *rate.rate_per_s : process.gap_s) / rate.rate_scale;
      live_ = positive_finite(rate_) && positive_finite(gap_s_) &&
              (process.form == Form::Fixed || process.burst_size >= 1);
      break;
    }
    case Form::Trace:
      // Stretching needs a rate to compare against; without one the times stay as recorded.
      if (positive_finite(own) && positive_finite(rate_)) {
        stretch_ = own / rate_;
      } else {
        rate_ = own;
      }
      break;
  }
  if (!live_) rate_ = 0;
}

std::optional<ArrivalInstant> ArrivalTimes::next() {
  if (!live_) return std::nullopt;
  const std::size_t k = index_;
  double t = 0;
  switch (process_->form) {
    case core::ArrivalProcess::Form::Poisson:
      // Unit-rate gaps scaled by the rate: runs at different rates under one seed see the same
      // arrivals, just closer together (common random numbers for load sweeps).
      clock_s_ += rng_.exponential(1) / rate_;
      t = clock_s_;
      break;
    case core::ArrivalProcess::Form::Fixed:
      t = static_cast<double>(k + 1) * gap_s_;
      break;
    case core::ArrivalProcess::Form::Bursts:
      t = static_cast<double>(k / static_cast<std::size_t>(process_->burst_size) + 1) * gap_s_;
      break;
    case core::ArrivalProcess::Form::Trace: {
      const auto& trace = process_->trace;
      if (k >= trace.size()) {
        live_ = false;
        return std::nullopt;
      }
      const double t0 = trace.front().time_s;
      t = stretch_ == 1 ? trace[k].time_s : t0 + (trace[k].time_s - t0) * stretch_;
      break;
    }
  }
  ++index_;
  return ArrivalInstant{t, k};
}

}  // namespace batchproof::sim
