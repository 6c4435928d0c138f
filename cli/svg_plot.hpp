// A small SVG line chart: backlog over time, one line per run, with axes, ticks and a legend.
#pragma once

#include <string>
#include <vector>

namespace batchproof::cli {

struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y)
};

std::string render_svg(const std::string& title, const std::string& x_label, const std::string& y_label,
                       const std::vector<PlotSeries>& series);

}  // namespace batchproof::cli
