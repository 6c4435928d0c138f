// The batch metrics CSV of Vidur and Sarathi-Serve (batch_metrics.csv, written by pandas when
// individual batch metrics are kept; TRACE-FORMATS.md §4.1, §5): a header row naming the
// columns ("Batch Id", batch_num_tokens, batch_num_prefill_tokens, batch_num_decode_tokens,
// batch_size, batch_execution_time in seconds, Sarathi-Serve's inter_batch_delay), in any
// order, then a row per batch. pandas writes a missing value (outer joins) as an empty cell and
// whole numbers as "12.0" when a column has one: both are read.
//
// Normalised records: index = Batch Id; prefill and decode tokens as logged; decode requests
// = decode tokens (one token each); prefill requests = batch size less those; duration =
// batch_execution_time. No start times (the file has none), no request-level detail, one
// stream (Vidur writes one file for all replicas; Sarathi-Serve one per replica directory).
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"
#include "core/line_reader.hpp"
#include "core/whole_number.hpp"
#include "traces/reader_support.hpp"
#include "traces/readers.hpp"

namespace batchproof::traces {

namespace {

constexpr std::string_view kNotThis = "not a batch metrics CSV (Vidur or Sarathi-Serve batch_metrics.csv)";

enum Column { kBatchId, kTokens, kPrefillTokens, kDecodeTokens, kBatchSize, kExecutionTime, kColumns };
constexpr std::array<std::string_view, kColumns> kColumnNames{
    "Batch Id", "batch_num_tokens", "batch_num_prefill_tokens", "batch_num_decode_tokens", "batch_size",
    "batch_execution_time"};

struct Cell {
  std::string_view text;
  std::size_t offset = 0;  // in the line
};

// Splits a CSV line; a quoted cell may hold commas ("" is a quote inside it). Quotes are left
// out of the text; cells are trimmed.
void split(std::string_view line, std::vector<Cell>& cells) {
  cells.clear();
  std::size_t i = 0;
  for (;;) {
    std::size_t start = i;
    std::size_t end = i;
    if (i < line.size() && line[i] == '"') {
      start = ++i;
      while (i < line.size() && !(line[i] == '"' && (i + 1 >= line.size() || line[i + 1] != '"'))) i += line[i] == '"' ? 2 : 1;
      end = std::min(i, line.size());
      if (i < line.size()) ++i;  // the closing quote
      while (i < line.size() && line[i] != ',') ++i;
    } else {
      while (i < line.size() && line[i] != ',') ++i;
      end = i;
    }
    const std::string_view text = core::trim(line.substr(start, end - start));
    const std::size_t offset = text.empty() ? start : static_cast<std::size_t>(text.data() - line.data());
    cells.push_back({text, offset});
    if (i >= line.size()) break;
    ++i;  // the comma
  }
}

bool missing(std::string_view text) { return text.empty() || text == "nan" || text == "NaN"; }

class VidurBatchCsvReader final : public RecordReader {
 public:
  explicit VidurBatchCsvReader(std::unique_ptr<Input> input)
      : RecordReader(Format::VidurBatchCsv), input_(std::move(input)), bad_(diags_, input_->path()) {
    columns_.fill(-1);
  }

  bool next(Iteration& record) override {
    if (fatal_ || done_) return false;
    if (!started_) {
      started_ = true;
      if (!read_header()) {
        fatal_ = true;
        return false;
      }
    }
    std::string_view line;
    while (input_->next_line(line)) {
      if (input_->line_too_long()) {
        bad_.add(input_->line_number(), 1, fmt::format("line longer than {}, skipped", size_text(input_->max_line())), line);
        malformed_ = bad_.count();
        continue;
      }
      if (core::is_blank(line)) continue;
      reset_record(record);
      const bool ok = read_row(line, record);
      malformed_ = bad_.count();
      if (ok) return true;
    }
    finish();
    return false;
  }

 private:
  bool read_header() {
    std::string_view line;
    do {
      if (!input_->next_line(line)) {
        if (input_->error())
          diags_.error({input_->path(), 0, 0}, "cannot read log: " + *input_->error());
        else
          diags_.error({input_->path(), 0, 0}, fmt::format("{}: the input is empty", kNotThis));
        return false;
      }
    } while (!input_->line_too_long() && core::is_blank(line));
    split(line, cells_);
    header_cells_ = cells_.size();
    for (std::size_t k = 0; k < cells_.size(); ++k)
      for (std::size_t c = 0; c < kColumns; ++c)
        if (cells_[k].text == kColumnNames[c]) columns_[c] = static_cast<int>(k);
    if (input_->line_too_long() || columns_[kBatchId] < 0) {
      diags_.error({input_->path(), clamp_int(input_->line_number()), 1},
                   fmt::format("{}: the header row has no \"Batch Id\" column, found {}", kNotThis, core::printable(line)),
                   kept_line(line, 1));
      return false;
    }
    return true;
  }

  // A cell of column `c`: absent (none), or a value; false after reporting a bad one.
  bool whole(std::string_view line, Column c, std::optional<std::int64_t>& out) {
    out.reset();
    if (columns_[c] < 0) return true;
    const Cell& cell = cells_[static_cast<std::size_t>(columns_[c])];
    if (missing(cell.text)) return true;
    std::int64_t n = 0;
    if (core::whole_from_text(cell.text, n) != core::WholeNumber::Ok || n < 0) {
      bad_.add(input_->line_number(), static_cast<std::int64_t>(cell.offset) + 1,
               fmt::format("{}: expected a non-negative whole number, found {}", kColumnNames[c], core::printable(cell.text)),
               line);
      return false;
    }
    out = n;
    return true;
  }

  bool seconds(std::string_view line, Column c, std::optional<double>& out) {
    out.reset();
    if (columns_[c] < 0) return true;
    const Cell& cell = cells_[static_cast<std::size_t>(columns_[c])];
    if (missing(cell.text)) return true;
    double x = 0;
    const auto [end, ec] = std::from_chars(cell.text.data(), cell.text.data() + cell.text.size(), x);
    if (ec != std::errc() || end != cell.text.data() + cell.text.size() || !std::isfinite(x) || x < 0) {
      bad_.add(input_->line_number(), static_cast<std::int64_t>(cell.offset) + 1,
               fmt::format("{}: expected a non-negative number of seconds, found {}", kColumnNames[c],
                           core::printable(cell.text)),
               line);
      return false;
    }
    out = x;
    return true;
  }

  bool read_row(std::string_view line, Iteration& r) {
    split(line, cells_);
    if (cells_.size() != header_cells_) {
      bad_.add(input_->line_number(), 1,
               fmt::format("expected {} cells as in the header row, found {}", header_cells_, cells_.size()), line);
      return false;
    }
    std::optional<std::int64_t> id, tokens, prefill, decode, size;
    std::optional<double> time;
    if (!whole(line, kBatchId, id) || !whole(line, kTokens, tokens) || !whole(line, kPrefillTokens, prefill) ||
        !whole(line, kDecodeTokens, decode) || !whole(line, kBatchSize, size) || !seconds(line, kExecutionTime, time))
      return false;
    if (!id) {
      const Cell& cell = cells_[static_cast<std::size_t>(columns_[kBatchId])];
      bad_.add(input_->line_number(), static_cast<std::int64_t>(cell.offset) + 1, "Batch Id: missing", line);
      return false;
    }
    r.line = input_->line_number();
    r.index = id;
    r.duration_s = time;
    r.prefill_tokens = prefill;
    r.decode_tokens = decode;
    if (!prefill && tokens && decode) r.prefill_tokens = *tokens - *decode;
    if (!decode && tokens && prefill) r.decode_tokens = *tokens - *prefill;
    r.decode_requests = r.decode_tokens;
    if (size && r.decode_requests) r.prefill_requests = *size - *r.decode_requests;
    return true;
  }

  void finish() {
    if (done_) return;
    done_ = true;
    if (input_->error()) {
      diags_.error({input_->path(), 0, 0}, "cannot read log: " + *input_->error());
      fatal_ = true;
    }
    bad_.finish();
    malformed_ = bad_.count();
  }

  std::unique_ptr<Input> input_;
  MalformedRecords bad_;
  std::array<int, kColumns> columns_{};
  std::size_t header_cells_ = 0;
  std::vector<Cell> cells_;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RecordReader> make_vidur_batch_csv_reader(std::unique_ptr<Input> input) {
  return std::make_unique<VidurBatchCsvReader>(std::move(input));
}

}  // namespace batchproof::traces
