// Hand-written scanning for the text log readers (TensorRT-LLM PyExecutor, SGLang, vLLM): the
// pieces of a log line (separated fields, "key: value" pairs, numbers with units) and the
// timestamps engines put in front of their lines. No regular expressions and no allocation:
// every piece is a view into the line with its byte offset, so that a malformed value can be
// reported at its column.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace batchproof::traces::text {

// A piece of a line and where it starts in the line (0-based byte offset).
struct Span {
  std::string_view text;
  std::size_t pos = 0;

  bool empty() const { return text.empty(); }
  Span sub(std::size_t from, std::size_t n = std::string_view::npos) const {
    return {text.substr(from, n), pos + from};
  }
};

// Offset of `needle` in `hay` at or after `from`, or npos (memchr for the first byte, then a
// compare: log lines are short and the needles rare).
std::size_t find(std::string_view hay, std::string_view needle, std::size_t from = 0);

// Splits a span into the pieces between `sep` (", " in most formats). A trailing separator (or
// a trailing `trim` character such as '.') is not a piece.
class Splitter {
 public:
  Splitter(Span text, std::string_view sep) : text_(text), sep_(sep) {}
  bool next(Span& piece);
  // The rest of the text, from the next piece on.
  Span rest() const { return text_.sub(at_); }

 private:
  Span text_;
  std::string_view sep_;
  std::size_t at_ = 0;
};

// Offset of `c` in `s` at or after `from`, or npos. A plain loop: the spans scanned are a few
// bytes, where a call to memchr costs more than it saves.
inline std::size_t scan(std::string_view s, char c, std::size_t from) {
  for (; from < s.size(); ++from)
    if (s[from] == c) return from;
  return std::string_view::npos;
}

// Whole numbers and decimals written the way Python prints them. The whole text must be the
// number: "12", "-3", "0.25", "1e-05", "inf" is refused.
bool to_int(std::string_view s, std::int64_t& out);
bool to_double(std::string_view s, double& out);
// A whole number that is not negative.
bool to_count(std::string_view s, std::int64_t& out);
// A number followed by `unit` (optionally after a blank): "18 reqs", "95.9%", "10.99 ms",
// "12.5ms". False if the unit is missing or the number does not parse.
bool to_double_with_unit(std::string_view s, std::string_view unit, double& out);
bool to_count_with_unit(std::string_view s, std::string_view unit, std::int64_t& out);
// Python's booleans.
bool to_bool(std::string_view s, bool& out);

// A whole number at s[at..]: its value, with `at` moved past its digits. False (nothing moved)
// if no digit is there or it has more than 18.
inline bool read_digits(std::string_view s, std::size_t& at, std::int64_t& v) {
  std::size_t i = at;
  std::int64_t x = 0;
  while (i < s.size() && i - at < 19 && static_cast<unsigned>(s[i] - '0') < 10) x = x * 10 + (s[i++] - '0');
  if (i == at || i - at > 18) return false;
  v = x;
  at = i;
  return true;
}

// "123" or "0.25" at s[at..], read exactly (digits over a power of ten, one correctly rounded
// division, the same double as strtod); `at` moved past it. False (nothing moved) for anything
// else: signs, exponents and long mantissas are left to to_double.
bool read_decimal(std::string_view s, std::size_t& at, double& v);

// The fields of a log line, "key: value" separated by "<sep> " (", " in most formats, ". " in
// SGLang's oldest), read in one pass: a value ends at the next separator followed by a blank or
// the end of the line, a key at its ": ". A piece with no ": " has an empty key and is all
// value. Separators at the end of the line ("..., #queue-req: 0, ") give no field. After next(),
// read the value with one of value(), count() or decimal().
class FieldCursor {
 public:
  FieldCursor(std::string_view line, std::size_t from, char sep = ',') : s_(line), at_(from), sep_(sep) {}

  bool next(Span& key) {
    const std::size_t n = s_.size();
    while (at_ < n && s_[at_] == ' ') ++at_;
    if (at_ >= n) return false;
    const std::size_t start = at_;
    for (std::size_t i = start; i < n; ++i) {
      const char c = s_[i];
      if (c == ':' && i + 1 < n && s_[i + 1] == ' ') {
        key = {s_.substr(start, i - start), start};
        at_ = i + 2;
        return true;
      }
      if (c == sep_ && (i + 1 == n || s_[i + 1] == ' ')) break;
    }
    key = {std::string_view(), start};
    return true;
  }

  // The value's text (trailing blanks left out); moves to the next field.
  Span value() {
    const std::size_t end = value_end(at_);
    std::size_t e = end;
    while (e > at_ && (s_[e - 1] == ' ' || s_[e - 1] == '\r')) --e;
    Span v{s_.substr(at_, e - at_), at_};
    at_ = end + 1;
    return v;
  }

  // The value as a whole number / a decimal, when it is exactly one; moves to the next field
  // either way. On failure, `bad` is the value's text.
  bool count(std::int64_t& v, Span& bad) {
    std::size_t i = at_;
    if (read_digits(s_, i, v) && at_end(i)) {
      at_ = i + 1;
      return true;
    }
    bad = value();
    return false;
  }
  bool decimal(double& v, Span& bad) {
    std::size_t i = at_;
    if (read_decimal(s_, i, v) && at_end(i)) {
      at_ = i + 1;
      return true;
    }
    bad = value();
    return to_double(bad.text, v);
  }

 private:
  // A field ends at i: the separator, or blanks to the end of the line.
  bool at_end(std::size_t i) const {
    const std::size_t n = s_.size();
    if (i < n && s_[i] == sep_) return i + 1 == n || s_[i + 1] == ' ';
    while (i < n && (s_[i] == ' ' || s_[i] == '\r')) ++i;
    return i == n;
  }
  std::size_t value_end(std::size_t from) const {
    const std::size_t n = s_.size();
    for (std::size_t i = from; i < n; ++i)
      if (s_[i] == sep_ && (i + 1 == n || s_[i + 1] == ' ')) return i;
    return n;
  }

  std::string_view s_;
  std::size_t at_;
  char sep_;
};

// "key<sep>value" split at the first `sep` (": " or " = "); false if there is none.
bool split_key_value(Span piece, std::string_view sep, Span& key, Span& value);

// Space at either end removed (blanks, tabs, carriage returns).
Span trim(Span s);


// ---------------------------------------------------------------------------------------------
// Clocks. Every time is in seconds on the log's own clock: seconds since 1970-01-01 00:00:00
// (no time zone) when the log gives a full date; otherwise see MonthDayClock and
// TimeOfDayClock.

// Days from 1970-01-01 to the given civil date (proleptic Gregorian calendar).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
// The civil date of a day count from 1970-01-01 (the inverse).
void civil_from_days(std::int64_t days, std::int64_t& year, unsigned& month, unsigned& day);

// "HH:MM:SS" (optionally followed by ".ffffff" or ",fff") at the start of `s`: seconds of the
// day, and how many bytes were read.
std::optional<double> parse_time_of_day(std::string_view s, std::size_t* used = nullptr);
// "YYYY-MM-DD HH:MM:SS" (or 'T' between), at the start of `s`: seconds since 1970.
std::optional<double> parse_iso_date_time(std::string_view s, std::size_t* used = nullptr);
// "MM-DD-YYYY HH:MM:SS" or "MM/DD/YYYY-HH:MM:SS" (TensorRT-LLM), at the start of `s`.
std::optional<double> parse_us_date_time(std::string_view s, std::size_t* used = nullptr);

// "MM-DD HH:MM:SS" (vLLM, which logs no year): seconds since January 1 of a leap year, so
// that February 29 is a day like another. A log that runs over new year's eve goes on counting
// (a step back of more than half a year is taken as a new year).
class MonthDayClock {
 public:
  std::optional<double> parse(std::string_view s, std::size_t* used = nullptr);

 private:
  double year_offset_ = 0;
  std::optional<double> last_;
};

// A time of day with no date (older SGLang "[16:43:29 TP0]"): seconds since the first
// midnight of the log, counting on past later midnights (a step back of more than twelve
// hours is taken as a new day).
class TimeOfDayClock {
 public:
  double place(double seconds_of_day);

 private:
  double day_offset_ = 0;
  std::optional<double> last_;
};

}  // namespace batchproof::traces::text
