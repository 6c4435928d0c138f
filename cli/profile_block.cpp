#include "cli/profile_block.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "dsl/dsl.hpp"

namespace batchproof::cli {

namespace {

// Six significant digits in plain decimal notation (the language reads no exponents).
std::string number(double v) {
  if (v == 0) return "0";
  int before = static_cast<int>(std::floor(std::log10(std::abs(v)))) + 1;
  int decimals = std::clamp(6 - before, 0, 12);
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string ms(double seconds) { return number(1e3 * seconds) + " ms"; }

// The quoted string of the language: backslash and quote escaped, one line.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c == '\n' ? ' ' : c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string time_model_text(const core::TimeModel& m) {
  switch (m.form) {
    case core::TimeModel::Form::Staircase:
      return fmt::format("t(b) = {} + {} * ceil(b / {})", ms(m.c_s), ms(m.a_s), m.b0);
    case core::TimeModel::Form::Linear:
      return fmt::format("t(b) = {} + {} ms/token * max(0, b - {})", ms(m.c_s), number(1e3 * m.a_s), m.b0);
    case core::TimeModel::Form::Table: {
      std::string points;
      for (const auto& [b, t] : m.table) {
        if (!points.empty()) points.append(", ");
        points.append(fmt::format("{} -> {}", b, ms(t)));
      }
      return fmt::format("t(b) = table {{ {} }}", points);
    }
  }
  return "";
}

std::optional<std::string> profile_block(const std::string& name, const core::TimeModel& model,
                                         const std::string& provenance, const std::vector<std::string>& comments,
                                         core::Diagnostics& diags) {
  std::string text;
  for (const auto& c : comments) text.append("// ").append(c).append("\n");
  text.append(fmt::format("profile {} {{\n  {}\n  provenance {}\n}}\n", name, time_model_text(model), quoted(provenance)));
  auto canonical = dsl::format_source("fit.bp", text, diags);
  if (!canonical) return std::nullopt;
  if (!dsl::load_spec_text("fit.bp", *canonical, diags)) return std::nullopt;
  return canonical;
}

}  // namespace batchproof::cli
