// Chrome traces of the simulators (TRACE-FORMATS.md §4, §5): one complete event ("ph": "X") per
// batch stage, ts and dur in µs, pid the replica, tid the pipeline stage.
//   Vidur: {"traceEvents": [...]} written by json.dump on one line; args {batch_id, batch_size,
//   request_ids, num_tokens}: num_tokens[i] is what request_ids[i] gets in this batch.
//   Sarathi-Serve: a bare JSON list; args {batch_size, request_ids (strings of digits),
//   num_batched_tokens, num_batched_prompt_tokens, num_batched_output_tokens,
//   prompt_chunk_lens}; tid "scheduler" events time the scheduling step, not a batch.
// Either shape is read by either reader, and an event is read by its args: prompt_chunk_lens
// (Sarathi-Serve) or num_tokens (Vidur). An event exactly as the simulators write it is read
// without a parser (traces/chrome_canonical.hpp); any other goes through simdjson; both give
// a ChromeEvent, which makes the record.
//
// Normalised records: one per batch, in the order of the file; stream "replica <pid>";
// index: Vidur's batch_id (Sarathi-Serve logs none); start and duration from ts and dur.
// Pipeline stages: a batch passes every stage, and its stage-0 event (tid 0) stands for it;
// the events of later stages are skipped (a note says how many).
// Items: Sarathi-Serve says it exactly (prompt_chunk_lens[i] prompt tokens, or a decode when
// 0). Vidur does not say which tokens are prompt: a request's first batch and any batch giving
// it more than one token are prompt work, a later single token a decode (a last prompt chunk
// of exactly one token is taken for a decode).
#include <array>
#include <charconv>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"
#include "traces/chrome_canonical.hpp"
#include "traces/json_stream.hpp"
#include "traces/json_values.hpp"
#include "traces/reader_support.hpp"
#include "traces/readers.hpp"

namespace batchproof::traces {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr std::int64_t kDenseIds = std::int64_t{1} << 28;  // ids below: a bit each

// Requests that have had a batch before (Vidur's items need it): a bit each for ids below
// kDenseIds, a set for the others.
class SeenRequests {
 public:
  // Whether `id` was seen before; marks it seen.
  bool check_and_mark(std::int64_t id) {
    const auto k = static_cast<std::uint64_t>(id);  // a negative id is past the bits
    if (k < bits_) {
      std::uint64_t& word = words_[k / 64];
      const std::uint64_t bit = std::uint64_t{1} << (k % 64);
      const bool seen = (word & bit) != 0;
      word |= bit;
      return seen;
    }
    if (id >= 0 && id < kDenseIds) {
      words_.resize(std::max<std::size_t>(static_cast<std::size_t>(k / 64) + 1, words_.size() * 2));
      bits_ = 64 * static_cast<std::uint64_t>(words_.size());
      return check_and_mark(id);
    }
    return !sparse_.insert(id).second;
  }

 private:
  std::vector<std::uint64_t> words_;
  std::uint64_t bits_ = 0;  // 64 * words_.size()
  std::unordered_set<std::int64_t> sparse_;
};

enum EventKey : std::size_t { kPh, kTs, kDur, kPid, kTid, kArgs };
constexpr std::array<std::string_view, 6> kEventKeys{"ph", "ts", "dur", "pid", "tid", "args"};
enum ArgsKey : std::size_t { kRequestIds, kNumTokens, kPromptChunkLens, kBatchId };
constexpr std::array<std::string_view, 4> kArgsKeys{"request_ids", "num_tokens", "prompt_chunk_lens", "batch_id"};

class ChromeTraceReader final : public RecordReader {
 public:
  ChromeTraceReader(Format format, std::unique_ptr<Input> input)
      : RecordReader(format),
        input_(std::move(input)),
        records_(*input_, input_->max_line()),  // the input's line cap, for records too
        bad_(diags_, input_->path(), "event"),
        not_this_(format == Format::VidurChrome ? "not a Vidur chrome trace" : "not a Sarathi-Serve chrome trace") {
    // Events as the simulators write them are read where they lie, without a scan for their
    // end first (most of the work on a large trace).
    records_.set_quick([this](std::string_view rest) { return canonical_event_length(rest, event_); });
  }

  bool next(Iteration& record) override {
    if (fatal_ || done_) return false;
    if (!started_) {
      started_ = true;
      if (!start()) {
        fatal_ = true;
        return false;
      }
    }
    while (records_.next(json_)) {
      reset_record(record);
      const Outcome outcome = read(record);
      malformed_ = bad_.count();
      if (fatal_) return false;
      first_ = false;
      if (outcome == Outcome::Record) {
        ++batches_;
        return true;
      }
    }
    finish();
    return false;
  }

 private:
  enum class Outcome { Record, Skip };

  bool start() {
    const std::optional<std::size_t> opening =
        json_opening(*input_, not_this_, "{\"traceEvents\": [...]} or a list of events", diags_);
    if (!opening) return false;
    const auto shape = input_->head()[*opening] == '{' ? JsonRecords::Shape::Member : JsonRecords::Shape::Arrays;
    if (!records_.open(shape, "traceEvents")) {
      diags_.error({input_->path(), clamp_int(records_.problem_line()), clamp_int(records_.problem_col())},
                   fmt::format("{}: {}", not_this_, records_.problem()));
      return false;
    }
    return true;
  }

  Outcome bad(std::size_t offset, std::string message) {
    const TextPosition at = position_in(json_, offset);
    if (first_) {
      diags_.error({input_->path(), clamp_int(at.line), clamp_int(at.col)}, fmt::format("{}: {}", not_this_, message),
                   record_source_line(json_, offset));
      fatal_ = true;
      return Outcome::Skip;
    }
    bad_.add(at.line, at.col, std::move(message), record_source_line(json_, offset));
    return Outcome::Skip;
  }

  Outcome bad_value(std::string_view path, std::string_view key, std::size_t parent, std::string_view what, element v) {
    return bad(json::member_offset(json_.text, key, parent),
               fmt::format("{}{}: expected {}, found {}", path, key, what, json::shown(v)));
  }

  // A request id: a whole number, or a string of one (Sarathi-Serve's sequence ids).
  static bool request_id(element v, std::int64_t& out) {
    if (v.type() == element_type::STRING)
      return core::whole_from_text(v.get_string().value_unsafe(), out) == core::WholeNumber::Ok;
    return json::whole(v, out) == core::WholeNumber::Ok;
  }

  Outcome read(Iteration& r) {
    if (!json_.problem.empty()) return bad(0, json_.problem);
    if (json_.too_long) return bad(0, fmt::format("event longer than {}, skipped", size_text(input_->max_line())));
    // The simulators' own form first, without a parser (read already when the events come in
    // an array); then simdjson.
    if (json_.parsed || read_canonical_event(json_.text, event_)) return to_record(event_, r);
    element root;
    if (auto err = parser_.parse(json_.text.data(), json_.text.size(), false).get(root)) {
      if (json_.cut) return bad(json_.text.size(), "truncated event: the input ends in the middle of this event");
      return bad(0, fmt::format("malformed JSON: {}", simdjson::error_message(err)));
    }
    if (root.type() != element_type::OBJECT) return bad(0, fmt::format("expected a JSON object, found {}", json::shown(root)));
    json::Members<kEventKeys.size()> e;
    json::collect(root, kEventKeys, e);
    if (!e.seen[kPh]) {
      if (first_) return bad(0, "the first event has no \"ph\" (a chrome trace event has \"ph\", \"ts\", \"pid\", \"tid\")");
      return bad(0, "missing field \"ph\"");
    }
    std::string_view phase;
    if (e.value[kPh].get_string().get(phase)) return bad_value("", "ph", 0, "a string", e.value[kPh]);
    if (phase != "X") return Outcome::Skip;  // metadata, instants, counters: not batches
    ChromeEvent& ev = event_;
    ev.scheduler = false;
    ev.stage = 0;
    if (e.seen[kTid]) {
      const element tid = e.value[kTid];
      std::string_view name;
      if (!tid.get_string().get(name)) {
        ev.scheduler = name == "scheduler";
        if (!ev.scheduler && core::whole_from_text(name, ev.stage) != core::WholeNumber::Ok)
          return bad_value("", "tid", 0, "a pipeline stage", tid);
      } else if (json::whole(tid, ev.stage) != core::WholeNumber::Ok) {
        return bad_value("", "tid", 0, "a pipeline stage", tid);
      }
    }
    // Events that stand for no batch are skipped before their other members are looked at.
    if (ev.scheduler || ev.stage != 0) return to_record(ev, r);
    if (!e.seen[kTs]) return bad(0, "missing field \"ts\"");
    if (!json::finite(e.value[kTs], ev.ts_us)) return bad_value("", "ts", 0, "a time in µs", e.value[kTs]);
    if (!e.seen[kDur]) return bad(0, "missing field \"dur\"");
    if (!json::finite(e.value[kDur], ev.dur_us) || ev.dur_us < 0)
      return bad_value("", "dur", 0, "a non-negative duration in µs", e.value[kDur]);
    ev.pid.reset();
    ev.pid_text.clear();
    if (e.seen[kPid]) {
      const element pid = e.value[kPid];
      std::string_view name;
      std::int64_t replica = 0;
      if (!pid.get_string().get(name))
        ev.pid_text = core::printable(name);
      else if (json::whole(pid, replica) == core::WholeNumber::Ok)
        ev.pid = replica;
      else
        return bad_value("", "pid", 0, "a replica id", pid);
    }
    if (!e.seen[kArgs]) return bad(0, "missing field \"args\"");
    json::Members<kArgsKeys.size()> a;
    if (!json::collect(e.value[kArgs], kArgsKeys, a)) return bad_value("", "args", 0, "an object", e.value[kArgs]);
    // Where args is, for a message about it (worked out only then).
    const auto at_args = [this] { return json::member_offset(json_.text, "args"); };
    if (!a.seen[kRequestIds]) return bad(at_args(), "args: missing field \"request_ids\"");
    array ids;
    if (a.value[kRequestIds].get_array().get(ids))
      return bad_value("args.", "request_ids", at_args(), "an array", a.value[kRequestIds]);
    ev.sarathi = a.seen[kPromptChunkLens];
    if (!ev.sarathi && !a.seen[kNumTokens])
      return bad(at_args(), format() == Format::SarathiChrome ? "args: missing field \"prompt_chunk_lens\""
                                                             : "args: missing field \"num_tokens\"");
    const std::string_view per_key = ev.sarathi ? "prompt_chunk_lens" : "num_tokens";
    const element per_request = a.value[ev.sarathi ? kPromptChunkLens : kNumTokens];
    array counts;
    if (per_request.get_array().get(counts)) return bad_value("args.", per_key, at_args(), "an array", per_request);
    if (counts.size() != ids.size())
      return bad(json::member_offset(json_.text, per_key, at_args()),
                 fmt::format("args.{}: {} entries for {} request_ids", per_key, counts.size(), ids.size()));
    ev.batch_id.reset();
    if (a.seen[kBatchId]) {
      const element batch_id = a.value[kBatchId];
      std::int64_t index = 0;
      if (json::whole(batch_id, index) != core::WholeNumber::Ok || index < 0)
        return bad_value("args.", "batch_id", at_args(), "a non-negative whole number", batch_id);
      ev.batch_id = index;
    }
    ev.ids.clear();
    ev.counts.clear();
    std::size_t k = 0;
    for (element id_value : ids) {
      std::int64_t id = 0;
      if (!request_id(id_value, id))
        return bad(json::member_offset(json_.text, "request_ids", at_args()),
                   fmt::format("args.request_ids[{}]: expected a request id (a whole number), found {}", k,
                               json::shown(id_value)));
      ev.ids.push_back(id);
      ++k;
    }
    k = 0;
    for (element n_value : counts) {
      std::int64_t n = 0;
      if (!json::whole_at_least(n_value, n, 0))
        return bad(json::member_offset(json_.text, per_key, at_args()),
                   fmt::format("args.{}[{}]: expected a non-negative whole number, found {}", per_key, k,
                               json::shown(n_value)));
      ev.counts.push_back(n);
      ++k;
    }
    return to_record(ev, r);
  }

  // The record of a batch event (or a skip, for the events of later stages and the scheduler).
  Outcome to_record(const ChromeEvent& ev, Iteration& r) {
    if (ev.scheduler) {
      ++scheduler_events_;
      return Outcome::Skip;
    }
    if (ev.stage != 0) {
      ++later_stages_;
      return Outcome::Skip;
    }
    r.line = json_.line;
    r.start_s = ev.ts_us / 1e6;
    r.duration_s = ev.dur_us / 1e6;
    r.index = ev.batch_id;
    if (ev.pid) {
      r.stream.assign("replica ");
      char digits[24];
      r.stream.append(digits, std::to_chars(digits, digits + sizeof digits, *ev.pid).ptr);
    } else if (!ev.pid_text.empty()) {
      r.stream.assign("replica ");
      r.stream += ev.pid_text;
    }
    r.has_items = true;
    const std::size_t n = ev.ids.size();
    r.items.resize(n);
    RequestItem* items = r.items.data();
    const std::int64_t* ids = ev.ids.data();
    const std::int64_t* counts = ev.counts.data();
    std::int64_t prefill_requests = 0, prefill_tokens = 0, decodes = 0;
    for (std::size_t k = 0; k < n; ++k) {
      RequestItem& item = items[k];
      item.id = ids[k];
      if (ev.sarathi) {
        item.prefill = counts[k];
        item.decode = counts[k] == 0;
      } else {
        item.decode = seen_.check_and_mark(ids[k]) && counts[k] == 1;
        item.prefill = item.decode ? 0 : counts[k];
      }
      prefill_requests += item.prefill > 0 ? 1 : 0;
      prefill_tokens += item.prefill;
      decodes += item.decode ? 1 : 0;
    }
    r.prefill_requests = prefill_requests;
    r.prefill_tokens = prefill_tokens;
    r.decode_requests = decodes;
    r.decode_tokens = decodes;
    return Outcome::Record;
  }

  void note(std::string message) {
    core::Diagnostic d;
    d.severity = core::Severity::Note;
    d.loc.file = input_->path();
    d.message = std::move(message);
    diags_.add(std::move(d));
  }

  void finish() {
    if (done_) return;
    done_ = true;
    if (input_->error()) {
      diags_.error({input_->path(), 0, 0}, "cannot read log: " + *input_->error());
      fatal_ = true;
    } else if (records_.unclosed()) {
      diags_.warning({input_->path(), 0, 0}, "the input ends before the event list's closing ']' (cut short?)");
    }
    if (later_stages_ > 0)
      note(fmt::format("{} event{} of pipeline stages after the first skipped: a batch passes every stage, and its "
                       "stage-0 event stands for it",
                       later_stages_, later_stages_ == 1 ? "" : "s"));
    if (scheduler_events_ > 0)
      note(fmt::format("{} scheduler event{} (tid \"scheduler\") skipped: they time the scheduling step, not a batch",
                       scheduler_events_, scheduler_events_ == 1 ? "" : "s"));
    bad_.finish();
    malformed_ = bad_.count();
    if (batches_ == 0 && !fatal_) {
      diags_.error({input_->path(), 0, 0},
                   fmt::format("{}: no batch events (\"ph\": \"X\" with args.request_ids) found", not_this_));
      fatal_ = true;
    }
  }

  std::unique_ptr<Input> input_;
  JsonRecords records_;
  MalformedRecords bad_;
  std::string_view not_this_;
  simdjson::dom::parser parser_;
  JsonRecord json_;
  SeenRequests seen_;
  ChromeEvent event_;  // reused: no allocation once its vectors have grown
  std::int64_t later_stages_ = 0;
  std::int64_t scheduler_events_ = 0;
  std::int64_t batches_ = 0;
  bool started_ = false;
  bool done_ = false;
  bool first_ = true;
};

}  // namespace

std::unique_ptr<RecordReader> make_vidur_chrome_reader(std::unique_ptr<Input> input) {
  return std::make_unique<ChromeTraceReader>(Format::VidurChrome, std::move(input));
}

std::unique_ptr<RecordReader> make_sarathi_chrome_reader(std::unique_ptr<Input> input) {
  return std::make_unique<ChromeTraceReader>(Format::SarathiChrome, std::move(input));
}

}  // namespace batchproof::traces
