#include "core/trace_format.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <ostream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/detail/json_line.hpp"
#include "core/line_diagnostics.hpp"
#include "core/line_reader.hpp"
#include "core/state.hpp"

namespace batchproof::core {

namespace {

using nlohmann::json;

// The longest line read: a state record of a million requests is about 130 MB. Past this a
// line is skipped rather than held, so that a file with no line breaks cannot fill memory.
constexpr std::size_t kMaxLineBytes = std::size_t{256} << 20;
constexpr std::string_view kMaxLineText = "256 MiB";
// Distinct unknown record types warned about; the rest are skipped silently.
constexpr std::size_t kMaxUnknownTypes = 10;

constexpr std::string_view kHeaderExample = R"({"type": "header", "schema_version": 1, ...})";

// ---------------------------------------------------------------------------------------------
// Names in the file

std::string_view accounting_name(Accounting a) { return a == Accounting::Vidur ? "vidur" : "paper"; }
std::string_view budget_form_name(BudgetForm f) { return f == BudgetForm::Padded ? "padded" : "plain"; }

// ---------------------------------------------------------------------------------------------
// Writing

// Appends `s` as a JSON string. Bytes that are not valid UTF-8 become U+FFFD, so that every
// line written parses (nlohmann, like most JSON readers, rejects invalid UTF-8).
void append_string(std::string& out, const std::string& s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default: fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  out += '"';
}

void append_int(std::string& out, std::int64_t v) {
  const fmt::format_int text(v);
  out.append(text.data(), text.size());
}

// fmt's "{}" is the shortest text that reads back to the same double; JSON has no inf or nan.
void append_double(std::string& out, double v) {
  if (std::isfinite(v))
    fmt::format_to(std::back_inserter(out), "{}", v);
  else
    out += "null";
}

// ,"key":
void append_key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}

void append_ids(std::string& out, const std::vector<std::int64_t>& ids) {
  out += '[';
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    append_int(out, ids[i]);
  }
  out += ']';
}

void append_request(std::string& out, const TraceRequestState& r) {
  out += "{\"id\":";
  append_int(out, r.id);
  append_key(out, "arrival_s");
  append_double(out, r.arrival_s);
  append_key(out, "prompt");
  append_int(out, r.prompt);
  append_key(out, "output");
  append_int(out, r.output);
  append_key(out, "prefilled");
  append_int(out, r.prefilled);
  append_key(out, "decoded");
  append_int(out, r.decoded);
  append_key(out, "kv_held");
  append_int(out, r.kv_held);
  append_key(out, "phase");
  out += '"';
  out += r.phase();
  out += '"';
  if (!r.cls.empty()) {
    append_key(out, "class");
    append_string(out, r.cls);
  }
  out += '}';
}

void append_requests(std::string& out, const std::vector<TraceRequestState>& requests) {
  out += '[';
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (i > 0) out += ',';
    append_request(out, requests[i]);
  }
  out += ']';
}

// ---------------------------------------------------------------------------------------------
// Reading (core/detail/json_line.hpp: nlohmann reads a line; the line is scanned again as text
// only to point at a bad value)

enum class Bound { Any, NonNegative, Positive };

std::string_view whole_number_text(Bound bound) {
  switch (bound) {
    case Bound::Any: return "a whole number";
    case Bound::NonNegative: return "a non-negative whole number";
    case Bound::Positive: return "a positive whole number";
  }
  return "a whole number";
}

// Reads one record's members into the data types. The first problem ends the record: its
// message and the column of the value at fault are kept for the caller to report.
class RecordParser {
 public:
  explicit RecordParser(std::string_view line) : line_(line) {}

  const std::string& message() const { return message_; }
  int column() const { return col_; }

  // Reads member `key` of `obj` with `read`. An absent member is an error if `required`; an
  // absent or null optional member leaves the default. A required null reaches `read`, whose
  // "found null" says more than "missing".
  template <class F>
  bool field(const json& obj, std::string_view key, bool required, F&& read) {
    auto it = obj.find(key);
    if (it == obj.end() || (!required && it->is_null())) return required ? missing(key) : true;
    path_.push_back({key, 0, false});
    const bool ok = read(*it);
    path_.pop_back();
    return ok;
  }

  // Each element of the array `v`, read with `read`.
  template <class F>
  bool array(const json& v, F&& read) {
    if (!v.is_array()) return expected("an array", v);
    for (std::size_t i = 0; i < v.size(); ++i) {
      path_.push_back({{}, i, true});
      const bool ok = read(v[i]);
      path_.pop_back();
      if (!ok) return false;
    }
    return true;
  }

  bool object(const json& v) { return v.is_object() || expected("an object", v); }

  bool whole(const json& v, std::int64_t& out, Bound bound) {
    const WholeNumber w = whole_from_json(v, out);
    if (w == WholeNumber::OutOfRange) return value_error(fmt::format("number out of range, found {}", found(v)));
    bool ok = w == WholeNumber::Ok;
    if (ok && bound == Bound::NonNegative) ok = out >= 0;
    if (ok && bound == Bound::Positive) ok = out >= 1;
    return ok || expected(whole_number_text(bound), v);
  }

  bool optional_whole(const json& v, std::optional<std::int64_t>& out, Bound bound) {
    std::int64_t n = 0;
    if (!whole(v, n, bound)) return false;
    out = n;
    return true;
  }

  bool seconds(const json& v, double& out) { return finite_from_json(v, out) || expected("a finite number of seconds", v); }

  bool string(const json& v, std::string& out) {
    if (!v.is_string()) return expected("a string", v);
    out = v.get<std::string>();
    return true;
  }

  // A decode token: 0 or 1 (true and false too, for writers that think of it as a flag).
  bool flag(const json& v, bool& out) {
    if (v.is_boolean()) {
      out = v.get<bool>();
      return true;
    }
    if (v.is_number_integer()) {
      const auto n = v.get<std::int64_t>();
      if (n == 0 || n == 1) {
        out = n == 1;
        return true;
      }
    }
    return expected("0 or 1", v);
  }

  // One of `names` (quoted in the message as "a", "b" or "c").
  bool choice(const json& v, std::initializer_list<std::string_view> names, std::size_t& out) {
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      std::size_t k = 0;
      for (auto name : names) {
        if (s == name) {
          out = k;
          return true;
        }
        ++k;
      }
    }
    std::string list;
    std::size_t k = 0;
    for (auto name : names) {
      if (k > 0) list += k + 1 == names.size() ? " or " : ", ";
      list += fmt::format("\"{}\"", name);
      ++k;
    }
    return expected(list, v);
  }

  // "<path>: expected <what>, found <the value as written>"
  bool expected(std::string_view what, const json& v) {
    return value_error(fmt::format("expected {}, found {}", what, found(v)));
  }

  // "<path>: <message>", pointing at the value at the current path.
  bool value_error(std::string message) { return fail(column_here(), prefixed(std::move(message))); }

  // The column of member `key` of the current value (of the record, at the top).
  int member_column(std::string_view key) {
    path_.push_back({key, 0, false});
    const int col = column_here();
    path_.pop_back();
    return col;
  }

  // The current path, one member deeper, for a check that spans several members.
  bool member_error(std::string_view key, std::string message) {
    path_.push_back({key, 0, false});
    const bool r = value_error(std::move(message));
    path_.pop_back();
    return r;
  }

 private:
  bool missing(std::string_view key) { return value_error(fmt::format("missing field \"{}\"", key)); }

  // The column of the value at the current path (of the deepest part of it found).
  int column_here() const { return static_cast<int>(locate(line_, path_).first.begin) + 1; }

  std::string prefixed(std::string message) const {
    return path_.empty() ? message : path_name(path_) + ": " + message;
  }

  // The value as written on the line (the deepest part of the path found, else as nlohmann
  // prints it).
  std::string found(const json& v) const {
    const auto [span, depth] = locate(line_, path_);
    if (depth == path_.size()) return written_value(line_, span);
    return printable(v.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  bool fail(int col, std::string message) {
    col_ = col;
    message_ = std::move(message);
    return false;
  }

  std::string_view line_;
  Path path_;
  int col_ = 1;
  std::string message_;
};

bool read_request_state(RecordParser& p, const json& v, TraceRequestState& r) {
  if (!p.object(v)) return false;
  std::size_t phase = 0;
  const bool ok =
      p.field(v, "id", true, [&](const json& x) { return p.whole(x, r.id, Bound::Any); }) &&
      p.field(v, "arrival_s", true, [&](const json& x) { return p.seconds(x, r.arrival_s); }) &&
      p.field(v, "prompt", true, [&](const json& x) { return p.whole(x, r.prompt, Bound::NonNegative); }) &&
      p.field(v, "output", true, [&](const json& x) { return p.whole(x, r.output, Bound::NonNegative); }) &&
      p.field(v, "prefilled", true, [&](const json& x) { return p.whole(x, r.prefilled, Bound::NonNegative); }) &&
      p.field(v, "decoded", true, [&](const json& x) { return p.whole(x, r.decoded, Bound::NonNegative); }) &&
      p.field(v, "kv_held", true, [&](const json& x) { return p.whole(x, r.kv_held, Bound::NonNegative); }) &&
      p.field(v, "phase", true,
              [&](const json& x) { return p.choice(x, {"waiting", "started", "decoding"}, phase); }) &&
      p.field(v, "class", false, [&](const json& x) { return p.string(x, r.cls); });
  if (!ok) return false;
  r.admitted = phase != 0;
  // The phase is written for people and other tools; it must agree with the counts, since
  // the reader keeps only `admitted` and derives the rest.
  if (r.phase() != std::array<std::string_view, 3>{"waiting", "started", "decoding"}[phase])
    return p.member_error("phase", fmt::format("\"{}\" does not match prefilled {} of prompt {} (expected \"{}\")",
                                               phase == 1 ? "started" : "decoding", r.prefilled, r.prompt, r.phase()));
  return true;
}

bool read_requests(RecordParser& p, const json& v, std::vector<TraceRequestState>& out) {
  out.clear();
  return p.array(v, [&](const json& x) {
    out.emplace_back();
    return read_request_state(p, x, out.back());
  });
}

bool read_ids(RecordParser& p, const json& v, std::vector<std::int64_t>& out) {
  out.clear();
  return p.array(v, [&](const json& x) {
    out.emplace_back();
    return p.whole(x, out.back(), Bound::Any);
  });
}

bool read_state(RecordParser& p, const json& j, TraceState& s) {
  return p.field(j, "time_s", true, [&](const json& x) { return p.seconds(x, s.time_s); }) &&
         p.field(j, "requests", true, [&](const json& x) { return read_requests(p, x, s.requests); });
}

bool read_item(RecordParser& p, const json& v, TraceItem& item) {
  return p.object(v) && p.field(v, "id", true, [&](const json& x) { return p.whole(x, item.id, Bound::Any); }) &&
         p.field(v, "prefill", false, [&](const json& x) { return p.whole(x, item.prefill, Bound::NonNegative); }) &&
         p.field(v, "decode", false, [&](const json& x) { return p.flag(x, item.decode); });
}

bool read_arrival(RecordParser& p, const json& v, TraceArrival& a) {
  return p.object(v) && p.field(v, "id", true, [&](const json& x) { return p.whole(x, a.id, Bound::Any); }) &&
         p.field(v, "time_s", true, [&](const json& x) { return p.seconds(x, a.time_s); }) &&
         p.field(v, "prompt", true, [&](const json& x) { return p.whole(x, a.prompt, Bound::NonNegative); }) &&
         p.field(v, "output", true, [&](const json& x) { return p.whole(x, a.output, Bound::NonNegative); }) &&
         p.field(v, "class", false, [&](const json& x) { return p.string(x, a.cls); });
}

bool read_iteration(RecordParser& p, const json& j, TraceIteration& it) {
  std::optional<std::int64_t> tokens;
  const bool ok =
      p.field(j, "index", true, [&](const json& x) { return p.whole(x, it.index, Bound::NonNegative); }) &&
      p.field(j, "start_s", true, [&](const json& x) { return p.seconds(x, it.start_s); }) &&
      p.field(j, "end_s", true, [&](const json& x) { return p.seconds(x, it.end_s); }) &&
      p.field(j, "tokens", false, [&](const json& x) { return p.optional_whole(x, tokens, Bound::NonNegative); }) &&
      p.field(j, "waiting", true, [&](const json& x) { return p.whole(x, it.waiting, Bound::NonNegative); }) &&
      p.field(j, "running", true, [&](const json& x) { return p.whole(x, it.running, Bound::NonNegative); }) &&
      p.field(j, "kv_used", true, [&](const json& x) { return p.whole(x, it.kv_used, Bound::NonNegative); }) &&
      p.field(j, "items", true,
              [&](const json& x) {
                return p.array(x, [&](const json& y) {
                  it.items.emplace_back();
                  return read_item(p, y, it.items.back());
                });
              }) &&
      p.field(j, "arrivals", false,
              [&](const json& x) {
                return p.array(x, [&](const json& y) {
                  it.arrivals.emplace_back();
                  return read_arrival(p, y, it.arrivals.back());
                });
              }) &&
      p.field(j, "departures", false, [&](const json& x) { return read_ids(p, x, it.departures); }) &&
      p.field(j, "preempted", false, [&](const json& x) { return read_ids(p, x, it.preempted); }) &&
      p.field(j, "requests", false, [&](const json& x) {
        it.requests.emplace();
        return read_requests(p, x, *it.requests);
      });
  if (!ok) return false;
  it.tokens = tokens ? *tokens : item_tokens(it.items);
  return true;
}

// Every header member but schema_version (read first, alone, since it decides the rest).
bool read_header_fields(RecordParser& p, const json& j, TraceHeader& h) {
  std::size_t form = 0;
  std::size_t accounting = 0;
  const bool ok =
      p.field(j, "source", true, [&](const json& x) { return p.string(x, h.source); }) &&
      p.field(j, "spec", false, [&](const json& x) { return p.string(x, h.spec); }) &&
      p.field(j, "engine", true, [&](const json& x) { return p.string(x, h.engine); }) &&
      p.field(j, "profile", false, [&](const json& x) { return p.string(x, h.profile); }) &&
      p.field(j, "token_budget", false,
              [&](const json& x) { return p.optional_whole(x, h.token_budget, Bound::Positive); }) &&
      p.field(j, "budget_form", true, [&](const json& x) { return p.choice(x, {"plain", "padded"}, form); }) &&
      p.field(j, "max_batch", false,
              [&](const json& x) { return p.optional_whole(x, h.max_batch, Bound::Positive); }) &&
      p.field(j, "kv_capacity_tokens", false,
              [&](const json& x) { return p.optional_whole(x, h.kv_capacity_tokens, Bound::NonNegative); }) &&
      p.field(j, "block_size", true, [&](const json& x) { return p.whole(x, h.block_size, Bound::Positive); }) &&
      p.field(j, "accounting", true, [&](const json& x) { return p.choice(x, {"paper", "vidur"}, accounting); }) &&
      p.field(j, "notes", false, [&](const json& x) { return p.string(x, h.notes); });
  h.budget_form = form == 1 ? BudgetForm::Padded : BudgetForm::Plain;
  h.accounting = accounting == 1 ? Accounting::Vidur : Accounting::Paper;
  return ok;
}

// A parse error at the end of a line that the input ends in: the writer was cut off (a
// collector killed, a disk full), which is worth saying in those words.
bool cut_off(const JsonLine& parsed, bool terminated) { return !parsed.valid && parsed.at_end && !terminated; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Data types and bridges

std::string_view TraceRequestState::phase() const {
  if (!admitted) return "waiting";
  return prefilled < prompt ? "started" : "decoding";
}

TraceHeader trace_header(const Engine& engine, std::string_view source, std::string_view spec_file) {
  TraceHeader h;
  h.source = std::string(source);
  h.spec = std::string(spec_file);
  h.engine = engine.name;
  h.profile = engine.profile.name;
  h.token_budget = engine.token_budget;
  h.budget_form = engine.budget_form;
  h.max_batch = engine.max_batch;
  h.kv_capacity_tokens = engine.kv_tokens();
  h.block_size = engine.block_size;
  h.accounting = engine.accounting;
  return h;
}

TraceRequestState trace_request_state(const Request& request, bool admitted) {
  TraceRequestState r;
  r.id = request.id;
  r.arrival_s = request.arrival_s;
  r.prompt = request.prompt;
  r.output = request.output;
  r.prefilled = request.prefilled;
  r.decoded = request.decoded;
  r.kv_held = request.kv_held;
  r.admitted = admitted;
  return r;
}

TraceState trace_state(const EngineState& state, double time_s) {
  TraceState s;
  s.time_s = time_s;
  s.requests.reserve(state.running.size() + state.waiting.size());
  for (const auto& r : state.running) s.requests.push_back(trace_request_state(r, true));
  for (const auto& r : state.waiting) s.requests.push_back(trace_request_state(r, false));
  return s;
}

void fill_iteration(TraceIteration& record, const StepOutcome& outcome, const EngineState& after) {
  record.items.clear();
  for (const auto& item : outcome.batch.items) record.items.push_back({item.request, item.prefill, item.decode});
  record.departures.clear();
  for (const auto& r : outcome.finished) record.departures.push_back(r.id);
  record.preempted = outcome.preempted;
  record.tokens = outcome.batch.tokens;
  record.waiting = static_cast<std::int64_t>(after.waiting.size());
  record.running = static_cast<std::int64_t>(after.running.size());
  record.kv_used = after.kv_used;
}

// ---------------------------------------------------------------------------------------------
// TraceWriter

TraceWriter::TraceWriter(std::ostream& out) : out_(out) {}

bool TraceWriter::ok() const { return !failed_ && !out_.fail(); }

void TraceWriter::emit(const std::string& line) {
  if (failed_) return;
  out_.write(line.data(), static_cast<std::streamsize>(line.size()));
  if (out_.fail())
    failed_ = true;
  else
    ++records_;
}

void TraceWriter::write_header(const TraceHeader& h) {
  try {
    std::string& out = line_;
    out.clear();
    out += "{\"type\":\"header\",\"schema_version\":";
    append_int(out, kTraceSchemaVersion);
    append_key(out, "source");
    append_string(out, h.source);
    append_key(out, "spec");
    append_string(out, h.spec);
    append_key(out, "engine");
    append_string(out, h.engine);
    append_key(out, "profile");
    append_string(out, h.profile);
    if (h.token_budget) {
      append_key(out, "token_budget");
      append_int(out, *h.token_budget);
    }
    append_key(out, "budget_form");
    fmt::format_to(std::back_inserter(out), "\"{}\"", budget_form_name(h.budget_form));
    if (h.max_batch) {
      append_key(out, "max_batch");
      append_int(out, *h.max_batch);
    }
    if (h.kv_capacity_tokens) {
      append_key(out, "kv_capacity_tokens");
      append_int(out, *h.kv_capacity_tokens);
    }
    append_key(out, "block_size");
    append_int(out, h.block_size);
    append_key(out, "accounting");
    fmt::format_to(std::back_inserter(out), "\"{}\"", accounting_name(h.accounting));
    if (!h.notes.empty()) {
      append_key(out, "notes");
      append_string(out, h.notes);
    }
    out += "}\n";
    emit(out);
  } catch (const std::exception&) {  // the stream's own exceptions, or out of memory
    failed_ = true;
  }
}

void TraceWriter::write_state(const TraceState& s) {
  try {
    std::string& out = line_;
    out.clear();
    out += "{\"type\":\"state\",\"time_s\":";
    append_double(out, s.time_s);
    append_key(out, "requests");
    append_requests(out, s.requests);
    out += "}\n";
    emit(out);
  } catch (const std::exception&) {
    failed_ = true;
  }
}

void TraceWriter::write_iteration(const TraceIteration& it) {
  try {
    std::string& out = line_;
    out.clear();
    // Scalars first, so that `head` and `cut` show them before the long lists.
    out += "{\"type\":\"iteration\",\"index\":";
    append_int(out, it.index);
    append_key(out, "start_s");
    append_double(out, it.start_s);
    append_key(out, "end_s");
    append_double(out, it.end_s);
    append_key(out, "tokens");
    append_int(out, it.tokens);
    append_key(out, "waiting");
    append_int(out, it.waiting);
    append_key(out, "running");
    append_int(out, it.running);
    append_key(out, "kv_used");
    append_int(out, it.kv_used);
    append_key(out, "items");
    out += '[';
    for (std::size_t i = 0; i < it.items.size(); ++i) {
      const auto& item = it.items[i];
      out += i > 0 ? ",{\"id\":" : "{\"id\":";
      append_int(out, item.id);
      // Zero work is left out: most items of a large batch are a single decode token.
      if (item.prefill != 0) {
        append_key(out, "prefill");
        append_int(out, item.prefill);
      }
      if (item.decode) out += ",\"decode\":1";
      out += '}';
    }
    out += ']';
    // Empty lists are left out (absent means empty): most iterations have none.
    if (!it.arrivals.empty()) {
      append_key(out, "arrivals");
      out += '[';
      for (std::size_t i = 0; i < it.arrivals.size(); ++i) {
        const auto& a = it.arrivals[i];
        out += i > 0 ? ",{\"id\":" : "{\"id\":";
        append_int(out, a.id);
        append_key(out, "time_s");
        append_double(out, a.time_s);
        append_key(out, "prompt");
        append_int(out, a.prompt);
        append_key(out, "output");
        append_int(out, a.output);
        if (!a.cls.empty()) {
          append_key(out, "class");
          append_string(out, a.cls);
        }
        out += '}';
      }
      out += ']';
    }
    if (!it.departures.empty()) {
      append_key(out, "departures");
      append_ids(out, it.departures);
    }
    if (!it.preempted.empty()) {
      append_key(out, "preempted");
      append_ids(out, it.preempted);
    }
    if (it.requests) {
      append_key(out, "requests");
      append_requests(out, *it.requests);
    }
    out += "}\n";
    emit(out);
  } catch (const std::exception&) {
    failed_ = true;
  }
}

void TraceWriter::flush() {
  try {
    out_.flush();
    if (out_.fail()) failed_ = true;
  } catch (const std::exception&) {
    failed_ = true;
  }
}

// ---------------------------------------------------------------------------------------------
// TraceReader

TraceReader::TraceReader(std::istream& in, std::string path) : in_(in), path_(std::move(path)) {}

TraceReader::LineResult TraceReader::read_line() {
  const LineRead r = core::read_line(in_, line_, line_number_, kMaxLineBytes);
  line_terminated_ = r.terminated;
  line_too_long_ = r.too_long;
  switch (r.status) {
    case LineStatus::Line: return LineResult::Line;
    case LineStatus::End: return LineResult::End;
    case LineStatus::Error: break;
  }
  return LineResult::Error;
}

void TraceReader::fail(SourceLoc loc, std::string message) {
  diags_.error(std::move(loc), std::move(message), shown_line(line_, loc.col));
  fatal_ = true;
}

void TraceReader::malformed(int col, std::string message) {
  add_malformed_line(diags_, malformed_, first_omitted_, {path_, line_number_, col}, std::move(message), line_);
}

void TraceReader::finish() {
  if (done_) return;
  done_ = true;
  report_omitted_lines(diags_, malformed_, first_omitted_);
}

bool TraceReader::next(TraceRecord& record) {
  if (fatal_ || done_) return false;
  try {
    if (!header_) return read_header(record);
    for (;;) {
      switch (read_line()) {
        case LineResult::End: finish(); return false;
        case LineResult::Error:
          diags_.error({path_, 0, 0}, "cannot read trace: read error");
          fatal_ = true;
          return false;
        case LineResult::Line: break;
      }
      if (line_too_long_) {
        malformed(1, fmt::format("line longer than {}, skipped", kMaxLineText));
        continue;
      }
      if (is_blank(line_)) continue;
      if (read_record(record)) {
        record_line_ = line_number_;
        return true;
      }
    }
  } catch (const std::exception& e) {  // the stream's own exceptions, or out of memory
    diags_.error({path_, 0, 0}, fmt::format("cannot read trace: {}", e.what()));
    fatal_ = true;
    return false;
  }
}

bool TraceReader::read_header(TraceRecord& record) {
  for (;;) {
    const auto r = read_line();
    if (r == LineResult::Error) {
      fail({path_, 0, 0}, "cannot read trace: read error");
      return false;
    }
    if (r == LineResult::End) {
      fail({path_, 0, 0}, "not a batchproof trace: the input is empty");
      return false;
    }
    if (line_too_long_) {
      fail({path_, line_number_, 1},
           fmt::format("not a batchproof trace: the first line is longer than {}", kMaxLineText));
      return false;
    }
    if (!is_blank(line_)) break;
  }
  const std::string_view line = line_;
  const int first_col = json_start_column(line);
  const bool looks_json = trim(line).front() == '{';
  auto not_a_header = [&] {
    fail({path_, line_number_, first_col},
         fmt::format("not a batchproof trace: the first record must be a header {}, found {}", kHeaderExample,
                     printable(trim(line))));
    return false;
  };
  if (!looks_json) return not_a_header();
  const JsonLine parsed = parse_json_line(line, false);
  if (cut_off(parsed, line_terminated_)) {
    fail({path_, line_number_, static_cast<int>(line.size()) + 1},
         "not a batchproof trace: the input ends in the middle of the first record");
    return false;
  }
  if (!parsed.valid) {
    fail({path_, line_number_, parsed.col}, "not a batchproof trace: malformed JSON on the first line: " + parsed.detail);
    return false;
  }
  const json& j = parsed.value;
  if (!j.is_object()) return not_a_header();
  auto type = j.find("type");
  if (type == j.end() || !type->is_string() || type->get_ref<const std::string&>() != "header") return not_a_header();

  RecordParser p(line);
  std::int64_t version = 0;
  if (!p.field(j, "schema_version", true, [&](const json& x) { return p.whole(x, version, Bound::Positive); })) {
    // A header without a version is something else that happens to say "header".
    const bool absent = j.find("schema_version") == j.end();
    fail({path_, line_number_, p.column()},
         absent ? std::string("not a batchproof trace: the header has no \"schema_version\"")
                : "bad trace header: " + p.message());
    return false;
  }
  if (version > kTraceSchemaVersion) {
    fail({path_, line_number_, p.member_column("schema_version")},
         fmt::format("this trace has schema_version {}, newer than this batchproof reads ({}): use a newer batchproof",
                     version, kTraceSchemaVersion));
    return false;
  }
  TraceHeader h;
  h.schema_version = static_cast<int>(version);
  if (!read_header_fields(p, j, h)) {
    fail({path_, line_number_, p.column()}, "bad trace header: " + p.message());
    return false;
  }
  header_ = h;
  record = std::move(h);
  record_line_ = line_number_;
  return true;
}

bool TraceReader::read_record(TraceRecord& record) {
  const std::string_view line = line_;
  const JsonLine parsed = parse_json_line(line, malformed_limit_reached(malformed_));
  if (cut_off(parsed, line_terminated_)) {
    malformed(static_cast<int>(line.size()) + 1, "truncated record: the input ends in the middle of this line");
    return false;
  }
  if (!parsed.valid) {
    malformed(parsed.col, "malformed JSON: " + parsed.detail);
    return false;
  }
  const json& j = parsed.value;
  if (!j.is_object()) {
    malformed(json_start_column(line), not_an_object(line));
    return false;
  }
  RecordParser p(line);
  std::string type;
  if (!p.field(j, "type", true, [&](const json& x) { return p.string(x, type); })) {
    malformed(p.column(), p.message());
    return false;
  }
  bool ok = false;
  if (type == "iteration") {
    // Reuse the caller's vectors when it passes the last iteration back: no allocation once
    // they have grown.
    if (!std::holds_alternative<TraceIteration>(record)) record.emplace<TraceIteration>();
    auto& it = std::get<TraceIteration>(record);
    it.items.clear();
    it.arrivals.clear();
    it.departures.clear();
    it.preempted.clear();
    it.requests.reset();
    ok = read_iteration(p, j, it);
  } else if (type == "state") {
    auto& s = record.emplace<TraceState>();
    ok = read_state(p, j, s);
  } else if (type == "header") {
    malformed(p.member_column("type"), "a second header record (a trace has one, on its first line)");
    return false;
  } else {
    // A record type from a newer writer: skipped, so that older readers keep working.
    if (unknown_types_.size() < kMaxUnknownTypes && unknown_types_.insert(type).second) {
      const int col = p.member_column("type");
      diags_.warning({path_, line_number_, col},
                     fmt::format("unknown record type \"{}\", skipped (written by a newer batchproof?)",
                                 printable(type)),
                     shown_line(line_, col));
    }
    return false;
  }
  if (!ok) {
    malformed(p.column(), p.message());
    return false;
  }
  return true;
}

}  // namespace batchproof::core
