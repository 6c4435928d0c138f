// Fitting an iteration-time profile t(b) to (tokens, seconds) pairs from a log: the staircase
// C + A·⌈b/B0⌉ over candidate granularities B0, the piecewise linear C + A·max(0, b − B0) over
// candidate knees B0, and a measured table of bin means. For each B0, C and A (both ≥ 0)
// minimise the sum of squared residuals over every sample; the B0 with the smallest sum wins.
// Samples are kept as moments per distinct batch size, so memory is bounded by the number of
// distinct sizes (at most the budget), whatever the length of the log.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "core/profile.hpp"

namespace batchproof::traces {

class TimingSamples {
 public:
  // Past this many distinct batch sizes, samples of new sizes are counted and left out.
  static constexpr std::size_t kMaxSizes = std::size_t{1} << 20;
  // Sizes below this are kept in a table indexed by size (no search per sample); the rest in a map.
  static constexpr std::int64_t kDenseSizes = std::int64_t{1} << 16;

  // Inline where the size's group exists (every sample after the first of its size): a
  // sample per record of a log, on the audit's per-record path.
  void add(std::int64_t tokens, double seconds) {
    if (tokens > 0 && tokens < std::ssize(dense_) && std::isfinite(seconds)) {
      if (Group& g = dense_[static_cast<std::size_t>(tokens)]; g.n > 0) {
        take(g, seconds);
        ++count_;
        return;
      }
    }
    add_any(tokens, seconds);
  }
  std::int64_t count() const { return count_; }
  std::int64_t left_out() const { return left_out_; }
  std::size_t sizes() const { return sizes_; }

  struct Group {
    std::int64_t n = 0;
    double sum = 0, sum_sq = 0, min = 0, max = 0;
  };
  // Every size with its samples, in increasing size.
  std::map<std::int64_t, Group> groups() const;

 private:
  void add_any(std::int64_t tokens, double seconds);
  static void take(Group& g, double seconds) {
    if (g.n == 0) g.min = g.max = seconds;
    ++g.n;
    g.sum += seconds;
    g.sum_sq += seconds * seconds;
    g.min = std::min(g.min, seconds);
    g.max = std::max(g.max, seconds);
  }
  std::vector<Group> dense_;              // by size, below kDenseSizes
  std::map<std::int64_t, Group> sparse_;  // the larger sizes
  std::int64_t count_ = 0, left_out_ = 0;
  std::size_t sizes_ = 0;
};

// How the residuals (measured − fitted) look over one range of batch sizes.
struct ResidualBin {
  std::int64_t from_tokens = 0, to_tokens = 0;
  std::int64_t samples = 0;
  double mean_s = 0;  // mean residual: a bias of the form over this range
  double rms_s = 0;
};

struct ProfileFit {
  core::TimeModel model;  // Staircase, Linear (piecewise) or Table
  std::int64_t samples = 0;
  double r2 = 0;               // 1 − SSE / SST over every sample
  double rmse_s = 0;
  double max_abs_residual_s = 0;
  std::vector<ResidualBin> residuals;  // by powers of two of the batch size
};

struct FitOptions {
  std::vector<std::int64_t> staircase_b0{16, 32, 64, 128, 256, 512, 1024};
  std::size_t max_knees = 512;  // candidate knees of the piecewise form, spread over the sizes seen
};

// Both closed forms and the table; nullopt when there are fewer than 3 distinct batch sizes.
struct ProfileFits {
  ProfileFit staircase, linear, table;
  core::TimeModel::Form best = core::TimeModel::Form::Staircase;  // the closed form with the smaller SSE
  const ProfileFit& get(core::TimeModel::Form form) const;
};
std::optional<ProfileFits> fit_profile(const TimingSamples& samples, const FitOptions& options = {});

std::string_view form_name(core::TimeModel::Form form);  // "staircase", "linear", "table"

}  // namespace batchproof::traces
