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
//
// Speed: a row as pandas writes it when no value is missing (every cell plain, whole numbers as
// digits, the duration a decimal number) is read in one pass with a canonical::Cursor, straight
// into the record, in the header's column order. Any other row (quotes, blanks, "12.0", "nan",
// empty cells, a sign, too many or too few cells, a number out of range...) goes to the general
// path below, which gives every verdict and message: the fast path only accepts what the general
// path reads to the same values, and reports nothing.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"
#include "core/line_reader.hpp"
#include "core/whole_number.hpp"
#include "traces/canonical_cursor.hpp"
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

// The values of a row, none where the column is absent or the cell empty.
struct Row {
  std::optional<std::int64_t> id, tokens, prefill, decode, size;
  std::optional<double> time;
};

// A part larger than its whole, where the record derives one from the other (a count that
// would come out negative, or past int64): the row contradicts itself. Its message, or none.
std::optional<std::string> contradiction(const Row& row) {
  if (row.tokens && row.prefill && !row.decode && *row.prefill > *row.tokens)
    return fmt::format("batch_num_prefill_tokens ({}) exceeds batch_num_tokens ({})", *row.prefill, *row.tokens);
  if (row.tokens && row.decode && !row.prefill && *row.decode > *row.tokens)
    return fmt::format("batch_num_decode_tokens ({}) exceeds batch_num_tokens ({})", *row.decode, *row.tokens);
  std::optional<std::int64_t> decodes = row.decode;
  if (!decodes && row.tokens && row.prefill) decodes = *row.tokens - *row.prefill;
  if (row.size && decodes && *decodes > *row.size)
    return fmt::format("{} decode tokens (one per decoding request) exceed batch_size ({})", *decodes, *row.size);
  return std::nullopt;
}

// The record of a row (both paths): every field this format fills, from the values as logged
// (a row without contradiction: every difference taken here is of a part within its whole).
void fill(Iteration& r, std::int64_t line, const Row& row) {
  r.line = line;
  r.index = row.id;
  r.duration_s = row.time;
  r.prefill_tokens = row.prefill;
  r.decode_tokens = row.decode;
  if (!row.prefill && row.tokens && row.decode) r.prefill_tokens = *row.tokens - *row.decode;
  if (!row.decode && row.tokens && row.prefill) r.decode_tokens = *row.tokens - *row.prefill;
  r.decode_requests = r.decode_tokens;
  if (row.size && r.decode_requests) r.prefill_requests = *row.size - *r.decode_requests;
}

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
      if (fast_row(line, record)) return true;  // nothing to report: malformed_ stands
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
    roles_.assign(header_cells_, kColumns);  // kColumns: a cell no column reads
    for (std::size_t c = 0; c < kColumns; ++c)
      if (columns_[c] >= 0) roles_[static_cast<std::size_t>(columns_[c])] = static_cast<Column>(c);
    all_columns_ = std::find(columns_.begin(), columns_.end(), -1) == columns_.end();
    if (input_->line_too_long() || columns_[kBatchId] < 0) {
      diags_.error({input_->path(), clamp_int(input_->line_number()), 1},
                   fmt::format("{}: the header row has no \"Batch Id\" column, found {}", kNotThis, core::printable(line)),
                   kept_line(line, 1));
      return false;
    }
    return true;
  }

  // A row in pandas' plain form, into `r`: header_cells_ cells, each read cell a number with
  // nothing around it (whole numbers as up to 18 digits, the seconds starting with a digit),
  // each other cell unquoted. The general path reads such cells to the same values
  // (from_chars on the same text: trimming and "nan" change nothing there). False, with `r`
  // untouched, for any other row: the general path reads it (or reports it, or skips it).
  bool fast_row(std::string_view line, Iteration& r) {
    canonical::Cursor cur(line);
    std::array<std::int64_t, kColumns> whole{};  // plain numbers, not optionals: stored once, read once
    double time = 0;
    for (std::size_t k = 0; k < roles_.size(); ++k) {
      if (k > 0 && !cur.literal(",")) return false;
      const Column c = roles_[k];
      if (c == kExecutionTime) {
        if (!plain_seconds(cur, time)) return false;
      } else if (c != kColumns) {
        if (!plain_whole(cur, whole[static_cast<std::size_t>(c)])) return false;
      } else {
        if (cur.peek('"')) return false;  // a quoted cell may hold commas
        const void* comma = std::memchr(cur.position(), ',', static_cast<std::size_t>(cur.end() - cur.position()));
        cur.advance_to(comma != nullptr ? static_cast<const char*>(comma) : cur.end());
      }
    }
    if (!cur.at_end()) return false;  // more cells, or something after a number
    if (all_columns_) {  // what fill() makes of a row with every value
      if (whole[kDecodeTokens] > whole[kBatchSize]) return false;  // a contradiction: the general path says so
      reset_record(r);
      r.line = input_->line_number();
      r.index = whole[kBatchId];
      r.duration_s = time;
      r.prefill_tokens = whole[kPrefillTokens];
      r.decode_tokens = whole[kDecodeTokens];
      r.decode_requests = whole[kDecodeTokens];
      r.prefill_requests = whole[kBatchSize] - whole[kDecodeTokens];
      return true;
    }
    Row row;
    auto value = [&](Column c) {
      return columns_[c] >= 0 ? std::optional<std::int64_t>(whole[static_cast<std::size_t>(c)]) : std::nullopt;
    };
    row.id = value(kBatchId);
    row.tokens = value(kTokens);
    row.prefill = value(kPrefillTokens);
    row.decode = value(kDecodeTokens);
    row.size = value(kBatchSize);
    if (columns_[kExecutionTime] >= 0) row.time = time;
    if (contradiction(row)) return false;  // the general path says so
    reset_record(r);
    fill(r, input_->line_number(), row);
    return true;
  }

  // Up to 18 digits (what from_chars reads to the same value, fitting an int64), ending at the
  // cell's end. Digit by digit, not a word at a time (as canonical::Cursor::integer): the cells
  // are short, and where a cell ends is then predicted, not computed from its bytes, so that the
  // cells of a row are read in parallel rather than one after the other.
  static bool plain_whole(canonical::Cursor& cur, std::int64_t& out) {
    const char* first = cur.position();
    const char* p = first;
    std::uint64_t v = 0;
    for (; p < cur.end(); ++p) {
      const unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
      if (d > 9) break;
      v = v * 10 + d;
    }
    if (p == first || p - first > 18 || (p < cur.end() && *p != ',')) return false;
    out = static_cast<std::int64_t>(v);
    cur.advance_to(p);
    return true;
  }

  // Seconds that start with a digit and end at the cell's end, as the general path reads them
  // (from_chars gives the same double: canonical::Cursor::number), the number scanned once.
  static bool plain_seconds(canonical::Cursor& cur, double& x) {
    canonical::NumberText n;
    if (!canonical::scan_number(cur.position(), cur.end(), n) || n.negative ||
        (n.end != cur.end() && *n.end != ','))
      return false;
    return cur.number(n, x);
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
    Row row;
    if (!whole(line, kBatchId, row.id) || !whole(line, kTokens, row.tokens) ||
        !whole(line, kPrefillTokens, row.prefill) || !whole(line, kDecodeTokens, row.decode) ||
        !whole(line, kBatchSize, row.size) || !seconds(line, kExecutionTime, row.time))
      return false;
    if (!row.id) {
      const Cell& cell = cells_[static_cast<std::size_t>(columns_[kBatchId])];
      bad_.add(input_->line_number(), static_cast<std::int64_t>(cell.offset) + 1, "Batch Id: missing", line);
      return false;
    }
    if (auto why = contradiction(row)) {
      bad_.add(input_->line_number(), 1, std::move(*why), line);
      return false;
    }
    fill(r, input_->line_number(), row);
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
  std::vector<Column> roles_;  // the column of each cell of a row, in the header's order
  bool all_columns_ = false;   // the header names every column
  std::vector<Cell> cells_;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RecordReader> make_vidur_batch_csv_reader(std::unique_ptr<Input> input) {
  return std::make_unique<VidurBatchCsvReader>(std::move(input));
}

}  // namespace batchproof::traces
