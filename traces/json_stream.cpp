#include "traces/json_stream.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"
#include "traces/json_values.hpp"

namespace batchproof::traces {

namespace {

constexpr std::size_t kShownBytes = 4096;        // of a record past the cap
constexpr std::int64_t kMaxIndentShown = 200;    // blanks put before a record for the caret

// Bytes the scanner must look at, by state; every other byte is skipped in a tight loop.
struct ByteClasses {
  std::array<bool, 256> structural{};  // outside strings
  std::array<bool, 256> in_string{};
  std::array<bool, 256> scalar_end{};
  constexpr ByteClasses() {
    for (unsigned char c : {'"', '{', '}', '[', ']', '\n'}) structural[c] = true;
    for (unsigned char c : {'"', '\\', '\n'}) in_string[c] = true;
    for (unsigned char c : {',', ']', '}', ' ', '\t', '\r', '\n', '\f', '\v'}) scalar_end[c] = true;
  }
};
constexpr ByteClasses kBytes;

inline std::size_t byte(char c) { return static_cast<unsigned char>(c); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string shown_char(char c) {
  return fmt::format("'{}'", core::printable(std::string_view(&c, 1)));
}

// Where the special bytes of 64 input bytes are, one bit a byte (bit i: byte i).
struct Masks {
  std::uint64_t quote = 0, backslash = 0, open = 0, close = 0, newline = 0;
};

#if defined(__SSE2__)
inline std::uint64_t bits16(__m128i v, char c) {
  return static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}
Masks masks_of(const char* p) {
  Masks m;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const int shift = 16 * k;
    m.quote |= bits16(v, '"') << shift;
    m.backslash |= bits16(v, '\\') << shift;
    m.open |= (bits16(v, '{') | bits16(v, '[')) << shift;
    m.close |= (bits16(v, '}') | bits16(v, ']')) << shift;
    m.newline |= bits16(v, '\n') << shift;
  }
  return m;
}
#else
Masks masks_of(const char* p) {
  Masks m;
  for (int i = 0; i < 64; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    switch (p[i]) {
      case '"': m.quote |= bit; break;
      case '\\': m.backslash |= bit; break;
      case '{':
      case '[': m.open |= bit; break;
      case '}':
      case ']': m.close |= bit; break;
      case '\n': m.newline |= bit; break;
      default: break;
    }
  }
  return m;
}
#endif

// Bit i set: the byte i is escaped by a backslash (simdjson's branchless method: the odd
// runs of backslashes escape the byte after them). `escaped_in` is 1 when the first byte is
// escaped by the last of the previous 64; `escaped_out` says the same of the byte after these.
std::uint64_t escaped_bytes(std::uint64_t backslash, std::uint64_t escaped_in, std::uint64_t& escaped_out) {
  backslash &= ~escaped_in;
  const std::uint64_t follows_escape = backslash << 1 | escaped_in;
  constexpr std::uint64_t kEvenBits = 0x5555555555555555ULL;
  const std::uint64_t odd_sequence_starts = backslash & ~kEvenBits & ~follows_escape;
  std::uint64_t sequences_starting_on_even_bits = 0;
  escaped_out = __builtin_add_overflow(odd_sequence_starts, backslash, &sequences_starting_on_even_bits) ? 1 : 0;
  const std::uint64_t invert_mask = sequences_starting_on_even_bits << 1;
  return (kEvenBits ^ invert_mask) & follows_escape;
}

// Bit i set: an odd number of the bits 0..i are set (byte i is inside a string, or its
// opening quote).
std::uint64_t prefix_xor(std::uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

}  // namespace

// Scans a nested value (an object or an array) 64 bytes at a time: the quotes that are not
// escaped give the strings (a prefix XOR), and the brackets outside them the depth. Returns
// the offset just past the value's end in `text`, or npos when `text` ends first (the state
// carries on into the next block).
std::size_t JsonRecordStream::scan_nested(std::string_view text, std::size_t from, NestState& s) {
  const char* b = text.data();
  std::size_t pos = from;
  char tail[64];
  while (pos < text.size()) {
    const std::size_t n = std::min<std::size_t>(64, text.size() - pos);
    const char* p = b + pos;
    if (n < 64) {  // the last bytes: through a copy, so as never to read past the block
      std::memset(tail, ' ', sizeof tail);
      std::memcpy(tail, p, n);
      p = tail;
    }
    Masks m = masks_of(p);
    const std::uint64_t valid = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
    std::uint64_t escaped_out = 0;
    const std::uint64_t escaped = m.backslash ? escaped_bytes(m.backslash & valid, s.escaped, escaped_out) : s.escaped;
    const std::uint64_t in_string = prefix_xor(m.quote & ~escaped & valid) ^ s.in_string;
    std::uint64_t brackets = (m.open | m.close) & ~in_string & valid;
    while (brackets != 0) {
      const int bit = __builtin_ctzll(brackets);
      const std::uint64_t mask = std::uint64_t{1} << bit;
      if (m.open & mask) {
        ++s.depth;
      } else if (--s.depth == 0) {
        count_lines(m.newline & (mask - 1), pos);
        return pos + static_cast<std::size_t>(bit) + 1;
      }
      brackets &= brackets - 1;
    }
    count_lines(m.newline & valid, pos);
    // What the next 64 bytes start with: inside a string or not, escaped or not.
    s.in_string = (in_string >> (n - 1)) & 1 ? ~std::uint64_t{0} : 0;
    s.escaped = n == 64 ? escaped_out : (escaped >> n) & 1;
    pos += n;
  }
  return std::string_view::npos;
}

void JsonRecordStream::count_lines(std::uint64_t newlines, std::size_t pos) {
  if (newlines == 0) return;
  line_ += __builtin_popcountll(newlines);
  line_start_ = base_ + static_cast<std::int64_t>(pos) + (63 - __builtin_clzll(newlines)) + 1;
}

TextPosition position_in(const JsonRecord& record, std::size_t offset) {
  offset = std::min(offset, record.text.size());
  TextPosition at{record.line, record.col + static_cast<std::int64_t>(offset)};
  const std::string_view before = record.text.substr(0, offset);
  const std::size_t last_nl = before.rfind('\n');
  if (last_nl != std::string_view::npos) {
    at.line += static_cast<std::int64_t>(std::count(before.begin(), before.end(), '\n'));
    at.col = static_cast<std::int64_t>(offset - last_nl);
  }
  return at;
}

std::string record_source_line(const JsonRecord& record, std::size_t offset) {
  offset = std::min(offset, record.text.size());
  const std::size_t nl_before = offset == 0 ? std::string_view::npos : record.text.rfind('\n', offset - 1);
  const std::size_t from = nl_before == std::string_view::npos ? 0 : nl_before + 1;
  const std::string_view rest = record.text.substr(from);
  const std::string_view text = rest.substr(0, std::min(rest.find('\n'), offset - from + kShownBytes));
  if (from > 0) return std::string(text);
  if (record.col > kMaxIndentShown) return {};
  std::string line(static_cast<std::size_t>(std::max<std::int64_t>(record.col - 1, 0)), ' ');
  line.append(text);
  return line;
}

JsonRecordStream::JsonRecordStream(Input& input, std::size_t max_record) : input_(input), max_record_(max_record) {}

bool JsonRecordStream::more() {
  if (pos_ < block_.size()) return true;
  if (eof_) return false;
  base_ += static_cast<std::int64_t>(block_.size());
  std::string_view next;
  if (!input_.next_block(next)) {
    eof_ = true;
    block_ = {};
    pos_ = 0;
    return false;
  }
  block_ = next;
  pos_ = 0;
  return true;
}

void JsonRecordStream::advance() { ++pos_; }

void JsonRecordStream::skip_space() {
  while (more()) {
    const char c = peek();
    if (c == '\n') {
      ++line_;
      line_start_ = base_ + static_cast<std::int64_t>(pos_) + 1;
    } else if (!is_space(c)) {
      return;
    }
    ++pos_;
  }
}

bool JsonRecordStream::fail(std::string message) {
  problem_ = std::move(message);
  problem_line_ = line_;
  problem_col_ = col_here();
  return false;
}

bool JsonRecordStream::read_key(std::string& key) {
  if (peek() != '"') return fail(fmt::format("expected a member name, found {}", shown_char(peek())));
  advance();
  bool escape = false;
  while (more()) {
    const char c = peek();
    advance();
    if (escape) {
      escape = false;
    } else if (c == '\\') {
      escape = true;
    } else if (c == '"') {
      return true;
    } else if (c == '\n') {
      return fail("a line end inside a member name");
    }
    if (key.size() < 256) key += c;
  }
  return fail("the input ends in the middle of a member name");
}

bool JsonRecordStream::next_array() {
  if (!ended_ || !closed_) return false;
  skip_space();
  if (!more() || peek() != '[') return false;
  advance();
  first_ = true;
  ended_ = closed_ = false;
  return true;
}

bool JsonRecordStream::open(Shape shape, std::string_view key) {
  shape_ = shape;
  if (shape == Shape::Sequence) return true;
  skip_space();
  if (!more()) return fail("the input is empty");
  if (shape == Shape::Array) {
    if (peek() != '[') return fail(fmt::format("expected a JSON array '[', found {}", shown_char(peek())));
    advance();
    return true;
  }
  if (peek() != '{') return fail(fmt::format("expected a JSON object '{{', found {}", shown_char(peek())));
  advance();
  for (;;) {
    skip_space();
    if (!more()) return fail(fmt::format("the input ends before a \"{}\" member", key));
    if (peek() == '}') return fail(fmt::format("the top-level object has no \"{}\" member", key));
    std::string name;
    if (!read_key(name)) return false;
    skip_space();
    if (!more() || peek() != ':') return fail("expected ':' after a member name");
    advance();
    skip_space();
    if (!more()) return fail("the input ends before a member's value");
    if (name == key) {
      if (peek() != '[') return fail(fmt::format("\"{}\" is not an array", key));
      advance();
      return true;
    }
    JsonRecord skipped;
    scan_value(skipped, false);
    if (skipped.cut) return fail(fmt::format("the input ends in the middle of member \"{}\"", name));
    skip_space();
    if (!more()) return fail(fmt::format("the input ends before a \"{}\" member", key));
    if (peek() == ',') {
      advance();
      continue;
    }
    if (peek() == '}') return fail(fmt::format("the top-level object has no \"{}\" member", key));
    return fail(fmt::format("expected ',' or '}}' after a member, found {}", shown_char(peek())));
  }
}

JsonRecordStream::Next JsonRecordStream::next(JsonRecord& record) {
  record.text = {};
  record.cut = record.too_long = record.parsed = false;
  record.problem.clear();
  if (ended_) return Next::End;
  skip_space();
  if (!more()) {
    ended_ = true;
    return Next::End;
  }
  if (shape_ != Shape::Sequence) {
    if (peek() == ']') {
      advance();
      ended_ = closed_ = true;
      return Next::End;
    }
    if (!first_) {
      if (peek() == ',') {
        advance();
        skip_space();
        if (!more()) {
          ended_ = true;
          return Next::End;
        }
        if (peek() == ']') {  // a trailing comma: tolerated
          advance();
          ended_ = closed_ = true;
          return Next::End;
        }
      } else {
        record.problem = fmt::format("expected ',' or ']' before this record, found {}", shown_char(peek()));
      }
    }
  }
  first_ = false;
  record.line = line_;
  record.col = col_here();
  record.parsed = false;
  if (quick_ && record.problem.empty() && peek() == '{') {
    const std::size_t n = quick_(block_.substr(pos_));
    if (n > 0) {
      record.text = block_.substr(pos_, n);
      record.parsed = true;
      pos_ += n;
      return Next::Record;
    }
  }
  scan_value(record, true);
  return Next::Record;
}

void JsonRecordStream::keep_bytes(JsonRecord& record, const char* from, const char* to, bool keep) {
  if (!keep || record.too_long) return;
  const auto n = static_cast<std::size_t>(to - from);
  if (copied_ + n > max_record_) {
    record.too_long = true;
    return;
  }
  if (copy_.size() < copied_ + n + Input::kPadding) copy_.resize(std::max(copy_.size() * 2, copied_ + n + Input::kPadding));
  std::memcpy(copy_.data() + copied_, from, n);
  copied_ += n;
}

// The value ends at `stop` of the current block: its text in place, or the copy it was
// gathered in when it spans blocks.
void JsonRecordStream::finish_value(JsonRecord& record, std::size_t start, std::size_t stop, bool spans, bool keep) {
  if (!spans) {
    record.text = block_.substr(start, stop - start);
    if (record.text.size() > max_record_) {
      record.too_long = true;
      record.text = record.text.substr(0, kShownBytes);
    }
  } else {
    keep_bytes(record, block_.data() + start, block_.data() + stop, keep);
    record.text = std::string_view(copy_.data(), std::min(copied_, record.too_long ? kShownBytes : copied_));
  }
  pos_ = stop;
}

void JsonRecordStream::scan_value(JsonRecord& record, bool keep) {
  copied_ = 0;
  bool spans = false;  // the value started in an earlier block
  int depth = 0;
  bool in_string = false;
  bool escape = false;
  const char first = peek();
  const bool scalar = first != '{' && first != '[' && first != '"';
  if (scalar && kBytes.scalar_end[byte(first)]) {  // a stray '}' or ':': one byte, so as to move on
    record.text = block_.substr(pos_, 1);
    advance();
    return;
  }
  std::size_t start = pos_;
  if (first == '{' || first == '[') {
    NestState state;
    for (;;) {
      const std::size_t stop = scan_nested(block_, pos_, state);
      if (stop != std::string_view::npos) {
        finish_value(record, start, stop, spans, keep);
        return;
      }
      keep_bytes(record, block_.data() + start, block_.data() + block_.size(), keep);
      spans = true;
      pos_ = block_.size();
      if (!more()) {
        record.cut = true;
        record.text = std::string_view(copy_.data(), std::min(copied_, record.too_long ? kShownBytes : copied_));
        return;
      }
      start = 0;
    }
  }
  for (;;) {
    const char* b = block_.data();
    const char* p = b + pos_;
    const char* end = b + block_.size();
    bool done = false;
    while (p < end && !done) {
      if (escape) {
        escape = false;
        ++p;
        continue;
      }
      if (in_string) {
        while (p < end && !kBytes.in_string[byte(*p)]) ++p;
        if (p == end) break;
        if (*p == '\\') {
          escape = true;
        } else if (*p == '\n') {  // not valid JSON, but lines are lines
          ++line_;
          line_start_ = base_ + (p - b) + 1;
        } else {
          in_string = false;
          done = depth == 0;  // a string record
        }
        ++p;
        continue;
      }
      if (scalar) {
        while (p < end && !kBytes.scalar_end[byte(*p)]) ++p;
        done = p < end;  // its end is not part of it
        break;
      }
      while (p < end && !kBytes.structural[byte(*p)]) ++p;
      if (p == end) break;
      switch (*p) {
        case '"': in_string = true; break;
        case '{':
        case '[': ++depth; break;
        case '}':
        case ']': done = --depth == 0; break;
        default:  // '\n'
          ++line_;
          line_start_ = base_ + (p - b) + 1;
      }
      ++p;
    }
    const auto stop = static_cast<std::size_t>(p - b);
    if (done) {
      finish_value(record, start, stop, spans, keep);
      return;
    }
    keep_bytes(record, b + start, end, keep);
    spans = true;
    pos_ = block_.size();
    if (!more()) {
      record.cut = !scalar;  // a number at the very end is whole
      record.text = std::string_view(copy_.data(), std::min(copied_, record.too_long ? kShownBytes : copied_));
      return;
    }
    start = 0;
  }
}

// ---------------------------------------------------------------------------------------------

JsonRecords::Shape JsonRecords::guess(std::string_view head, std::string_view key) {
  std::size_t i = 0;
  while (i < head.size() && is_space(head[i])) ++i;
  if (i < head.size() && head[i] == '[') return Shape::Arrays;
  if (!key.empty()) {
    const std::string quoted = fmt::format("\"{}\"", key);
    if (head.find(quoted) != std::string_view::npos) return Shape::Member;
  }
  std::string_view line = head.substr(i, head.find('\n', i) - i);
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  // A first line that is not a whole object (a lone '{'): pretty-printed values. A first line
  // longer than the head is taken for one record a line.
  const bool whole_line = head.find('\n', i) == std::string_view::npos || (!line.empty() && line.back() == '}');
  return whole_line ? Shape::Lines : Shape::Sequence;
}

bool JsonRecords::open(Shape shape, std::string_view key) {
  shape_ = shape;
  switch (shape) {
    case Shape::Lines: return true;
    case Shape::Arrays: return stream_.open(JsonRecordStream::Shape::Array);
    case Shape::Member: return stream_.open(JsonRecordStream::Shape::Member, key);
    case Shape::Sequence: return stream_.open(JsonRecordStream::Shape::Sequence);
  }
  return false;
}

bool JsonRecords::next(JsonRecord& record) {
  if (!next_record(record)) return false;
  if (!record.parsed) record.text = json::padded(record.text, input_.padded(), scratch_);
  return true;
}

bool JsonRecords::next_record(JsonRecord& record) {
  if (shape_ != Shape::Lines) {
    for (;;) {
      if (stream_.next(record) == JsonRecordStream::Next::Record) return true;
      if (shape_ == Shape::Arrays && stream_.next_array()) continue;
      unclosed_ = shape_ != Shape::Sequence && !stream_.closed();
      return false;
    }
  }
  std::string_view line;
  while (input_.next_line(line)) {
    std::size_t start = 0;
    while (start < line.size() && is_space(line[start])) ++start;
    if (start == line.size() && !input_.line_too_long()) continue;
    record.text = line.substr(start);
    record.line = input_.line_number();
    record.col = static_cast<std::int64_t>(start) + 1;
    record.cut = !input_.line_terminated();
    record.too_long = input_.line_too_long();
    record.parsed = false;
    record.problem.clear();
    return true;
  }
  return false;
}

}  // namespace batchproof::traces
