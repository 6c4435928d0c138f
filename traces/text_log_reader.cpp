#include "traces/text_log_reader.hpp"

#include <algorithm>
#include <climits>
#include <utility>

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"

namespace batchproof::traces {

namespace {
int clamp_int(std::int64_t v) { return static_cast<int>(std::min<std::int64_t>(v, INT_MAX)); }
}  // namespace

TextLogReader::TextLogReader(Format format, std::unique_ptr<Input> input)
    : RecordReader(format), input_(std::move(input)) {}

void TextLogReader::clear(Iteration& r) {
  r.stream.clear();
  r.line = 0;
  r.index.reset();
  r.start_s.reset();
  r.duration_s.reset();
  r.prefill_requests.reset();
  r.prefill_tokens.reset();
  r.decode_requests.reset();
  r.decode_tokens.reset();
  r.cached_tokens.reset();
  r.running.reset();
  r.waiting.reset();
  r.waiting_tokens.reset();
  r.preempted.reset();
  r.kv_used_tokens.reset();
  r.kv_total_tokens.reset();
  r.kv_usage.reset();
  r.budget_tokens.reset();
  r.budget_requests.reset();
  r.has_items = false;
  r.items.clear();
  r.arrivals.clear();
  r.departures.clear();
  r.steps = 1;
}

bool TextLogReader::next(Iteration& record) {
  if (done_) return false;
  while (!draining_) {
    if (!input_->next_line(line_)) {
      draining_ = true;
      break;
    }
    clear(record);
    if (parse(line_, record) == Parsed::Record) {
      ++records_;
      return true;
    }
  }
  clear(record);
  if (drain(record)) {
    ++records_;
    return true;
  }
  finish();
  return false;
}

bool TextLogReader::reports_full() const { return malformed_ >= core::kMaxLineErrors; }

TextLogReader::Parsed TextLogReader::malformed(std::size_t offset, std::string_view message) {
  ++malformed_;
  const int col = clamp_int(static_cast<std::int64_t>(offset) + 1);
  core::SourceLoc loc{path(), clamp_int(line_number()), col};
  if (malformed_ <= core::kMaxLineErrors)
    diags_.error(std::move(loc), std::string(message), core::shown_line(line_, col));
  else if (malformed_ == core::kMaxLineErrors + 1)
    first_omitted_ = std::move(loc);
  return Parsed::Skip;
}

void TextLogReader::finish() {
  done_ = true;
  if (malformed_ > core::kMaxLineErrors) {
    const std::int64_t more = malformed_ - core::kMaxLineErrors;
    diags_.error(first_omitted_, fmt::format("... and {} more malformed line{}", more, more == 1 ? "" : "s"));
  }
  if (auto error = input_->error()) {
    diags_.error({path(), clamp_int(line_number() + 1), 1}, fmt::format("the input ends early: {}", *error));
    fatal_ = true;
  }
  if (records_ == 0 && !fatal_) {
    diags_.error({path(), 0, 0}, fmt::format("no {} records found", format_name(format_)));
    fatal_ = true;
  }
}

}  // namespace batchproof::traces
