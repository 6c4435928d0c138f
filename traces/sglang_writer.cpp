// SGLang's scheduler log (TRACE-FORMATS.md §2), as a 2026 server with one GPU writes it:
//
//   [2025-01-01 00:00:00] server_args=ServerArgs(..., chunked_prefill_size=512, ...,
//       max_running_requests=128, ..., decode_log_interval=40, enable_mixed_chunk=True, ...)
//   [2025-01-01 00:00:00 TP0] max_total_num_tokens=49152, chunked_prefill_size=512, ...
//   [2025-01-01 00:00:03 TP0] Prefill batch, #new-seq: 2, #new-token: 410, #cached-token: 0,
//       token usage: 0.01, #running-req: 5, #queue-req: 0, #pending-token: 0, cuda graph: False,
//       input throughput (token/s): 2871.33
//   [2025-01-01 00:00:04 TP0] Decode batch, #running-req: 7, #token: 1520, token usage: 0.03,
//       cuda graph: True, gen throughput (token/s): 172.81, #queue-req: 0
//   [2025-01-01 00:00:09 TP0] KV cache pool is full. Retract requests. #retracted_reqs: 1,
//       #new_token_ratio: 0.7000 -> 1.0000
//   INFO:     127.0.0.1:40000 - "POST /generate HTTP/1.1" 200 OK
//
// An iteration with prompt tokens is a Prefill line at its start time (our engines mix decodes
// into prefill batches, as SGLang's --enable-mixed-chunk does, so the server args say so):
// #new-seq = requests with prompt tokens, #new-token = those tokens, #cached-token = 0 (no
// prefix cache), token usage = kv_used / capacity (2 decimals; left out, on every line, when
// memory is not modelled),
// #running-req = the requests running beside the batch (running after the iteration, less the
// batch's prompt requests still running: SGLang logs its running batch before the prefill batch
// joins it), #queue-req = waiting after, #pending-token = prompt
// tokens of the requests present still to process, input throughput = prompt tokens over the
// time since the previous Prefill line.
// Decode-only iterations are counted, and every decode_log_interval-th is a Decode line:
// #running-req = its decode requests, #token = kv_used, #queue-req = waiting after, gen
// throughput = output tokens since the previous Decode line over the time since.
// Preemptions are a Retract line before the iteration's own line; each departure is an HTTP
// access line (uvicorn's, no prefix), as a server logs a finished request.
#include <algorithm>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "traces/foreign_writer_support.hpp"

namespace batchproof::traces {

namespace {

class SglangWriter final : public ForeignTraceWriter {
 public:
  SglangWriter(std::ostream& out, const ForeignWriterOptions& options) : out_(out), options_(options) {}

  void header(const core::TraceHeader& h) override {
    header_ = h;
    std::string& o = line_;
    o.clear();
    prefix(o, 0, false);
    append(o, "server_args=ServerArgs(model_path='batchproof/");
    append(o, h.engine);
    append(o, "', tp_size=1, dp_size=1, chunked_prefill_size=");
    append_int(o, h.token_budget.value_or(-1));
    append(o, ", max_prefill_tokens=16384, max_running_requests=");
    if (h.max_batch) append_int(o, *h.max_batch);
    else append(o, "None");
    append(o, ", schedule_policy='fcfs', decode_log_interval=");
    append_int(o, options_.decode_log_interval);
    append(o, ", enable_mixed_chunk=True, disable_radix_cache=True)\n");
    if (h.kv_capacity_tokens) {
      prefix(o, 0, true);
      append(o, "max_total_num_tokens=");
      append_int(o, *h.kv_capacity_tokens);
      append(o, ", chunked_prefill_size=");
      append_int(o, h.token_budget.value_or(-1));
      append(o, ", max_prefill_tokens=16384");
      if (h.max_batch) {
        append(o, ", max_running_requests=");
        append_int(o, *h.max_batch);
      }
      o += '\n';
    }
    flush();
  }

  void iteration(const core::TraceIteration& it) override {
    const BatchCounts c = batch_counts(it);
    book_.apply(it);
    std::string& o = line_;
    o.clear();
    if (!it.preempted.empty()) {
      prefix(o, it.start_s, true);
      append(o, "KV cache pool is full. Retract requests. #retracted_reqs: ");
      append_int(o, static_cast<std::int64_t>(it.preempted.size()));
      append(o, ", #new_token_ratio: 0.7000 -> 1.0000\n");
    }
    if (c.prefill_requests > 0) {
      prefix(o, it.start_s, true);
      append(o, "Prefill batch, #new-seq: ");
      append_int(o, c.prefill_requests);
      append(o, ", #new-token: ");
      append_int(o, c.prefill_tokens);
      append(o, ", #cached-token: 0");
      usage(o, it.kv_used);
      append(o, ", #running-req: ");
      append_int(o, running_beside(it));
      append(o, ", #queue-req: ");
      append_int(o, it.waiting);
      append(o, ", #pending-token: ");
      append_int(o, book_.pending_prompt_tokens());
      append(o, ", cuda graph: False, input throughput (token/s): ");
      const double gap = it.start_s - last_prefill_s_;
      append_fixed(o, gap > 0 ? static_cast<double>(c.prefill_tokens) / gap : 0.0, 2);
      o += '\n';
      last_prefill_s_ = it.start_s;
    } else {
      generated_ += c.decode_tokens;
      if (++decode_batches_ % std::max<std::int64_t>(1, options_.decode_log_interval) == 0) {
        prefix(o, it.start_s, true);
        append(o, "Decode batch, #running-req: ");
        append_int(o, c.decode_requests);
        append(o, ", #token: ");
        append_int(o, it.kv_used);
        usage(o, it.kv_used);
        append(o, ", cuda graph: True, gen throughput (token/s): ");
        const double gap = it.end_s - last_decode_s_;
        append_fixed(o, gap > 0 ? static_cast<double>(generated_) / gap : 0.0, 2);
        append(o, ", #queue-req: ");
        append_int(o, it.waiting);
        o += '\n';
        generated_ = 0;
        last_decode_s_ = it.end_s;
      }
    }
    for (std::size_t i = 0; i < it.departures.size(); ++i) {
      append(o, "INFO:     127.0.0.1:");
      append_int(o, 40000 + (it.departures[i] % 20000));
      append(o, " - \"POST /generate HTTP/1.1\" 200 OK\n");
    }
    flush();
  }

 private:
  // "[2025-01-01 00:00:03 TP0] " (the scheduler's lines) or "[2025-01-01 00:00:00] " (the
  // launcher's).
  void prefix(std::string& o, double t, bool rank) const {
    const LogTime lt = log_time(options_.clock_origin_s + t);
    fmt::format_to(std::back_inserter(o), "[{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}] ", lt.year, lt.month, lt.day,
                   lt.hour, lt.minute, lt.second, rank ? " TP0" : "");
  }

  // SGLang's #running-req on a Prefill line: its running batch, which the prefill batch joins
  // after the line is logged. So the running requests after the iteration, less the batch's
  // prompt requests still running then.
  static std::int64_t running_beside(const core::TraceIteration& it) {
    std::int64_t joining = 0;
    for (const auto& item : it.items) {
      if (item.prefill == 0) continue;
      const auto gone = [&](const std::vector<std::int64_t>& ids) {
        return std::find(ids.begin(), ids.end(), item.id) != ids.end();
      };
      if (!gone(it.departures) && !gone(it.preempted)) ++joining;
    }
    return std::max<std::int64_t>(0, it.running - joining);
  }

  // ", token usage: 0.16": the share of the KV pool in use; left out when the engine's memory
  // is not modelled (there is no pool to share).
  void usage(std::string& o, std::int64_t kv_used) const {
    if (!header_.kv_capacity_tokens || *header_.kv_capacity_tokens <= 0) return;
    append(o, ", token usage: ");
    append_fixed(o, static_cast<double>(kv_used) / static_cast<double>(*header_.kv_capacity_tokens), 2);
  }

  void flush() {
    if (!line_.empty()) out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    line_.clear();
  }

  std::ostream& out_;
  ForeignWriterOptions options_;
  core::TraceHeader header_;
  RequestBook book_;
  std::string line_;
  std::int64_t decode_batches_ = 0, generated_ = 0;
  double last_prefill_s_ = 0, last_decode_s_ = 0;
};

}  // namespace

std::unique_ptr<ForeignTraceWriter> make_sglang_writer(std::ostream& out, const ForeignWriterOptions& options) {
  return std::make_unique<SglangWriter>(out, options);
}

}  // namespace batchproof::traces
