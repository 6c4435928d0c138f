// The log readers' speed, end to end (Input::open, detection, parsing, normalised records) on
// large generated files read from the page cache: batchproof's own JSON Lines (64 items an
// iteration, as the simulator writes them), TensorRT-LLM IterationStats one object a line and
// as one JSON array on one line, and a Vidur chrome trace (one line). The files are written
// under $TMPDIR (default /tmp) before the first timed run and removed at the end.
//
//   build/bench/bench_audit_readers                      (256 MB a file)
//   BATCHPROOF_BENCH_MB=1024 build/bench/bench_audit_readers --benchmark_repetitions=3
//   BATCHPROOF_BENCH_DIR=/tmp/readers build/bench/bench_audit_readers   (files kept and reused)
//
// Compare with `wc -l FILE` on the same files.
#include <sys/resource.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/trace_format.hpp"
#include "traces/reader.hpp"

using namespace batchproof;

namespace {

std::size_t target_bytes() {
  const char* mb = std::getenv("BATCHPROOF_BENCH_MB");
  return (mb ? std::strtoull(mb, nullptr, 10) : 256) << 20;
}

// $BATCHPROOF_BENCH_DIR (kept, and its files reused), else a fresh folder under $TMPDIR
// (removed at the end, unless $BATCHPROOF_BENCH_KEEP is set).
std::filesystem::path make_bench_dir() {
  std::filesystem::path dir;
  if (const char* given = std::getenv("BATCHPROOF_BENCH_DIR")) {
    dir = given;
  } else {
    const char* tmp = std::getenv("TMPDIR");
    dir = std::filesystem::path(tmp ? tmp : "/tmp") / fmt::format("batchproof-bench-readers-{}", ::getpid());
  }
  std::filesystem::create_directories(dir);
  return dir;
}

const std::filesystem::path kBenchDir = make_bench_dir();
const std::filesystem::path& bench_dir() { return kBenchDir; }

// Removes the generated files when the process ends (declared after kBenchDir: destroyed first).
struct Cleanup {
  ~Cleanup() {
    if (std::getenv("BATCHPROOF_BENCH_DIR")) return;
    if (std::getenv("BATCHPROOF_BENCH_KEEP")) {
      std::fprintf(stderr, "files kept in %s\n", kBenchDir.c_str());
      return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(kBenchDir, ignored);
  }
} cleanup;

std::string own_trace() {
  const auto path = bench_dir() / "own.jsonl";
  if (std::filesystem::exists(path)) return path.string();
  std::ofstream out(path, std::ios::binary);
  core::TraceWriter writer(out);
  core::TraceHeader h;
  h.source = std::string("bench");
  h.engine = std::string("e");
  h.token_budget = 512;
  h.kv_capacity_tokens = 1 << 20;
  writer.write_header(h);
  core::TraceIteration it;
  for (std::int64_t i = 0; static_cast<std::size_t>(out.tellp()) < target_bytes(); ++i) {
    it.index = i;
    it.start_s = 0.02 * static_cast<double>(i);
    it.end_s = it.start_s + 0.0193;
    it.items.clear();
    for (std::int64_t k = 0; k < 64; ++k) it.items.push_back({i * 64 + k, k == 0 ? 448 : 0, k != 0});
    it.tokens = core::item_tokens(it.items);
    it.waiting = 12;
    it.running = 64;
    it.kv_used = 300000 + i % 1000;
    it.departures.assign(1, i * 64 + 3);
    writer.write_iteration(it);
  }
  writer.flush();
  return path.string();
}

std::string trtllm_record(std::int64_t i) {
  return fmt::format(
      R"({{"cpuMemUsage":3492,"gpuMemUsage":25330607135,"inflightBatchingStats":{{"avgNumDecodedTokensPerIter":0.0,"microBatchId":0,"numContextRequests":1,"numCtxTokens":{},"numGenRequests":{},"numPausedRequests":0,"numScheduledRequests":{}}},"iter":{},"iterLatencyMS":{},"kvCacheStats":{{"allocNewBlocks":250,"allocTotalBlocks":250,"cacheHitRate":0.0,"freeNumBlocks":1745,"maxNumBlocks":7240,"missedBlocks":0,"reusedBlocks":0,"tokensPerBlock":64,"usedNumBlocks":5495}},"maxBatchSizeRuntime":16,"maxBatchSizeStatic":16,"maxBatchSizeTunerRecommended":0,"maxNumActiveRequests":16,"maxNumTokensRuntime":17800,"maxNumTokensStatic":17800,"maxNumTokensTunerRecommended":0,"newActiveRequestsQueueLatencyMS":0.091039,"numActiveRequests":16,"numCompletedRequests":0,"numNewActiveRequests":1,"numQueuedRequests":7,"pinnedMemUsage":55538100068,"staticBatchingStats":null,"timestamp":"04-07-2025 20:33:17.747028"}})",
      1000 + i % 4000, 15, 16, i, 20.5 + static_cast<double>(i % 100) / 10);
}

std::string trtllm_file(bool array) {
  const auto path = bench_dir() / (array ? "trtllm.json" : "trtllm.jsonl");
  if (std::filesystem::exists(path)) return path.string();
  std::ofstream out(path, std::ios::binary);
  std::string chunk;
  std::size_t written = 0;
  if (array) out << '[';
  for (std::int64_t i = 0; written < target_bytes(); ++i) {
    if (array && i > 0) chunk += ',';
    chunk += trtllm_record(i);
    if (!array) chunk += '\n';
    if (chunk.size() > (1 << 20)) {
      out << chunk;
      written += chunk.size();
      chunk.clear();
    }
  }
  out << chunk;
  if (array) out << ']';
  return path.string();
}

std::string vidur_trace() {
  const auto path = bench_dir() / "vidur_chrome_trace.json";
  if (std::filesystem::exists(path)) return path.string();
  std::ofstream out(path, std::ios::binary);
  std::string chunk = R"({"traceEvents": [)";
  std::size_t written = 0;
  for (std::int64_t i = 0; written < target_bytes(); ++i) {
    if (i > 0) chunk += ", ";
    // A batch of 16: one prompt chunk and 15 decodes, as json.dump writes it.
    std::string ids, tokens;
    for (std::int64_t k = 0; k < 16; ++k) {
      if (k > 0) {
        ids += ", ";
        tokens += ", ";
      }
      ids += std::to_string(i + k);
      tokens += k == 0 ? "512" : "1";
    }
    chunk += fmt::format(
        R"({{"name": "[{}]", "ph": "X", "ts": {}, "dur": 21564.3, "pid": {}, "tid": 0, "args": {{"batch_id": {}, "batch_size": 16, "request_ids": [{}], "num_tokens": [{}]}}}})",
        ids, 21564.3 * static_cast<double>(i), i % 4, i, ids, tokens);
    if (chunk.size() > (1 << 20)) {
      out << chunk;
      written += chunk.size();
      chunk.clear();
    }
  }
  out << chunk << "]}";
  return path.string();
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

void read_all(benchmark::State& state, const std::string& path) {
  const auto bytes = std::filesystem::file_size(path);
  std::int64_t records = 0;
  for (auto _ : state) {
    core::Diagnostics diags;
    auto input = traces::Input::open(path, diags);
    const auto format = traces::detect_format(input->head());
    if (!format) {
      state.SkipWithError("format not detected");
      return;
    }
    auto reader = traces::make_reader(*format, std::move(input));
    traces::Iteration record;
    while (reader->next(record)) ++records;
    if (reader->fatal() || reader->malformed_count() > 0) {
      state.SkipWithError("the reader reported problems");
      return;
    }
    benchmark::DoNotOptimize(record);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
  state.counters["records_per_s"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

void BM_OwnJsonl(benchmark::State& state) { read_all(state, own_trace()); }
void BM_TrtllmJsonl(benchmark::State& state) { read_all(state, trtllm_file(false)); }
void BM_TrtllmArrayOneLine(benchmark::State& state) { read_all(state, trtllm_file(true)); }
void BM_VidurChromeOneLine(benchmark::State& state) { read_all(state, vidur_trace()); }

BENCHMARK(BM_OwnJsonl)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_TrtllmJsonl)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_TrtllmArrayOneLine)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_VidurChromeOneLine)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
