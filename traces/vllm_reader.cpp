// vLLM's scheduler lines (TRACE-FORMATS.md §3.2-3.3):
//
//   (EngineCore_DP0 pid=2010410) INFO 12-22 21:44:40 [core.py:349] Iteration(515): 0 context
//       requests, 0 context tokens, 20 generation requests, 20 generation tokens, iteration
//       elapsed time: 10.99 ms                                  (V1, EngineCore, 2025-12; " (dummy)"
//       appended for a data-parallel dummy step)
//   INFO 10-08 13:00:00 [loggers.py:182] Engine 000: Iteration(1234): ..., iteration elapsed
//       time: 18.42 ms, GPU KV cache usage: 37.1%[, encoder inputs: N, encoder output embeddings: M]
//                                                              (V1, stat logger, 2026)
//   (APIServer pid=3646) INFO 05-19 10:13:11 [loggers.py:271] Engine 000: Avg prompt throughput:
//       0.0 tokens/s, Avg generation throughput: 1055.3 tokens/s, Running: 18 reqs, Waiting: 43
//       reqs, GPU KV cache usage: 95.9%, Prefix cache hit rate: 0.0%     (V1 periodic stats)
//   INFO 02-28 21:48:18 metrics.py:161] Avg prompt throughput: ..., Running: 1 reqs, Swapped: 0
//       reqs, Pending: 0 reqs, GPU KV cache usage: 0.4%, CPU KV cache usage: 0.0%.   (V0 stats)
//   WARNING ... Sequence group 7 is preempted by PreemptionMode.RECOMPUTE mode because there is
//       not enough KV cache space. ... total_num_cumulative_preemption=51      (V0)
//
// Records:
// - stream: the data-parallel rank, from "(EngineCore_DPk ...)" or "Engine 00k:": "" for rank 0
//   (and for lines that name none), "DPk" otherwise, so that a rank's EngineCore lines and its
//   stat logger's lines make one stream.
// - start_s: the line's time, one-second resolution, seconds since January 1 of a leap year
//   (vLLM logs no year; MonthDayClock). vLLM logs an iteration when it ends.
// - An Iteration line is one step: index, prefill requests/tokens = context requests/tokens
//   (requests with no output token yet), decode requests/tokens = generation requests/tokens,
//   duration = iteration elapsed time, kv usage = GPU KV cache usage. A dummy step is a step
//   with nothing in it.
// - A periodic stats line is a snapshot of the scheduler after its latest step, not a step. Its
//   Running / Waiting (V0: Pending + Swapped, both waiting for the GPU) and KV usage go to the
//   stream's latest Iteration record (held back one line for that), which is the step they
//   describe; a stale snapshot would mislead a check of every later step. With no Iteration
//   record to take it (V0 logs, V1 without --enable-logging-iteration-details, an idle engine
//   logging twice), the snapshot is a record of its own with steps = 0 and no batch.
// - Preemption warnings (V0; logged for every 50th preemption with the running total) set
//   `preempted` of the stream's next record: the growth of the total since the previous warning.
// - kv_total_tokens from the start-up line "GPU KV cache size: 2,042,016 tokens".
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "traces/readers.hpp"
#include "traces/text_log_reader.hpp"
#include "traces/text_scan.hpp"

namespace batchproof::traces {

namespace {

using text::Span;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "MM-DD HH:MM:SS" at s[at..], by its shape.
bool looks_like_month_day(std::string_view s, std::size_t at) {
  return at + 14 <= s.size() && is_digit(s[at]) && is_digit(s[at + 1]) && s[at + 2] == '-' && s[at + 5] == ' ' &&
         s[at + 8] == ':' && s[at + 11] == ':';
}

// The digits at s[at..] as a count (at most 9 of them), or nullopt.
std::optional<std::int64_t> digits_at(std::string_view s, std::size_t at) {
  std::size_t end = at;
  while (end < s.size() && end - at < 9 && is_digit(s[end])) ++end;
  std::int64_t v = 0;
  if (!text::to_count(s.substr(at, end - at), v)) return std::nullopt;
  return v;
}

class VllmReader final : public TextLogReader {
 public:
  explicit VllmReader(std::unique_ptr<Input> input) : TextLogReader(Format::Vllm, std::move(input)) {}

 private:
  struct Stream {
    std::string name;
    Iteration held;  // the latest Iteration record, until a stats line or the next step
    bool has_held = false;
    std::int64_t preempted = 0;  // since the stream's last record
    bool preempted_seen = false;
    std::int64_t last_total = 0;  // V0's total_num_cumulative_preemption at the last warning
    std::int64_t line = 0;
    std::optional<double> start_s;
  };

  Parsed parse(std::string_view line, Iteration& record) override {
    std::size_t at = iteration_anchor(line);
    if (at != std::string_view::npos) return iteration(line, at, record);
    at = text::find(line, "Avg prompt throughput: ");
    if (at != std::string_view::npos) return stats(line, at, record);
    at = text::find(line, " is preempted by PreemptionMode.");
    if (at != std::string_view::npos) return preemption(line, at);
    at = text::find(line, "GPU KV cache size: ");
    if (at != std::string_view::npos) kv_size(line.substr(at + 19));
    return Parsed::Skip;
  }

  bool drain(Iteration& record) override {
    for (Stream& s : streams_) {
      if (s.has_held) {
        std::swap(record, s.held);
        s.has_held = false;
        return true;
      }
    }
    for (Stream& s : streams_) {
      if (!s.preempted_seen) continue;
      record.stream = s.name;
      record.line = s.line;
      record.start_s = s.start_s;
      record.steps = 0;
      take_preempted(s, record);
      return true;
    }
    return false;
  }

  static std::size_t iteration_anchor(std::string_view line) {
    for (std::size_t at = 0; (at = text::find(line, "Iteration(", at)) != std::string_view::npos; ++at)
      if (at == 0 || line[at - 1] == ' ') return at;
    return std::string_view::npos;
  }

  // Time and stream from what precedes the record's text.
  Stream& prefix(std::string_view before, Iteration& record) {
    for (std::size_t at = 0; (at = before.find('-', at)) != std::string_view::npos; ++at) {
      if (at >= 2 && looks_like_month_day(before, at - 2)) {
        record.start_s = clock_.parse(before.substr(at - 2));
        break;
      }
    }
    std::optional<std::int64_t> rank;
    if (std::size_t e = text::find(before, "Engine "); e != std::string_view::npos) rank = digits_at(before, e + 7);
    if (!rank)
      if (std::size_t e = text::find(before, "EngineCore_DP"); e != std::string_view::npos) rank = digits_at(before, e + 13);
    if (rank && *rank != 0) fmt::format_to(std::back_inserter(record.stream), "DP{}", *rank);
    record.line = line_number();
    return stream(record.stream);
  }

  Stream& stream(const std::string& name) {
    for (Stream& s : streams_)
      if (s.name == name) return s;
    streams_.push_back({name});
    return streams_.back();
  }

  void take_preempted(Stream& s, Iteration& record) {
    if (!s.preempted_seen) return;
    record.preempted = s.preempted;
    s.preempted = 0;
    s.preempted_seen = false;
  }

  // Iteration(515): 0 context requests, 0 context tokens, 20 generation requests, 20 generation
  // tokens, iteration elapsed time: 10.99 ms[, GPU KV cache usage: 37.1%][, ...][ (dummy)]
  Parsed iteration(std::string_view line, std::size_t at, Iteration& record) {
    const std::size_t open = at + 10;
    const std::size_t close = line.find(')', open);
    std::int64_t index = 0;
    if (close == std::string_view::npos || !text::to_count(line.substr(open, close - open), index))
      return malformed(open, "Iteration(...) does not hold a whole number");
    if (line.substr(close + 1, 2) != ": ") return malformed(close + 1, "expected ': ' after Iteration(...)");
    Span body{line.substr(close + 3), close + 3};
    if (body.text.size() >= 8 && body.text.substr(body.text.size() - 8) == " (dummy)") body.text.remove_suffix(8);
    record.index = index;
    text::Splitter pieces(body, ", ");
    Span piece;
    while (pieces.next(piece)) {
      Span key, value;
      if (text::split_key_value(piece, ": ", key, value)) {
        if (key.text == "iteration elapsed time") {
          double ms = 0;
          if (!text::to_double_with_unit(value.text, "ms", ms) || ms < 0)
            return malformed(value.pos, "'iteration elapsed time' is not a time in ms");
          record.duration_s = ms / 1000.0;
        } else if (key.text == "GPU KV cache usage") {
          if (!percent(value, record)) return Parsed::Skip;
        }
        continue;
      }
      // "<count> <what>"
      const std::size_t blank = piece.text.find(' ');
      if (blank == std::string_view::npos) continue;
      const std::string_view what = piece.text.substr(blank + 1);
      std::optional<std::int64_t>* slot = nullptr;
      if (what == "context requests") slot = &record.prefill_requests;
      else if (what == "context tokens") slot = &record.prefill_tokens;
      else if (what == "generation requests") slot = &record.decode_requests;
      else if (what == "generation tokens") slot = &record.decode_tokens;
      if (!slot) continue;
      std::int64_t v = 0;
      if (!text::to_count(piece.text.substr(0, blank), v))
        return malformed(piece.pos, fmt::format("'{}': the count is not a whole number", what));
      *slot = v;
    }
    if (!record.prefill_requests || !record.prefill_tokens || !record.decode_requests || !record.decode_tokens)
      return malformed(line.size(), "Iteration line without its context and generation counts");
    if (!record.duration_s) return malformed(line.size(), "Iteration line without 'iteration elapsed time'");
    record.kv_total_tokens = kv_total_;
    Stream& s = prefix(line.substr(0, at), record);
    take_preempted(s, record);
    std::swap(record, s.held);
    const bool release = s.has_held;
    s.has_held = true;
    return release ? Parsed::Record : Parsed::Skip;
  }

  bool percent(Span value, Iteration& record) {
    double pct = 0;
    if (!text::to_double_with_unit(value.text, "%", pct) || pct < 0) {
      malformed(value.pos, "'GPU KV cache usage' is not a percentage");
      return false;
    }
    record.kv_usage = pct / 100.0;
    return true;
  }

  // Avg prompt throughput: .. tokens/s, Avg generation throughput: .. tokens/s, Running: N reqs,
  // Waiting: N reqs (V0: Swapped: N reqs, Pending: N reqs), GPU KV cache usage: x%, ...
  Parsed stats(std::string_view line, std::size_t at, Iteration& record) {
    text::Splitter pieces(Span{line.substr(at), at}, ", ");
    Span piece, key, value;
    std::optional<std::int64_t> running, waiting, pending, swapped;
    std::optional<double> usage;
    while (pieces.next(piece)) {
      if (!text::split_key_value(piece, ": ", key, value)) continue;
      if (!value.text.empty() && value.text.back() == '.') value.text.remove_suffix(1);
      std::optional<std::int64_t>* slot = nullptr;
      if (key.text == "Running") slot = &running;
      else if (key.text == "Waiting") slot = &waiting;
      else if (key.text == "Pending") slot = &pending;
      else if (key.text == "Swapped") slot = &swapped;
      else if (key.text == "GPU KV cache usage") {
        Iteration scratch;
        if (!percent(value, scratch)) return Parsed::Skip;
        usage = scratch.kv_usage;
      }
      if (!slot) continue;
      std::int64_t v = 0;
      if (!text::to_count_with_unit(value.text, "reqs", v))
        return malformed(value.pos, fmt::format("'{}' is not a number of reqs", key.text));
      *slot = v;
    }
    if (!running || (!waiting && !pending)) return malformed(line.size(), "stats line without Running and Waiting");
    if (!waiting) waiting = *pending + swapped.value_or(0);
    Stream& s = prefix(line.substr(0, at), record);
    if (s.has_held) {
      std::swap(record, s.held);
      s.has_held = false;
    } else {
      record.steps = 0;
      record.kv_total_tokens = kv_total_;
      take_preempted(s, record);
    }
    record.running = running;
    record.waiting = waiting;
    if (!record.kv_usage) record.kv_usage = usage;
    return Parsed::Record;
  }

  // "... total_num_cumulative_preemption=N" (older lines have no total: one preemption each).
  Parsed preemption(std::string_view line, std::size_t at) {
    Iteration scratch;
    Stream& s = prefix(line.substr(0, at), scratch);
    std::int64_t count = 1;
    const std::size_t total_at = text::find(line, "total_num_cumulative_preemption=", at);
    if (total_at != std::string_view::npos) {
      auto total = digits_at(line, total_at + 32);
      if (!total) return malformed(total_at + 32, "total_num_cumulative_preemption is not a whole number");
      count = *total > s.last_total ? *total - s.last_total : 1;
      s.last_total = *total;
    }
    s.preempted += count;
    s.preempted_seen = true;
    s.line = line_number();
    s.start_s = scratch.start_s;
    return Parsed::Skip;
  }

  // "2,042,016 tokens"
  void kv_size(std::string_view rest) {
    std::int64_t v = 0;
    std::size_t i = 0;
    int digits = 0;
    for (; i < rest.size() && (is_digit(rest[i]) || rest[i] == ','); ++i)
      if (rest[i] != ',' && ++digits <= 15) v = v * 10 + (rest[i] - '0');
    if (digits > 15) return;
    if (i > 0 && rest.substr(i, 7) == " tokens") kv_total_ = v;
  }

  std::vector<Stream> streams_;
  text::MonthDayClock clock_;
  std::optional<std::int64_t> kv_total_;
};

}  // namespace

std::unique_ptr<RecordReader> make_vllm_reader(std::unique_ptr<Input> input) {
  return std::make_unique<VllmReader>(std::move(input));
}

}  // namespace batchproof::traces
