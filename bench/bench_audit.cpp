// The auditor's throughput, end to end (Input::open, the format's reader, every check, the
// replay where the format allows one, analytics and the profile fit), on a large log of each
// format read from the page cache, beside `wc -l` on the same file; and its peak memory.
//
//   build/bench/bench_audit                                  (1024 MB a file)
//   BATCHPROOF_BENCH_MB=256 build/bench/bench_audit          (smaller files)
//   BATCHPROOF_BENCH_DIR=/tmp/audit build/bench/bench_audit  (files kept and reused)
//   build/bench/bench_audit batchproof trtllm                (some formats only)
//   BATCHPROOF_BENCH_READ_ONLY=1 build/bench/bench_audit     (the readers alone)
//   BATCHPROOF_BENCH_ONE_THREAD=1 build/bench/bench_audit    (without reading ahead)
//
// The logs: batchproof's own trace, TensorRT-LLM IterationStats, SGLang and vLLM logs are a
// simulated run of Sarathi-Serve (the paper's A100 profile, b_max = 512, the chat workload at
// 0.9 of its rate) written by the simulator and the foreign writers (traces/foreign_writers.hpp).
// Vidur's and Sarathi-Serve's chrome traces, Vidur's batch CSV and TensorRT-LLM's PyExecutor
// log have no writer: they are a synthetic steady state (64 requests in each batch, one of them
// a prompt chunk). Each audit runs in a child process, so that its peak memory (ru_maxrss) is
// its own; the figure is the median of 3 runs after one `wc -l` has put the file in the page
// cache.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/trace_format.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"
#include "traces/audit_run.hpp"
#include "traces/foreign_trace_stream.hpp"
#include "traces/read_ahead.hpp"
#include "traces/reader.hpp"

using namespace batchproof;

namespace {

using Clock = std::chrono::steady_clock;

std::size_t target_bytes() {
  const char* mb = std::getenv("BATCHPROOF_BENCH_MB");
  return static_cast<std::size_t>(mb ? std::strtoull(mb, nullptr, 10) : 1024) << 20;
}

std::filesystem::path bench_dir() {
  if (const char* given = std::getenv("BATCHPROOF_BENCH_DIR")) return given;
  const char* tmp = std::getenv("TMPDIR");
  return std::filesystem::path(tmp ? tmp : "/tmp") / fmt::format("batchproof-bench-audit-{}", ::getpid());
}

const core::Spec& spec() {
  static const core::Spec s = [] {
    core::Diagnostics diags;
    auto loaded = dsl::load_spec(std::string(BATCHPROOF_SOURCE_DIR) + "/examples/paper_policies.bp", diags);
    if (!loaded) std::abort();
    return *loaded;
  }();
  return s;
}

// A simulated run of `requests` requests, its trace written to `out` (batchproof's format, or
// a foreign one through the converting stream).
void simulate(std::ostream& out, traces::Format format, std::uint64_t requests) {
  std::unique_ptr<traces::ForeignTraceStream> foreign;
  if (format != traces::Format::Batchproof) foreign = std::make_unique<traces::ForeignTraceStream>(format, out);
  std::ostream& sink = foreign ? static_cast<std::ostream&>(*foreign) : out;
  core::TraceWriter writer(sink);
  sim::SimOptions o;
  o.seed = 1;
  o.requests = requests;
  o.rate.rate_scale = 0.9;
  o.trace = &writer;
  o.spec_file = "examples/paper_policies.bp";
  sim::simulate_engine(*spec().find_engine("sarathi"), *spec().find_workload("chat"), o);
  writer.flush();
  if (foreign) foreign->finish();
}

void simulated_log(const std::filesystem::path& path, traces::Format format) {
  // Bytes a request from a short run, then a run long enough for the target.
  std::ostringstream probe;
  simulate(probe, format, 5000);
  const double per_request = static_cast<double>(probe.str().size()) / 5000;
  const auto requests = static_cast<std::uint64_t>(static_cast<double>(target_bytes()) / per_request) + 1;
  std::ofstream out(path, std::ios::binary);
  simulate(out, format, requests);
}

// The synthetic steady state: iteration i holds 64 requests, 63 decoding and one prompt chunk
// of 448 tokens (a request joins every 8 iterations and leaves 8 later... ids advance by one
// every iteration so that each batch differs).
struct SteadyBatch {
  std::int64_t index = 0;
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> tokens;  // 448 for the prompt chunk, 1 for a decode
  double start_s = 0, duration_s = 0;
};
SteadyBatch steady(std::int64_t i) {
  SteadyBatch b;
  b.index = i;
  for (std::int64_t k = 0; k < 64; ++k) {
    b.ids.push_back(i + k);
    b.tokens.push_back(k == 63 ? 448 : 1);
  }
  b.duration_s = 0.01128 + 0.03547 * 4;
  b.start_s = static_cast<double>(i) * b.duration_s;
  return b;
}

template <typename Line>
void synthetic_log(const std::filesystem::path& path, const std::string& opening, const std::string& closing,
                   Line line) {
  std::ofstream out(path, std::ios::binary);
  out << opening;
  std::string text;
  for (std::int64_t i = 0; static_cast<std::size_t>(out.tellp()) < target_bytes(); ++i) {
    text.clear();
    line(steady(i), text);
    out << text;
  }
  out << closing;
}

void vidur_chrome(const std::filesystem::path& path) {
  synthetic_log(path, "{\"traceEvents\": [", "]}", [](const SteadyBatch& b, std::string& s) {
    if (b.index > 0) s.append(", ");
    std::string ids = fmt::format("[{}]", fmt::join(b.ids, ", "));
    s.append(fmt::format("{{\"name\": \"{}\", \"ph\": \"X\", \"ts\": {:.1f}, \"dur\": {:.1f}, \"pid\": 0, \"tid\": 0, "
                         "\"args\": {{\"batch_id\": {}, \"batch_size\": {}, \"request_ids\": {}, \"num_tokens\": [{}]}}}}",
                         ids, 1e6 * b.start_s, 1e6 * b.duration_s, b.index, b.ids.size(), ids,
                         fmt::join(b.tokens, ", ")));
  });
}

void sarathi_chrome(const std::filesystem::path& path) {
  synthetic_log(path, "[", "]", [](const SteadyBatch& b, std::string& s) {
    if (b.index > 0) s.append(", ");
    std::string ids, name, chunks;  // the name is Python's repr of the id list: single quotes
    for (std::size_t k = 0; k < b.ids.size(); ++k) {
      ids.append(fmt::format("{}\"{}\"", k ? ", " : "", b.ids[k]));
      name.append(fmt::format("{}'{}'", k ? ", " : "", b.ids[k]));
      chunks.append(fmt::format("{}{}", k ? ", " : "", b.tokens[k] > 1 ? b.tokens[k] : 0));
    }
    s.append(fmt::format("{{\"name\": \"[{}]\", \"ph\": \"X\", \"ts\": {:.1f}, \"dur\": {:.1f}, \"pid\": 0, \"tid\": 0, "
                         "\"args\": {{\"batch_size\": {}, \"request_ids\": [{}], \"num_batched_tokens\": 511, "
                         "\"num_batched_prompt_tokens\": 448, \"num_batched_output_tokens\": 63, "
                         "\"prompt_chunk_lens\": [{}]}}}}",
                         name, 1e6 * b.start_s, 1e6 * b.duration_s, b.ids.size(), ids, chunks));
  });
}

void vidur_csv(const std::filesystem::path& path) {
  synthetic_log(path,
                "Batch Id,batch_num_tokens,batch_num_prefill_tokens,batch_num_decode_tokens,batch_size,"
                "batch_execution_time\n",
                "", [](const SteadyBatch& b, std::string& s) {
                  s.append(fmt::format("{},511,448,63,64,{}\n", b.index, b.duration_s));
                });
}

void pyexecutor_log(const std::filesystem::path& path) {
  synthetic_log(path, "", "", [](const SteadyBatch& b, std::string& s) {
    auto seconds = static_cast<std::int64_t>(b.start_s);
    auto day = 1 + seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, sec = seconds % 60;
    s.append(fmt::format("[08/{:02}/2025-{:02}:{:02}:{:02}] [TRT-LLM] [I] iter = {}, global_rank = 0, rank = 0, "
                         "currank_total_requests = 64/64, host_step_time = {:.3f}ms, prev_device_step_time = "
                         "{:.3f}ms, timestamp = 2025-08-{:02} {:02}:{:02}:{:02}, num_scheduled_requests: 64, states = "
                         "{{'num_ctx_requests': 1, 'num_ctx_tokens': 448, 'num_generation_tokens': 63}}\n",
                         day, h, m, sec, b.index, 1e3 * b.duration_s, 1e3 * b.duration_s, day, h, m, sec));
  });
}

struct Case {
  traces::Format format;
  std::string file;
  std::function<void(const std::filesystem::path&)> generate;
};

std::vector<Case> cases() {
  using F = traces::Format;
  return {
      {F::Batchproof, "own.jsonl", [](const auto& p) { simulated_log(p, F::Batchproof); }},
      {F::TrtllmIterStats, "trtllm.jsonl", [](const auto& p) { simulated_log(p, F::TrtllmIterStats); }},
      {F::Sglang, "sglang.log", [](const auto& p) { simulated_log(p, F::Sglang); }},
      {F::Vllm, "vllm.log", [](const auto& p) { simulated_log(p, F::Vllm); }},
      {F::VidurChrome, "vidur_chrome.json", vidur_chrome},
      {F::SarathiChrome, "sarathi_chrome.json", sarathi_chrome},
      {F::VidurBatchCsv, "vidur_batch.csv", vidur_csv},
      {F::TrtllmPyExecutor, "trtllm_pyexecutor.log", pyexecutor_log},
  };
}

// BATCHPROOF_BENCH_READ_ONLY=1: the reader alone, no checks (what the checks cost is the difference).
bool read_only() { return std::getenv("BATCHPROOF_BENCH_READ_ONLY") != nullptr; }
// The audit in one thread, without reading ahead (for the figures before and after it).
bool single_thread() { return std::getenv("BATCHPROOF_BENCH_ONE_THREAD") != nullptr; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double wc_seconds(const std::string& path) {
  auto t = Clock::now();
  std::string cmd = "wc -l '" + path + "' > /dev/null";
  if (std::system(cmd.c_str()) != 0) return -1;
  return seconds_since(t);
}

struct AuditRun {
  double seconds = 0;
  double cpu_s = 0;  // user + system time of the child (the machine is shared: wall time varies)
  std::int64_t records = 0, violations = 0;
  long max_rss_kb = 0;
};

// The audit of `path` in a child process (the CLI's fast path: the format's reader, the
// auditor, no spec), its time and records through a pipe, its peak memory from wait4.
AuditRun audit_in_child(const std::string& path, traces::Format format) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    auto t = Clock::now();
    core::Diagnostics diags;
    auto input = traces::Input::open(path, diags);
    if (!input) std::_Exit(3);
    std::optional<core::TraceHeader> header;
    if (format == traces::Format::Batchproof) header = traces::read_own_trace_head(input->head(), path, diags).header;
    traces::Auditor auditor(traces::audit_setup(format, {}, header));
    auto reader = traces::make_reader(format, std::move(input));
    // As `batchproof audit` reads (but the reader alone is timed without a second thread).
    if (!read_only() && !single_thread() && traces::worth_reading_ahead(format))
      reader = traces::read_ahead(std::move(reader));
    traces::Iteration record;
    AuditRun run;
    if (read_only()) {
      while (reader->next(record)) ++run.records;
    } else {
      while (reader->next(record)) auditor.add(record, path);
      auto report = auditor.finish(reader->malformed_count());
      run.records = report.records;
      run.violations = report.violation_count;
    }
    for (const auto& d : reader->diagnostics().all())
      if (d.severity == core::Severity::Error) fmt::print(stderr, "{}\n", core::render(d));
    run.seconds = seconds_since(t);
    if (::write(fds[1], &run, sizeof run) != static_cast<ssize_t>(sizeof run)) std::_Exit(4);
    std::_Exit(reader->fatal() ? 3 : 0);
  }
  ::close(fds[1]);
  AuditRun run;
  if (::read(fds[0], &run, sizeof run) != static_cast<ssize_t>(sizeof run)) run.seconds = -1;
  ::close(fds[0]);
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  run.max_rss_kb = usage.ru_maxrss;
  run.cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
              1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) run.seconds = -1;
  return run;
}

// The log written by a child process: the simulator's memory is then never the parent's, which
// every audit child would inherit (a fork's peak memory counts the pages it shares).
bool generate_in_child(const Case& c, const std::filesystem::path& path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    c.generate(path);
    std::_Exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> only(argv + 1, argv + argc);
  const auto dir = bench_dir();
  std::filesystem::create_directories(dir);
  const bool keep = std::getenv("BATCHPROOF_BENCH_DIR") != nullptr;
  fmt::print("{:<12} {:>6} {:>10} {:>10} {:>9} {:>11} {:>7} {:>8} {:>10}\n", "format", "MB", "records", "audit MB/s",
             "CPU MB/s", "wc -l MB/s", "ratio", "peak MB", "violations");
  for (const auto& c : cases()) {
    const std::string name(traces::format_name(c.format));
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    const auto path = dir / c.file;
    if (!std::filesystem::exists(path)) {
      auto t = Clock::now();
      if (!generate_in_child(c, path)) {
        fmt::print("{:<12} could not write {}\n", name, path.string());
        continue;
      }
      fmt::print(stderr, "{}: generated in {:.1f} s\n", path.string(), seconds_since(t));
    }
    const double mb = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
    std::vector<double> wc, audit, cpu;
    AuditRun last;
    long peak = 0;
    wc_seconds(path.string());  // into the page cache
    for (int i = 0; i < 3; ++i) {
      wc.push_back(wc_seconds(path.string()));
      last = audit_in_child(path.string(), c.format);
      audit.push_back(last.seconds);
      cpu.push_back(last.cpu_s);
      peak = std::max(peak, last.max_rss_kb);
    }
    std::sort(wc.begin(), wc.end());
    std::sort(audit.begin(), audit.end());
    std::sort(cpu.begin(), cpu.end());
    if (audit.front() < 0) {
      fmt::print("{:<12} {:>6.0f}  audit failed\n", name, mb);
      continue;
    }
    const double audit_rate = mb / audit[1], wc_rate = mb / wc[1];
    fmt::print("{:<12} {:>6.0f} {:>10} {:>10.0f} {:>9.0f} {:>11.0f} {:>7.3f} {:>8.1f} {:>10}\n", name, mb,
               last.records, audit_rate, mb / cpu[1], wc_rate, audit_rate / wc_rate, static_cast<double>(peak) / 1024,
               last.violations);
    std::fflush(stdout);
    if (!keep) std::filesystem::remove(path);
  }
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
