// SGLang scheduler lines: the real lines quoted in TRACE-FORMATS.md §2 (2024 to 2026), the
// variants of the current source (forward counter, hybrid pools, PD and speculative fields, DP
// prefixes, server args), retractions, sampled decode lines, and bad input.
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


TEST_CASE("sglang: the real lines of 2024-2026 read field by field", "[sglang]") {
  auto reader = make_sglang_reader(data_file("sglang_real.log"));
  auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 7);
  for (const auto& r : records) {
    CHECK(r.kv_total_tokens == 392920);  // max_total_num_tokens of the start-up line
    CHECK(r.budget_requests == 4096);    // max_running_requests
    CHECK_FALSE(r.budget_tokens);        // mixed chunks not ruled out: decodes may share the chunk
    CHECK_FALSE(r.has_items);
  }

  // 2024-04: "new fill batch." with periods between the fields.
  const Iteration& old_fill = records[0];
  CHECK(old_fill.line == 2);
  CHECK(old_fill.stream == "");
  CHECK_FALSE(old_fill.start_s);
  CHECK(old_fill.prefill_requests == 1);
  CHECK(old_fill.prefill_tokens == 1);
  CHECK(old_fill.cached_tokens == 757);
  CHECK(old_fill.waiting == 4);
  CHECK(old_fill.running == 2);
  CHECK_FALSE(old_fill.decode_tokens);  // mixed chunks unknown: the decodes beside it unknown
  CHECK(old_fill.preempted == 0);
  CHECK(old_fill.steps == 1);

  // 2024-04 bare decode line, then 2024-08 "Decode batch.": samples of 40 decode steps.
  const Iteration& bare = records[1];
  CHECK(bare.line == 3);
  CHECK(bare.running == 5);
  CHECK(bare.decode_requests == 5);
  CHECK(bare.decode_tokens == 5);
  CHECK(bare.prefill_tokens == 0);
  CHECK(bare.kv_used_tokens == 1938);
  CHECK(bare.kv_usage == 0.24);
  CHECK(bare.waiting == 0);
  CHECK(bare.steps == 40);
  CHECK(records[2].running == 1010);
  CHECK(records[2].kv_used_tokens == 55006);
  CHECK(records[2].kv_usage == 0.93);
  CHECK(records[2].waiting == 12279);
  CHECK(records[2].steps == 40);

  // 2024-10: "[HH:MM:SS TP0]", seconds since the log's first midnight.
  const Iteration& v03 = records[3];
  CHECK(v03.stream == "TP0");
  CHECK(v03.start_s == 16 * 3600 + 43 * 60 + 29);
  CHECK(v03.prefill_requests == 4);
  CHECK(v03.prefill_tokens == 8192);
  CHECK(v03.cached_tokens == 291);
  CHECK(v03.kv_usage == 0.04);
  CHECK(v03.running == 1);
  CHECK(v03.waiting == 38);

  // 2025-09: dated prefix, trailing ", ".
  const Iteration& v05 = records[4];
  CHECK(v05.stream == "TP0");
  CHECK(v05.start_s == 1756924398.0);  // 2025-09-03 18:33:18
  CHECK(v05.prefill_requests == 1);
  CHECK(v05.prefill_tokens == 103);
  CHECK(v05.cached_tokens == 1);
  CHECK(v05.kv_usage == 0.0);
  CHECK(v05.running == 0);
  CHECK(v05.waiting == 0);
  CHECK(v05.preempted == 0);  // the retraction is on another stream ("", no prefix)

  // 2026-04: "Prefill batch," with graph and throughput; the unprefixed retraction before it.
  const Iteration& v26 = records[5];
  CHECK(v26.line == 8);
  CHECK(v26.stream == "");
  CHECK(v26.start_s == 1775419369.0);
  CHECK(v26.prefill_requests == 1);
  CHECK(v26.prefill_tokens == 352);
  CHECK(v26.kv_usage == 0.08);
  CHECK(v26.running == 32);
  CHECK(v26.preempted == 1);

  const Iteration& d26 = records[6];
  CHECK(d26.line == 9);
  CHECK(d26.stream == "TP0");
  CHECK(d26.start_s == 1775657121.0);
  CHECK(d26.running == 5);
  CHECK(d26.kv_used_tokens == 20800);
  CHECK(d26.kv_usage == 0.29);
  CHECK(d26.waiting == 0);
}

TEST_CASE("sglang: forward counter, hybrid pools, PD and speculative fields, DP ranks, server args", "[sglang]") {
  auto reader = make_sglang_reader(data_file("sglang_variants.log"));
  auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 5);

  const Iteration& p0 = records[0];
  CHECK(p0.stream == "DP0 TP0");
  CHECK(p0.index == 41);
  CHECK(p0.start_s == 1777626010.0);
  CHECK(p0.prefill_requests == 2);
  CHECK(p0.prefill_tokens == 2048);
  CHECK(p0.cached_tokens == 64);
  CHECK(p0.kv_usage == 0.12);  // the full-attention pool
  CHECK(p0.running == 7);
  CHECK(p0.waiting == 3);
  CHECK(p0.waiting_tokens == 487);
  CHECK(p0.decode_requests == 0);  // enable_mixed_chunk=False: prefill batches decode nothing
  CHECK(p0.decode_tokens == 0);
  CHECK(p0.kv_total_tokens == 200000);
  CHECK(p0.budget_requests == 256);
  CHECK(p0.budget_tokens == 4096);  // chunked_prefill_size, decodes known to be out of prefill batches

  const Iteration& p1 = records[1];
  CHECK(p1.stream == "DP1 TP1");
  CHECK(p1.index == 41);
  CHECK(p1.prefill_tokens == 487);
  CHECK(p1.kv_usage == 0.05);
  CHECK(p1.waiting_tokens == 0);

  const Iteration& d0 = records[2];
  CHECK(d0.line == 6);
  CHECK(d0.stream == "DP0 TP0");
  CHECK(d0.index == 60);
  CHECK(d0.running == 8);
  CHECK(d0.decode_requests == 8);
  CHECK(d0.decode_tokens == 20);  // 8 requests × accept len 2.5
  CHECK(d0.kv_used_tokens == 24000);
  CHECK(d0.kv_usage == 0.12);
  CHECK(d0.waiting == 1);
  CHECK(d0.steps == 20);  // decode_log_interval=20 in the server args
  CHECK(d0.preempted == 2);
  CHECK_FALSE(d0.budget_tokens);  // the chunk does not cap decode batches

  const Iteration& d1 = records[3];
  CHECK(d1.stream == "DP1 TP1");
  CHECK(d1.running == 3);
  CHECK(d1.kv_used_tokens == 5000);
  CHECK(d1.waiting == 0);
  CHECK(d1.preempted == 0);

  // A retraction after the stream's last record is a record of its own, with no step.
  const Iteration& tail = records[4];
  CHECK(tail.line == 9);
  CHECK(tail.stream == "DP1 TP1");
  CHECK(tail.start_s == 1777626014.0);
  CHECK(tail.preempted == 1);
  CHECK(tail.steps == 0);
  CHECK_FALSE(tail.tokens());
  CHECK_FALSE(tail.running);
}

TEST_CASE("sglang: malformed lines are located, counted and skipped", "[sglang]") {
  auto reader = make_sglang_reader(data_file("sglang_malformed.log"));
  auto records = read_all(*reader);
  REQUIRE(records.size() == 1);
  CHECK(records[0].prefill_tokens == 2048);
  CHECK(reader->malformed_count() == 8);
  CHECK_FALSE(reader->fatal());
  CHECK(located(*reader) == std::vector<std::string>{
                                "2:52: '#new-seq' is not a whole number",
                                "3:72: Prefill batch without #new-seq and #new-token",
                                "4:40: expected ', ' after 'batch'",
                                "5:42: the batch's [iteration] is not a whole number",
                                "6:71: 'token usage' is not a fraction",
                                "7:65: Decode batch without #running-req",
                                "8:96: Retract requests without #retracted_reqs",
                                "9:67: '#new-token' is not a whole number",
                            });
  CHECK(rendered(*reader).find("tests/traces/data/sglang_malformed.log:2:52: error: '#new-seq' is not a whole "
                               "number\n") == 0);
}

TEST_CASE("sglang: unrelated lines are skipped silently, and no record at all is fatal", "[sglang]") {
  SECTION("banners and access logs only") {
    auto reader = make_sglang_reader(memory_input(
        "server.log",
        "[2026-05-01 09:00:00] server_args=ServerArgs(model_path='x')\n"
        "INFO:     127.0.0.1:53312 - \"POST /generate HTTP/1.1\" 200 OK\n"
        "[2026-05-01 09:00:01] The server is fired up and ready to roll!\n"
        "# a comment with a hash\n"));
    CHECK(read_all(*reader).empty());
    CHECK(reader->malformed_count() == 0);
    CHECK(reader->fatal());
    CHECK(rendered(*reader) == "server.log: error: no sglang records found\n");
  }
  SECTION("empty") {
    auto reader = make_sglang_reader(memory_input("empty.log", ""));
    CHECK(read_all(*reader).empty());
    CHECK(rendered(*reader) == "empty.log: error: no sglang records found\n");
  }
  SECTION("binary") {
    std::string junk;
    for (int i = 0; i < 8192; ++i) junk += static_cast<char>((i * 131 + 7) % 256);
    auto reader = make_sglang_reader(memory_input("junk.bin", junk));
    CHECK(read_all(*reader).empty());
    CHECK(reader->fatal());
  }
  SECTION("a retraction alone is a record") {
    auto reader = make_sglang_reader(
        memory_input("r.log", "KV cache pool is full. Retract requests. #retracted_reqs: 3, #new_token_ratio: 0.1 -> 0.2\n"));
    auto records = read_all(*reader);
    REQUIRE(records.size() == 1);
    CHECK(records[0].preempted == 3);
    CHECK(records[0].steps == 0);
    CHECK_FALSE(reader->fatal());
  }
}

TEST_CASE("sglang: a log cut short keeps its records and says where it ends", "[sglang]") {
  auto reader = make_sglang_reader(memory_input(
      "cut.log.gz", "[2026-05-01 09:00:10 TP0] Decode batch, #running-req: 5, #token: 20800, #queue-req: 0\n[2026-05",
      std::string("unexpected end of the gzip stream")));
  auto records = read_all(*reader);
  REQUIRE(records.size() == 1);
  CHECK(reader->fatal());
  CHECK(located(*reader) == std::vector<std::string>{"3:1: the input ends early: unexpected end of the gzip stream"});
}

TEST_CASE("sglang: a time of day with no date counts on past midnight", "[sglang]") {
  auto reader = make_sglang_reader(memory_input("night.log",
                                                "[23:59:58 TP0] Decode batch, #running-req: 1, #queue-req: 0\n"
                                                "[00:00:03 TP0] Decode batch, #running-req: 1, #queue-req: 0\n"));
  auto records = read_all(*reader);
  REQUIRE(records.size() == 2);
  CHECK(records[0].start_s == 86398.0);
  CHECK(records[1].start_s == 86403.0);
}
