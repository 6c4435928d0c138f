// What the foreign writers share: the book of requests present (admissions, queueing delays,
// prompt tokens still to process), log-clock times, and each format's factory. Internal to
// traces/.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <unordered_map>

#include "traces/foreign_writers.hpp"

namespace batchproof::traces {

std::unique_ptr<ForeignTraceWriter> make_trtllm_stats_writer(std::ostream& out, const ForeignWriterOptions& options);
std::unique_ptr<ForeignTraceWriter> make_sglang_writer(std::ostream& out, const ForeignWriterOptions& options);
std::unique_ptr<ForeignTraceWriter> make_vllm_writer(std::ostream& out, const ForeignWriterOptions& options);

// The requests present, from the iterations' arrivals, items, departures and preemptions.
class RequestBook {
 public:
  // What one iteration changed.
  struct Step {
    std::int64_t admitted = 0;  // requests whose first prompt tokens are in this batch
    double admitted_wait_s = 0;  // Σ their time from arrival to this batch's start
  };
  Step apply(const core::TraceIteration& iteration);

  // Prompt tokens not processed yet, over the requests present (waiting or part-way).
  std::int64_t pending_prompt_tokens() const { return pending_; }

 private:
  struct Entry {
    double arrival_s = 0;
    std::int64_t prompt_left = 0;  // prompt tokens still to process
    std::int64_t processed = 0;    // prompt and output tokens processed since it (re)joined the queue
    bool started = false;          // has had prompt tokens in a batch since it (re)joined the queue
  };
  std::unordered_map<std::int64_t, Entry> live_;
  std::int64_t pending_ = 0;
};

// A time on the log's clock, in calendar fields.
struct LogTime {
  std::int64_t year = 1970;
  unsigned month = 1, day = 1, hour = 0, minute = 0, second = 0;
  unsigned micros = 0;
};
LogTime log_time(double seconds_since_1970);

// Appends to `out` without allocating once `out` has grown.
void append(std::string& out, std::string_view s);
void append_int(std::string& out, std::int64_t v);
// The shortest text that reads back to the same double.
void append_double(std::string& out, double v);
// A fixed number of decimals, as Python's "%.{n}f".
void append_fixed(std::string& out, double v, int decimals);

}  // namespace batchproof::traces
