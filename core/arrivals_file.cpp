#include "core/arrivals_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace batchproof::core {

namespace {

using nlohmann::json;

// Enough to see what is wrong without burying it: a broken file usually breaks every line.
constexpr int kMaxLineErrors = 10;
constexpr std::size_t kMaxQuoted = 40;        // bytes of a bad field quoted in a message
constexpr std::size_t kMaxShownLine = 4096;   // bytes of a source line kept in a diagnostic
constexpr std::string_view kAzureExample = "2023-11-16 18:17:03.9799600";

constexpr std::array kFormatNames{
    std::pair{TraceFormat::Auto, std::string_view{"auto"}},
    std::pair{TraceFormat::Batchproof, std::string_view{"batchproof"}},
    std::pair{TraceFormat::Azure, std::string_view{"azure"}},
    std::pair{TraceFormat::Vidur, std::string_view{"vidur"}},
    std::pair{TraceFormat::Mooncake, std::string_view{"mooncake"}},
};

// ---------------------------------------------------------------------------------------------
// Text helpers

bool is_blank_char(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank_char(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank_char(s.back())) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view s) { return trim(s).empty(); }

// File bytes made safe for a message: control and non-ASCII bytes (junk, or a half-cut UTF-8
// sequence) become '?', so a message is always printable and valid UTF-8.
std::string printable(std::string_view s, std::size_t limit) {
  std::string out;
  for (char c : s.substr(0, limit)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (s.size() > limit) out += "...";
  return out;
}

// A CSV field as quoted in messages.
std::string found_field(std::string_view text) {
  return text.empty() ? std::string("nothing") : fmt::format("'{}'", printable(text, kMaxQuoted));
}

// The file's lines, without the '\n' and a trailing '\r' (CRLF files), numbered from 1.
class LineCursor {
 public:
  explicit LineCursor(std::string_view data) : data_(data) {}
  bool next(std::string_view& line) {
    if (pos_ >= data_.size()) return false;
    std::size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) end = data_.size();
    line = data_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  // The next line with something on it.
  bool next_nonblank(std::string_view& line) {
    while (next(line))
      if (!is_blank(line)) return true;
    return false;
  }
  int number() const { return number_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  int number_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Numbers

enum class LengthError { None, NotWhole, OutOfRange, NotPositive };

LengthError check_length_value(double v, std::int64_t& out) {
  if (!std::isfinite(v) || v != std::floor(v)) return LengthError::NotWhole;
  if (std::abs(v) >= 9.2e18) return LengthError::OutOfRange;
  out = static_cast<std::int64_t>(v);
  return out >= 1 ? LengthError::None : LengthError::NotPositive;
}

// A token count: a whole number ≥ 1. "12.0" is accepted, since tools that write CSVs through
// floating point (pandas with a missing value anywhere) print whole numbers that way.
LengthError parse_length(std::string_view text, std::int64_t& out) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(first, last, out);
  if (ec == std::errc() && p == last) return out >= 1 ? LengthError::None : LengthError::NotPositive;
  if (ec == std::errc::result_out_of_range && p == last) return LengthError::OutOfRange;
  double v = 0;
  auto [q, ec2] = std::from_chars(first, last, v);
  if (q != last || text.empty()) return LengthError::NotWhole;
  if (ec2 == std::errc::result_out_of_range) return LengthError::OutOfRange;
  if (ec2 != std::errc()) return LengthError::NotWhole;
  return check_length_value(v, out);
}

std::string length_message(std::string_view field, LengthError e, const std::string& found) {
  switch (e) {
    case LengthError::None: break;
    case LengthError::NotWhole: return fmt::format("{}: expected a whole number of tokens, found {}", field, found);
    case LengthError::OutOfRange: return fmt::format("{}: number out of range, found {}", field, found);
    case LengthError::NotPositive: return fmt::format("{}: expected at least 1 token, found {}", field, found);
  }
  return {};
}

enum class TimeError { None, NotNumber, NotFinite };

TimeError parse_seconds(std::string_view text, double& out) {
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), last, out);
  if (text.empty() || p != last) return TimeError::NotNumber;
  if (ec == std::errc::result_out_of_range || !std::isfinite(out)) return TimeError::NotFinite;
  return ec == std::errc() ? TimeError::None : TimeError::NotNumber;
}

std::string time_message(std::string_view field, std::string_view unit, TimeError e, const std::string& found) {
  if (e == TimeError::NotFinite) return fmt::format("{}: expected a finite number of {}, found {}", field, unit, found);
  return fmt::format("{}: expected a number of {}, found {}", field, unit, found);
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

// ---------------------------------------------------------------------------------------------
// JSON: nlohmann validates and reads a line; on a bad value we scan the line again (only then)
// to point at the value's column, which nlohmann does not keep.

struct Span {
  std::size_t begin = 0, end = 0;
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::size_t skip_json_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_json_space(s[i])) ++i;
  return i;
}

std::size_t skip_json_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == '"')
      return i + 1;
  }
  return s.size();
}

std::size_t skip_json_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') return skip_json_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = skip_json_string(s, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return i;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_json_space(s[i])) ++i;
  return i;
}

// The value of top-level member `key` of the object on `line` (the last one, as nlohmann keeps).
std::optional<Span> find_member(std::string_view line, std::string_view key) {
  std::optional<Span> found;
  std::size_t i = skip_json_space(line, 0);
  if (i >= line.size() || line[i] != '{') return found;
  ++i;
  for (;;) {
    i = skip_json_space(line, i);
    if (i >= line.size() || line[i] != '"') break;
    const std::size_t key_end = skip_json_string(line, i);
    if (key_end < i + 2) break;
    const std::string_view name = line.substr(i + 1, key_end - i - 2);
    i = skip_json_space(line, key_end);
    if (i >= line.size() || line[i] != ':') break;
    i = skip_json_space(line, i + 1);
    const std::size_t value_end = skip_json_value(line, i);
    if (name == key) found = Span{i, value_end};
    i = skip_json_space(line, value_end);
    if (i >= line.size() || line[i] != ',') break;
    ++i;
  }
  return found;
}

// "syntax error while parsing value - invalid literal; last read: 'x'" from nlohmann's what().
std::string json_error_detail(std::string_view what) {
  if (auto p = what.find("] "); p != std::string_view::npos) what.remove_prefix(p + 2);
  if (what.substr(0, 11) == "parse error")
    if (auto p = what.find(": "); p != std::string_view::npos) what.remove_prefix(p + 2);
  return printable(what, 200);
}

// ---------------------------------------------------------------------------------------------
// The reader

struct CsvLayout {
  std::string_view format;                    // for messages: "Azure"
  std::array<std::string_view, 3> columns;    // time, prompt, output
};
constexpr CsvLayout kAzureLayout{"Azure", {"TIMESTAMP", "ContextTokens", "GeneratedTokens"}};
constexpr CsvLayout kVidurLayout{"Vidur", {"arrived_at", "num_prefill_tokens", "num_decode_tokens"}};

struct JsonLayout {
  std::string_view time, prompt, output;
  std::string_view time_unit;
  bool has_class;
};
constexpr JsonLayout kBatchproofLayout{"time", "prompt", "output", "seconds", true};
constexpr JsonLayout kMooncakeLayout{"timestamp", "input_length", "output_length", "milliseconds", false};

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

class TraceReader {
 public:
  TraceReader(const std::string& path, Diagnostics& diags) : path_(path), diags_(diags) {}

  void read_csv(LineCursor lines, const CsvLayout& layout, bool azure);
  void read_json(LineCursor lines, const JsonLayout& layout);
  void finish();
  bool failed() const { return failed_; }
  std::vector<Arrival> take(TraceFormat format);

  void error(int line, int col, std::string message, std::string_view text) {
    failed_ = true;
    diags_.error(loc(line, col), std::move(message), shown(text, col));
  }

 private:
  SourceLoc loc(int line, int col) const { return {path_, line, col}; }
  static std::string shown(std::string_view text, int col) {
    const auto keep = std::max(kMaxShownLine, static_cast<std::size_t>(std::max(col, 0)) + 80);
    return std::string(text.substr(0, keep));
  }
  // One malformed line; past the first few, only counted.
  void malformed(int line, int col, std::string message, std::string_view text) {
    ++malformed_;
    if (malformed_ <= kMaxLineErrors)
      error(line, col, std::move(message), text);
    else if (malformed_ == kMaxLineErrors + 1)
      first_omitted_ = loc(line, col);
    failed_ = true;
  }
  bool quiet() const { return malformed_ >= kMaxLineErrors; }

  const std::string& path_;
  Diagnostics& diags_;
  bool failed_ = false;
  int malformed_ = 0;
  SourceLoc first_omitted_;
  std::vector<Arrival> records_;  // times in the file's own unit until take()
  std::vector<Stamp> stamps_;     // Azure: the exact times
};

void TraceReader::read_csv(LineCursor lines, const CsvLayout& layout, bool azure) {
  std::string_view line;
  if (!lines.next_nonblank(line)) return;
  std::vector<Field> fields;
  split_csv(line, fields);
  std::array<std::size_t, 3> index{};
  for (std::size_t c = 0; c < layout.columns.size(); ++c) {
    auto it = std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.text == layout.columns[c]; });
    if (it == fields.end()) {
      error(lines.number(), 1,
            fmt::format("the {} header has no column '{}' (expected {})", layout.format, layout.columns[c],
                        fmt::join(layout.columns, ",")),
            line);
      return;
    }
    index[c] = static_cast<std::size_t>(it - fields.begin());
  }
  std::string header;
  for (const auto& f : fields) {
    if (!header.empty()) header += ',';
    header += printable(f.text, kMaxQuoted);
  }
  const std::size_t width = fields.size();

  while (lines.next(line)) {
    if (is_blank(line)) continue;
    const int number = lines.number();
    split_csv(line, fields);
    if (fields.size() != width) {
      const int col = fields.size() < width ? static_cast<int>(line.size()) + 1 : fields[width].col;
      malformed(number, col, fmt::format("expected {} fields ({}), found {}", width, header, fields.size()), line);
      continue;
    }
    const Field& time = fields[index[0]];
    Arrival a;
    if (azure) {
      auto stamp = parse_timestamp(time.text);
      if (!stamp) {
        malformed(number, time.col,
                  fmt::format("{}: expected a date and time like {}, found {}", layout.columns[0], kAzureExample,
                              found_field(time.text)),
                  line);
        continue;
      }
      stamps_.push_back(*stamp);
    } else if (auto e = parse_seconds(time.text, a.time_s); e != TimeError::None) {
      malformed(number, time.col, time_message(layout.columns[0], "seconds", e, found_field(time.text)), line);
      continue;
    }
    bool ok = true;
    for (std::size_t c = 1; c <= 2 && ok; ++c) {
      const Field& f = fields[index[c]];
      auto e = parse_length(f.text, c == 1 ? a.prompt : a.output);
      if (e != LengthError::None) {
        malformed(number, f.col, length_message(layout.columns[c], e, found_field(f.text)), line);
        ok = false;
      }
    }
    if (!ok) {
      if (azure) stamps_.pop_back();
      continue;
    }
    records_.push_back(std::move(a));
  }
}

void TraceReader::read_json(LineCursor lines, const JsonLayout& layout) {
  std::string_view line;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    const int number = lines.number();
    const int first_col = static_cast<int>(skip_json_space(line, 0)) + 1;
    json j;
    try {
      // Past the reported errors only the count matters: no exception, no message.
      j = quiet() ? json::parse(line.begin(), line.end(), nullptr, false) : json::parse(line.begin(), line.end());
    } catch (const json::parse_error& e) {
      const int col = std::clamp(static_cast<int>(e.byte), 1, static_cast<int>(line.size()) + 1);
      malformed(number, col, "malformed JSON: " + json_error_detail(e.what()), line);
      continue;
    } catch (const json::exception& e) {  // a number too large for a double
      malformed(number, first_col, "malformed JSON: " + json_error_detail(e.what()), line);
      continue;
    }
    if (j.is_discarded()) {
      malformed(number, first_col, {}, line);
      continue;
    }
    if (!j.is_object()) {
      malformed(number, first_col, fmt::format("expected a JSON object, found {}", printable(trim(line), kMaxQuoted)),
                line);
      continue;
    }
    // Where a member's value sits on the line, and its text, for a message about it.
    auto value_at = [&](std::string_view key) -> std::pair<int, std::string> {
      auto span = find_member(line, key);
      if (!span) return {first_col, "?"};
      return {static_cast<int>(span->begin) + 1, printable(line.substr(span->begin, span->end - span->begin), kMaxQuoted)};
    };
    auto member = [&](std::string_view key) -> const json* {
      auto it = j.find(key);
      if (it != j.end()) return &*it;
      malformed(number, first_col, fmt::format("missing field \"{}\"", key), line);
      return nullptr;
    };

    Arrival a;
    const json* t = member(layout.time);
    if (!t) continue;
    if (!t->is_number() || !std::isfinite(t->get<double>())) {
      auto [col, text] = value_at(layout.time);
      malformed(number, col,
                time_message(layout.time, layout.time_unit, t->is_number() ? TimeError::NotFinite : TimeError::NotNumber,
                             text),
                line);
      continue;
    }
    a.time_s = t->get<double>();

    bool ok = true;
    for (std::string_view key : {layout.prompt, layout.output}) {
      const json* v = member(key);
      if (!v) {
        ok = false;
        break;
      }
      std::int64_t& out = key == layout.prompt ? a.prompt : a.output;
      LengthError e = LengthError::NotWhole;
      if (v->is_number_integer()) {
        if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          e = LengthError::OutOfRange;
        } else {
          out = v->get<std::int64_t>();
          e = out >= 1 ? LengthError::None : LengthError::NotPositive;
        }
      } else if (v->is_number_float()) {
        e = check_length_value(v->get<double>(), out);
      }
      if (e != LengthError::None) {
        auto [col, text] = value_at(key);
        malformed(number, col, length_message(key, e, text), line);
        ok = false;
        break;
      }
    }
    if (!ok) continue;

    if (layout.has_class) {
      if (auto it = j.find("class"); it != j.end()) {
        if (!it->is_string()) {
          auto [col, text] = value_at("class");
          malformed(number, col, fmt::format("class: expected a string, found {}", text), line);
          continue;
        }
        a.cls = it->get<std::string>();
      }
    }
    records_.push_back(std::move(a));
  }
}

void TraceReader::finish() {
  if (malformed_ > kMaxLineErrors) {
    const int more = malformed_ - kMaxLineErrors;
    // Located at the first line left out, so that sorted diagnostics keep it last.
    diags_.error(first_omitted_, fmt::format("... and {} more malformed line{}", more, more == 1 ? "" : "s"));
  }
}

std::vector<Arrival> TraceReader::take(TraceFormat format) {
  // Rebase each public trace in its own unit before scaling, so the first gap stays exact.
  if (format == TraceFormat::Azure && !stamps_.empty()) {
    const Stamp first = *std::min_element(stamps_.begin(), stamps_.end());
    for (std::size_t i = 0; i < records_.size(); ++i) records_[i].time_s = seconds_between(first, stamps_[i]);
  } else if ((format == TraceFormat::Vidur || format == TraceFormat::Mooncake) && !records_.empty()) {
    const double first =
        std::min_element(records_.begin(), records_.end(), [](const Arrival& x, const Arrival& y) {
          return x.time_s < y.time_s;
        })->time_s;
    const double scale = format == TraceFormat::Mooncake ? 1000.0 : 1.0;
    for (auto& a : records_) a.time_s = (a.time_s - first) / scale;
  }
  std::stable_sort(records_.begin(), records_.end(),
                   [](const Arrival& x, const Arrival& y) { return x.time_s < y.time_s; });
  return std::move(records_);
}

// ---------------------------------------------------------------------------------------------
// Files and formats

std::optional<std::string> read_file(const std::string& path, Diagnostics& diags) {
  auto fail = [&](int err) {
    diags.error({path, 0, 0}, fmt::format("cannot read arrivals file: {}",
                                          std::error_code(err, std::generic_category()).message()));
    return std::nullopt;
  };
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(errno);
  std::string data;
  std::array<char, 1 << 16> buf;
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) data.append(buf.data(), n);
  const int err = std::ferror(f) ? errno : 0;  // a directory opens, then fails to read (EISDIR)
  std::fclose(f);
  if (err != 0) return fail(err);
  return data;
}

std::optional<TraceFormat> detect_format(std::string_view first_line) {
  const std::string_view line = trim(first_line);
  if (!line.empty() && line.front() == '{') {
    // Keys, not a parse: a malformed first record is still recognized and then reported.
    if (line.find("\"time\"") != std::string_view::npos) return TraceFormat::Batchproof;
    if (line.find("\"timestamp\"") != std::string_view::npos && line.find("\"input_length\"") != std::string_view::npos)
      return TraceFormat::Mooncake;
    return std::nullopt;
  }
  std::vector<Field> fields;
  split_csv(line, fields);
  auto has_all = [&](const CsvLayout& layout) {
    return std::all_of(layout.columns.begin(), layout.columns.end(), [&](std::string_view c) {
      return std::any_of(fields.begin(), fields.end(), [&](const Field& f) { return f.text == c; });
    });
  };
  if (has_all(kAzureLayout)) return TraceFormat::Azure;
  if (has_all(kVidurLayout)) return TraceFormat::Vidur;
  return std::nullopt;
}

std::optional<std::vector<Arrival>> read_arrivals_unguarded(const std::string& path, TraceFormat format,
                                                            Diagnostics& diags) {
  auto data = read_file(path, diags);
  if (!data) return std::nullopt;
  std::string_view text = *data;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark

  LineCursor probe(text);
  std::string_view first;
  if (!probe.next_nonblank(first)) {
    diags.error({path, 0, 0}, "no arrivals in file");
    return std::nullopt;
  }
  TraceReader reader(path, diags);
  if (format == TraceFormat::Auto) {
    auto detected = detect_format(first);
    if (!detected) {
      reader.error(probe.number(), 1,
                   "cannot tell the format of this arrivals file: expected JSON Lines with \"time\" (batchproof) or "
                   "\"timestamp\" and \"input_length\" (Mooncake), or a CSV header "
                   "TIMESTAMP,ContextTokens,GeneratedTokens (Azure) or "
                   "arrived_at,num_prefill_tokens,num_decode_tokens (Vidur)",
                   first);
      return std::nullopt;
    }
    format = *detected;
  }
  switch (format) {
    case TraceFormat::Auto:
    case TraceFormat::Batchproof: reader.read_json(LineCursor(text), kBatchproofLayout); break;
    case TraceFormat::Mooncake: reader.read_json(LineCursor(text), kMooncakeLayout); break;
    case TraceFormat::Azure: reader.read_csv(LineCursor(text), kAzureLayout, true); break;
    case TraceFormat::Vidur: reader.read_csv(LineCursor(text), kVidurLayout, false); break;
  }
  reader.finish();
  if (reader.failed()) return std::nullopt;
  auto arrivals = reader.take(format);
  if (arrivals.empty()) {
    diags.error({path, 0, 0}, "no arrivals in file");
    return std::nullopt;
  }
  return arrivals;
}

}  // namespace

std::optional<std::vector<Arrival>> read_arrivals(const std::string& path, TraceFormat format, Diagnostics& diags) {
  try {
    return read_arrivals_unguarded(path, format, diags);
  } catch (const std::exception& e) {  // out of memory, in practice
    diags.error({path, 0, 0}, fmt::format("cannot read arrivals file: {}", e.what()));
    return std::nullopt;
  }
}

std::string_view format_name(TraceFormat format) {
  for (const auto& [f, name] : kFormatNames)
    if (f == format) return name;
  return "auto";
}

std::optional<TraceFormat> format_from_name(std::string_view name) {
  for (const auto& [f, n] : kFormatNames)
    if (n == name) return f;
  return std::nullopt;
}

std::vector<std::string> format_names() {
  std::vector<std::string> out;
  for (const auto& [f, name] : kFormatNames) out.emplace_back(name);
  return out;
}

std::string write_arrivals_jsonl(const std::vector<Arrival>& arrivals) {
  std::string out;
  out.reserve(arrivals.size() * 48);
  for (const auto& a : arrivals) {
    // fmt's "{}" is the shortest text that reads back to the same double; JSON has no inf/nan.
    if (std::isfinite(a.time_s))
      fmt::format_to(std::back_inserter(out), "{{\"time\": {}, \"prompt\": {}, \"output\": {}", a.time_s, a.prompt,
                     a.output);
    else
      fmt::format_to(std::back_inserter(out), "{{\"time\": null, \"prompt\": {}, \"output\": {}", a.prompt, a.output);
    if (!a.cls.empty()) {
      try {
        out += ", \"class\": " + json(a.cls).dump(-1, ' ', false, json::error_handler_t::replace);
      } catch (const json::exception&) {
        out += ", \"class\": \"?\"";
      }
    }
    out += "}\n";
  }
  return out;
}

}  // namespace batchproof::core
