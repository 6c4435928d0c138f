// batchproof's own JSON Lines (docs/trace-format.md), read for the auditor. Acceptance and
// messages are those of core::TraceReader, the reader every other part of batchproof uses.
// Three paths, fastest first: an iteration line exactly as core's writer writes it is read
// directly (traces/batchproof_canonical.hpp); any other line is parsed in place by simdjson
// with core's rules checked; a line neither accepts as it stands goes to core's reader, whose
// verdict and messages count. So the readers agree by construction, and the common case runs
// at the speed of a scan.
//
// Normalised records: one per iteration; the header's limits (token budget, batch limit, KV
// capacity) on every record; a state record's requests are announced as arrivals of the next
// iteration (their progress is not carried: a replay that needs it reads the trace with core);
// preempted ids become items with scheduled = false and paused = true (or mark the batch item
// paused when the request is in the batch too).
#include <array>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "core/line_reader.hpp"
#include "core/trace_format.hpp"
#include "traces/batchproof_canonical.hpp"
#include "traces/json_values.hpp"
#include "traces/reader_support.hpp"
#include "traces/readers.hpp"
#include "traces/trace_records.hpp"

namespace batchproof::traces {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// As core's reader: a state record of a million requests is about 130 MB.
constexpr std::size_t kMaxLine = std::size_t{256} << 20;
constexpr std::string_view kMaxLineText = "256 MiB";
constexpr std::size_t kMaxUnknownTypes = 10;  // distinct unknown record types warned about

// ---------------------------------------------------------------------------------------------
// The fast path: the rules of core/trace_format.cpp (read_iteration, read_state, ...) over
// simdjson's DOM. Any doubt returns false and core decides.

bool whole_any(element v, std::int64_t& out) { return json::whole(v, out) == core::WholeNumber::Ok; }
bool whole_nonneg(element v, std::int64_t& out) { return json::whole_at_least(v, out, 0); }

// Optional members: absent or null leave the default.
bool present(const element* v) { return v != nullptr && !json::is_null(*v); }

bool flag(element v, bool& out) {
  if (v.type() == element_type::BOOL) {
    out = v.get_bool().value_unsafe();
    return true;
  }
  std::int64_t n = 0;
  if ((v.type() == element_type::INT64 || v.type() == element_type::UINT64) && whole_any(v, n) && (n == 0 || n == 1)) {
    out = n == 1;
    return true;
  }
  return false;
}

bool optional_string(const element* v) { return !present(v) || v->type() == element_type::STRING; }

using json::collect;
using json::Members;

bool ids(const element* v, std::vector<std::int64_t>& out) {
  out.clear();
  if (!present(v)) return true;
  array a;
  if (v->get_array().get(a)) return false;
  for (element x : a) {
    std::int64_t id = 0;
    if (!whole_any(x, id)) return false;
    out.push_back(id);
  }
  return true;
}

constexpr std::array<std::string_view, 9> kRequestKeys{"id",      "arrival_s", "prompt", "output", "prefilled",
                                                       "decoded", "kv_held",   "phase",  "class"};

bool request_state(element v, core::TraceRequestState& r) {
  Members<9> m;
  if (!collect(v, kRequestKeys, m)) return false;
  for (std::size_t k = 0; k < 8; ++k)
    if (!m.seen[k]) return false;
  std::string_view phase;
  if (!whole_any(m.value[0], r.id) || !json::finite(m.value[1], r.arrival_s) || !whole_nonneg(m.value[2], r.prompt) ||
      !whole_nonneg(m.value[3], r.output) || !whole_nonneg(m.value[4], r.prefilled) ||
      !whole_nonneg(m.value[5], r.decoded) || !whole_nonneg(m.value[6], r.kv_held) ||
      m.value[7].get_string().get(phase) || !optional_string(m.get(8)))
    return false;
  if (phase != "waiting" && phase != "started" && phase != "decoding") return false;
  r.admitted = phase != "waiting";
  if (r.phase() != phase) return false;  // core words this one
  r.cls.clear();
  if (present(m.get(8))) r.cls = std::string(m.value[8].get_string().value_unsafe());
  return true;
}

bool request_states(const element* v, std::vector<core::TraceRequestState>* out) {
  array a;
  if (v->get_array().get(a)) return false;
  core::TraceRequestState scratch;
  for (element x : a) {
    core::TraceRequestState& r = out ? out->emplace_back() : scratch;
    if (!request_state(x, r)) return false;
  }
  return true;
}

constexpr std::array<std::string_view, 3> kItemKeys{"id", "prefill", "decode"};
constexpr std::array<std::string_view, 5> kArrivalKeys{"id", "time_s", "prompt", "output", "class"};

bool item(element v, core::TraceItem& it) {
  // Items are most of a line: read without collect()'s generality.
  object obj;
  if (v.get_object().get(obj)) return false;
  const element* id = nullptr;
  const element* prefill = nullptr;
  const element* decode = nullptr;
  element values[3];
  for (auto field : obj) {
    if (field.key == "id") {
      values[0] = field.value;
      id = &values[0];
    } else if (field.key == "prefill") {
      values[1] = field.value;
      prefill = &values[1];
    } else if (field.key == "decode") {
      values[2] = field.value;
      decode = &values[2];
    }
  }
  it.prefill = 0;
  it.decode = false;
  return id != nullptr && whole_any(*id, it.id) && (!present(prefill) || whole_nonneg(*prefill, it.prefill)) &&
         (!present(decode) || flag(*decode, it.decode));
}

bool arrival(element v, core::TraceArrival& a) {
  Members<5> m;
  if (!collect(v, kArrivalKeys, m)) return false;
  for (std::size_t k = 0; k < 4; ++k)
    if (!m.seen[k]) return false;
  if (!whole_any(m.value[0], a.id) || !json::finite(m.value[1], a.time_s) || !whole_nonneg(m.value[2], a.prompt) ||
      !whole_nonneg(m.value[3], a.output) || !optional_string(m.get(4)))
    return false;
  a.cls.clear();
  if (present(m.get(4))) a.cls = std::string(m.value[4].get_string().value_unsafe());
  return true;
}

enum Key : std::size_t {
  kType, kIndex, kStart, kEnd, kTokens, kWaiting, kRunning, kKvUsed, kItems, kArrivals, kDepartures, kPreempted,
  kRequests, kTimeS, kKeys
};
constexpr std::array<std::string_view, kKeys> kRecordKeys{
    "type",     "index",    "start_s",    "end_s",     "tokens",   "waiting", "running",
    "kv_used",  "items",    "arrivals",   "departures", "preempted", "requests", "time_s"};

bool iteration(const Members<kKeys>& m, core::TraceIteration& it) {
  for (Key k : {kIndex, kStart, kEnd, kWaiting, kRunning, kKvUsed, kItems})
    if (!m.seen[k]) return false;
  std::int64_t tokens = 0;
  if (!whole_nonneg(m.value[kIndex], it.index) || !json::finite(m.value[kStart], it.start_s) ||
      !json::finite(m.value[kEnd], it.end_s) || (present(m.get(kTokens)) && !whole_nonneg(m.value[kTokens], tokens)) ||
      !whole_nonneg(m.value[kWaiting], it.waiting) || !whole_nonneg(m.value[kRunning], it.running) ||
      !whole_nonneg(m.value[kKvUsed], it.kv_used))
    return false;
  array items;
  if (m.value[kItems].get_array().get(items)) return false;
  it.items.clear();
  for (element x : items)
    if (!item(x, it.items.emplace_back())) return false;
  it.arrivals.clear();
  if (present(m.get(kArrivals))) {
    array arrivals;
    if (m.value[kArrivals].get_array().get(arrivals)) return false;
    for (element x : arrivals)
      if (!arrival(x, it.arrivals.emplace_back())) return false;
  }
  if (!ids(m.get(kDepartures), it.departures) || !ids(m.get(kPreempted), it.preempted)) return false;
  it.requests.reset();
  if (present(m.get(kRequests)) && !request_states(m.get(kRequests), nullptr)) return false;
  it.tokens = present(m.get(kTokens)) ? tokens : core::item_tokens(it.items);
  return true;
}

bool state(const Members<kKeys>& m, core::TraceState& s) {
  if (!m.seen[kTimeS] || !m.seen[kRequests]) return false;
  s.requests.clear();
  return json::finite(m.value[kTimeS], s.time_s) && request_states(m.get(kRequests), &s.requests);
}

// ---------------------------------------------------------------------------------------------

class BatchproofReader final : public RecordReader {
 public:
  explicit BatchproofReader(std::unique_ptr<Input> input)
      : RecordReader(Format::Batchproof), input_(std::move(input)), bad_(diags_, input_->path()) {
    input_->set_max_line(kMaxLine);
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
      const std::int64_t number = input_->line_number();
      if (input_->line_too_long()) {
        bad_.add(number, 1, fmt::format("line longer than {}, skipped", kMaxLineText), line);
        continue;
      }
      if (core::is_blank(line)) continue;
      // The writer's own lines straight into the record, without a parser; the others by
      // simdjson, then core's reader, into core's record first.
      if (read_canonical_iteration(line, record, preempted_)) {
        record.line = number;
        limits_from_header(header_, record);
        take_pending(record);
        return true;
      }
      Kind kind = fast(line);
      if (kind == Kind::Undecided) kind = slow(line, number);
      malformed_ = bad_.count();
      if (kind == Kind::Iteration) {
        to_record(number, record);
        return true;
      }
    }
    finish();
    return false;
  }

 private:
  enum class Kind { Iteration, Other, Undecided };

  bool read_header() {
    std::string_view line;
    for (;;) {
      if (!input_->next_line(line)) {
        if (input_->error())
          diags_.error({input_->path(), 0, 0}, "cannot read log: " + *input_->error());
        else
          diags_.error({input_->path(), 0, 0}, "not a batchproof trace: the input is empty");
        return false;
      }
      if (input_->line_too_long()) {
        diags_.error({input_->path(), clamp_int(input_->line_number()), 1},
                     fmt::format("not a batchproof trace: the first line is longer than {}", kMaxLineText),
                     kept_line(line, 1));
        return false;
      }
      if (!core::is_blank(line)) break;
    }
    header_line_ = std::string(line);
    std::string text = header_line_;
    if (input_->line_terminated()) text += '\n';
    std::istringstream in(text);
    core::TraceReader reader(in, input_->path());
    core::TraceRecord record;
    const bool ok = reader.next(record);
    for (core::Diagnostic d : reader.diagnostics().all()) {
      if (d.loc.line == 1) d.loc.line = clamp_int(input_->line_number());
      diags_.add(std::move(d));
    }
    if (!ok) return false;
    header_ = std::get<core::TraceHeader>(record);
    return true;
  }

  // A line not in the writer's own form, by simdjson (Undecided: core's reader decides).
  Kind fast(std::string_view line) {
    element root;
    // In place: the input's buffer keeps simdjson's padding after every line.
    line = json::padded(line, input_->padded(), scratch_);
    if (parser_.parse(line.data(), line.size(), false).get(root)) return Kind::Undecided;
    if (root.type() != element_type::OBJECT) return Kind::Undecided;
    Members<kKeys> m;
    collect(root, kRecordKeys, m);
    std::string_view type;
    if (!m.seen[kType] || m.value[kType].get_string().get(type)) return Kind::Undecided;
    if (type == "iteration") return iteration(m, iteration_) ? Kind::Iteration : Kind::Undecided;
    if (type == "state") {
      if (!state(m, state_)) return Kind::Undecided;
      take_state(state_);
      return Kind::Other;
    }
    if (type == "header") return Kind::Undecided;  // a second header: core words it
    // A type from a newer writer: core warns once per type (up to kMaxUnknownTypes), then
    // such records are skipped here.
    const std::string name(type);
    if (unknown_types_.count(name) > 0 || unknown_types_.size() >= kMaxUnknownTypes) return Kind::Other;
    unknown_types_.insert(name);
    return Kind::Undecided;
  }

  // core::TraceReader reads the header and this line: its verdict and messages count.
  Kind slow(std::string_view line, std::int64_t number) {
    std::string text = header_line_;
    text += '\n';
    text.append(line);
    if (input_->line_terminated()) text += '\n';
    std::istringstream in(text);
    core::TraceReader reader(in, input_->path());
    core::TraceRecord record;
    reader.next(record);  // the header, read before
    const bool got = reader.next(record);
    for (core::Diagnostic d : reader.diagnostics().all()) {
      if (d.loc.line != 2) continue;
      d.loc.line = clamp_int(number);
      if (d.severity == core::Severity::Error)
        bad_.add(std::move(d));
      else
        diags_.add(std::move(d));
    }
    if (!got) return Kind::Other;
    if (auto* it = std::get_if<core::TraceIteration>(&record)) {
      iteration_ = std::move(*it);
      return Kind::Iteration;
    }
    if (auto* s = std::get_if<core::TraceState>(&record)) take_state(*s);
    return Kind::Other;
  }

  void take_state(const core::TraceState& s) {
    for (const auto& r : s.requests) pending_.push_back({r.id, r.arrival_s, r.prompt, r.output, r.prefilled, r.decoded, r.cls});
  }

  void to_record(std::int64_t number, Iteration& r) {
    iteration_from_trace(iteration_, header_, number, r);
    take_pending(r);
  }

  // A state record's requests are present before this iteration: its first arrivals.
  void take_pending(Iteration& r) {
    if (!pending_.empty()) {
      r.arrivals.insert(r.arrivals.begin(), pending_.begin(), pending_.end());
      pending_.clear();
    }
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
  simdjson::dom::parser parser_;
  std::vector<char> scratch_;
  std::string header_line_;
  core::TraceHeader header_;
  core::TraceIteration iteration_;  // reused: no allocation once its vectors have grown
  std::vector<std::int64_t> preempted_;  // reused by the canonical lines' reading
  core::TraceState state_;
  std::vector<ArrivalItem> pending_;
  std::set<std::string, std::less<>> unknown_types_;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RecordReader> make_batchproof_reader(std::unique_ptr<Input> input) {
  return std::make_unique<BatchproofReader>(std::move(input));
}

}  // namespace batchproof::traces
