#include "core/line_reader.hpp"

#include <array>
#include <istream>
#include <limits>

namespace batchproof::core {

LineRead read_line(std::istream& in, std::string& line, int& number, std::size_t max_bytes) {
  LineRead result;
  line.clear();
  if (line.capacity() > (std::size_t{16} << 20)) line.shrink_to_fit();  // after one huge line
  bool any = false;
  std::array<char, 1 << 16> buf;
  auto keep = [&](std::size_t n) {
    any = any || n > 0;
    if (result.too_long) return;
    if (line.size() + n > max_bytes) {
      result.too_long = true;
      line.clear();
      return;
    }
    line.append(buf.data(), n);
  };
  for (;;) {
    in.getline(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (in.bad()) {
      result.status = LineStatus::Error;
      return result;
    }
    if (in.eof()) {  // the input ends: what was read is an unterminated last line
      keep(n);
      break;
    }
    if (in.fail()) {  // the buffer is full and the line goes on
      keep(n);
      any = true;
      in.clear();
      continue;
    }
    keep(n - 1);  // n counts the '\n'
    any = true;
    result.terminated = true;
    break;
  }
  if (!any) return result;
  ++number;
  if (number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // a UTF-8 byte order mark
  if (!line.empty() && line.back() == '\r') line.pop_back();                       // CRLF files
  result.status = LineStatus::Line;
  return result;
}

bool LineReader::next() {
  return read_line(in_, line_, number_, std::numeric_limits<std::size_t>::max()).status == LineStatus::Line;
}

bool LineReader::next_nonblank() {
  while (next())
    if (!is_blank(line_)) return true;
  return false;
}

bool is_blank_char(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank_char(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank_char(s.back())) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view s) { return trim(s).empty(); }

}  // namespace batchproof::core
