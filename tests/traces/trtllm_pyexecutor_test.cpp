// TensorRT-LLM PyExecutor "iter = ..." lines: the real 2025-04 line, the three generations of
// the format (written from py_executor.py's f-strings), ranks as streams, and bad input.
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


TEST_CASE("pyexecutor: the real line of TensorRT-LLM PR 3914 reads field by field", "[pyexecutor]") {
  auto reader = make_trtllm_pyexecutor_reader(data_file("trtllm_pyexecutor_real.log"));
  auto records = read_all(*reader);
  REQUIRE(records.size() == 1);
  const Iteration& r = records[0];
  CHECK(r.stream == "");
  CHECK(r.line == 1);
  CHECK(r.index == 198);
  CHECK(r.start_s == 1745834204.0);  // 2025-04-28 09:56:44
  CHECK(r.duration_s == 0.005060911178588867);
  CHECK(r.prefill_requests == 0);
  CHECK(r.prefill_tokens == 0);
  CHECK(r.decode_requests == 10);  // num_scheduled_requests − num_ctx_requests
  CHECK(r.decode_tokens == 16);    // as logged: CUDA-graph padding included
  CHECK_FALSE(r.cached_tokens);
  CHECK_FALSE(r.running);
  CHECK_FALSE(r.waiting);
  CHECK_FALSE(r.kv_usage);
  CHECK(r.steps == 1);
  CHECK_FALSE(r.has_items);
  CHECK(reader->malformed_count() == 0);
  CHECK_FALSE(reader->fatal());
  CHECK(reader->diagnostics().all().empty());
}

TEST_CASE("pyexecutor: every generation of the line, with banners and ranks between", "[pyexecutor]") {
  auto reader = make_trtllm_pyexecutor_reader(data_file("trtllm_pyexecutor_generations.log"));
  auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 6);

  // 2025-03: print() without a logger prefix, elapsed_time in seconds, no num_scheduled_requests.
  CHECK(records[0].line == 3);
  CHECK(records[0].index == 7);
  CHECK(records[0].duration_s == 0.25);
  CHECK(records[0].start_s == 1740823200.0);
  CHECK(records[0].prefill_requests == 3);
  CHECK(records[0].prefill_tokens == 1536);
  CHECK(records[0].decode_tokens == 0);
  CHECK_FALSE(records[0].decode_requests);

  // Mid-2025: host_step_time in ms, prev_device_step_time N/A or ms (not kept).
  CHECK(records[1].index == 8);
  CHECK(records[1].duration_s == Approx(0.0125));
  CHECK(records[1].start_s == 1754049605.0);
  CHECK(records[1].prefill_requests == 1);
  CHECK(records[1].prefill_tokens == 512);
  CHECK(records[1].decode_requests == 3);
  CHECK(records[1].decode_tokens == 3);
  CHECK(records[2].index == 9);
  CHECK(records[2].duration_s == Approx(0.00725));
  CHECK(records[2].decode_requests == 4);

  // 2026: "num_scheduled_requests = ", kv_cache_util, cached_kv_tokens; ranks interleaved.
  CHECK(records[3].line == 7);
  CHECK(records[3].stream == "");
  CHECK(records[3].index == 10);
  CHECK(records[3].kv_usage == 0.1);
  CHECK(records[3].cached_tokens == 256);
  CHECK(records[3].prefill_requests == 2);
  CHECK(records[3].prefill_tokens == 1000);
  CHECK(records[3].decode_requests == 4);
  CHECK(records[3].decode_tokens == 4);
  CHECK(records[3].duration_s == Approx(0.020));
  CHECK(records[3].start_s == 1777710600.0);
  CHECK(records[4].stream == "rank 1");
  CHECK(records[4].index == 10);
  CHECK_FALSE(records[4].kv_usage);  // N/A
  CHECK(records[4].decode_requests == 5);

  // PR 16323's tail: num_active is the running set, num_dummy is not a request.
  CHECK(records[5].index == 11);
  CHECK(records[5].running == 10);
  CHECK(records[5].decode_requests == 6);  // 8 scheduled − 1 context − 1 dummy
  CHECK(records[5].kv_usage == 0.125);
  CHECK(records[5].start_s == 1784538001.0);
}

TEST_CASE("pyexecutor: malformed lines are located, counted and skipped", "[pyexecutor]") {
  auto reader = make_trtllm_pyexecutor_reader(data_file("trtllm_pyexecutor_malformed.log"));
  auto records = read_all(*reader);
  REQUIRE(records.size() == 1);
  CHECK(records[0].index == 1);
  CHECK(reader->malformed_count() == 8);
  CHECK_FALSE(reader->fatal());
  CHECK(located(*reader) == std::vector<std::string>{
                                "2:22: 'iter' is not a whole number",
                                "3:109: missing 'states = {...}'",
                                "4:59: 'host_step_time' is not a time in ms",
                                "5:54: 'timestamp' is not YYYY-MM-DD HH:MM:SS",
                                "6:51: 'states': no closing '}'",
                                "7:72: 'num_ctx_requests' is not a whole number",
                                "8:52: states: expected 'name': value",
                                "9:22: 'iter' is not a whole number",
                            });
  const std::string text = rendered(*reader);
  CHECK(text.find("tests/traces/data/trtllm_pyexecutor_malformed.log:2:22: error: 'iter' is not a whole number\n"
                  "  [TRT-LLM] [I] iter = x2, global_rank = 0,") == 0);
}

TEST_CASE("pyexecutor: past ten malformed lines, one summary", "[pyexecutor]") {
  std::string log;
  for (int i = 0; i < 25; ++i) log += "iter = nope, states = {}\n";
  log += "iter = 3, states = {'num_ctx_requests': 0, 'num_ctx_tokens': 0, 'num_generation_tokens': 2}\n";
  auto reader = make_trtllm_pyexecutor_reader(memory_input("many.log", log));
  auto records = read_all(*reader);
  CHECK(records.size() == 1);
  CHECK(reader->malformed_count() == 25);
  const auto& all = reader->diagnostics().all();
  REQUIRE(all.size() == 11);
  CHECK(all[9].loc.line == 10);
  CHECK(all[10].message == "... and 15 more malformed lines");
  CHECK(all[10].loc.line == 11);
  CHECK(all[10].loc.col == 8);
}

TEST_CASE("pyexecutor: an input with no record at all is fatal", "[pyexecutor]") {
  SECTION("empty") {
    auto reader = make_trtllm_pyexecutor_reader(memory_input("empty.log", ""));
    CHECK(read_all(*reader).empty());
    CHECK(reader->fatal());
    CHECK(rendered(*reader) == "empty.log: error: no trtllm-log records found\n");
  }
  SECTION("binary") {
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) % 256);
    auto reader = make_trtllm_pyexecutor_reader(memory_input("junk.bin", junk));
    CHECK(read_all(*reader).empty());
    CHECK(reader->fatal());
    CHECK(rendered(*reader) == "junk.bin: error: no trtllm-log records found\n");
  }
  SECTION("only malformed lines") {
    auto reader = make_trtllm_pyexecutor_reader(memory_input("bad.log", "iter = 1, states = {}\n"));
    CHECK(read_all(*reader).empty());
    CHECK(reader->fatal());
    CHECK(located(*reader) == std::vector<std::string>{
                                  "1:22: states lacks num_ctx_requests, num_ctx_tokens or num_generation_tokens",
                                  "0:0: no trtllm-log records found"});
  }
}

TEST_CASE("pyexecutor: an input cut short keeps its records and says so", "[pyexecutor]") {
  auto reader = make_trtllm_pyexecutor_reader(memory_input(
      "cut.log.gz",
      "iter = 1, states = {'num_ctx_requests': 0, 'num_ctx_tokens': 0, 'num_generation_tokens': 2}\niter = 2, st",
      std::string("the gzip stream is truncated")));
  auto records = read_all(*reader);
  REQUIRE(records.size() == 1);
  CHECK(reader->fatal());
  CHECK(located(*reader) == std::vector<std::string>{"2:13: expected ' = ' after 'st'",
                                                     "3:1: the input ends early: the gzip stream is truncated"});
}
