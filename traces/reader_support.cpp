#include "traces/reader_support.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"

namespace batchproof::traces {

namespace {
// Past this column the caret display would need the whole line before it: no line is kept.
constexpr std::int64_t kMaxCaretColumn = std::int64_t{64} << 10;
constexpr std::size_t kShownAfterColumn = 4096;
}  // namespace

int clamp_int(std::int64_t v) {
  return static_cast<int>(std::clamp<std::int64_t>(v, 0, std::numeric_limits<int>::max()));
}

std::string kept_line(std::string_view line, std::int64_t col) {
  if (col > kMaxCaretColumn) return {};
  return std::string(line.substr(0, static_cast<std::size_t>(std::max<std::int64_t>(col, 0)) + kShownAfterColumn));
}

std::string size_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

void MalformedRecords::add(std::int64_t line, std::int64_t col, std::string message, std::string_view source_line) {
  ++count_;
  core::SourceLoc loc{path_, clamp_int(line), clamp_int(col)};
  if (count_ <= kMaxReported)
    diags_.error(std::move(loc), std::move(message), kept_line(source_line, col));
  else if (count_ == kMaxReported + 1)
    first_omitted_ = std::move(loc);
}

void MalformedRecords::add(core::Diagnostic diagnostic) {
  ++count_;
  if (count_ <= kMaxReported)
    diags_.add(std::move(diagnostic));
  else if (count_ == kMaxReported + 1)
    first_omitted_ = std::move(diagnostic.loc);
}

void MalformedRecords::finish() {
  if (finished_) return;
  finished_ = true;
  if (count_ <= kMaxReported) return;
  const std::int64_t more = count_ - kMaxReported;
  diags_.error(first_omitted_, fmt::format("... and {} more malformed {}{}", more, noun_, more == 1 ? "" : "s"));
}

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// `n` digits at text[at], as a number.
bool digits(std::string_view text, std::size_t at, std::size_t n, unsigned& out) {
  if (at + n > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<double> parse_date_time(std::string_view text) {
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  bool ok = false;
  if (text.size() >= 19 && text[4] == '-' && text[7] == '-')  // YYYY-MM-DD
    ok = digits(text, 0, 4, y) && digits(text, 5, 2, mo) && digits(text, 8, 2, d);
  else if (text.size() >= 19 && text[2] == '-' && text[5] == '-')  // MM-DD-YYYY
    ok = digits(text, 0, 2, mo) && digits(text, 3, 2, d) && digits(text, 6, 4, y);
  ok = ok && (text[10] == ' ' || text[10] == 'T') && text[13] == ':' && text[16] == ':' && digits(text, 11, 2, h) &&
       digits(text, 14, 2, mi) && digits(text, 17, 2, s);
  if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  // The fraction as a whole number of its digits over a power of ten: one rounding only.
  double digits_value = 0, scale = 1;
  std::size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9' && scale < 1e15; ++i) {
      digits_value = digits_value * 10 + (text[i] - '0');
      scale *= 10;
    }
  }
  const double fraction = digits_value / scale;
  if (i != text.size()) return std::nullopt;
  return static_cast<double>(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) + fraction;
}

// Member by member (not `record = Iteration{}` with the containers moved out and back: that
// builds a whole record, a large share of the time of a 40-byte CSV row). The structured
// binding names every member of Iteration: one added there stops the build here rather than
// keep a stale value in a reused record.
void reset_record(Iteration& r) {
  auto& [stream, line, index, start_s, duration_s, prefill_requests, prefill_tokens, decode_requests, decode_tokens,
         cached_tokens, running, waiting, waiting_tokens, preempted, kv_used_tokens, kv_total_tokens, kv_usage,
         budget_tokens, budget_requests, has_items, items, arrivals, departures, steps] = r;
  stream.clear();
  line = 0;
  // A disengaged optional constructed in place is one store; reset() tests it first.
  for (auto* whole : {&index, &prefill_requests, &prefill_tokens, &decode_requests, &decode_tokens, &cached_tokens,
                      &running, &waiting, &waiting_tokens, &preempted, &kv_used_tokens, &kv_total_tokens,
                      &budget_tokens, &budget_requests})
    std::construct_at(whole);
  for (auto* real : {&start_s, &duration_s, &kv_usage}) std::construct_at(real);
  has_items = false;
  items.clear();
  arrivals.clear();
  departures.clear();
  steps = 1;
}

std::optional<std::size_t> json_opening(Input& input, std::string_view not_this, std::string_view expected,
                                        core::Diagnostics& diags) {
  const std::string_view head = input.head();
  auto blank = [&](std::size_t k) {
    return head[k] == ' ' || head[k] == '\t' || head[k] == '\r' || head[k] == '\n';
  };
  std::size_t i = 0;
  while (i < head.size() && blank(i)) ++i;
  if (i == head.size()) {
    if (input.error())
      diags.error({input.path(), 0, 0}, "cannot read log: " + *input.error());
    else
      diags.error({input.path(), 0, 0}, fmt::format("{}: the input is empty", not_this));
    return std::nullopt;
  }
  if (const std::size_t nul = head.find('\0'); nul != std::string_view::npos) {
    diags.error({input.path(), 0, 0}, fmt::format("{}: the input is binary (a NUL byte at offset {})", not_this, nul));
    return std::nullopt;
  }
  std::size_t after = i + 1;
  while (after < head.size() && blank(after)) ++after;
  const bool array = head[i] == '[' && (after == head.size() || head[after] == '{' || head[after] == ']');
  if (head[i] != '{' && !array) {
    const std::size_t line_start = head.rfind('\n', i) == std::string_view::npos ? 0 : head.rfind('\n', i) + 1;
    const std::string_view line = head.substr(line_start, head.find('\n', line_start) - line_start);
    diags.error({input.path(), 1 + clamp_int(std::count(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(i), '\n')), 1},
                fmt::format("{}: expected JSON ({}), found {}", not_this, expected,
                            core::printable(head.substr(i, head.find('\n', i) - i))),
                kept_line(line, 1));
    return std::nullopt;
  }
  return i;
}

}  // namespace batchproof::traces
