// TensorRT-LLM IterationStats (TRACE-FORMATS.md §1.1-1.4): the executor's JSON per iteration,
// as a JSON array (trtllm-serve's /metrics reply, saved; several replies one after the other
// too), one object a line (trtllm-bench --iteration_log, get_stats() dumped per line), or
// pretty-printed objects one after the other. An array is split element by element, so a 1 GB
// array costs the memory of one record.
//
// Every field is optional but "iter" (builds differ: older ones lack the newer counters, a
// branch has flat "scheduled..."/"queued..." keys instead of inflightBatchingStats, sub-structs
// are null when absent). What goes where in the normalised record:
//   index: iter; duration: hostStepTimeMS when logged (iterLatencyMS spans about two loops under
//   the overlap scheduler, §1.7), else iterLatencyMS; start: timestamp (the iteration's end)
//   less the duration; running: numActiveRequests; waiting: numQueuedRequests; budgets: the
//   runtime caps maxNumTokensRuntime / maxBatchSizeRuntime (the static ones when the runtime
//   ones are 0); KV: usedNumBlocks and maxNumBlocks times tokensPerBlock; batch: from
//   inflightBatchingStats (context requests and tokens, generation requests; generation tokens
//   = requests x avgNumDecodedTokensPerIter when that is above 1), else staticBatchingStats,
//   else the flat keys; preempted: numPausedRequests; stream: "DP<attentionDpRank>" when logged.
// requestStats (per-request stats merged in) become items: scheduled and paused as logged;
// the prompt tokens of an iteration are the growth of contextPrefillPosition since the
// request's last record, and a decode is a growth of numGeneratedTokens without prompt work
// (approximate: a request first seen mid-prompt counts its whole position).
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"
#include "traces/json_stream.hpp"
#include "traces/json_values.hpp"
#include "traces/reader_support.hpp"
#include "traces/readers.hpp"
#include "traces/trtllm_canonical.hpp"

namespace batchproof::traces {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr std::string_view kNotThis = "not a TensorRT-LLM IterationStats log";

enum class Field {
  Iter, Timestamp, IterLatency, HostStepTime, Active, Queued, MaxBatchRuntime, MaxBatchStatic, MaxTokensRuntime,
  MaxTokensStatic, KvCache, Inflight, Static, DpRank, RequestStats, FlatPrefillRequests, FlatPrefillTokens,
  FlatDecodeRequests, FlatQueuedPrefill, FlatQueuedPrefillTokens, FlatQueuedDecode
};

// The top-level keys read, by length then name: a record has some 30 keys, and this finds
// each in a compare or two (a hash of every key cost more than the rest of the lookup).
class FieldTable {
 public:
  FieldTable() {
    const std::pair<std::string_view, Field> fields[] = {
        {"iter", Field::Iter},
        {"timestamp", Field::Timestamp},
        {"iterLatencyMS", Field::IterLatency},
        {"hostStepTimeMS", Field::HostStepTime},
        {"numActiveRequests", Field::Active},
        {"numQueuedRequests", Field::Queued},
        {"maxBatchSizeRuntime", Field::MaxBatchRuntime},
        {"maxBatchSizeStatic", Field::MaxBatchStatic},
        {"maxNumTokensRuntime", Field::MaxTokensRuntime},
        {"maxNumTokensStatic", Field::MaxTokensStatic},
        {"kvCacheStats", Field::KvCache},
        {"inflightBatchingStats", Field::Inflight},
        {"staticBatchingStats", Field::Static},
        {"attentionDpRank", Field::DpRank},
        {"requestStats", Field::RequestStats},
        {"scheduledNumPrefillRequests", Field::FlatPrefillRequests},
        {"scheduledSumPrefillTokens", Field::FlatPrefillTokens},
        {"scheduledNumDecodeRequests", Field::FlatDecodeRequests},
        {"queuedNumPrefillRequests", Field::FlatQueuedPrefill},
        {"queuedSumPrefillTokens", Field::FlatQueuedPrefillTokens},
        {"queuedNumDecodeRequests", Field::FlatQueuedDecode},
    };
    for (const auto& f : fields) by_length_[f.first.size()].push_back(f);
  }
  std::optional<Field> find(std::string_view key) const {
    if (key.size() >= by_length_.size()) return std::nullopt;
    for (const auto& f : by_length_[key.size()])
      if (f.first == key) return f.second;
    return std::nullopt;
  }

 private:
  std::array<std::vector<std::pair<std::string_view, Field>>, 32> by_length_;
};

const FieldTable& top_level_fields() {
  static const FieldTable table;
  return table;
}

using Stats = TrtllmStats;

// A request's progress as of its last record: for the work done in this one.
struct Progress {
  std::int64_t position = 0;
  std::int64_t generated = 0;
};

class TrtllmIterationStatsReader final : public RecordReader {
 public:
  explicit TrtllmIterationStatsReader(std::unique_ptr<Input> input)
      : RecordReader(Format::TrtllmIterStats),
        input_(std::move(input)),
        records_(*input_, input_->max_line()),  // the input's line cap, for records too
        bad_(diags_, input_->path(), "record") {}

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
      const bool ok = read(record);
      malformed_ = bad_.count();
      if (fatal_) return false;
      first_ = false;
      if (ok) return true;
    }
    finish();
    return false;
  }

 private:
  bool start() {
    if (!json_opening(*input_, kNotThis, "an array of iteration records, or one object a line", diags_)) return false;
    if (!records_.open(JsonRecords::guess(input_->head()))) {
      diags_.error({input_->path(), clamp_int(records_.problem_line()), clamp_int(records_.problem_col())},
                   fmt::format("{}: {}", kNotThis, records_.problem()));
      return false;
    }
    return true;
  }

  // A malformed record (the first one decides whether the input is of this format at all).
  bool bad(std::size_t offset, std::string message) {
    const TextPosition at = position_in(json_, offset);
    if (first_) {
      diags_.error({input_->path(), clamp_int(at.line), clamp_int(at.col)}, fmt::format("{}: {}", kNotThis, message),
                   record_source_line(json_, offset));
      fatal_ = true;
      return false;
    }
    bad_.add(at.line, at.col, std::move(message), record_source_line(json_, offset));
    return false;
  }

  // Where a member is: at the top, in a sub-object, or in an element of requestStats. Its
  // name in messages and its column are worked out only for a bad value.
  struct Where {
    std::string_view parent;     // "" at the top
    std::ptrdiff_t index = -1;   // an element of the parent array
    std::string path() const {
      if (parent.empty()) return {};
      std::string p(parent);
      if (index >= 0) p += fmt::format("[{}]", index);
      return p;
    }
    std::string prefix() const { return parent.empty() ? std::string() : path() + "."; }
  };

  std::size_t offset_of(const Where& w) const {
    return w.parent.empty() ? 0 : json::member_offset(json_.text, w.parent);
  }

  bool bad_value(const Where& w, std::string_view key, std::string_view what, element v) {
    const std::size_t at = json::member_offset(json_.text, key, offset_of(w));
    return bad(at, fmt::format("{}{}: expected {}, found {}", w.prefix(), key, what, json::shown(v)));
  }

  // A count: a non-negative whole number (null: not logged).
  bool count(element v, const Where& w, std::string_view key, std::optional<std::int64_t>& out) {
    if (json::is_null(v)) return true;
    std::int64_t n = 0;
    if (!json::whole_at_least(v, n, 0)) return bad_value(w, key, "a non-negative whole number", v);
    out = n;
    return true;
  }

  bool number(element v, const Where& w, std::string_view key, std::optional<double>& out) {
    if (json::is_null(v)) return true;
    double x = 0;
    if (!json::finite(v, x) || x < 0) return bad_value(w, key, "a non-negative number", v);
    out = x;
    return true;
  }

  bool sub_object(element v, std::string_view key, object& out, bool& present) {
    present = false;
    if (json::is_null(v)) return true;
    if (v.get_object().get(out)) return bad_value({}, key, "an object or null", v);
    present = true;
    return true;
  }

  bool read(Iteration& record) {
    if (!json_.problem.empty()) return bad(0, json_.problem);
    if (json_.too_long) return bad(0, fmt::format("record longer than {}, skipped", size_text(input_->max_line())));
    // The executor's own form first: read without a DOM, the same record (trtllm_canonical.hpp).
    {
      Stats s;
      bool has_request_stats = false;
      if (canonical_.read(json_.text, s, entries_, has_request_stats)) {
        record.line = json_.line;
        fill(s, record);
        if (has_request_stats) {
          record.has_items = true;
          for (const auto& e : entries_) add_item(e, record);
          prune_if_due(record);
        }
        return true;
      }
    }
    element root;
    if (auto err = parser_.parse(json_.text.data(), json_.text.size(), false).get(root)) {
      if (json_.cut) return bad(json_.text.size(), "truncated record: the input ends in the middle of this record");
      return bad(0, fmt::format("malformed JSON: {}", simdjson::error_message(err)));
    }
    if (root.type() != element_type::OBJECT) return bad(0, fmt::format("expected a JSON object, found {}", json::shown(root)));
    Stats s;
    element request_stats;
    bool has_request_stats = false;
    const auto& fields = top_level_fields();
    const object obj = root.get_object().value_unsafe();
    for (auto field : obj) {
      const std::optional<Field> which = fields.find(field.key);
      if (!which) continue;
      const element v = field.value;
      const std::string_view key = field.key;
      bool ok = true;
      switch (*which) {
        case Field::Iter: ok = count(v, {}, key, s.iter); break;
        case Field::Timestamp: {
          if (json::is_null(v)) break;
          std::string_view text;
          std::optional<double> t;
          if (!v.get_string().get(text)) t = parse_date_time(text);
          if (!t) ok = bad_value({}, key, "a time \"MM-DD-YYYY HH:MM:SS.ffffff\"", v);
          s.end_s = t;
          break;
        }
        case Field::IterLatency: ok = number(v, {}, key, s.latency_ms); break;
        case Field::HostStepTime: ok = number(v, {}, key, s.host_step_ms); break;
        case Field::Active: ok = count(v, {}, key, s.active); break;
        case Field::Queued: ok = count(v, {}, key, s.queued); break;
        case Field::MaxBatchRuntime: ok = count(v, {}, key, s.max_batch_runtime); break;
        case Field::MaxBatchStatic: ok = count(v, {}, key, s.max_batch_static); break;
        case Field::MaxTokensRuntime: ok = count(v, {}, key, s.max_tokens_runtime); break;
        case Field::MaxTokensStatic: ok = count(v, {}, key, s.max_tokens_static); break;
        case Field::DpRank: ok = count(v, {}, key, s.dp_rank); break;
        case Field::KvCache: ok = kv_cache(v, key, s); break;
        case Field::Inflight: ok = inflight(v, key, s); break;
        case Field::Static: ok = static_batching(v, key, s); break;
        case Field::RequestStats:
          if (json::is_null(v)) break;
          if (v.type() != element_type::ARRAY) ok = bad_value({}, key, "an array or null", v);
          request_stats = v;
          has_request_stats = true;
          break;
        case Field::FlatPrefillRequests: ok = count(v, {}, key, s.flat_prefill_requests); break;
        case Field::FlatPrefillTokens: ok = count(v, {}, key, s.flat_prefill_tokens); break;
        case Field::FlatDecodeRequests: ok = count(v, {}, key, s.flat_decode_requests); break;
        case Field::FlatQueuedPrefill: ok = count(v, {}, key, s.flat_queued_prefill); break;
        case Field::FlatQueuedPrefillTokens: ok = count(v, {}, key, s.flat_queued_prefill_tokens); break;
        case Field::FlatQueuedDecode: ok = count(v, {}, key, s.flat_queued_decode); break;
      }
      if (!ok) return false;
    }
    if (!s.iter) {
      if (first_) return bad(0, "the first record has no \"iter\" (an IterationStats record has \"iter\" and \"iterLatencyMS\")");
      return bad(0, "missing field \"iter\"");
    }
    record.line = json_.line;
    fill(s, record);
    if (has_request_stats && !request_items(request_stats, record)) return false;
    return true;
  }

  bool kv_cache(element v, std::string_view key, Stats& s) {
    object obj;
    bool present = false;
    if (!sub_object(v, key, obj, present)) return false;
    if (!present) return true;
    const Where where{key};
    for (auto field : obj) {
      std::optional<std::int64_t>* out = nullptr;
      if (field.key == "maxNumBlocks") out = &s.max_blocks;
      else if (field.key == "freeNumBlocks") out = &s.free_blocks;
      else if (field.key == "usedNumBlocks") out = &s.used_blocks;
      else if (field.key == "tokensPerBlock") out = &s.tokens_per_block;
      if (out && !count(field.value, where, field.key, *out)) return false;
    }
    return true;
  }

  bool inflight(element v, std::string_view key, Stats& s) {
    object obj;
    bool present = false;
    if (!sub_object(v, key, obj, present)) return false;
    if (!present) return true;
    s.inflight = true;
    const Where where{key};
    for (auto field : obj) {
      std::optional<std::int64_t>* out = nullptr;
      if (field.key == "numContextRequests") out = &s.ctx_requests;
      else if (field.key == "numCtxTokens") out = &s.ctx_tokens;
      else if (field.key == "numGenRequests") out = &s.gen_requests;
      else if (field.key == "numPausedRequests") out = &s.paused;
      else if (field.key == "numQueuedCtxTokens") out = &s.queued_ctx_tokens;
      else if (field.key == "avgNumDecodedTokensPerIter") {
        if (!number(field.value, where, field.key, s.decoded_per_iter)) return false;
        continue;
      }
      if (out && !count(field.value, where, field.key, *out)) return false;
    }
    return true;
  }

  bool static_batching(element v, std::string_view key, Stats& s) {
    object obj;
    bool present = false;
    if (!sub_object(v, key, obj, present)) return false;
    if (!present) return true;
    s.static_batching = true;
    const Where where{key};
    for (auto field : obj) {
      std::optional<std::int64_t>* out = nullptr;
      if (field.key == "numScheduledRequests") out = &s.st_scheduled;
      else if (field.key == "numContextRequests") out = &s.st_ctx_requests;
      else if (field.key == "numCtxTokens") out = &s.st_ctx_tokens;
      else if (field.key == "numGenTokens") out = &s.st_gen_tokens;
      if (out && !count(field.value, where, field.key, *out)) return false;
    }
    return true;
  }

  static std::optional<std::int64_t> positive_or(std::optional<std::int64_t> a, std::optional<std::int64_t> b) {
    if (a && *a > 0) return a;
    if (b && *b > 0) return b;
    return std::nullopt;
  }

  void fill(const Stats& s, Iteration& r) {
    r.index = s.iter;
    const std::optional<double> ms = s.host_step_ms ? s.host_step_ms : s.latency_ms;
    if (ms) r.duration_s = *ms / 1000.0;
    if (s.end_s) r.start_s = *s.end_s - r.duration_s.value_or(0.0);
    r.running = s.active;
    r.waiting = s.queued;
    if (!r.waiting && (s.flat_queued_prefill || s.flat_queued_decode))
      r.waiting = s.flat_queued_prefill.value_or(0) + s.flat_queued_decode.value_or(0);
    r.budget_tokens = positive_or(s.max_tokens_runtime, s.max_tokens_static);
    r.budget_requests = positive_or(s.max_batch_runtime, s.max_batch_static);
    if (s.max_blocks && s.tokens_per_block) {
      r.kv_total_tokens = *s.max_blocks * *s.tokens_per_block;
      if (s.used_blocks)
        r.kv_used_tokens = *s.used_blocks * *s.tokens_per_block;
      else if (s.free_blocks)
        r.kv_used_tokens = (*s.max_blocks - *s.free_blocks) * *s.tokens_per_block;
    } else if (s.max_blocks && *s.max_blocks > 0 && s.used_blocks) {
      r.kv_usage = static_cast<double>(*s.used_blocks) / static_cast<double>(*s.max_blocks);
    }
    if (s.inflight) {
      r.prefill_requests = s.ctx_requests;
      r.prefill_tokens = s.ctx_tokens;
      r.decode_requests = s.gen_requests;
      if (s.gen_requests) {
        const double per = s.decoded_per_iter && *s.decoded_per_iter > 1 ? *s.decoded_per_iter : 1.0;
        r.decode_tokens = static_cast<std::int64_t>(std::llround(static_cast<double>(*s.gen_requests) * per));
      }
      r.preempted = s.paused;
      r.waiting_tokens = s.queued_ctx_tokens;
    } else if (s.static_batching) {
      r.prefill_requests = s.st_ctx_requests;
      r.prefill_tokens = s.st_ctx_tokens;
      r.decode_tokens = s.st_gen_tokens;
      if (s.st_scheduled && s.st_ctx_requests) r.decode_requests = *s.st_scheduled - *s.st_ctx_requests;
    } else {
      r.prefill_requests = s.flat_prefill_requests;
      r.prefill_tokens = s.flat_prefill_tokens;
      r.decode_requests = s.flat_decode_requests;
      r.decode_tokens = s.flat_decode_requests;
    }
    if (!r.waiting_tokens) r.waiting_tokens = s.flat_queued_prefill_tokens;
    if (s.dp_rank) {
      r.stream.assign("DP");
      r.stream += std::to_string(*s.dp_rank);
    }
  }

  bool request_items(element stats, Iteration& r) {
    r.has_items = true;
    std::ptrdiff_t index = 0;
    const array list = stats.get_array().value_unsafe();
    for (element x : list) {
      const Where where{"requestStats", index++};
      object obj;
      if (x.get_object().get(obj))
        return bad(offset_of(where), fmt::format("{}: expected an object, found {}", where.path(), json::shown(x)));
      std::optional<std::int64_t> id, position, generated;
      std::optional<bool> scheduled, paused;
      for (auto field : obj) {
        const element v = field.value;
        if (field.key == "id") {
          if (!count(v, where, field.key, id)) return false;
        } else if (field.key == "contextPrefillPosition") {
          if (!count(v, where, field.key, position)) return false;
        } else if (field.key == "numGeneratedTokens") {
          if (!count(v, where, field.key, generated)) return false;
        } else if (field.key == "scheduled" || field.key == "paused") {
          if (json::is_null(v)) continue;
          bool b = false;
          if (v.get_bool().get(b)) return bad_value(where, field.key, "true or false", v);
          (field.key == "scheduled" ? scheduled : paused) = b;
        }
      }
      if (!id) return bad(offset_of(where), fmt::format("{}: missing field \"id\"", where.path()));
      add_item(TrtllmRequestEntry{*id, position, generated, scheduled, paused}, r);
    }
    prune_if_due(r);
    return true;
  }

  // One element of requestStats as an item: its work since the request's last record.
  void add_item(const TrtllmRequestEntry& e, Iteration& r) {
    Progress& before = progress_[e.id];
    RequestItem item;
    item.id = e.id;
    item.scheduled = e.scheduled;
    item.paused = e.paused;
    const std::int64_t now_position = e.position.value_or(before.position);
    const std::int64_t now_generated = e.generated.value_or(before.generated);
    item.prefill = std::max<std::int64_t>(0, now_position - before.position);
    item.decode = item.prefill == 0 && now_generated > before.generated;
    before = {now_position, now_generated};
    r.items.push_back(item);
  }

  // Requests that left the engine leave no record: forget those gone for a while, so that
  // memory follows the requests in flight, not all requests ever seen.
  void prune_if_due(const Iteration& r) {
    if (progress_.size() > 4 * (r.items.size() + 1024)) prune(r);
  }

  void prune(const Iteration& r) {
    std::unordered_map<std::int64_t, Progress> kept;
    for (const auto& item : r.items) kept[item.id] = progress_[item.id];
    progress_ = std::move(kept);
  }

  void finish() {
    if (done_) return;
    done_ = true;
    if (input_->error()) {
      diags_.error({input_->path(), 0, 0}, "cannot read log: " + *input_->error());
      fatal_ = true;
    } else if (records_.unclosed()) {
      diags_.warning({input_->path(), 0, 0}, "the input ends before the array's closing ']' (cut short?)");
    }
    bad_.finish();
    malformed_ = bad_.count();
  }

  std::unique_ptr<Input> input_;
  JsonRecords records_;
  MalformedRecords bad_;
  simdjson::dom::parser parser_;
  JsonRecord json_;
  std::vector<TrtllmRequestEntry> entries_;  // the fast path's requestStats, kept for their capacity
  TrtllmCanonicalReader canonical_;          // the fast path, with the shape of the last record
  std::unordered_map<std::int64_t, Progress> progress_;
  bool started_ = false;
  bool done_ = false;
  bool first_ = true;
};

}  // namespace

std::unique_ptr<RecordReader> make_trtllm_iteration_stats_reader(std::unique_ptr<Input> input) {
  return std::make_unique<TrtllmIterationStatsReader>(std::move(input));
}

}  // namespace batchproof::traces
