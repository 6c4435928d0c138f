#include "traces/profile_fit.hpp"

#include <algorithm>
#include <cmath>

namespace batchproof::traces {

namespace {

using Group = TimingSamples::Group;
using Groups = std::map<std::int64_t, Group>;

struct Line {
  double c = 0, a = 0;
};

// Weighted least squares of the group means on x (weights: samples per group), with c, a ≥ 0.
// Minimising over group means is the same as over every sample: the spread within a group does
// not depend on c and a.
template <typename X>
Line least_squares(const Groups& groups, X x_of) {
  double w = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [b, g] : groups) {
    double n = static_cast<double>(g.n), x = x_of(b), y = g.sum / n;
    w += n;
    sx += n * x;
    sy += n * y;
    sxx += n * x * x;
    sxy += n * x * y;
  }
  Line l;
  double det = w * sxx - sx * sx;
  if (det > 1e-12 * std::max(1.0, w * sxx)) {
    l.a = (w * sxy - sx * sy) / det;
    l.c = (sy - l.a * sx) / w;
  } else {
    l.c = sy / w;  // every sample at one x: no slope to find
  }
  if (l.a < 0) {
    l.a = 0;
    l.c = sy / w;
  }
  if (l.c < 0) {
    l.c = 0;
    l.a = sxx > 0 ? std::max(0.0, sxy / sxx) : 0;
  }
  return l;
}

// Σ over every sample of (measured − f(b))², from the moments.
template <typename F>
double sse(const Groups& groups, F f) {
  double total = 0;
  for (const auto& [b, g] : groups) {
    double fb = f(b);
    total += g.sum_sq - 2 * fb * g.sum + static_cast<double>(g.n) * fb * fb;
  }
  return std::max(0.0, total);
}

std::int64_t bin_of(std::int64_t tokens) {
  std::int64_t bin = 0;
  while ((std::int64_t{2} << bin) <= tokens) ++bin;
  return bin;  // tokens in [2^bin, 2^(bin+1))
}

ProfileFit assess(const Groups& groups, const core::TimeModel& model) {
  ProfileFit fit;
  fit.model = model;
  double n = 0, sum = 0, sum_sq = 0, max_abs = 0;
  std::map<std::int64_t, std::pair<Group, std::pair<std::int64_t, std::int64_t>>> bins;
  for (const auto& [b, g] : groups) {
    double fb = model.seconds(b);
    n += static_cast<double>(g.n);
    sum += g.sum;
    sum_sq += g.sum_sq;
    max_abs = std::max({max_abs, std::abs(g.max - fb), std::abs(g.min - fb)});
    auto& bin = bins[bin_of(b)];
    if (bin.first.n == 0) bin.second = {b, b};
    bin.second.second = b;
    bin.first.n += g.n;
    bin.first.sum += g.sum - static_cast<double>(g.n) * fb;  // Σ residuals
    bin.first.sum_sq += g.sum_sq - 2 * fb * g.sum + static_cast<double>(g.n) * fb * fb;
  }
  double e = sse(groups, [&](std::int64_t b) { return model.seconds(b); });
  double sst = std::max(0.0, sum_sq - sum * sum / n);
  fit.samples = static_cast<std::int64_t>(n);
  fit.r2 = sst > 0 ? 1 - e / sst : (e == 0 ? 1 : 0);
  fit.rmse_s = std::sqrt(e / n);
  fit.max_abs_residual_s = max_abs;
  for (const auto& [bin, v] : bins) {
    ResidualBin r;
    r.from_tokens = v.second.first;
    r.to_tokens = v.second.second;
    r.samples = v.first.n;
    r.mean_s = v.first.sum / static_cast<double>(v.first.n);
    r.rms_s = std::sqrt(std::max(0.0, v.first.sum_sq) / static_cast<double>(v.first.n));
    fit.residuals.push_back(r);
  }
  return fit;
}

core::TimeModel staircase(const Groups& groups, const std::vector<std::int64_t>& candidates) {
  core::TimeModel best;
  double best_sse = INFINITY;
  for (std::int64_t b0 : candidates) {
    if (b0 < 1) continue;
    auto x = [b0](std::int64_t b) { return static_cast<double>((b + b0 - 1) / b0); };
    Line l = least_squares(groups, x);
    double e = sse(groups, [&](std::int64_t b) { return l.c + l.a * x(b); });
    if (e < best_sse) {
      best_sse = e;
      best.form = core::TimeModel::Form::Staircase;
      best.c_s = l.c;
      best.a_s = l.a;
      best.b0 = b0;
    }
  }
  return best;
}

core::TimeModel piecewise(const Groups& groups, std::size_t max_knees) {
  std::vector<std::int64_t> sizes;
  for (const auto& [b, g] : groups) sizes.push_back(b);
  std::vector<std::int64_t> knees{0};
  std::size_t step = std::max<std::size_t>(1, sizes.size() / std::max<std::size_t>(1, max_knees));
  for (std::size_t i = 0; i < sizes.size(); i += step) knees.push_back(sizes[i]);
  core::TimeModel best;
  double best_sse = INFINITY;
  for (std::int64_t b0 : knees) {
    auto x = [b0](std::int64_t b) { return static_cast<double>(std::max<std::int64_t>(0, b - b0)); };
    Line l = least_squares(groups, x);
    double e = sse(groups, [&](std::int64_t b) { return l.c + l.a * x(b); });
    if (e < best_sse) {
      best_sse = e;
      best.form = core::TimeModel::Form::Linear;
      best.c_s = l.c;
      best.a_s = l.a;
      best.b0 = b0;
    }
  }
  return best;
}

// One point per power-of-two range of sizes: the mean size (rounded) and the mean time.
core::TimeModel table(const Groups& groups) {
  core::TimeModel t;
  t.form = core::TimeModel::Form::Table;
  std::map<std::int64_t, std::pair<double, Group>> bins;  // bin -> (Σ n·b, moments)
  for (const auto& [b, g] : groups) {
    auto& bin = bins[bin_of(b)];
    bin.first += static_cast<double>(g.n) * static_cast<double>(b);
    bin.second.n += g.n;
    bin.second.sum += g.sum;
  }
  for (const auto& [bin, v] : bins) {
    double n = static_cast<double>(v.second.n);
    auto b = static_cast<std::int64_t>(std::llround(v.first / n));
    if (!t.table.empty() && b <= t.table.back().first) continue;
    t.table.emplace_back(b, v.second.sum / n);
  }
  return t;
}

}  // namespace

// Any sample: what add() leaves out of line is the first of a size, a size of the sparse map,
// and a sample that is not one (no tokens, no finite time).
void TimingSamples::add_any(std::int64_t tokens, double seconds) {
  if (tokens <= 0 || !std::isfinite(seconds)) return;
  Group* g = nullptr;
  if (tokens < kDenseSizes) {
    if (static_cast<std::size_t>(tokens) >= dense_.size()) dense_.resize(static_cast<std::size_t>(tokens) + 1);
    g = &dense_[static_cast<std::size_t>(tokens)];
  } else {
    auto it = sparse_.find(tokens);
    if (it == sparse_.end()) {
      if (sizes_ >= kMaxSizes) {
        ++left_out_;
        return;
      }
      it = sparse_.emplace(tokens, Group{}).first;
    }
    g = &it->second;
  }
  sizes_ += g->n == 0 ? 1 : 0;
  take(*g, seconds);
  ++count_;
}

std::map<std::int64_t, TimingSamples::Group> TimingSamples::groups() const {
  std::map<std::int64_t, Group> out(sparse_);
  for (std::size_t b = 0; b < dense_.size(); ++b)
    if (dense_[b].n > 0) out.emplace(static_cast<std::int64_t>(b), dense_[b]);
  return out;
}

const ProfileFit& ProfileFits::get(core::TimeModel::Form form) const {
  switch (form) {
    case core::TimeModel::Form::Staircase: return staircase;
    case core::TimeModel::Form::Linear: return linear;
    case core::TimeModel::Form::Table: return table;
  }
  return staircase;
}

std::optional<ProfileFits> fit_profile(const TimingSamples& samples, const FitOptions& options) {
  const auto groups = samples.groups();
  if (groups.size() < 3) return std::nullopt;
  ProfileFits fits;
  fits.staircase = assess(groups, staircase(groups, options.staircase_b0));
  fits.linear = assess(groups, piecewise(groups, options.max_knees));
  fits.table = assess(groups, table(groups));
  fits.best = fits.linear.rmse_s < fits.staircase.rmse_s ? core::TimeModel::Form::Linear
                                                          : core::TimeModel::Form::Staircase;
  return fits;
}

std::string_view form_name(core::TimeModel::Form form) {
  switch (form) {
    case core::TimeModel::Form::Staircase: return "staircase";
    case core::TimeModel::Form::Linear: return "linear";
    case core::TimeModel::Form::Table: return "table";
  }
  return "";
}

}  // namespace batchproof::traces
