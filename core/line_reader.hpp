// Lines of a text input, as core's readers of JSON Lines and CSV files take them: numbered
// from 1, without their end ("\n", or "\r\n" from Windows) and, on the first line, without a
// UTF-8 byte order mark.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

namespace batchproof::core {

enum class LineStatus { Line, End, Error };

struct LineRead {
  LineStatus status = LineStatus::End;
  bool terminated = false;  // the line ended with '\n' (false: the input ends there)
  bool too_long = false;    // longer than the limit: read past, not held (the text is left empty)
};

// Reads the next line of `in` into `line` (reusing its buffer) and counts it in `number`. It
// reads in chunks, so that a line longer than `max_bytes` is skipped rather than held: a file
// with no line breaks cannot fill memory.
LineRead read_line(std::istream& in, std::string& line, int& number, std::size_t max_bytes);

// The lines of a whole input, read with read_line (no limit on their length), for a reader
// that keeps no more than the current line.
class LineReader {
 public:
  explicit LineReader(std::istream& in) : in_(in) {}

  // The next line; false at the end of the input or on a read error.
  bool next();
  // The next line with something on it.
  bool next_nonblank();

  std::string_view line() const { return line_; }
  int number() const { return number_; }

 private:
  std::istream& in_;
  std::string line_;
  int number_ = 0;
};

// Space within a line: ' ', '\t', '\r', '\f', '\v'.
bool is_blank_char(char c);
// `s` without the space at either end.
std::string_view trim(std::string_view s);
// Nothing but space: a line that carries no record.
bool is_blank(std::string_view s);

}  // namespace batchproof::core
