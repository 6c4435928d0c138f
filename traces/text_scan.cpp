#include "traces/text_scan.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace batchproof::traces::text {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `n` digits at s[at..]: their value, or -1.
int digits(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool valid_date(int year, int month, int day) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= kDays[month - 1];
}

// Seconds since 1970 of a date and a time of day.
double at(int year, int month, int day, double seconds_of_day) {
  return static_cast<double>(days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day))) * 86400.0 +
         seconds_of_day;
}

}  // namespace

std::size_t find(std::string_view hay, std::string_view needle, std::size_t from) {
  if (needle.empty()) return from <= hay.size() ? from : std::string_view::npos;
  const char first = needle[0];
  const std::size_t last = hay.size() >= needle.size() ? hay.size() - needle.size() : 0;
  if (hay.size() < needle.size()) return std::string_view::npos;
  while (from <= last) {
    const void* hit = std::memchr(hay.data() + from, first, last - from + 1);
    if (!hit) return std::string_view::npos;
    const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - hay.data());
    if (std::memcmp(hay.data() + at + 1, needle.data() + 1, needle.size() - 1) == 0) return at;
    from = at + 1;
  }
  return std::string_view::npos;
}

bool Splitter::next(Span& piece) {
  if (at_ >= text_.text.size()) return false;
  const std::size_t end = find(text_.text, sep_, at_);
  if (end == std::string_view::npos) {
    piece = text_.sub(at_);
    at_ = text_.text.size();
  } else {
    piece = text_.sub(at_, end - at_);
    at_ = end + sep_.size();
  }
  return true;
}

bool split_key_value(Span piece, std::string_view sep, Span& key, Span& value) {
  const std::size_t at = find(piece.text, sep);
  if (at == std::string_view::npos) return false;
  key = piece.sub(0, at);
  value = piece.sub(at + sep.size());
  return true;
}

Span trim(Span s) {
  std::size_t b = 0, e = s.text.size();
  while (b < e && is_blank(s.text[b])) ++b;
  while (e > b && is_blank(s.text[e - 1])) --e;
  return s.sub(b, e - b);
}

bool to_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

bool to_count(std::string_view s, std::int64_t& out) { return to_int(s, out) && out >= 0; }

bool to_double(std::string_view s, double& out) {
  if (s.empty() || !(is_digit(s[0]) || s[0] == '-' || s[0] == '.')) return false;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end && std::isfinite(out);
}

bool read_decimal(std::string_view s, std::size_t& at, double& v) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  std::size_t i = at;
  std::int64_t mantissa = 0;
  int digits = 0, fraction = 0;
  // At most 15 digits: the mantissa and the power of ten are exact doubles.
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (++digits > 15) return false;
    mantissa = mantissa * 10 + (s[i] - '0');
  }
  if (digits == 0) return false;
  if (i < s.size() && s[i] == '.') {
    const std::size_t first = ++i;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (++digits > 15) return false;
      mantissa = mantissa * 10 + (s[i] - '0');
    }
    fraction = static_cast<int>(i - first);
    if (fraction == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) return false;
  v = static_cast<double>(mantissa) / kPow10[fraction];
  at = i;
  return true;
}

namespace {
std::string_view before_unit(std::string_view s, std::string_view unit, bool& ok) {
  ok = s.size() >= unit.size() && s.substr(s.size() - unit.size()) == unit;
  if (!ok) return {};
  s.remove_suffix(unit.size());
  if (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}
}  // namespace

bool to_double_with_unit(std::string_view s, std::string_view unit, double& out) {
  bool ok = false;
  std::string_view number = before_unit(s, unit, ok);
  return ok && to_double(number, out);
}

bool to_count_with_unit(std::string_view s, std::string_view unit, std::int64_t& out) {
  bool ok = false;
  std::string_view number = before_unit(s, unit, ok);
  return ok && to_count(number, out);
}

bool to_bool(std::string_view s, bool& out) {
  if (s == "True") out = true;
  else if (s == "False") out = false;
  else return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Clocks

// H. Hinnant's algorithm (http://howardhinnant.github.io/date_algorithms.html).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& year, unsigned& month, unsigned& day) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2);
}

std::optional<double> parse_time_of_day(std::string_view s, std::size_t* used) {
  const int h = digits(s, 0, 2), m = digits(s, 3, 2), sec = digits(s, 6, 2);
  if (h < 0 || m < 0 || sec < 0 || s[2] != ':' || s[5] != ':' || h > 23 || m > 59 || sec > 60) return std::nullopt;
  double t = h * 3600.0 + m * 60.0 + sec;
  std::size_t n = 8;
  if (n < s.size() && (s[n] == '.' || s[n] == ',') && n + 1 < s.size() && is_digit(s[n + 1])) {
    double scale = 0.1;
    for (++n; n < s.size() && is_digit(s[n]); ++n, scale /= 10) t += (s[n] - '0') * scale;
  }
  if (used) *used = n;
  return t;
}

std::optional<double> parse_iso_date_time(std::string_view s, std::size_t* used) {
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  if (y < 0 || mo < 0 || d < 0 || s[4] != '-' || s[7] != '-' || s.size() < 11 || (s[10] != ' ' && s[10] != 'T') ||
      !valid_date(y, mo, d))
    return std::nullopt;
  std::size_t n = 0;
  auto t = parse_time_of_day(s.substr(11), &n);
  if (!t) return std::nullopt;
  if (used) *used = 11 + n;
  return at(y, mo, d, *t);
}

std::optional<double> parse_us_date_time(std::string_view s, std::size_t* used) {
  const int mo = digits(s, 0, 2), d = digits(s, 3, 2), y = digits(s, 6, 4);
  if (mo < 0 || d < 0 || y < 0 || s.size() < 11) return std::nullopt;
  const bool dashes = s[2] == '-' && s[5] == '-' && s[10] == ' ';
  const bool slashes = s[2] == '/' && s[5] == '/' && s[10] == '-';
  if ((!dashes && !slashes) || !valid_date(y, mo, d)) return std::nullopt;
  std::size_t n = 0;
  auto t = parse_time_of_day(s.substr(11), &n);
  if (!t) return std::nullopt;
  if (used) *used = 11 + n;
  return at(y, mo, d, *t);
}

std::optional<double> MonthDayClock::parse(std::string_view s, std::size_t* used) {
  const int mo = digits(s, 0, 2), d = digits(s, 3, 2);
  if (mo < 0 || d < 0 || s.size() < 6 || s[2] != '-' || s[5] != ' ' || !valid_date(2000, mo, d)) return std::nullopt;
  std::size_t n = 0;
  auto t = parse_time_of_day(s.substr(6), &n);
  if (!t) return std::nullopt;
  if (used) *used = 6 + n;
  // Day of the year in a leap year (2000 is one), counted from its January 1.
  const double in_year =
      static_cast<double>(days_from_civil(2000, static_cast<unsigned>(mo), static_cast<unsigned>(d)) -
                          days_from_civil(2000, 1, 1)) * 86400.0 + *t;
  constexpr double kHalfYear = 183 * 86400.0;
  if (last_ && in_year + year_offset_ < *last_ - kHalfYear) year_offset_ += 366 * 86400.0;
  const double placed = in_year + year_offset_;
  last_ = placed;
  return placed;
}

double TimeOfDayClock::place(double seconds_of_day) {
  constexpr double kHalfDay = 12 * 3600.0;
  if (last_ && seconds_of_day + day_offset_ < *last_ - kHalfDay) day_offset_ += 86400.0;
  const double placed = seconds_of_day + day_offset_;
  last_ = placed;
  return placed;
}

}  // namespace batchproof::traces::text
