// TensorRT-LLM IterationStats as JSON Lines (TRACE-FORMATS.md §1.1-1.3): one object a line,
// keys sorted as nlohmann's dump sorts them, the field set of the executor API's records.
//
// From each trace iteration:
//   iter = index; timestamp = end_s ("MM-DD-YYYY HH:MM:SS.ffffff", the ending time);
//   iterLatencyMS = end_s − start_s in ms, in full;
//   numActiveRequests = running after; numQueuedRequests = waiting after;
//   numNewActiveRequests = requests whose first prompt tokens are in the batch, with their
//   summed queueing delay as newActiveRequestsQueueLatencyMS; numCompletedRequests = departures;
//   maxBatchSize{Static,Runtime} and maxNumActiveRequests = max_batch, maxNumTokens{Static,Runtime}
//   = token_budget (left out when the engine has none: TensorRT-LLM always has one, and a made-up
//   cap would be audited);
//   inflightBatchingStats: numScheduledRequests = items, numContextRequests = items with prompt
//   tokens, numCtxTokens = their prompt tokens, numGenRequests = decode-only items,
//   numPausedRequests = requests preempted in the iteration, avgNumDecodedTokensPerIter = 1 when
//   anything decodes (no speculative decoding), microBatchId = 0;
//   kvCacheStats (null when the engine's memory is not modelled): tokensPerBlock = block_size,
//   maxNumBlocks = ⌊capacity / block⌋, usedNumBlocks = ⌈kv_used / block⌉, freeNumBlocks the rest,
//   allocNewBlocks = blocks newly in use, allocTotalBlocks their running total, no reuse;
//   memory figures 0 (not modelled); staticBatchingStats null.
// With ForeignWriterOptions::trtllm_request_stats, requestStats as the Python LLM API merges
// them in (enable_iter_req_stats), one entry per active request in id order: the requests of
// the batch, those started and left out of it (scheduled false), those preempted in it (paused
// true, their progress back to 0: TensorRT-LLM restarts them) and those that finished in it
// (GENERATION_COMPLETE); contextPrefillPosition and numGeneratedTokens after the iteration
// (the first output token, with Vidur's accounting, counts when the prompt completes); stage
// CONTEXT_IN_PROGRESS until the prompt is done, then GENERATION_IN_PROGRESS. Requests that
// wait without ever having started are not listed (TensorRT-LLM lists the active ones).
#include <algorithm>
#include <iterator>
#include <map>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "traces/foreign_writer_support.hpp"

namespace batchproof::traces {

namespace {

void key(std::string& out, std::string_view name) {
  out += '"';
  append(out, name);
  append(out, "\":");
}

class TrtllmStatsWriter final : public ForeignTraceWriter {
 public:
  TrtllmStatsWriter(std::ostream& out, const ForeignWriterOptions& options) : out_(out), options_(options) {}

  void header(const core::TraceHeader& h) override { header_ = h; }

  void iteration(const core::TraceIteration& it) override {
    const BatchCounts c = batch_counts(it);
    const RequestBook::Step step = book_.apply(it);
    std::string& o = line_;
    o.clear();
    append(o, "{\"cpuMemUsage\":0,\"gpuMemUsage\":0,\"inflightBatchingStats\":{\"avgNumDecodedTokensPerIter\":");
    append(o, c.decode_tokens > 0 ? "1.0" : "0.0");
    append(o, ",\"microBatchId\":0,\"numContextRequests\":");
    append_int(o, c.prefill_requests);
    append(o, ",\"numCtxTokens\":");
    append_int(o, c.prefill_tokens);
    append(o, ",\"numGenRequests\":");
    append_int(o, c.decode_requests);
    append(o, ",\"numPausedRequests\":");
    append_int(o, static_cast<std::int64_t>(it.preempted.size()));
    append(o, ",\"numScheduledRequests\":");
    append_int(o, static_cast<std::int64_t>(it.items.size()));
    append(o, "},\"iter\":");
    append_int(o, it.index);
    append(o, ",\"iterLatencyMS\":");
    append_double(o, (it.end_s - it.start_s) * 1000.0);
    append(o, ",\"kvCacheStats\":");
    kv_cache_stats(o, it);
    if (header_.max_batch) {
      for (const char* name : {"maxBatchSizeRuntime", "maxBatchSizeStatic"}) {
        o += ',';
        key(o, name);
        append_int(o, *header_.max_batch);
      }
    }
    append(o, ",\"maxBatchSizeTunerRecommended\":0");
    if (header_.max_batch) {
      append(o, ",\"maxNumActiveRequests\":");
      append_int(o, *header_.max_batch);
    }
    if (header_.token_budget) {
      for (const char* name : {"maxNumTokensRuntime", "maxNumTokensStatic"}) {
        o += ',';
        key(o, name);
        append_int(o, *header_.token_budget);
      }
    }
    append(o, ",\"maxNumTokensTunerRecommended\":0,\"newActiveRequestsQueueLatencyMS\":");
    append_double(o, step.admitted_wait_s * 1000.0);
    append(o, ",\"numActiveRequests\":");
    append_int(o, it.running);
    append(o, ",\"numCompletedRequests\":");
    append_int(o, static_cast<std::int64_t>(it.departures.size()));
    append(o, ",\"numNewActiveRequests\":");
    append_int(o, step.admitted);
    append(o, ",\"numQueuedRequests\":");
    append_int(o, it.waiting);
    append(o, ",\"pinnedMemUsage\":0");
    if (options_.trtllm_request_stats) request_stats(o, it);
    append(o, ",\"staticBatchingStats\":null,\"timestamp\":\"");
    timestamp(o, it.end_s);
    append(o, "\"}\n");
    out_.write(o.data(), static_cast<std::streamsize>(o.size()));
  }

 private:
  struct Progress {
    std::int64_t prompt = 0, position = 0, generated = 0;
    bool started = false;
  };

  void request_stats(std::string& o, const core::TraceIteration& it) {
    const bool vidur = header_.accounting == core::Accounting::Vidur;
    for (const auto& a : it.arrivals) requests_[a.id] = Progress{a.prompt, 0, 0, false};
    for (auto& [id, p] : requests_) p.started = p.started || p.position > 0 || p.generated > 0;
    listed_.clear();
    for (const auto& item : it.items) {
      Progress& p = requests_[item.id];
      const bool prompt_was_done = p.position >= p.prompt;
      p.position += item.prefill;
      if (item.decode) ++p.generated;
      if (vidur && item.prefill > 0 && !prompt_was_done && p.position >= p.prompt) ++p.generated;
      listed_[item.id] = Listed{true, false, false};
    }
    for (std::int64_t id : it.preempted) {
      Progress& p = requests_[id];
      p.prompt = p.position + p.generated;  // recomputed: everything processed is prompt again
      p.position = 0;
      p.generated = 0;
      listed_[id].paused = true;
    }
    for (std::int64_t id : it.departures) listed_[id].complete = true;
    for (const auto& [id, p] : requests_)
      if (p.started) listed_.try_emplace(id, Listed{false, false, false});
    append(o, ",\"requestStats\":[");
    bool first = true;
    for (const auto& [id, l] : listed_) {
      const Progress& p = requests_[id];
      if (!first) o += ',';
      first = false;
      append(o, "{\"contextPrefillPosition\":");
      append_int(o, p.position);
      append(o, ",\"id\":");
      append_int(o, id);
      append(o, ",\"numGeneratedTokens\":");
      append_int(o, p.generated);
      append(o, ",\"paused\":");
      append(o, l.paused ? "true" : "false");
      append(o, ",\"scheduled\":");
      append(o, l.scheduled ? "true" : "false");
      append(o, ",\"stage\":\"");
      append(o, l.complete ? "GENERATION_COMPLETE" : p.position < p.prompt || p.prompt == 0 ? "CONTEXT_IN_PROGRESS"
                                                                                           : "GENERATION_IN_PROGRESS");
      append(o, "\"}");
    }
    o += ']';
    for (std::int64_t id : it.departures) requests_.erase(id);
  }

  void kv_cache_stats(std::string& o, const core::TraceIteration& it) {
    if (!header_.kv_capacity_tokens) {
      append(o, "null");
      return;
    }
    const std::int64_t block = std::max<std::int64_t>(1, header_.block_size);
    const std::int64_t max_blocks = *header_.kv_capacity_tokens / block;
    const std::int64_t used = (it.kv_used + block - 1) / block;
    const std::int64_t fresh = std::max<std::int64_t>(0, used - used_blocks_);
    used_blocks_ = used;
    alloc_total_ += fresh;
    append(o, "{\"allocNewBlocks\":");
    append_int(o, fresh);
    append(o, ",\"allocTotalBlocks\":");
    append_int(o, alloc_total_);
    append(o, ",\"cacheHitRate\":0.0,\"freeNumBlocks\":");
    append_int(o, std::max<std::int64_t>(0, max_blocks - used));
    append(o, ",\"maxNumBlocks\":");
    append_int(o, max_blocks);
    append(o, ",\"missedBlocks\":");
    append_int(o, alloc_total_);
    append(o, ",\"reusedBlocks\":0,\"tokensPerBlock\":");
    append_int(o, block);
    append(o, ",\"usedNumBlocks\":");
    append_int(o, used);
    o += '}';
  }

  // "MM-DD-YYYY HH:MM:SS.ffffff"
  void timestamp(std::string& o, double t) {
    const LogTime lt = log_time(options_.clock_origin_s + t);
    fmt::format_to(std::back_inserter(o), "{:02}-{:02}-{:04} {:02}:{:02}:{:02}.{:06}", lt.month, lt.day, lt.year,
                   lt.hour, lt.minute, lt.second, lt.micros);
  }

  std::ostream& out_;
  ForeignWriterOptions options_;
  core::TraceHeader header_;
  RequestBook book_;
  struct Listed {
    bool scheduled = false, paused = false, complete = false;
  };
  std::map<std::int64_t, Progress> requests_;  // present, for requestStats
  std::map<std::int64_t, Listed> listed_;      // this iteration's entries
  std::string line_;
  std::int64_t used_blocks_ = 0, alloc_total_ = 0;
};

}  // namespace

std::unique_ptr<ForeignTraceWriter> make_trtllm_stats_writer(std::ostream& out, const ForeignWriterOptions& options) {
  return std::make_unique<TrtllmStatsWriter>(out, options);
}

}  // namespace batchproof::traces
