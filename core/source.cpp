#include "core/source.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace batchproof::core {

namespace {
const char* severity_word(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

// The source line as shown under a diagnostic: control bytes and invalid UTF-8 become '?',
// tabs a blank, and a long line a window of about 100 characters around the column.
// Returns the text and the caret's offset in display characters.
std::pair<std::string, std::size_t> displayable_line(const std::string& raw, std::size_t col) {
  constexpr std::size_t kWindow = 100;
  std::size_t from = 0, to = raw.size();
  if (raw.size() > kWindow) {
    from = col > kWindow / 2 ? col - kWindow / 2 : 0;
    to = std::min(raw.size(), from + kWindow);
  }
  while (from > 0 && from < raw.size() && (static_cast<unsigned char>(raw[from]) >> 6) == 0x2) --from;
  std::string out = from > 0 ? "..." : "";
  for (std::size_t i = from; i < to;) {
    std::size_t n = utf8_length(raw, i);
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (n == 1) out += (c == '\t') ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : raw[i];
    else if (n == 0) out += '?';
    else out.append(raw, i, n);
    i += n == 0 ? 1 : n;
  }
  if (to < raw.size()) out += "...";
  // The caret column in display characters: count characters before col within the window.
  std::size_t caret = from > 0 ? 3 : 0;
  for (std::size_t i = from; i < std::min(col - 1, to);) {
    std::size_t n = utf8_length(raw, i);
    i += n == 0 ? 1 : n;
    ++caret;
  }
  return {out, caret};
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters each cost 1 (so "fcsf" is one step from "fcfs").
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}
}  // namespace

std::size_t utf8_length(const std::string& s, std::size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  return n;
}

std::string render(const Diagnostic& d) {
  std::string out;
  if (d.loc.known())
    out = fmt::format("{}:{}:{}: {}: {}\n", d.loc.file, d.loc.line, d.loc.col, severity_word(d.severity), d.message);
  else if (!d.loc.file.empty())
    out = fmt::format("{}: {}: {}\n", d.loc.file, severity_word(d.severity), d.message);
  else
    out = fmt::format("{}: {}\n", severity_word(d.severity), d.message);
  if (d.loc.known() && !d.source_line.empty()) {
    auto [line, caret] = displayable_line(d.source_line, static_cast<std::size_t>(std::max(1, d.loc.col)));
    out += fmt::format("  {}\n  {}^\n", line, std::string(caret, ' '));
  }
  return out;
}

void Diagnostics::add(Diagnostic d) {
  if (d.severity == Severity::Error) ++errors_;
  items_.push_back(std::move(d));
}

void Diagnostics::error(SourceLoc loc, std::string message, std::string source_line) {
  add({Severity::Error, std::move(loc), std::move(message), std::move(source_line)});
}

void Diagnostics::warning(SourceLoc loc, std::string message, std::string source_line) {
  add({Severity::Warning, std::move(loc), std::move(message), std::move(source_line)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> v = items_;
  auto key = [](const Diagnostic& d) { return std::tie(d.loc.file, d.loc.line, d.loc.col, d.message); };
  std::stable_sort(v.begin(), v.end(), [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  v.erase(std::unique(v.begin(), v.end(), [&](const Diagnostic& a, const Diagnostic& b) { return key(a) == key(b); }),
          v.end());
  return v;
}

std::string closest_match(std::string_view name, const std::vector<std::string>& candidates) {
  // Closest first; among equally close candidates, the one sharing the longest prefix
  // ("GB" suggests "GiB", not "B").
  auto common_prefix = [&](const std::string& c) {
    std::size_t k = 0;
    while (k < c.size() && k < name.size() && c[k] == name[k]) ++k;
    return k;
  };
  std::string best;
  std::size_t best_d = std::string::npos, best_prefix = 0;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(name, c);
    std::size_t prefix = common_prefix(c);
    if (d < best_d || (d == best_d && prefix > best_prefix)) {
      best_d = d;
      best_prefix = prefix;
      best = c;
    }
  }
  // A plausible misspelling: at most a third of the longer word, and never the whole word.
  std::size_t limit = std::max<std::size_t>(1, std::max(name.size(), best.size()) / 3);
  if (best.empty() || best_d == 0 || best_d > limit) return "";
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  std::string m = closest_match(name, candidates);
  return m.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", m);
}

}  // namespace batchproof::core
