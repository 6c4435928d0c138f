// Writers of the engines' own log formats from batchproof's trace records, so that the
// simulator can produce long, realistic logs of TensorRT-LLM, SGLang and vLLM, and so that each
// reader is tested against what its writer wrote (round trips). What each writer puts in each
// field, and what the format cannot carry, is in the writer's file.
//
// A writer streams: it keeps the requests present (for admissions, queueing delays and prompt
// tokens still to process), never the iterations.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>

#include "core/trace_format.hpp"
#include "traces/reader.hpp"

namespace batchproof::traces {

struct ForeignWriterOptions {
  // The trace's time 0 on the log's clock, in seconds since 1970-01-01 00:00:00 (no time zone):
  // 2025-01-01 00:00:00 by default.
  double clock_origin_s = 1735689600;
  // SGLang logs one decode batch in this many (its --decode-log-interval).
  std::int64_t decode_log_interval = 40;
  // vLLM logs its periodic stats line this often (VLLM_LOG_STATS_INTERVAL).
  double stats_interval_s = 10;
  // TensorRT-LLM: per-request stats (requestStats) in every record, as enable_iter_req_stats.
  bool trtllm_request_stats = false;
};

class ForeignTraceWriter {
 public:
  virtual ~ForeignTraceWriter() = default;
  // The trace's header: the engine's limits and memory, for the format's start-up lines and
  // the fields that report them. Comes first; a writer given none writes no start-up lines.
  virtual void header(const core::TraceHeader& header) = 0;
  // One iteration, in order.
  virtual void iteration(const core::TraceIteration& iteration) = 0;
  // The end of the run: whatever the format writes last.
  virtual void finish() {}
};

// A writer of `format` (TrtllmIterStats, Sglang or Vllm) to `out`; null for another format.
std::unique_ptr<ForeignTraceWriter> make_foreign_writer(Format format, std::ostream& out,
                                                        const ForeignWriterOptions& options = {});
bool has_foreign_writer(Format format);

// An iteration's batch as the engines' logs count it: a prefill request is one with prompt
// tokens in the batch (its first output token, with Vidur's accounting, is counted among the
// decode tokens); a decode request is one with an output token and no prompt tokens.
struct BatchCounts {
  std::int64_t prefill_requests = 0;
  std::int64_t prefill_tokens = 0;
  std::int64_t decode_requests = 0;
  std::int64_t decode_tokens = 0;
};
BatchCounts batch_counts(const core::TraceIteration& iteration);

}  // namespace batchproof::traces
