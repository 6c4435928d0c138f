// batchproof's own trace format (JSON Lines, schema_version 1): what the simulator, the
// solver's counterexamples and the real-run collector write, and what the auditor reads most
// fully. The schema, field by field, and the compatibility rules are in docs/trace-format.md.
//
// A trace is a header record, then any number of state and iteration records, one JSON object
// a line, each with a "type". Both the writer and the reader stream: neither holds more than
// one record, so a trace of millions of iterations costs the memory of its longest line.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/engine.hpp"
#include "core/source.hpp"

namespace batchproof::core {

struct Request;
struct EngineState;
struct StepOutcome;

// The schema this batchproof writes, and the newest it reads.
inline constexpr int kTraceSchemaVersion = 1;

// First record: who wrote the trace, and the engine facts needed to read the rest.
struct TraceHeader {
  int schema_version = kTraceSchemaVersion;
  std::string source;   // the writer: "simulate", "prove", "collect", ...
  std::string spec;     // the spec file, as the writer named it ("" if none)
  std::string engine;   // the engine's name in that spec
  std::string profile;  // its profile's name ("" if unknown)
  std::optional<std::int64_t> token_budget;        // b_max; none: unbudgeted
  BudgetForm budget_form = BudgetForm::Plain;
  std::optional<std::int64_t> max_batch;           // k_max; none: no limit
  std::optional<std::int64_t> kv_capacity_tokens;  // M; none: memory not modelled
  std::int64_t block_size = 1;                     // KV block in tokens; 1: no rounding
  Accounting accounting = Accounting::Paper;
  std::string notes;  // free-form: seed, command line, engine version, ...

  friend bool operator==(const TraceHeader&, const TraceHeader&) = default;
};

// One request as it stands at a point in time.
struct TraceRequestState {
  std::int64_t id = 0;
  double arrival_s = 0;
  std::int64_t prompt = 0;     // prompt tokens in all (after a recompute restart: the new prompt)
  std::int64_t output = 0;     // output tokens in all
  std::int64_t prefilled = 0;  // prompt tokens processed
  std::int64_t decoded = 0;    // output tokens produced
  std::int64_t kv_held = 0;    // KV tokens held, block-rounded, reservation included
  bool admitted = false;       // holds KV (running); false: waiting
  std::string cls;             // request class, "" if none

  // "waiting" (not admitted), "started" (admitted, prompt partly processed) or "decoding"
  // (admitted, prompt done): MODEL.md §1. Written to the trace; derived, never stored.
  std::string_view phase() const;

  friend bool operator==(const TraceRequestState&, const TraceRequestState&) = default;
};

// Every request present at time_s: the admitted ones in the engine's running order, then the
// waiting ones in queue order (the order is what a replay needs to rebuild the queues).
struct TraceState {
  double time_s = 0;
  std::vector<TraceRequestState> requests;

  friend bool operator==(const TraceState&, const TraceState&) = default;
};

// One request's share of a batch: prompt tokens, and/or one decode token.
struct TraceItem {
  std::int64_t id = 0;
  std::int64_t prefill = 0;
  bool decode = false;

  friend bool operator==(const TraceItem&, const TraceItem&) = default;
};

struct TraceArrival {
  std::int64_t id = 0;
  double time_s = 0;
  std::int64_t prompt = 0;
  std::int64_t output = 0;
  std::string cls;  // request class, "" if none

  friend bool operator==(const TraceArrival&, const TraceArrival&) = default;
};

// One iteration. `arrivals` are the requests this batch is the first to see: arrived after the
// previous record's start_s (a state's time_s; none before the first record) and at or before
// this start_s. Counts and kv_used are taken at end_s over the requests recorded so far, so
// arrivals during the iteration count from the next record on.
struct TraceIteration {
  std::int64_t index = 0;  // iterations before this one
  double start_s = 0;
  double end_s = 0;
  std::vector<TraceItem> items;  // in batch order
  std::vector<TraceArrival> arrivals;
  std::vector<std::int64_t> departures;  // ids that finished in this iteration
  std::vector<std::int64_t> preempted;   // ids preempted (by recompute) in this iteration
  std::int64_t waiting = 0;              // requests waiting after the iteration
  std::int64_t running = 0;              // requests admitted after the iteration
  std::int64_t kv_used = 0;              // KV tokens held after the iteration
  std::int64_t tokens = 0;               // prefill + decode tokens in the batch
  // Every request present after the iteration, as in a state record. Usually left out for
  // size; a writer that can afford it gives the auditor a checkpoint.
  std::optional<std::vector<TraceRequestState>> requests;

  friend bool operator==(const TraceIteration&, const TraceIteration&) = default;
};

using TraceRecord = std::variant<TraceHeader, TraceState, TraceIteration>;

// Σ prefill + decode over the items: what `tokens` should be. Inline: the audit's replay asks
// it of every batch.
inline std::int64_t item_tokens(const std::vector<TraceItem>& items) {
  std::int64_t total = 0;
  for (const auto& item : items) total += item.prefill + (item.decode ? 1 : 0);
  return total;
}

// Bridges from the model's types, so that every writer fills records the same way.
TraceHeader trace_header(const Engine& engine, std::string_view source, std::string_view spec_file);
TraceRequestState trace_request_state(const Request& request, bool admitted);
TraceState trace_state(const EngineState& state, double time_s);
// Sets items, departures, preempted, tokens, and the counts and KV after the step; index,
// times, arrivals and requests are the caller's.
void fill_iteration(TraceIteration& record, const StepOutcome& outcome, const EngineState& after);

// Writes records as JSON Lines to `out`, formatting directly (no JSON objects are built), with
// integers in full and doubles in the shortest form that reads back to the same value. A
// non-finite double is written as null (JSON has no infinity), which the reader rejects.
// Exceptions from the stream are caught: ok() turns false and later writes do nothing.
class TraceWriter {
 public:
  explicit TraceWriter(std::ostream& out);

  void write_header(const TraceHeader& header);
  void write_state(const TraceState& state);
  void write_iteration(const TraceIteration& iteration);
  void flush();

  // Every write so far reached the stream.
  bool ok() const;
  std::int64_t records_written() const { return records_; }

 private:
  void emit(const std::string& line);

  std::ostream& out_;
  std::string line_;  // reused across records: no allocation once it has grown
  std::int64_t records_ = 0;
  bool failed_ = false;
};

// Reads a trace record by record. Strict about the file: the first non-blank line must be a
// header with a schema_version this batchproof reads, or nothing is read (fatal()). Lenient
// about records: a malformed line is counted, reported (the first 10, then a summary when the
// input ends) and skipped; records of an unknown type are skipped with one warning per type;
// unknown fields are ignored. Every problem is a Diagnostic located at `path`:line:col.
class TraceReader {
 public:
  // `path` names the input in diagnostics ("-" or a description for a non-file stream).
  TraceReader(std::istream& in, std::string path);

  // The next record (the header first), or false at the end of the input or on a fatal error.
  bool next(TraceRecord& record);

  const Diagnostics& diagnostics() const { return diags_; }
  // Malformed lines so far, reported or not.
  int malformed_count() const { return malformed_; }
  // The input is not a trace this batchproof reads (or could not be read): see diagnostics().
  bool fatal() const { return fatal_; }
  // The header, once next() has returned it.
  const std::optional<TraceHeader>& header() const { return header_; }
  // Where the record last returned by next() is: for findings about it.
  SourceLoc location() const { return {path_, record_line_, 1}; }

 private:
  enum class LineResult { Line, End, Error };
  LineResult read_line();
  bool read_header(TraceRecord& record);
  bool read_record(TraceRecord& record);
  void fail(SourceLoc loc, std::string message);
  void malformed(int col, std::string message);
  void finish();

  std::istream& in_;
  std::string path_;
  Diagnostics diags_;
  std::string line_;           // the current line, without its end
  bool line_terminated_ = false;  // it ended with '\n' (false: the input ends there)
  bool line_too_long_ = false;    // cut at the longest line read
  int line_number_ = 0;
  int record_line_ = 0;
  int malformed_ = 0;
  SourceLoc first_omitted_;
  std::set<std::string, std::less<>> unknown_types_;
  std::optional<TraceHeader> header_;
  bool fatal_ = false;
  bool done_ = false;
};

}  // namespace batchproof::core
