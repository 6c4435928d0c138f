#include "core/line_diagnostics.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace batchproof::core {

namespace {
constexpr std::size_t kMaxShownLine = 4096;  // bytes of a source line kept in a diagnostic
}  // namespace

std::string printable(std::string_view s, std::size_t limit) {
  std::string out;
  for (char c : s.substr(0, limit)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (s.size() > limit) out += "...";
  return out;
}

std::string shown_line(std::string_view line, int col) {
  const auto keep = std::max(kMaxShownLine, static_cast<std::size_t>(std::max(col, 0)) + 80);
  return std::string(line.substr(0, keep));
}

void add_malformed_line(Diagnostics& diags, int& count, SourceLoc& first_omitted, SourceLoc loc,
                        std::string message, std::string_view line) {
  ++count;
  if (count <= kMaxLineErrors) {
    const int col = loc.col;
    diags.error(std::move(loc), std::move(message), shown_line(line, col));
  } else if (count == kMaxLineErrors + 1) {
    first_omitted = std::move(loc);
  }
}

void report_omitted_lines(Diagnostics& diags, int count, const SourceLoc& first_omitted) {
  if (count <= kMaxLineErrors) return;
  const int more = count - kMaxLineErrors;
  diags.error(first_omitted, fmt::format("... and {} more malformed line{}", more, more == 1 ? "" : "s"));
}

}  // namespace batchproof::core
