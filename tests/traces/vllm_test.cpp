// vLLM lines: the real Iteration lines of PR 31193 and the periodic stats line of vllm#43295,
// the stat-logger and dummy variants, data-parallel streams, stats snapshots going to the step
// they describe, V0 stats and preemption warnings, the clock without a year, and bad input.
#include <catch2/catch.hpp>

#include "traces/in_memory_input.hpp"
#include "traces/readers.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using traces::testing::located;
using traces::testing::data_file;
using traces::testing::memory_input;
using traces::testing::read_all;
using traces::testing::rendered;

namespace {
constexpr double kDay = 86400;
}  // namespace

TEST_CASE("vllm: the real Iteration lines of PR 31193 read field by field", "[vllm]") {
  auto reader = make_vllm_reader(data_file("vllm_real_iterations.log"));
  auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 3);
  const double durations[] = {0.01099, 0.01095, 0.01079};
  for (int i = 0; i < 3; ++i) {
    const Iteration& r = records[static_cast<std::size_t>(i)];
    CHECK(r.line == i + 1);
    CHECK(r.stream == "");
    CHECK(r.index == 515 + i);
    CHECK(r.start_s == 356 * kDay + 21 * 3600 + 44 * 60 + 40);  // 12-22 21:44:40, no year
    CHECK(r.prefill_requests == 0);
    CHECK(r.prefill_tokens == 0);
    CHECK(r.decode_requests == 20);
    CHECK(r.decode_tokens == 20);
    CHECK(r.duration_s == Approx(durations[i]).epsilon(1e-12));
    CHECK_FALSE(r.running);
    CHECK_FALSE(r.waiting);
    CHECK_FALSE(r.kv_usage);
    CHECK(r.steps == 1);
  }
}

TEST_CASE("vllm: the real periodic stats line alone is a snapshot record", "[vllm]") {
  auto reader = make_vllm_reader(data_file("vllm_real_stats.log"));
  auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 1);
  const Iteration& r = records[0];
  CHECK(r.steps == 0);
  CHECK(r.stream == "");
  CHECK(r.start_s == 139 * kDay + 10 * 3600 + 13 * 60 + 11);  // 05-19 10:13:11
  CHECK(r.running == 18);
  CHECK(r.waiting == 43);
  CHECK(r.kv_usage == Approx(0.959));
  CHECK_FALSE(r.tokens());
  CHECK_FALSE(r.index);
}

TEST_CASE("vllm: stats lines go to the step they describe; DP ranks are streams; dummy steps", "[vllm]") {
  auto reader = make_vllm_reader(data_file("vllm_variants.log"));
  auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 5);
  const double dec31 = 365 * kDay;  // December 31 of a leap year

  const Iteration& first = records[0];  // released by the stream's next step, with no snapshot
  CHECK(first.line == 2);
  CHECK(first.stream == "");
  CHECK(first.index == 90);
  CHECK(first.start_s == dec31 + 86398);
  CHECK(first.prefill_requests == 1);
  CHECK(first.prefill_tokens == 512);
  CHECK(first.decode_requests == 3);
  CHECK(first.decode_tokens == 3);
  CHECK(first.duration_s == Approx(0.0405));
  CHECK(first.kv_total_tokens == 2042016);
  CHECK_FALSE(first.running);

  const Iteration& with_stats = records[1];  // Iteration(91) and the Engine 000 stats after it
  CHECK(with_stats.line == 4);
  CHECK(with_stats.index == 91);
  CHECK(with_stats.start_s == dec31 + 86399);
  CHECK(with_stats.running == 4);
  CHECK(with_stats.waiting == 2);
  CHECK(with_stats.kv_usage == Approx(0.015));
  CHECK(with_stats.steps == 1);

  const Iteration& dummy = records[2];  // EngineCore_DP1's dummy step, Engine 001's stats
  CHECK(dummy.line == 3);
  CHECK(dummy.stream == "DP1");
  CHECK(dummy.index == 90);
  CHECK(dummy.tokens() == 0);
  CHECK(dummy.duration_s == Approx(0.00125));
  CHECK(dummy.running == 0);
  CHECK(dummy.waiting == 0);

  const Iteration& idle = records[3];  // a second stats line with no step between: a snapshot
  CHECK(idle.line == 7);
  CHECK(idle.stream == "");
  CHECK(idle.steps == 0);
  CHECK(idle.start_s == dec31 + kDay + 10);  // past new year's eve
  CHECK(idle.running == 0);
  CHECK(idle.waiting == 0);
  CHECK(idle.kv_total_tokens == 2042016);

  const Iteration& stat_logger = records[4];  // the 2026 stat-logger line, drained at the end
  CHECK(stat_logger.line == 8);
  CHECK(stat_logger.stream == "");
  CHECK(stat_logger.index == 1234);
  CHECK(stat_logger.prefill_requests == 2);
  CHECK(stat_logger.prefill_tokens == 4096);
  CHECK(stat_logger.decode_requests == 6);
  CHECK(stat_logger.decode_tokens == 6);
  CHECK(stat_logger.duration_s == Approx(0.01842));
  CHECK(stat_logger.kv_usage == Approx(0.371));
  CHECK(stat_logger.start_s == dec31 + kDay + 11);
}

TEST_CASE("vllm: V0 stats lines and preemption warnings", "[vllm]") {
  auto reader = make_vllm_reader(data_file("vllm_v0.log"));
  auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 4);
  const double feb28 = 58 * kDay + 21 * 3600 + 48 * 60;
  CHECK(records[0].start_s == feb28 + 8);
  CHECK(records[0].running == 3);
  CHECK(records[0].waiting == 5);  // Pending + Swapped
  CHECK(records[0].kv_usage == Approx(0.125));
  CHECK_FALSE(records[0].preempted);
  CHECK(records[0].steps == 0);
  CHECK(records[1].running == 20);
  CHECK(records[1].waiting == 9);
  CHECK(records[1].preempted == 1);  // the first warning: total 1
  CHECK(records[2].waiting == 2);
  CHECK(records[2].preempted == 50);  // totals 1 → 51: V0 warns once in 50
  CHECK(records[3].line == 6);  // the last warning, after the last stats line
  CHECK(records[3].preempted == 50);
  CHECK(records[3].steps == 0);
  CHECK(records[3].start_s == feb28 + 30);
}

TEST_CASE("vllm: malformed lines are located, counted and skipped", "[vllm]") {
  auto reader = make_vllm_reader(data_file("vllm_malformed.log"));
  auto records = read_all(*reader);
  REQUIRE(records.size() == 1);
  CHECK(records[0].index == 1);
  CHECK(reader->malformed_count() == 10);
  CHECK_FALSE(reader->fatal());
  CHECK(located(*reader) == std::vector<std::string>{
                                "2:68: Iteration(...) does not hold a whole number",
                                "3:70: expected ': ' after Iteration(...)",
                                "4:165: Iteration line without its context and generation counts",
                                "5:179: 'iteration elapsed time' is not a time in ms",
                                "6:72: 'context requests': the count is not a whole number",
                                "7:208: 'GPU KV cache usage' is not a percentage",
                                "8:114: 'Running' is not a number of reqs",
                                "9:144: stats line without Running and Waiting",
                                "10:153: Iteration line without 'iteration elapsed time'",
                                "11:177: total_num_cumulative_preemption is not a whole number",
                            });
}

TEST_CASE("vllm: unrelated lines are skipped, and no record at all is fatal", "[vllm]") {
  SECTION("start-up banners only") {
    auto reader = make_vllm_reader(memory_input(
        "boot.log",
        "INFO 03-01 10:00:00 [api_server.py:1090] vLLM API server version 0.9.1\n"
        "(EngineCore_DP0 pid=1) INFO 03-01 10:00:05 [kv_cache_utils.py:1087] GPU KV cache size: 49,152 tokens\n"
        "(APIServer pid=0) INFO:     127.0.0.1:40000 - \"GET /health HTTP/1.1\" 200 OK\n"));
    CHECK(read_all(*reader).empty());
    CHECK(reader->malformed_count() == 0);
    CHECK(rendered(*reader) == "boot.log: error: no vllm records found\n");
  }
  SECTION("empty") {
    auto reader = make_vllm_reader(memory_input("empty.log", ""));
    CHECK(read_all(*reader).empty());
    CHECK(reader->fatal());
  }
  SECTION("binary") {
    std::string junk;
    for (int i = 0; i < 8192; ++i) junk += static_cast<char>((i * 197 + 3) % 256);
    auto reader = make_vllm_reader(memory_input("junk.bin", junk));
    CHECK(read_all(*reader).empty());
    CHECK(reader->fatal());
  }
}

TEST_CASE("vllm: a log cut short keeps its records, the held one included", "[vllm]") {
  auto reader = make_vllm_reader(memory_input(
      "cut.log.gz",
      "INFO 03-01 10:00:00 [core.py:349] Iteration(1): 1 context requests, 10 context tokens, 0 generation "
      "requests, 0 generation tokens, iteration elapsed time: 5.00 ms\nINFO 03-01 10:00:00 [core.py:349] Iter",
      std::string("unexpected end of the gzip stream")));
  auto records = read_all(*reader);
  REQUIRE(records.size() == 1);
  CHECK(records[0].index == 1);
  CHECK(reader->fatal());
  CHECK(located(*reader) == std::vector<std::string>{"3:1: the input ends early: unexpected end of the gzip stream"});
}

TEST_CASE("vllm: the scheduler's limits from the start-up lines go on the steps", "[vllm]") {
  auto reader = make_vllm_reader(memory_input(
      "limits.log",
      "(APIServer pid=1) INFO 03-01 10:00:00 [utils.py:233] non-default args: {'model': 'm', 'max_num_seqs': 256}\n"
      "INFO 03-01 10:00:00 [config.py:2394] Chunked prefill is enabled with max_num_batched_tokens=8192.\n"
      "INFO 03-01 10:00:01 [core.py:349] Iteration(1): 1 context requests, 10 context tokens, 0 generation requests, "
      "0 generation tokens, iteration elapsed time: 5.00 ms\n"
      "INFO 03-01 10:00:02 [loggers.py:271] Engine 000: Avg prompt throughput: 1.0 tokens/s, Avg generation "
      "throughput: 1.0 tokens/s, Running: 1 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.1%, Prefix cache hit rate: 0.0%\n"
      "INFO 03-01 10:00:12 [loggers.py:271] Engine 000: Avg prompt throughput: 0.0 tokens/s, Avg generation "
      "throughput: 0.0 tokens/s, Running: 0 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.0%, Prefix cache hit rate: 0.0%\n"));
  auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 2);
  CHECK(records[0].budget_tokens == 8192);
  CHECK(records[0].budget_requests == 256);
  CHECK(records[0].running == 1);
  CHECK_FALSE(records[1].budget_tokens);  // a snapshot holds no batch to hold against them
  CHECK(records[1].steps == 0);
}
