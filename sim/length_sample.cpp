#include "sim/length_sample.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace batchproof::sim {

namespace {

constexpr std::int64_t kLargest = std::numeric_limits<std::int64_t>::max();

// x rounded towards +inf into 1..INT64_MAX. 2^63 is the first double past INT64_MAX, so every
// double below it converts exactly.
std::int64_t to_length(double x) {
  if (!(x < 0x1.0p63)) return kLargest;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(x)));
}

// Geometric on {1,2,..} with success probability p: the number of trials up to the first
// success. Inversion, P(X > k) = (1−p)^k, so X = 1 + ⌊ln U / ln(1−p)⌋ for U on (0, 1].
std::int64_t geometric(double p, Random& rng) {
  if (!(p > 0) || p >= 1) {
    rng.uniform_open();  // one draw per sample whatever the parameters, to keep streams aligned
    return 1;
  }
  const double k = std::floor(std::log(rng.uniform_open()) / std::log1p(-p));
  return k < 0x1.0p63 - 1 ? 1 + static_cast<std::int64_t>(k) : kLargest;
}

}  // namespace

std::int64_t sample_length(const core::LengthLaw& law, Random& rng) {
  std::int64_t x = 0;
  switch (law.form) {
    case core::LengthLaw::Form::Constant:
      x = law.lo;
      break;
    case core::LengthLaw::Form::Uniform:
      x = rng.uniform_int(law.lo, law.hi);
      break;
    case core::LengthLaw::Form::Geometric:
      // mean() takes p = 1/m and treats a mean below 1 as the point mass at 1; so do we.
      x = geometric(law.mean_param > 0 ? 1 / law.mean_param : 1.0, rng);
      break;
    case core::LengthLaw::Form::Exponential: {
      const double u = rng.uniform_open();
      x = law.mean_param > 0 ? to_length(-law.mean_param * std::log(u)) : 1;
      break;
    }
    case core::LengthLaw::Form::Empirical:
      if (law.values.empty()) {
        x = 0;
      } else {
        const auto last = static_cast<std::int64_t>(law.values.size()) - 1;
        x = law.values[static_cast<std::size_t>(rng.uniform_int(0, last))];
      }
      break;
  }
  return law.max ? std::min(x, *law.max) : x;
}

}  // namespace batchproof::sim
