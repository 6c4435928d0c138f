// The CSV arrivals formats: Azure's LLM inference traces (TIMESTAMP,ContextTokens,
// GeneratedTokens, with calendar timestamps) and Vidur's processed traces (arrived_at,
// num_prefill_tokens,num_decode_tokens, in seconds).
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/detail/arrivals_reader.hpp"
#include "core/line_diagnostics.hpp"

namespace batchproof::core {

namespace {

constexpr std::string_view kAzureExample = "2023-11-16 18:17:03.9799600";

struct CsvLayout {
  std::string_view format;                  // for messages: "Azure"
  std::array<std::string_view, 3> columns;  // time, prompt, output
};
constexpr CsvLayout kAzureLayout{"Azure", {"TIMESTAMP", "ContextTokens", "GeneratedTokens"}};
constexpr CsvLayout kVidurLayout{"Vidur", {"arrived_at", "num_prefill_tokens", "num_decode_tokens"}};

struct Field {
  std::string_view text;  // trimmed
  int col = 0;            // 1-based column of the text
};

void split_csv(std::string_view line, std::vector<Field>& out) {
  out.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
    std::size_t lead = start;
    while (lead < end && is_blank_char(line[lead])) ++lead;
    out.push_back({trim(line.substr(start, end - start)), static_cast<int>(lead + 1)});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

// A field as quoted in messages.
std::string found_field(std::string_view text) {
  return text.empty() ? std::string("nothing") : fmt::format("'{}'", printable(text));
}

TimeError parse_seconds(std::string_view text, double& out) {
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), last, out);
  if (text.empty() || p != last) return TimeError::NotNumber;
  if (ec == std::errc::result_out_of_range || !std::isfinite(out)) return TimeError::NotFinite;
  return ec == std::errc() ? TimeError::None : TimeError::NotNumber;
}

// ---------------------------------------------------------------------------------------------
// Azure timestamps: "YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM]", UTC unless an offset is given.
// Parsed by hand (no locale, no time zone database) into whole seconds and nanoseconds, so
// differences are exact across midnight, month and year ends.

struct Stamp {
  std::int64_t sec = 0;  // since 1970-01-01 00:00:00
  std::int32_t nsec = 0;
  bool operator<(const Stamp& o) const { return sec != o.sec ? sec < o.sec : nsec < o.nsec; }
};

bool read_digits(std::string_view s, std::size_t& i, int count, int& out) {
  out = 0;
  for (int k = 0; k < count; ++k, ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool read_char(std::string_view s, std::size_t& i, char c) {
  if (i >= s.size() || s[i] != c) return false;
  ++i;
  return true;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<Stamp> parse_timestamp(std::string_view s) {
  std::size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, i, 4, year) || !read_char(s, i, '-') || !read_digits(s, i, 2, month) ||
      !read_char(s, i, '-') || !read_digits(s, i, 2, day))
    return std::nullopt;
  if (i >= s.size() || (s[i] != ' ' && s[i] != 'T')) return std::nullopt;
  ++i;
  if (!read_digits(s, i, 2, hour) || !read_char(s, i, ':') || !read_digits(s, i, 2, minute) ||
      !read_char(s, i, ':') || !read_digits(s, i, 2, second))
    return std::nullopt;
  std::int32_t nsec = 0;
  if (read_char(s, i, '.')) {
    // Nanosecond resolution: digits past the ninth are read and dropped.
    int count = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++count)
      if (count < 9) nsec = nsec * 10 + (s[i] - '0');
    if (count == 0) return std::nullopt;
    for (; count < 9; ++count) nsec *= 10;
  }
  int offset_s = 0;
  if (read_char(s, i, 'Z')) {
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    if (!read_digits(s, i, 2, oh)) return std::nullopt;
    read_char(s, i, ':');
    if (!read_digits(s, i, 2, om) || oh > 23 || om > 59) return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  }
  if (i != s.size()) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 59)
    return std::nullopt;
  const std::int64_t sec = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return Stamp{sec, nsec};
}

// Seconds from `from` to `to`, rounded once: whole nanoseconds are exact in an int64 for
// spans up to 292 years.
double seconds_between(const Stamp& from, const Stamp& to) {
  const std::int64_t ds = to.sec - from.sec;
  const std::int64_t dn = to.nsec - from.nsec;
  if (ds > -9'000'000'000 && ds < 9'000'000'000) return static_cast<double>(ds * 1'000'000'000 + dn) / 1e9;
  return static_cast<double>(ds) + static_cast<double>(dn) / 1e9;
}

bool has_columns(const std::vector<Field>& fields, const CsvLayout& layout) {
  return std::all_of(layout.columns.begin(), layout.columns.end(), [&](std::string_view c) {
    return std::any_of(fields.begin(), fields.end(), [&](const Field& f) { return f.text == c; });
  });
}

}  // namespace

std::optional<TraceFormat> csv_format(std::string_view header) {
  std::vector<Field> fields;
  split_csv(header, fields);
  if (has_columns(fields, kAzureLayout)) return TraceFormat::Azure;
  if (has_columns(fields, kVidurLayout)) return TraceFormat::Vidur;
  return std::nullopt;
}

void read_csv_arrivals(LineReader& lines, TraceFormat format, ArrivalsReader& reader) {
  const bool azure = format == TraceFormat::Azure;
  const CsvLayout& layout = azure ? kAzureLayout : kVidurLayout;

  std::vector<Field> fields;
  split_csv(lines.line(), fields);
  std::array<std::size_t, 3> index{};
  for (std::size_t c = 0; c < layout.columns.size(); ++c) {
    auto it = std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.text == layout.columns[c]; });
    if (it == fields.end()) {
      reader.error(lines.number(), 1,
                   fmt::format("the {} header has no column '{}' (expected {})", layout.format, layout.columns[c],
                               fmt::join(layout.columns, ",")),
                   lines.line());
      return;
    }
    index[c] = static_cast<std::size_t>(it - fields.begin());
  }
  std::string header;
  for (const auto& f : fields) {
    if (!header.empty()) header += ',';
    header += printable(f.text);
  }
  const std::size_t width = fields.size();

  std::vector<Stamp> stamps;  // Azure: the exact time of each arrival
  while (lines.next_nonblank()) {
    const std::string_view line = lines.line();
    const int number = lines.number();
    split_csv(line, fields);
    if (fields.size() != width) {
      const int col = fields.size() < width ? static_cast<int>(line.size()) + 1 : fields[width].col;
      reader.malformed(number, col, fmt::format("expected {} fields ({}), found {}", width, header, fields.size()),
                       line);
      continue;
    }
    Arrival a;
    const Field& time = fields[index[0]];
    std::optional<Stamp> stamp;
    if (azure) {
      stamp = parse_timestamp(time.text);
      if (!stamp) {
        reader.malformed(number, time.col,
                         fmt::format("{}: expected a date and time like {}, found {}", layout.columns[0],
                                     kAzureExample, found_field(time.text)),
                         line);
        continue;
      }
    } else if (auto e = parse_seconds(time.text, a.time_s); e != TimeError::None) {
      reader.malformed(number, time.col, time_message(layout.columns[0], "seconds", e, found_field(time.text)), line);
      continue;
    }
    auto length = [&](std::size_t c, std::int64_t& out) {
      const Field& f = fields[index[c]];
      const WholeNumber w = whole_from_text(f.text, out);
      if (is_token_count(w, out)) return true;
      reader.malformed(number, f.col, length_message(layout.columns[c], w, found_field(f.text)), line);
      return false;
    };
    if (!length(1, a.prompt) || !length(2, a.output)) continue;
    if (stamp) stamps.push_back(*stamp);
    reader.arrivals().push_back(std::move(a));
  }

  if (!azure) {
    reader.rebase(1.0);
  } else if (!stamps.empty()) {  // rebased on the exact times, so that the first gap stays exact
    const Stamp first = *std::min_element(stamps.begin(), stamps.end());
    auto& arrivals = reader.arrivals();
    for (std::size_t i = 0; i < arrivals.size(); ++i) arrivals[i].time_s = seconds_between(first, stamps[i]);
  }
}

}  // namespace batchproof::core
