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
// - kv_total_tokens from the start-up line "GPU KV cache size: 2,042,016 tokens"; on steps,
//   budget_tokens = max_num_batched_tokens ("Chunked prefill is enabled with
//   max_num_batched_tokens=N." or the non-default args) and budget_requests = max_num_seqs (the
//   non-default args), when the log states them.
#include <cstring>
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
  // What a record of this format holds, kept apart from Iteration so that holding a step back
  // costs a copy of a few numbers.
  struct Step {
    std::int64_t line = 0;
    std::int64_t steps = 1;
    std::optional<std::int64_t> index, prefill_requests, prefill_tokens, decode_requests, decode_tokens, running,
        waiting, preempted, kv_total, budget_tokens, budget_requests;
    std::optional<double> start_s, duration_s, kv_usage;
  };

  struct Stream {
    std::string name;
    Step held;  // the latest Iteration line's step, until a stats line or the next step
    bool has_held = false;
    std::int64_t preempted = 0;  // since the stream's last record
    bool preempted_seen = false;
    std::int64_t last_total = 0;  // V0's total_num_cumulative_preemption at the last warning
    std::int64_t line = 0;        // of the last preemption warning
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
    else if (text::find(line, "max_num_") != std::string_view::npos) limits(line);
    return Parsed::Skip;
  }

  bool drain(Iteration& record) override {
    for (Stream& s : streams_) {
      if (s.has_held) {
        s.has_held = false;
        emit(s, s.held, record);
        return true;
      }
    }
    for (Stream& s : streams_) {
      if (!s.preempted_seen) continue;
      Step tail;
      tail.line = s.line;
      tail.start_s = s.start_s;
      tail.steps = 0;
      take_preempted(s, tail);
      emit(s, tail, record);
      return true;
    }
    return false;
  }

  static void emit(const Stream& s, const Step& step, Iteration& r) {
    r.stream = s.name;
    r.line = step.line;
    r.steps = step.steps;
    r.index = step.index;
    r.start_s = step.start_s;
    r.duration_s = step.duration_s;
    r.prefill_requests = step.prefill_requests;
    r.prefill_tokens = step.prefill_tokens;
    r.decode_requests = step.decode_requests;
    r.decode_tokens = step.decode_tokens;
    r.running = step.running;
    r.waiting = step.waiting;
    r.preempted = step.preempted;
    r.kv_total_tokens = step.kv_total;
    r.kv_usage = step.kv_usage;
    r.budget_tokens = step.budget_tokens;
    r.budget_requests = step.budget_requests;
  }

  // "Iteration(" where a record's text starts: at the line's start or after a blank. Found by
  // its '(' (a line has few), then the word before it.
  static std::size_t iteration_anchor(std::string_view line) {
    for (std::size_t at = 0; (at = line.find('(', at)) != std::string_view::npos; ++at)
      if (at >= 9 && line.compare(at - 9, 9, "Iteration") == 0 && (at == 9 || line[at - 10] == ' ')) return at - 9;
    return std::string_view::npos;
  }

  // Time and stream from what precedes the record's text.
  Stream& prefix(std::string_view before, Step& step) {
    step.line = line_number();
    // Lines of the same second and process share their prefix: read it once.
    if (before == last_prefix_ && last_stream_ < streams_.size()) {
      step.start_s = last_start_;
      return streams_[last_stream_];
    }
    Stream& s = read_prefix(before, step);
    last_prefix_.assign(before);
    last_start_ = step.start_s;
    last_stream_ = static_cast<std::size_t>(&s - streams_.data());
    return s;
  }

  Stream& read_prefix(std::string_view before, Step& step) {
    for (std::size_t at = 0; (at = before.find('-', at)) != std::string_view::npos; ++at) {
      if (at >= 2 && looks_like_month_day(before, at - 2)) {
        step.start_s = clock_.parse(before.substr(at - 2));
        break;
      }
    }
    std::optional<std::int64_t> rank;
    if (std::size_t e = text::find(before, "Engine "); e != std::string_view::npos) rank = digits_at(before, e + 7);
    if (!rank)
      if (std::size_t e = text::find(before, "EngineCore_DP"); e != std::string_view::npos) rank = digits_at(before, e + 13);
    name_.clear();
    if (rank && *rank != 0) fmt::format_to(std::back_inserter(name_), "DP{}", *rank);
    for (Stream& s : streams_)
      if (s.name == name_) return s;
    streams_.push_back({name_});
    return streams_.back();
  }

  static void take_preempted(Stream& s, Step& step) {
    if (!s.preempted_seen) return;
    step.preempted = s.preempted;
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
    if (body.text.ends_with(" (dummy)")) body.text.remove_suffix(8);
    Step step;
    if (!usual_body(body.text, step)) {
      step = Step{};
      if (!any_body(body, step)) return Parsed::Skip;
    }
    if (!step.prefill_requests || !step.prefill_tokens || !step.decode_requests || !step.decode_tokens)
      return malformed(line.size(), "Iteration line without its context and generation counts");
    if (!step.duration_s) return malformed(line.size(), "Iteration line without 'iteration elapsed time'");
    step.index = index;
    step.kv_total = kv_total_;
    step.budget_tokens = budget_tokens_;
    step.budget_requests = budget_requests_;
    Stream& s = prefix(line.substr(0, at), step);
    take_preempted(s, step);
    const bool release = s.has_held;
    if (release) emit(s, s.held, record);
    s.held = step;
    s.has_held = true;
    return release ? Parsed::Record : Parsed::Skip;
  }

  // The body as vLLM writes it: "<n> context requests, <n> context tokens, <n> generation
  // requests, <n> generation tokens, iteration elapsed time: <x> ms[, GPU KV cache usage: <y>%]",
  // read in order with no search. False for anything else (any_body reads it then).
  static bool usual_body(std::string_view t, Step& step) {
    std::size_t at = 0;
    std::int64_t v[4];
    if (!text::read_digits(t, at, v[0]) || !skip(t, at, " context requests, ") || !text::read_digits(t, at, v[1]) ||
        !skip(t, at, " context tokens, ") || !text::read_digits(t, at, v[2]) || !skip(t, at, " generation requests, ") ||
        !text::read_digits(t, at, v[3]) || !skip(t, at, " generation tokens, iteration elapsed time: "))
      return false;
    double ms = 0;
    if (!text::read_decimal(t, at, ms) || !skip(t, at, " ms")) return false;
    if (at < t.size()) {
      double pct = 0;
      if (!skip(t, at, ", GPU KV cache usage: ") || !text::read_decimal(t, at, pct) || !skip(t, at, "%") ||
          at != t.size())
        return false;
      step.kv_usage = pct / 100.0;
    }
    step.prefill_requests = v[0];
    step.prefill_tokens = v[1];
    step.decode_requests = v[2];
    step.decode_tokens = v[3];
    step.duration_s = ms / 1000.0;
    return true;
  }

  // `literal` at t[at..]: moves past it.
  template <std::size_t N>
  static bool skip(std::string_view t, std::size_t& at, const char (&literal)[N]) {
    constexpr std::size_t n = N - 1;
    if (t.size() - at < n || std::memcmp(t.data() + at, literal, n) != 0) return false;
    at += n;
    return true;
  }

  // Any order, other fields between (encoder inputs, ...); false when reported.
  bool any_body(Span body, Step& step) {
    text::FieldCursor cursor(body.text, 0);
    Span key;
    while (cursor.next(key)) {
      Span value = cursor.value();
      value.pos += body.pos;
      if (!key.text.empty()) {
        if (key.text == "iteration elapsed time") {
          double ms = 0;
          if (!text::to_double_with_unit(value.text, "ms", ms) || ms < 0) {
            malformed(value.pos, "'iteration elapsed time' is not a time in ms");
            return false;
          }
          step.duration_s = ms / 1000.0;
        } else if (key.text == "GPU KV cache usage" && !percent(value, step.kv_usage)) {
          return false;
        }
        continue;
      }
      // "<count> <what>"
      const std::size_t blank = value.text.find(' ');
      if (blank == std::string_view::npos) continue;
      const std::string_view what = value.text.substr(blank + 1);
      std::optional<std::int64_t>* slot = nullptr;
      if (what == "context requests") slot = &step.prefill_requests;
      else if (what == "context tokens") slot = &step.prefill_tokens;
      else if (what == "generation requests") slot = &step.decode_requests;
      else if (what == "generation tokens") slot = &step.decode_tokens;
      if (!slot) continue;
      std::int64_t v = 0;
      if (!text::to_count(value.text.substr(0, blank), v)) {
        malformed(value.pos, fmt::format("'{}': the count is not a whole number", what));
        return false;
      }
      *slot = v;
    }
    return true;
  }

  bool percent(Span value, std::optional<double>& out) {
    double pct = 0;
    if (!text::to_double_with_unit(value.text, "%", pct) || pct < 0) {
      malformed(value.pos, "'GPU KV cache usage' is not a percentage");
      return false;
    }
    out = pct / 100.0;
    return true;
  }

  // Avg prompt throughput: .. tokens/s, Avg generation throughput: .. tokens/s, Running: N reqs,
  // Waiting: N reqs (V0: Swapped: N reqs, Pending: N reqs), GPU KV cache usage: x%, ...
  Parsed stats(std::string_view line, std::size_t at, Iteration& record) {
    text::FieldCursor cursor(line, at);
    Span key, value;
    std::optional<std::int64_t> running, waiting, pending, swapped;
    std::optional<double> usage;
    while (cursor.next(key)) {
      value = cursor.value();
      if (!value.text.empty() && value.text.back() == '.') value.text.remove_suffix(1);
      std::optional<std::int64_t>* slot = nullptr;
      if (key.text == "Running") slot = &running;
      else if (key.text == "Waiting") slot = &waiting;
      else if (key.text == "Pending") slot = &pending;
      else if (key.text == "Swapped") slot = &swapped;
      else if (key.text == "GPU KV cache usage" && !percent(value, usage)) return Parsed::Skip;
      if (!slot) continue;
      std::int64_t v = 0;
      if (!text::to_count_with_unit(value.text, "reqs", v))
        return malformed(value.pos, fmt::format("'{}' is not a number of reqs", key.text));
      *slot = v;
    }
    if (!running || (!waiting && !pending)) return malformed(line.size(), "stats line without Running and Waiting");
    if (!waiting) waiting = *pending + swapped.value_or(0);
    Step snapshot;
    Stream& s = prefix(line.substr(0, at), snapshot);
    Step& step = s.has_held ? s.held : snapshot;
    if (!s.has_held) {
      snapshot.steps = 0;
      snapshot.kv_total = kv_total_;
      take_preempted(s, snapshot);
    }
    s.has_held = false;
    step.running = running;
    step.waiting = waiting;
    if (!step.kv_usage) step.kv_usage = usage;
    emit(s, step, record);
    return Parsed::Record;
  }

  // "... total_num_cumulative_preemption=N" (older lines have no total: one preemption each).
  Parsed preemption(std::string_view line, std::size_t at) {
    Step scratch;
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
    s.line = scratch.line;
    s.start_s = scratch.start_s;
    return Parsed::Skip;
  }

  // The scheduler's limits, from "Chunked prefill is enabled with max_num_batched_tokens=8192."
  // and "non-default args: {..., 'max_num_batched_tokens': 8192, 'max_num_seqs': 256, ...}".
  void limits(std::string_view line) {
    const auto read = [&](std::string_view key, std::optional<std::int64_t>& out) {
      for (std::string_view form : {std::string_view("="), std::string_view("': ")}) {
        std::size_t at = text::find(line, key);
        if (at == std::string_view::npos || line.compare(at + key.size(), form.size(), form) != 0) continue;
        at += key.size() + form.size();
        std::int64_t v = 0;
        if (text::read_digits(line, at, v) && v > 0) out = v;
        return;
      }
    };
    read("max_num_batched_tokens", budget_tokens_);
    read("max_num_seqs", budget_requests_);
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
  std::string name_;         // scratch for a stream's name
  std::string last_prefix_;  // the last prefix read, and what it gave
  std::optional<double> last_start_;
  std::size_t last_stream_ = 0;
  text::MonthDayClock clock_;
  std::optional<std::int64_t> kv_total_, budget_tokens_, budget_requests_;
};

}  // namespace

std::unique_ptr<RecordReader> make_vllm_reader(std::unique_ptr<Input> input) {
  return std::make_unique<VllmReader>(std::move(input));
}

}  // namespace batchproof::traces
