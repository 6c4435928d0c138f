// What the readers of text logs (TensorRT-LLM PyExecutor, SGLang, vLLM) share: the loop over
// lines, a record per line that is one, malformed lines counted and reported (the first
// kMaxLineErrors with file:line:col, then a summary), unrelated lines (banners, HTTP access
// logs, warnings) skipped silently, a read error that ends the input early, and the fatal
// "no <format> records found" when the input ends without a single record.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/source.hpp"
#include "traces/reader.hpp"

namespace batchproof::traces {

class TextLogReader : public RecordReader {
 public:
  bool next(Iteration& record) final;

 protected:
  TextLogReader(Format format, std::unique_ptr<Input> input);

  enum class Parsed {
    Record,  // `record` holds a record to return
    Skip,    // not a record (unrelated, malformed and reported, or held back by the reader)
  };
  // One line, with `record` cleared (its buffers kept). The reader sets every field it knows,
  // the line number included (a record held back may come from an earlier line).
  virtual Parsed parse(std::string_view line, Iteration& record) = 0;
  // Records the reader still holds when the input ends, one a call; false when none is left.
  virtual bool drain(Iteration& /*record*/) { return false; }

  // Counts the current line as malformed and reports it (among the first few), at byte
  // `offset` of the line. Returns Skip, so that a parser can `return malformed(...)`.
  Parsed malformed(std::size_t offset, std::string_view message);
  // The next report will only be counted: a parser need not build its message.
  bool reports_full() const;

  const std::string& path() const { return input_->path(); }
  std::int64_t line_number() const { return input_->line_number(); }

  // Every field empty, every list cleared (capacity kept), steps back to 1.
  static void clear(Iteration& record);

 private:
  void finish();

  std::unique_ptr<Input> input_;
  std::string_view line_;
  int reported_ = 0;  // malformed lines counted for the report (saturates with the summary)
  core::SourceLoc first_omitted_;
  std::int64_t records_ = 0;
  bool draining_ = false;
  bool done_ = false;
};

}  // namespace batchproof::traces
