// INTERNAL TO CORE: shared by the arrivals readers only (core/arrivals_file.cpp, which detects
// the format, and core/arrivals_csv.cpp and core/arrivals_jsonl.cpp, which read the formats).
// Implemented in core/arrivals_reader.cpp.
//
// What the readers of every arrivals format share: where the arrivals go, how a bad line is
// reported, and the wording of messages about times and token counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/line_reader.hpp"
#include "core/source.hpp"
#include "core/whole_number.hpp"
#include "core/workload.hpp"

namespace batchproof::core {

class ArrivalsReader {
 public:
  ArrivalsReader(const std::string& path, Diagnostics& diags) : path_(path), diags_(diags) {}

  // An error about line `line` (whose text is `text`) that fails the file.
  void error(int line, int col, std::string message, std::string_view text);
  // One malformed line: reported among the first few, only counted past them.
  void malformed(int line, int col, std::string message, std::string_view text);
  // The next malformed line will only be counted: no need to make its message.
  bool quiet() const;
  // Reports the malformed lines left out.
  void finish();
  bool failed() const { return failed_; }

  // The arrivals read, in the order of the file.
  std::vector<Arrival>& arrivals() { return arrivals_; }
  // Times in the file's unit made seconds since the earliest arrival (`per_second`: 1000 for
  // milliseconds). Rebased before scaling, so that the first gap stays exact.
  void rebase(double per_second);
  // The arrivals, sorted by time (stable).
  std::vector<Arrival> take();

 private:
  const std::string& path_;
  Diagnostics& diags_;
  bool failed_ = false;
  int malformed_ = 0;
  SourceLoc first_omitted_;
  std::vector<Arrival> arrivals_;
};

// The format whose first non-blank line this is.
std::optional<TraceFormat> csv_format(std::string_view header);
std::optional<TraceFormat> jsonl_format(std::string_view first_record);

// The readers of each format. `lines` stands at the first non-blank line: the CSV header, or the
// first record.
void read_csv_arrivals(LineReader& lines, TraceFormat format, ArrivalsReader& reader);
void read_jsonl_arrivals(LineReader& lines, TraceFormat format, ArrivalsReader& reader);

// A token count is a whole number of at least 1; `length_message` says why a value is not one:
// "prompt: expected a whole number of tokens, found 'x'".
inline bool is_token_count(WholeNumber w, std::int64_t n) { return w == WholeNumber::Ok && n >= 1; }
std::string length_message(std::string_view field, WholeNumber w, const std::string& found);

// "time: expected a finite number of seconds, found ..."
enum class TimeError { None, NotNumber, NotFinite };
std::string time_message(std::string_view field, std::string_view unit, TimeError e, const std::string& found);

}  // namespace batchproof::core
