// The records of a JSON document that is not one record a line, one at a time: a top-level
// array (TensorRT-LLM's /metrics reply, Sarathi-Serve's chrome trace), an array member of a
// top-level object (Vidur's {"traceEvents": [...]}), or JSON values one after the other
// (pretty-printed JSON Lines). Only the structure is scanned here (strings, nesting); each
// record's bytes are handed out for simdjson to parse. Memory is that of the largest record,
// never of the document: Vidur writes its whole trace on one line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "traces/reader.hpp"

namespace batchproof::traces {

struct JsonRecord {
  std::string_view text;   // its bytes, followed by Input::kPadding readable bytes
  std::int64_t line = 0;   // where it starts, 1-based
  std::int64_t col = 0;
  bool cut = false;        // the input ends inside it
  bool too_long = false;   // longer than the cap: read past, `text` holds its first bytes
  bool parsed = false;     // the reader's quick parser read it (see JsonRecordStream::set_quick)
  std::string problem;     // set when the structure around it is wrong: report, do not parse
};

// Where byte `offset` of `record.text` is in the input.
struct TextPosition {
  std::int64_t line = 0;
  std::int64_t col = 0;
};
TextPosition position_in(const JsonRecord& record, std::size_t offset);

// A source line for the caret display under byte `offset` of a record: its line within the
// record; on the record's first line, after as many blanks as the bytes before the record on
// that line (those are not kept), or nothing when the record starts far to the right.
std::string record_source_line(const JsonRecord& record, std::size_t offset = 0);

class JsonRecordStream {
 public:
  enum class Shape { Array, Member, Sequence };
  enum class Next { Record, End };

  JsonRecordStream(Input& input, std::size_t max_record);

  // Moves to the first record: past '[' (Array), past '{' and the members before `key`'s array
  // (Member), or nowhere (Sequence). False when the document is not so shaped: problem() says
  // how, at problem_line():problem_col().
  bool open(Shape shape, std::string_view key = {});
  Next next(JsonRecord& record);
  // A parser of records in one exact form, tried on the bytes where a record starts (to the
  // end of the block): it returns the record's length if it read one (keeping what it read for
  // its reader), else 0. A record it reads is not scanned again (JsonRecord::parsed); it must
  // hold no line end.
  using Quick = std::function<std::size_t(std::string_view)>;
  void set_quick(Quick quick) { quick_ = std::move(quick); }
  // After End: the array was closed by ']' (false: the input ended before it).
  bool closed() const { return closed_; }
  // After an array has ended: moves into the next top-level array, if another follows (the
  // replies of successive polls saved one after the other).
  bool next_array();

  const std::string& problem() const { return problem_; }
  std::int64_t problem_line() const { return problem_line_; }
  std::int64_t problem_col() const { return problem_col_; }

 private:
  bool more();
  char peek() const { return block_[pos_]; }
  void advance();  // past one byte that is not a line end inside a record
  void skip_space();
  std::int64_t col_here() const { return base_ + static_cast<std::int64_t>(pos_) - line_start_ + 1; }
  bool fail(std::string message);
  bool read_key(std::string& key);
  // Scans one JSON value from the cursor; keeps its bytes when `keep`.
  void scan_value(JsonRecord& record, bool keep);
  struct NestState {
    int depth = 0;
    std::uint64_t in_string = 0;  // all ones: the next byte is inside a string
    std::uint64_t escaped = 0;    // 1: the next byte is escaped
  };
  std::size_t scan_nested(std::string_view text, std::size_t from, NestState& state);
  void count_lines(std::uint64_t newlines, std::size_t pos);
  void finish_value(JsonRecord& record, std::size_t start, std::size_t stop, bool spans, bool keep);
  void keep_bytes(JsonRecord& record, const char* from, const char* to, bool keep);

  Input& input_;
  std::size_t max_record_;
  Quick quick_;
  Shape shape_ = Shape::Sequence;
  std::string_view block_;
  std::size_t pos_ = 0;
  std::int64_t base_ = 0;        // offset in the input of block_[0]
  std::int64_t line_ = 1;
  std::int64_t line_start_ = 0;  // offset in the input of the current line's first byte
  bool eof_ = false;
  bool first_ = true;
  bool ended_ = false;
  bool closed_ = false;
  std::vector<char> copy_;       // a record that spans blocks, with padding after it
  std::size_t copied_ = 0;
  std::string problem_;
  std::int64_t problem_line_ = 0, problem_col_ = 0;
};

// The records of a JSON log whatever its shape: one a line (JSON Lines), top-level arrays,
// the array member `key` of the top-level object, or values one after the other.
class JsonRecords {
 public:
  enum class Shape { Lines, Arrays, Member, Sequence };

  JsonRecords(Input& input, std::size_t max_record) : input_(input), stream_(input, max_record) {}

  // The shape, from the first bytes: '[' arrays; '{' with `key` among the first bytes the
  // member; '{' ending its first line one record a line; else values one after the other.
  static Shape guess(std::string_view head, std::string_view key = {});

  // False when the document is not of that shape: problem() says how and where.
  bool open(Shape shape, std::string_view key = {});
  void set_quick(JsonRecordStream::Quick quick) { stream_.set_quick(std::move(quick)); }
  // The next record; false at the end of the input.
  bool next(JsonRecord& record);
  // The input ended inside an array, before its ']'.
  bool unclosed() const { return unclosed_; }
  Shape shape() const { return shape_; }

  const std::string& problem() const { return stream_.problem(); }
  std::int64_t problem_line() const { return stream_.problem_line(); }
  std::int64_t problem_col() const { return stream_.problem_col(); }

 private:
  bool next_record(JsonRecord& record);

  Input& input_;
  JsonRecordStream stream_;
  Shape shape_ = Shape::Lines;
  bool unclosed_ = false;
  std::vector<char> scratch_;  // a record copied, for an input that does not pad its views
};

}  // namespace batchproof::traces
