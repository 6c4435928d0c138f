// Shared by the readers in traces/ (internal): how malformed records are reported, and
// resetting a record that the caller hands back for reuse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/source.hpp"
#include "traces/reader.hpp"
#include "traces/record.hpp"

namespace batchproof::traces {

// Lenient per record, as core's readers are per line: every malformed record is counted, the
// first kMaxReported are reported with file:line:col and the line for the caret, the rest are
// summed up in one error at the end ("... and N more malformed lines").
class MalformedRecords {
 public:
  static constexpr std::int64_t kMaxReported = 10;

  MalformedRecords(core::Diagnostics& diags, std::string path, std::string_view noun = "line")
      : diags_(diags), path_(std::move(path)), noun_(noun) {}

  // The next one will only be counted: a reader need not build its message.
  bool quiet() const { return count_ >= kMaxReported; }
  // Counts one; reports it while not quiet(). `source_line` is the text of line `line` (for
  // the caret; cut to a window around `col`), or empty.
  void add(std::int64_t line, std::int64_t col, std::string message, std::string_view source_line);
  // Counts one whose diagnostic was made elsewhere (core's reader): kept while not quiet().
  void add(core::Diagnostic diagnostic);
  // The summary of those left out; once, at the end of the input.
  void finish();
  std::int64_t count() const { return count_; }

 private:
  core::Diagnostics& diags_;
  std::string path_;
  std::string_view noun_;
  std::int64_t count_ = 0;
  core::SourceLoc first_omitted_;
  bool finished_ = false;
};

// A location for core::SourceLoc, whose line and column are int: clamped.
int clamp_int(std::int64_t v);

// The part of a (maybe very long) source line worth keeping for the caret under `col`: the
// whole line when short; else the line cut after the column (core shows a window around it).
std::string kept_line(std::string_view line, std::int64_t col);

// A size for a message: "64 MiB", "512 KiB", "100 bytes".
std::string size_text(std::size_t bytes);

// Where the JSON of a log opens in its head: the offset of its first '{' or '[' ('[' only
// before an object or the end: "[2026-04-05 ...]" opens a text log). None, with a located
// diagnostic ("<not_this>: the input is empty / binary / expected JSON (<expected>), found
// ..."), when the input is empty, unreadable, binary or not JSON.
std::optional<std::size_t> json_opening(Input& input, std::string_view not_this, std::string_view expected,
                                        core::Diagnostics& diags);

// Empties `record` for the next one, keeping the capacity of its vectors.
void reset_record(Iteration& record);

// Seconds since 1970-01-01 00:00:00 (of whatever zone the log writes) of a date and time
// "YYYY-MM-DD HH:MM:SS[.ffffff]" or TensorRT-LLM's "MM-DD-YYYY HH:MM:SS[.ffffff]"; none if the
// text is neither.
std::optional<double> parse_date_time(std::string_view text);

}  // namespace batchproof::traces
