// vLLM V1's log (TRACE-FORMATS.md §3.2-3.3) with --enable-logging-iteration-details, as the
// stat logger writes it since 2026 (one API server, one engine):
//
//   (APIServer pid=4241) INFO 01-01 00:00:00 [utils.py:233] non-default args: {'model':
//       'batchproof/tight', 'max_num_batched_tokens': 512, 'max_num_seqs': 64,
//       'enable_logging_iteration_details': True}
//   (APIServer pid=4241) INFO 01-01 00:00:00 [config.py:2394] Chunked prefill is enabled with
//       max_num_batched_tokens=512.
//   (EngineCore_DP0 pid=4242) INFO 01-01 00:00:00 [kv_cache_utils.py:1087] GPU KV cache size:
//       49,152 tokens
//   (APIServer pid=4241) INFO 01-01 00:00:03 [loggers.py:182] Engine 000: Iteration(12): 2 context
//       requests, 410 context tokens, 5 generation requests, 5 generation tokens, iteration
//       elapsed time: 31.47 ms, GPU KV cache usage: 0.9%
//   (APIServer pid=4241) INFO 01-01 00:00:10 [loggers.py:271] Engine 000: Avg prompt throughput:
//       1402.3 tokens/s, Avg generation throughput: 1291.8 tokens/s, Running: 31 reqs, Waiting:
//       0 reqs, GPU KV cache usage: 5.3%, Prefix cache hit rate: 0.0%
//   (APIServer pid=4241) INFO:     127.0.0.1:40000 - "POST /v1/completions HTTP/1.1" 200 OK
//
// Every iteration is an Iteration line, logged at its end: context requests/tokens = requests
// with prompt tokens and those tokens, generation requests = decode-only requests, generation
// tokens = output tokens, elapsed time = end_s − start_s (2 decimals), GPU KV cache usage =
// kv_used / capacity (1 decimal; left out of every line when memory is not modelled, and so is
// the KV start-up line). The token budget and the batch cap, when the engine has them, are in the
// start-up lines as vLLM's max_num_batched_tokens and max_num_seqs. The first iteration that
// ends at or after each multiple of stats_interval_s is followed by the periodic stats line:
// throughputs over the interval, Running / Waiting after that iteration. Each departure is an
// HTTP access line.
#include <cmath>
#include <iterator>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "traces/foreign_writer_support.hpp"

namespace batchproof::traces {

namespace {

class VllmWriter final : public ForeignTraceWriter {
 public:
  VllmWriter(std::ostream& out, const ForeignWriterOptions& options)
      : out_(out), options_(options), next_stats_s_(options.stats_interval_s) {}

  void header(const core::TraceHeader& h) override {
    header_ = h;
    std::string& o = line_;
    o.clear();
    prefix(o, kApiServer, 0, "utils.py:233");
    append(o, "non-default args: {'model': 'batchproof/");
    append(o, h.engine);
    append(o, "'");
    if (h.token_budget) {
      append(o, ", 'max_num_batched_tokens': ");
      append_int(o, *h.token_budget);
    }
    if (h.max_batch) {
      append(o, ", 'max_num_seqs': ");
      append_int(o, *h.max_batch);
    }
    append(o, ", 'enable_logging_iteration_details': True}\n");
    if (h.token_budget) {
      prefix(o, kApiServer, 0, "config.py:2394");
      append(o, "Chunked prefill is enabled with max_num_batched_tokens=");
      append_int(o, *h.token_budget);
      append(o, ".\n");
    }
    if (!h.kv_capacity_tokens) {
      flush();
      return;
    }
    prefix(o, "(EngineCore_DP0 pid=4242) ", 0, "kv_cache_utils.py:1087");
    append(o, "GPU KV cache size: ");
    thousands(o, *h.kv_capacity_tokens);
    append(o, " tokens\n");
    flush();
  }

  void iteration(const core::TraceIteration& it) override {
    const BatchCounts c = batch_counts(it);
    std::string& o = line_;
    o.clear();
    prefix(o, kApiServer, it.end_s, "loggers.py:182");
    append(o, "Engine 000: Iteration(");
    append_int(o, it.index);
    append(o, "): ");
    append_int(o, c.prefill_requests);
    append(o, " context requests, ");
    append_int(o, c.prefill_tokens);
    append(o, " context tokens, ");
    append_int(o, c.decode_requests);
    append(o, " generation requests, ");
    append_int(o, c.decode_tokens);
    append(o, " generation tokens, iteration elapsed time: ");
    append_fixed(o, (it.end_s - it.start_s) * 1000.0, 2);
    append(o, " ms");
    usage(o, it.kv_used);
    o += '\n';
    prompt_tokens_ += c.prefill_tokens;
    generated_ += c.decode_tokens;
    if (options_.stats_interval_s > 0 && it.end_s >= next_stats_s_) {
      const double span = it.end_s - last_stats_s_;
      prefix(o, kApiServer, it.end_s, "loggers.py:271");
      append(o, "Engine 000: Avg prompt throughput: ");
      append_fixed(o, span > 0 ? static_cast<double>(prompt_tokens_) / span : 0.0, 1);
      append(o, " tokens/s, Avg generation throughput: ");
      append_fixed(o, span > 0 ? static_cast<double>(generated_) / span : 0.0, 1);
      append(o, " tokens/s, Running: ");
      append_int(o, it.running);
      append(o, " reqs, Waiting: ");
      append_int(o, it.waiting);
      append(o, " reqs");
      usage(o, it.kv_used);
      append(o, ", Prefix cache hit rate: 0.0%\n");
      prompt_tokens_ = generated_ = 0;
      last_stats_s_ = it.end_s;
      // The next line is due at the next multiple of the interval (an idle engine skips some).
      next_stats_s_ = (std::floor(it.end_s / options_.stats_interval_s) + 1) * options_.stats_interval_s;
    }
    for (std::int64_t id : it.departures) {
      append(o, kApiServer);
      append(o, "INFO:     127.0.0.1:");
      append_int(o, 40000 + id % 20000);
      append(o, " - \"POST /v1/completions HTTP/1.1\" 200 OK\n");
    }
    flush();
  }

 private:
  static constexpr std::string_view kApiServer = "(APIServer pid=4241) ";

  // "(process) INFO MM-DD HH:MM:SS [file.py:line] "
  void prefix(std::string& o, std::string_view process, double t, std::string_view where) const {
    const LogTime lt = log_time(options_.clock_origin_s + t);
    append(o, process);
    fmt::format_to(std::back_inserter(o), "INFO {:02}-{:02} {:02}:{:02}:{:02} [{}] ", lt.month, lt.day, lt.hour,
                   lt.minute, lt.second, where);
  }

  // "2,042,016", as Python's "{:,}".
  static void thousands(std::string& o, std::int64_t v) {
    const std::string digits = std::to_string(v);
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') o += ',';
      o += digits[i];
    }
  }

  // ", GPU KV cache usage: 37.1%"; left out when memory is not modelled (no cache to fill).
  void usage(std::string& o, std::int64_t kv_used) const {
    if (!header_.kv_capacity_tokens || *header_.kv_capacity_tokens <= 0) return;
    append(o, ", GPU KV cache usage: ");
    append_fixed(o, 100.0 * static_cast<double>(kv_used) / static_cast<double>(*header_.kv_capacity_tokens), 1);
    o += '%';
  }

  void flush() {
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    line_.clear();
  }

  std::ostream& out_;
  ForeignWriterOptions options_;
  core::TraceHeader header_;
  std::string line_;
  double next_stats_s_ = 10, last_stats_s_ = 0;
  std::int64_t prompt_tokens_ = 0, generated_ = 0;
};

}  // namespace

std::unique_ptr<ForeignTraceWriter> make_vllm_writer(std::ostream& out, const ForeignWriterOptions& options) {
  return std::make_unique<VllmWriter>(out, options);
}

}  // namespace batchproof::traces
