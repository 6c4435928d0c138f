#include "core/profile.hpp"

#include <algorithm>

namespace batchproof::core {

double TimeModel::seconds(std::int64_t b) const {
  if (b <= 0) return 0.0;
  switch (form) {
    case Form::Staircase: {
      std::int64_t steps = (b + b0 - 1) / b0;
      return c_s + a_s * static_cast<double>(steps);
    }
    case Form::Linear:
      return c_s + a_s * static_cast<double>(std::max<std::int64_t>(0, b - b0));
    case Form::Table: {
      if (table.empty()) return 0.0;
      if (table.size() == 1 || b <= table.front().first) return table.front().second;
      auto hi = std::lower_bound(table.begin(), table.end(), b,
                                 [](const auto& p, std::int64_t v) { return p.first < v; });
      if (hi == table.end()) hi = table.end() - 1;  // extrapolate along the last segment
      auto lo = hi - 1;
      double x0 = static_cast<double>(lo->first), x1 = static_cast<double>(hi->first);
      double f = (static_cast<double>(b) - x0) / (x1 - x0);
      return lo->second + f * (hi->second - lo->second);
    }
  }
  return 0.0;
}

}  // namespace batchproof::core
