#include "traces/input_stream.hpp"

namespace batchproof::traces {

InputStreambuf::int_type InputStreambuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  std::string_view line;
  if (!input_.next_line(line)) return traits_type::eof();
  line_.assign(line);
  if (input_.line_terminated()) line_.push_back('\n');
  if (line_.empty()) line_.push_back('\n');  // an empty last line: nothing to lose
  setg(line_.data(), line_.data(), line_.data() + line_.size());
  return traits_type::to_int_type(*gptr());
}

}  // namespace batchproof::traces
