// Round trips: a simulated chat run, written as TensorRT-LLM IterationStats, SGLang and vLLM
// logs, is read back by each format's reader and compared with the run, iteration by
// iteration, field by field, within what each format carries and at its precision. The logs are
// written both by the writers directly and through ForeignTraceStream (what `simulate
// --trace-format` uses): the bytes must agree. Detection must name each log's format.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <catch2/catch.hpp>

#include "core/capacity.hpp"
#include "core/trace_format.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"
#include "traces/foreign_trace_stream.hpp"
#include "traces/foreign_writer_support.hpp"
#include "traces/in_memory_input.hpp"
#include "traces/text_scan.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using traces::testing::memory_input;
using traces::testing::read_all;
using traces::testing::rendered;

namespace {

const core::Spec& spec() {
  static const core::Spec s = [] {
    core::Diagnostics diags;
    // Vidur's Sarathi with a small KV cache, so that requests are preempted; and the paper's
    // Sarathi-Serve, with no memory, batch cap or preemption.
    auto loaded = dsl::load_spec_text(std::string(BATCHPROOF_SOURCE_DIR) + "/examples/foreign_roundtrip.bp",
                                      R"(import "../gpu_profiles/a100-80gb.bp"
import "paper_policies.bp"
engine tight {
  profile      codellama34b_a100
  token_budget 512 tokens
  max_batch    64 requests
  kv_cache     600 blocks
  block_size   16 tokens
  watermark    1 %
  admission    prompt
  max_seq_len  4096 tokens
  preemption   recompute_youngest
  accounting   vidur
  policy {
    decode running fcfs unbudgeted
    prefill started fcfs chunk
    prefill waiting fcfs chunk
  }
}
)",
                                      diags);
    REQUIRE(loaded);
    return *loaded;
  }();
  return s;
}

// A simulated run, as its own trace and as the records read back from it.
struct Run {
  std::string own;  // batchproof's JSON Lines
  core::TraceHeader header;
  std::vector<core::TraceIteration> iterations;
};

Run simulate(const std::string& engine_name, double load, std::uint64_t requests, std::uint64_t seed = 3) {
  const core::Engine& engine = *spec().find_engine(engine_name);
  const core::Workload& chat = *spec().find_workload("chat");
  const core::LoadFigures figures = core::load_on(engine, chat);
  std::stringstream own;
  core::TraceWriter writer(own);
  sim::SimOptions o;
  o.seed = seed;
  o.rate.rate_per_s = load * figures.usable_tokens_per_s / (chat.mean_prompt() + chat.mean_output());
  o.requests = requests;
  o.trace = &writer;
  sim::simulate_engine(engine, chat, o);
  Run run;
  run.own = own.str();
  std::istringstream in(run.own);
  core::TraceReader reader(in, "own");
  core::TraceRecord record;
  while (reader.next(record)) {
    if (auto* h = std::get_if<core::TraceHeader>(&record)) run.header = *h;
    if (auto* it = std::get_if<core::TraceIteration>(&record)) run.iterations.push_back(std::move(*it));
  }
  REQUIRE_FALSE(reader.fatal());
  REQUIRE(reader.malformed_count() == 0);
  return run;
}

std::string write_direct(Format format, const Run& run, const ForeignWriterOptions& options = {}) {
  std::ostringstream out;
  auto writer = make_foreign_writer(format, out, options);
  REQUIRE(writer);
  writer->header(run.header);
  for (const auto& it : run.iterations) writer->iteration(it);
  writer->finish();
  return out.str();
}

std::string write_through_stream(Format format, const Run& run, const ForeignWriterOptions& options = {}) {
  std::ostringstream out;
  ForeignTraceStream stream(format, out, options);
  stream << run.own;
  REQUIRE(stream.finish());
  return out.str();
}

// The log, written both ways (they must agree), then read back by make_reader after detection.
std::vector<Iteration> round_trip(Format format, const Run& run, const ForeignWriterOptions& options = {}) {
  const std::string log = write_direct(format, run, options);
  CHECK(log == write_through_stream(format, run, options));
  CHECK(detect_format(std::string_view(log).substr(0, 64 * 1024)) == format);
  auto reader = make_reader(format, memory_input("roundtrip.log", log));
  auto records = read_all(*reader);
  INFO(rendered(*reader));
  CHECK(reader->diagnostics().all().empty());
  CHECK(reader->malformed_count() == 0);
  CHECK_FALSE(reader->fatal());
  return records;
}

// The log's time of a trace time, at one-second resolution, as the writers print it.
double log_second(double t, const ForeignWriterOptions& options) {
  const LogTime lt = log_time(options.clock_origin_s + t);
  return static_cast<double>(text::days_from_civil(lt.year, lt.month, lt.day)) * 86400.0 + lt.hour * 3600.0 +
         lt.minute * 60.0 + lt.second;
}

// The same for vLLM, whose lines have no year: seconds since January 1 of a leap year.
double vllm_second(double t, const ForeignWriterOptions& options) {
  const LogTime lt = log_time(options.clock_origin_s + t);
  return static_cast<double>(text::days_from_civil(2000, lt.month, lt.day) - text::days_from_civil(2000, 1, 1)) *
             86400.0 +
         lt.hour * 3600.0 + lt.minute * 60.0 + lt.second;
}

std::int64_t total_preemptions(const Run& run) {
  std::int64_t n = 0;
  for (const auto& it : run.iterations) n += static_cast<std::int64_t>(it.preempted.size());
  return n;
}

// A run with memory, blocks, a budget, a batch cap and preemptions; and one with none of these.
const Run& vidur_run() {
  static const Run run = simulate("tight", 1.0, 1000);
  return run;
}
const Run& paper_run() {
  static const Run run = simulate("sarathi", 0.9, 400);
  return run;
}

}  // namespace

TEST_CASE("foreign writers: the simulated runs have what the round trips need", "[foreign]") {
  const Run& run = vidur_run();
  CHECK(run.iterations.size() > 1000);
  CHECK(run.header.kv_capacity_tokens == 9600);
  CHECK(run.header.block_size == 16);
  CHECK(total_preemptions(run) > 0);
  std::int64_t decode_only = 0;
  for (const auto& it : run.iterations) decode_only += batch_counts(it).prefill_requests == 0;
  CHECK(decode_only > 200);
  CHECK_FALSE(paper_run().header.kv_capacity_tokens);
}

TEST_CASE("foreign writers: TensorRT-LLM IterationStats read back record by record", "[foreign]") {
  for (const Run* run : {&vidur_run(), &paper_run()}) {
    const ForeignWriterOptions options;
    const auto records = round_trip(Format::TrtllmIterStats, *run, options);
    REQUIRE(records.size() == run->iterations.size());
    const auto& h = run->header;
    const std::int64_t block = h.block_size;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const core::TraceIteration& it = run->iterations[i];
      const Iteration& r = records[i];
      const BatchCounts c = batch_counts(it);
      INFO("iteration " << it.index);
      CHECK(r.index == it.index);
      CHECK(r.duration_s == Approx(it.end_s - it.start_s).epsilon(1e-12));
      CHECK(*r.start_s == Approx(options.clock_origin_s + it.start_s).margin(2e-6));
      CHECK(r.prefill_requests == c.prefill_requests);
      CHECK(r.prefill_tokens == c.prefill_tokens);
      CHECK(r.decode_requests == c.decode_requests);
      CHECK(r.running == it.running);
      CHECK(r.waiting == it.waiting);
      CHECK(r.preempted == static_cast<std::int64_t>(it.preempted.size()));
      CHECK(r.budget_tokens == h.token_budget);
      CHECK(r.budget_requests == h.max_batch);
      if (h.kv_capacity_tokens) {
        CHECK(r.kv_used_tokens == (it.kv_used + block - 1) / block * block);
        CHECK(r.kv_total_tokens == *h.kv_capacity_tokens / block * block);
      } else {
        CHECK_FALSE(r.kv_used_tokens);
        CHECK_FALSE(r.kv_total_tokens);
      }
    }
  }
}

TEST_CASE("foreign writers: SGLang read back, prefill lines and sampled decode lines", "[foreign]") {
  for (std::int64_t interval : {40, 7}) {
    for (const Run* run : {&vidur_run(), &paper_run()}) {
      ForeignWriterOptions options;
      options.decode_log_interval = interval;
      const auto records = round_trip(Format::Sglang, *run, options);
      const auto& h = run->header;
      const double capacity = static_cast<double>(h.kv_capacity_tokens.value_or(0));
      std::size_t next = 0;
      std::int64_t decode_batches = 0, retracted = 0, decode_lines = 0;
      for (const auto& it : run->iterations) {
        const BatchCounts c = batch_counts(it);
        retracted += static_cast<std::int64_t>(it.preempted.size());
        const bool prefill = c.prefill_requests > 0;
        if (!prefill && ++decode_batches % interval != 0) continue;
        INFO("iteration " << it.index);
        REQUIRE(next < records.size());
        const Iteration& r = records[next++];
        CHECK(r.stream == "TP0");
        CHECK(r.start_s == log_second(it.start_s, options));
        CHECK(r.waiting == it.waiting);
        CHECK(r.preempted == retracted);
        retracted = 0;
        if (capacity > 0) CHECK(*r.kv_usage == Approx(static_cast<double>(it.kv_used) / capacity).margin(0.005));
        else CHECK_FALSE(r.kv_usage);  // no pool: no usage written
        CHECK(r.kv_total_tokens == h.kv_capacity_tokens);
        CHECK(r.budget_requests == h.max_batch);
        if (prefill) {
          CHECK(r.steps == 1);
          CHECK(r.prefill_requests == c.prefill_requests);
          CHECK(r.prefill_tokens == c.prefill_tokens);
          CHECK(r.cached_tokens == 0);
          // The running batch beside this one: the batch's prompt requests join it after the line.
          std::int64_t joining = 0;
          for (const auto& item : it.items) {
            const auto in = [&](const std::vector<std::int64_t>& ids) {
              return std::find(ids.begin(), ids.end(), item.id) != ids.end();
            };
            joining += item.prefill > 0 && !in(it.departures) && !in(it.preempted);
          }
          CHECK(r.running == it.running - joining);
          CHECK_FALSE(r.decode_tokens);  // mixed chunks: the decodes beside a prefill are not logged
          REQUIRE(r.waiting_tokens);
          CHECK(*r.waiting_tokens >= it.waiting);  // every waiting request has prompt left
        } else {
          ++decode_lines;
          CHECK(r.steps == interval);
          CHECK(r.running == c.decode_requests);
          CHECK(r.decode_requests == c.decode_requests);
          CHECK(r.decode_tokens == c.decode_requests);
          CHECK(r.prefill_tokens == 0);
          CHECK(r.kv_used_tokens == it.kv_used);
        }
      }
      if (retracted > 0) {  // retractions after the last logged line: a record of their own
        REQUIRE(next < records.size());
        CHECK(records[next].steps == 0);
        CHECK(records[next++].preempted == retracted);
      }
      CHECK(next == records.size());
      CHECK(decode_lines > 0);
    }
  }
}

TEST_CASE("foreign writers: vLLM read back, with the periodic stats on the step they follow", "[foreign]") {
  for (const Run* run : {&vidur_run(), &paper_run()}) {
    const ForeignWriterOptions options;
    const auto records = round_trip(Format::Vllm, *run, options);
    REQUIRE(records.size() == run->iterations.size());
    const auto& h = run->header;
    const double capacity = static_cast<double>(h.kv_capacity_tokens.value_or(0));
    double next_stats = options.stats_interval_s;
    int stats_lines = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const core::TraceIteration& it = run->iterations[i];
      const Iteration& r = records[i];
      const BatchCounts c = batch_counts(it);
      INFO("iteration " << it.index);
      CHECK(r.stream == "");
      CHECK(r.index == it.index);
      CHECK(r.start_s == vllm_second(it.end_s, options));  // logged when the step ends
      CHECK(r.prefill_requests == c.prefill_requests);
      CHECK(r.prefill_tokens == c.prefill_tokens);
      CHECK(r.decode_requests == c.decode_requests);
      CHECK(r.decode_tokens == c.decode_tokens);
      CHECK(r.tokens() == it.tokens);
      CHECK(*r.duration_s == Approx(it.end_s - it.start_s).margin(0.005e-3 + 1e-12));
      CHECK(r.kv_total_tokens == h.kv_capacity_tokens);
      CHECK(r.budget_tokens == h.token_budget);
      CHECK(r.budget_requests == h.max_batch);
      if (capacity > 0) CHECK(*r.kv_usage == Approx(static_cast<double>(it.kv_used) / capacity).margin(0.0005));
      else CHECK_FALSE(r.kv_usage);  // no cache: no usage written, on steps or stats lines
      if (it.end_s >= next_stats) {
        ++stats_lines;
        CHECK(r.running == it.running);
        CHECK(r.waiting == it.waiting);
        next_stats = (std::floor(it.end_s / options.stats_interval_s) + 1) * options.stats_interval_s;
      } else {
        CHECK_FALSE(r.running);
        CHECK_FALSE(r.waiting);
      }
    }
    CHECK(stats_lines >= 3);
  }
}

TEST_CASE("foreign writers: the start of each log, written exactly", "[foreign]") {
  Run run;
  run.header.engine = "tiny";
  run.header.token_budget = 512;
  run.header.max_batch = 8;
  run.header.kv_capacity_tokens = 2048;
  run.header.block_size = 16;
  core::TraceIteration first;
  first.index = 0;
  first.start_s = 0.25;
  first.end_s = 0.40316;
  first.items = {{0, 200, false}, {1, 100, false}};
  first.arrivals = {{0, 0.0, 200, 3, ""}, {1, 0.125, 300, 2, ""}};
  first.waiting = 0;
  first.running = 2;
  first.kv_used = 320;
  first.tokens = 300;
  core::TraceIteration second;
  second.index = 1;
  second.start_s = 0.40316;
  second.end_s = 0.45;
  second.items = {{0, 0, true}, {1, 200, false}};
  second.departures = {};
  second.preempted = {};
  second.waiting = 0;
  second.running = 2;
  second.kv_used = 528;
  second.tokens = 201;
  run.iterations = {first, second};

  CHECK(write_direct(Format::TrtllmIterStats, run) ==
        "{\"cpuMemUsage\":0,\"gpuMemUsage\":0,\"inflightBatchingStats\":{\"avgNumDecodedTokensPerIter\":0.0,"
        "\"microBatchId\":0,\"numContextRequests\":2,\"numCtxTokens\":300,\"numGenRequests\":0,\"numPausedRequests\":0,"
        "\"numScheduledRequests\":2},\"iter\":0,\"iterLatencyMS\":153.16000000000003,\"kvCacheStats\":{\"allocNewBlocks\":20,"
        "\"allocTotalBlocks\":20,\"cacheHitRate\":0.0,\"freeNumBlocks\":108,\"maxNumBlocks\":128,\"missedBlocks\":20,"
        "\"reusedBlocks\":0,\"tokensPerBlock\":16,\"usedNumBlocks\":20},\"maxBatchSizeRuntime\":8,"
        "\"maxBatchSizeStatic\":8,\"maxBatchSizeTunerRecommended\":0,\"maxNumActiveRequests\":8,"
        "\"maxNumTokensRuntime\":512,\"maxNumTokensStatic\":512,\"maxNumTokensTunerRecommended\":0,"
        "\"newActiveRequestsQueueLatencyMS\":375,\"numActiveRequests\":2,\"numCompletedRequests\":0,"
        "\"numNewActiveRequests\":2,\"numQueuedRequests\":0,\"pinnedMemUsage\":0,\"staticBatchingStats\":null,"
        "\"timestamp\":\"01-01-2025 00:00:00.403160\"}\n"
        "{\"cpuMemUsage\":0,\"gpuMemUsage\":0,\"inflightBatchingStats\":{\"avgNumDecodedTokensPerIter\":1.0,"
        "\"microBatchId\":0,\"numContextRequests\":1,\"numCtxTokens\":200,\"numGenRequests\":1,\"numPausedRequests\":0,"
        "\"numScheduledRequests\":2},\"iter\":1,\"iterLatencyMS\":46.83999999999999,\"kvCacheStats\":{\"allocNewBlocks\":13,"
        "\"allocTotalBlocks\":33,\"cacheHitRate\":0.0,\"freeNumBlocks\":95,\"maxNumBlocks\":128,\"missedBlocks\":33,"
        "\"reusedBlocks\":0,\"tokensPerBlock\":16,\"usedNumBlocks\":33},\"maxBatchSizeRuntime\":8,"
        "\"maxBatchSizeStatic\":8,\"maxBatchSizeTunerRecommended\":0,\"maxNumActiveRequests\":8,"
        "\"maxNumTokensRuntime\":512,\"maxNumTokensStatic\":512,\"maxNumTokensTunerRecommended\":0,"
        "\"newActiveRequestsQueueLatencyMS\":0,\"numActiveRequests\":2,\"numCompletedRequests\":0,"
        "\"numNewActiveRequests\":0,\"numQueuedRequests\":0,\"pinnedMemUsage\":0,\"staticBatchingStats\":null,"
        "\"timestamp\":\"01-01-2025 00:00:00.450000\"}\n");

  CHECK(write_direct(Format::Sglang, run) ==
        "[2025-01-01 00:00:00] server_args=ServerArgs(model_path='batchproof/tiny', tp_size=1, dp_size=1, "
        "chunked_prefill_size=512, max_prefill_tokens=16384, max_running_requests=8, schedule_policy='fcfs', "
        "decode_log_interval=40, enable_mixed_chunk=True, disable_radix_cache=True)\n"
        "[2025-01-01 00:00:00 TP0] max_total_num_tokens=2048, chunked_prefill_size=512, max_prefill_tokens=16384, "
        "max_running_requests=8\n"
        "[2025-01-01 00:00:00 TP0] Prefill batch, #new-seq: 2, #new-token: 300, #cached-token: 0, token usage: 0.16, "
        "#running-req: 0, #queue-req: 0, #pending-token: 200, cuda graph: False, input throughput (token/s): 1200.00\n"
        "[2025-01-01 00:00:00 TP0] Prefill batch, #new-seq: 1, #new-token: 200, #cached-token: 0, token usage: 0.26, "
        "#running-req: 1, #queue-req: 0, #pending-token: 0, cuda graph: False, input throughput (token/s): 1305.82\n");

  CHECK(write_direct(Format::Vllm, run) ==
        "(APIServer pid=4241) INFO 01-01 00:00:00 [utils.py:233] non-default args: {'model': 'batchproof/tiny', "
        "'max_num_batched_tokens': 512, 'max_num_seqs': 8, 'enable_logging_iteration_details': True}\n"
        "(APIServer pid=4241) INFO 01-01 00:00:00 [config.py:2394] Chunked prefill is enabled with "
        "max_num_batched_tokens=512.\n"
        "(EngineCore_DP0 pid=4242) INFO 01-01 00:00:00 [kv_cache_utils.py:1087] GPU KV cache size: 2,048 tokens\n"
        "(APIServer pid=4241) INFO 01-01 00:00:00 [loggers.py:182] Engine 000: Iteration(0): 2 context requests, 300 "
        "context tokens, 0 generation requests, 0 generation tokens, iteration elapsed time: 153.16 ms, GPU KV cache "
        "usage: 15.6%\n"
        "(APIServer pid=4241) INFO 01-01 00:00:00 [loggers.py:182] Engine 000: Iteration(1): 1 context requests, 200 "
        "context tokens, 1 generation requests, 1 generation tokens, iteration elapsed time: 46.84 ms, GPU KV cache "
        "usage: 25.8%\n");
}

TEST_CASE("foreign writers: a trace line that cannot be read stops the conversion, with its line", "[foreign]") {
  std::ostringstream out;
  ForeignTraceStream stream(Format::Vllm, out);
  stream << paper_run().own.substr(0, paper_run().own.find('\n') + 1);  // the header
  stream << "{\"type\":\"iteration\",\"index\":\"zero\"}\n";
  CHECK_FALSE(stream.finish());
  CHECK(stream.error() == "line 2 of the trace could not be converted: a field does not have its type");
  std::ostringstream out2;
  ForeignTraceStream junk(Format::Sglang, out2);
  junk << "not json at all\n";
  CHECK_FALSE(junk.finish());
  CHECK(junk.error() == "line 1 of the trace could not be converted: not JSON");
}
