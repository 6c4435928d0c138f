// TensorRT-LLM IterationStats: the real record of issue #3376 field by field, in every shape
// the JSON comes in (lines, an array, a pretty-printed array, arrays one after another, gzip),
// older and newer field sets, per-request stats, malformed and cut records, and what is not
// this format.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "traces/in_memory_input.hpp"
#include "traces/readers.hpp"
#include "traces/temp_files.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using traces::testing::located;
using traces::testing::gzip;
using traces::testing::open_input;
using traces::testing::read_all;
using traces::testing::read_file;
using traces::testing::TempDir;

namespace {

const std::string kRealPath = std::string(BATCHPROOF_SOURCE_DIR) + "/tests/traces/data/trtllm_iteration_stats_issue3376.jsonl";

std::string real_record() {
  std::string text = read_file(kRealPath);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Through a real file, as the command line reads it (a last line without its end is cut).
std::vector<Iteration> read_text(const std::string& text, std::unique_ptr<RecordReader>* keep = nullptr) {
  TempDir dir;
  auto reader = make_trtllm_iteration_stats_reader(open_input(dir.write("stats.json", text)));
  auto records = read_all(*reader);
  if (keep) *keep = std::move(reader);
  return records;
}

// The real record (2025-04-07 20:33:17.747028, iter 0), normalised.
void check_real(const Iteration& r) {
  CHECK(r.stream == "");
  CHECK(r.index == 0);
  CHECK(r.duration_s == 0.0);  // the first iteration reports 0.0 ms
  REQUIRE(r.start_s);
  CHECK(*r.start_s == Approx(1744057997.747028).epsilon(1e-15));
  CHECK(r.running == 1);
  CHECK(r.waiting == 7);
  CHECK(r.budget_tokens == 17800);
  CHECK(r.budget_requests == 16);
  CHECK(r.kv_total_tokens == 7240 * 64);
  CHECK(r.kv_used_tokens == 5495 * 64);
  CHECK_FALSE(r.kv_usage);
  CHECK(r.prefill_requests == 1);
  CHECK(r.prefill_tokens == 16000);
  CHECK(r.decode_requests == 0);
  CHECK(r.decode_tokens == 0);
  CHECK(r.preempted == 0);
  CHECK_FALSE(r.waiting_tokens);
  CHECK_FALSE(r.cached_tokens);
  CHECK_FALSE(r.has_items);
  CHECK(r.items.empty());
  CHECK(r.steps == 1);
}

}  // namespace

TEST_CASE("trtllm: the real record of issue 3376, field by field", "[trtllm]") {
  auto reader = make_trtllm_iteration_stats_reader(open_input(kRealPath));
  const auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  CHECK_FALSE(reader->fatal());
  REQUIRE(records.size() == 1);
  CHECK(records[0].line == 1);
  check_real(records[0]);
}

TEST_CASE("trtllm: lines, arrays, a pretty-printed array, arrays one after another, gzip", "[trtllm]") {
  const std::string rec = real_record();
  TempDir dir;
  struct Shape {
    std::string name, text;
    std::vector<std::int64_t> lines;
  };
  const std::vector<Shape> shapes{
      {"lines, CRLF, blank lines", rec + "\r\n\r\n" + rec + "\r\n", {1, 3}},
      {"one array on one line", "[" + rec + "," + rec + "]", {1, 1}},
      {"an array, one element a line", "[\n  " + rec + ",\n  " + rec + "\n]\n", {2, 3}},
      {"replies of two polls", "[" + rec + "]\n[" + rec + "]\n", {1, 2}},
      {"pretty-printed objects one after another",
       "{\n  \"iter\": 0,\n  \"numActiveRequests\": 1\n}\n{\n  \"iter\": 0,\n  \"numActiveRequests\": 1\n}\n", {1, 5}},
  };
  for (const auto& shape : shapes) {
    INFO(shape.name);
    auto reader = make_trtllm_iteration_stats_reader(open_input(dir.write("s.json.gz", gzip(shape.text))));
    const auto records = read_all(*reader);
    CHECK(reader->diagnostics().all().empty());
    REQUIRE(records.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(records[i].line == shape.lines[i]);
      if (shape.name.rfind("pretty", 0) == 0)
        CHECK(records[i].running == 1);
      else
        check_real(records[i]);
    }
  }
}

TEST_CASE("trtllm: an old record (2024: four KV counters, no timestamp), nulls", "[trtllm]") {
  const auto records = read_text(
      R"({"cpuMemUsage":0,"gpuMemUsage":1,"inflightBatchingStats":{"microBatchId":0,"numContextRequests":0,"numCtxTokens":0,"numGenRequests":8,"numPausedRequests":2,"numScheduledRequests":8},"iter":41,"iterLatencyMS":12.5,"kvCacheStats":{"freeNumBlocks":10,"maxNumBlocks":100,"tokensPerBlock":32,"usedNumBlocks":90},"maxNumActiveRequests":8,"numActiveRequests":10,"numQueuedRequests":0,"pinnedMemUsage":0,"staticBatchingStats":null,"specDecodingStats":null,"timestamp":null})"
      "\n");
  REQUIRE(records.size() == 1);
  const Iteration& r = records[0];
  CHECK(r.index == 41);
  CHECK(r.duration_s == 0.0125);
  CHECK_FALSE(r.start_s);
  CHECK(r.running == 10);
  CHECK(r.waiting == 0);
  CHECK_FALSE(r.budget_tokens);
  CHECK_FALSE(r.budget_requests);
  CHECK(r.kv_used_tokens == 90 * 32);
  CHECK(r.kv_total_tokens == 100 * 32);
  CHECK(r.prefill_requests == 0);
  CHECK(r.prefill_tokens == 0);
  CHECK(r.decode_requests == 8);
  CHECK(r.decode_tokens == 8);
  CHECK(r.preempted == 2);
}

TEST_CASE("trtllm: a 2026 record (host step time, DP rank, queued tokens, speculative decoding)", "[trtllm]") {
  const auto records = read_text(
      R"({"attentionDpRank":1,"hostStepTimeMS":9.75,"inflightBatchingStats":{"avgNumDecodedTokensPerIter":2.5,"numContextRequests":1,"numCtxKvTokens":128,"numCtxTokens":512,"numGenRequests":4,"numPausedRequests":0,"numQueuedContextRequests":3,"numQueuedCtxTokens":4096,"numScheduledRequests":5},"iter":7,"iterLatencyMS":20.0,"kvCacheStats":{"maxNumBlocks":64,"usedNumBlocks":16},"maxBatchSizeRuntime":0,"maxBatchSizeStatic":32,"maxNumTokensRuntime":2048,"numActiveRequests":5,"numQueuedRequests":3,"schedulerMode":"overlap","timestamp":"05-20-2026 10:00:00.5"})"
      "\n");
  REQUIRE(records.size() == 1);
  const Iteration& r = records[0];
  CHECK(r.stream == "DP1");
  CHECK(r.duration_s == 0.00975);  // the host step, not iterLatencyMS
  CHECK(r.start_s == Approx(1779271200.5 - 0.00975).epsilon(1e-15));
  CHECK(r.budget_requests == 32);  // the runtime cap is 0: the static one
  CHECK(r.budget_tokens == 2048);
  CHECK_FALSE(r.kv_used_tokens);   // no tokensPerBlock: a fraction
  CHECK(r.kv_usage == 0.25);
  CHECK(r.prefill_requests == 1);
  CHECK(r.prefill_tokens == 512);
  CHECK(r.decode_requests == 4);
  CHECK(r.decode_tokens == 10);  // 4 requests × 2.5 tokens
  CHECK(r.waiting_tokens == 4096);
  CHECK(r.waiting == 3);
}

TEST_CASE("trtllm: the flat field set and static batching", "[trtllm]") {
  const auto records = read_text(
      R"({"iter":1,"scheduledNumPrefillRequests":2,"scheduledSumPrefillTokens":700,"scheduledNumDecodeRequests":6,"queuedNumPrefillRequests":4,"queuedSumPrefillTokens":900,"queuedNumDecodeRequests":1})"
      "\n"
      R"({"iter":2,"staticBatchingStats":{"emptyGenSlots":0,"numContextRequests":0,"numCtxTokens":0,"numGenTokens":8,"numScheduledRequests":8}})"
      "\n");
  REQUIRE(records.size() == 2);
  CHECK(records[0].prefill_requests == 2);
  CHECK(records[0].prefill_tokens == 700);
  CHECK(records[0].decode_requests == 6);
  CHECK(records[0].decode_tokens == 6);
  CHECK(records[0].waiting == 5);
  CHECK(records[0].waiting_tokens == 900);
  CHECK(records[1].prefill_requests == 0);
  CHECK(records[1].decode_requests == 8);
  CHECK(records[1].decode_tokens == 8);
}

TEST_CASE("trtllm: per-request stats become items, prompt work from position growth", "[trtllm]") {
  const auto records = read_text(
      R"({"iter":0,"requestStats":[{"contextPrefillPosition":512,"id":1,"numGeneratedTokens":0,"paused":false,"scheduled":true,"stage":"CONTEXT_IN_PROGRESS"},{"contextPrefillPosition":0,"id":2,"numGeneratedTokens":0,"paused":false,"scheduled":false,"stage":"QUEUED"}]})"
      "\n"
      R"({"iter":1,"requestStats":[{"contextPrefillPosition":800,"id":1,"numGeneratedTokens":1,"paused":false,"scheduled":true,"stage":"GENERATION_IN_PROGRESS"},{"contextPrefillPosition":100,"id":2,"numGeneratedTokens":0,"paused":false,"scheduled":true,"stage":"CONTEXT_IN_PROGRESS"}]})"
      "\n"
      R"({"iter":2,"requestStats":[{"contextPrefillPosition":800,"id":1,"numGeneratedTokens":2,"paused":false,"scheduled":true,"stage":"GENERATION_IN_PROGRESS"},{"contextPrefillPosition":100,"id":2,"numGeneratedTokens":0,"paused":true,"scheduled":false,"stage":"CONTEXT_IN_PROGRESS"}]})"
      "\n");
  REQUIRE(records.size() == 3);
  auto item = [](const Iteration& r, std::size_t k) {
    REQUIRE(r.has_items);
    REQUIRE(k < r.items.size());
    return r.items[k];
  };
  CHECK(item(records[0], 0).id == 1);
  CHECK(item(records[0], 0).prefill == 512);
  CHECK_FALSE(item(records[0], 0).decode);
  CHECK(item(records[0], 0).scheduled == true);
  CHECK(item(records[0], 0).paused == false);
  CHECK(item(records[0], 1).id == 2);
  CHECK(item(records[0], 1).prefill == 0);
  CHECK(item(records[0], 1).scheduled == false);
  CHECK(item(records[1], 0).prefill == 288);  // the last chunk (the first token comes with it)
  CHECK_FALSE(item(records[1], 0).decode);
  CHECK(item(records[1], 1).prefill == 100);
  CHECK(item(records[2], 0).prefill == 0);
  CHECK(item(records[2], 0).decode);
  CHECK(item(records[2], 1).paused == true);
  CHECK(item(records[2], 1).scheduled == false);
  CHECK(item(records[2], 1).prefill == 0);
}

TEST_CASE("trtllm: malformed records are counted, located and skipped", "[trtllm]") {
  const std::string rec = real_record();
  std::unique_ptr<RecordReader> reader;
  const auto records = read_text(rec + "\n" +                                           // 1
                                     "{\"iter\": 1, \"numActiveRequests\": \"many\"}\n" +  // 2
                                     "{\"iter\": 2,, }\n" +                                // 3
                                     "[1, 2]\n" +                                          // 4
                                     "{\"numActiveRequests\": 3}\n" +                      // 5
                                     "{\"iter\": 5, \"kvCacheStats\": {\"usedNumBlocks\": -1}}\n" +  // 6
                                     "{\"iter\": 6, \"kvCacheStats\": 7}\n" +                        // 7
                                     "{\"iter\": 7, \"timestamp\": \"yesterday\"}\n" +               // 8
                                     "{\"iter\": 8, \"requestStats\": [{\"scheduled\": true}]}\n" +  // 9
                                     "{\"iter\": 9}\n" +                                              // 10
                                     "{\"iter\": 10, \"numQueuedReq",                                 // 11, cut
                                 &reader);
  CHECK(located(*reader) == std::vector<std::string>{
                                "2:34: numActiveRequests: expected a non-negative whole number, found \"many\"",
                                "3:1: malformed JSON: The JSON document has an improper structure: missing or "
                                "superfluous commas, braces, missing keys, etc.",
                                "4:1: expected a JSON object, found [1,2]",
                                "5:1: missing field \"iter\"",
                                "6:47: kvCacheStats.usedNumBlocks: expected a non-negative whole number, found -1",
                                "7:29: kvCacheStats: expected an object or null, found 7",
                                "8:26: timestamp: expected a time \"MM-DD-YYYY HH:MM:SS.ffffff\", found \"yesterday\"",
                                "9:29: requestStats[0]: missing field \"id\"",
                                "11:27: truncated record: the input ends in the middle of this record",
                            });
  CHECK(reader->malformed_count() == 9);
  CHECK_FALSE(reader->fatal());
  REQUIRE(records.size() == 2);
  CHECK(records[0].line == 1);
  CHECK(records[1].line == 10);
  CHECK(records[1].index == 9);
}

TEST_CASE("trtllm: in an array, a bad element and a missing comma; a cut array warns", "[trtllm]") {
  std::unique_ptr<RecordReader> reader;
  const auto records = read_text("[{\"iter\": 0},\n {\"iter\": \"x\"},\n {\"iter\": 2} {\"iter\": 3},\n {\"iter\": 4},\n {\"iter\"",
                                 &reader);
  CHECK(located(*reader) == std::vector<std::string>{
                                "2:11: iter: expected a non-negative whole number, found \"x\"",
                                "3:14: expected ',' or ']' before this record, found '{'",
                                "5:9: truncated record: the input ends in the middle of this record",
                                "0:0: the input ends before the array's closing ']' (cut short?)",
                            });
  REQUIRE(records.size() == 3);
  CHECK(records[0].index == 0);
  CHECK(records[1].index == 2);
  CHECK(records[1].line == 3);
  CHECK(records[2].index == 4);
}

TEST_CASE("trtllm: past ten malformed records, a summary", "[trtllm]") {
  std::string text = "{\"iter\": 0}\n";
  for (int i = 0; i < 14; ++i) text += "{\"iter\": -1}\n";
  std::unique_ptr<RecordReader> reader;
  CHECK(read_text(text, &reader).size() == 1);
  CHECK(reader->malformed_count() == 14);
  const auto messages = located(*reader);
  REQUIRE(messages.size() == 11);
  CHECK(messages[9] == "11:10: iter: expected a non-negative whole number, found -1");
  CHECK(messages[10] == "12:10: ... and 4 more malformed records");
}

TEST_CASE("trtllm: what is not IterationStats is fatal, located", "[trtllm]") {
  auto fatal_message = [](const std::string& text) {
    std::unique_ptr<RecordReader> reader;
    CHECK(read_text(text, &reader).empty());
    CHECK(reader->fatal());
    const auto messages = located(*reader);
    REQUIRE(messages.size() == 1);
    return messages[0];
  };
  CHECK(fatal_message("") == "0:0: not a TensorRT-LLM IterationStats log: the input is empty");
  CHECK(fatal_message("\n[04/28/2025-09:56:44] [TRT-LLM] [I] iter = 198\n") ==
        "2:1: not a TensorRT-LLM IterationStats log: expected JSON (an array of iteration records, or one object a "
        "line), found [04/28/2025-09:56:44] [TRT-LLM] [I] iter...");
  CHECK(fatal_message("INFO starting server\n") ==
        "1:1: not a TensorRT-LLM IterationStats log: expected JSON (an array of iteration records, or one object a "
        "line), found INFO starting server");
  CHECK(fatal_message("{\"type\":\"header\",\"schema_version\":1}\n") ==
        "1:1: not a TensorRT-LLM IterationStats log: the first record has no \"iter\" (an IterationStats record has "
        "\"iter\" and \"iterLatencyMS\")");
  CHECK(fatal_message(std::string("{\0\0\0\x01", 5)) ==
        "0:0: not a TensorRT-LLM IterationStats log: the input is binary (a NUL byte at offset 1)");
}

TEST_CASE("trtllm: a large array on one line, read element by element", "[trtllm]") {
  TempDir dir;
  std::string text = "[";
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    if (i > 0) text += ", ";
    text += R"({"iter": )" + std::to_string(i) +
            R"(, "iterLatencyMS": 10.0, "numActiveRequests": 4, "numQueuedRequests": 1, "inflightBatchingStats": {"numContextRequests": 1, "numCtxTokens": 100, "numGenRequests": 3}})";
  }
  text += "]";
  auto reader = make_trtllm_iteration_stats_reader(open_input(dir.write("big.json", text)));
  Iteration r;
  int count = 0;
  while (reader->next(r)) {
    REQUIRE(r.index == count);
    REQUIRE(r.line == 1);
    REQUIRE(r.decode_tokens == 3);
    ++count;
  }
  CHECK(count == n);
  CHECK(reader->diagnostics().all().empty());
}

TEST_CASE("trtllm: a record longer than the line cap is skipped and reported", "[trtllm]") {
  TempDir dir;
  std::string huge = R"({"iter": 1, "pad": ")";
  huge.append(std::size_t{1} << 20, 'p');
  huge += "\"}";
  SECTION("one a line") {
    auto input = open_input(dir.write("huge.jsonl", "{\"iter\": 0}\n" + huge + "\n{\"iter\": 2}\n"));
    input->set_max_line(std::size_t{1} << 20);  // the default is 64 MiB
    auto reader = make_trtllm_iteration_stats_reader(std::move(input));
    const auto records = read_all(*reader);
    CHECK(located(*reader) == std::vector<std::string>{"2:1: record longer than 1 MiB, skipped"});
    REQUIRE(records.size() == 2);
    CHECK(records[1].index == 2);
    CHECK(records[1].line == 3);
  }
  SECTION("in an array") {
    auto input = open_input(dir.write("huge.json", "[{\"iter\": 0}, " + huge + ", {\"iter\": 2}]"));
    input->set_max_line(std::size_t{1} << 20);
    auto reader = make_trtllm_iteration_stats_reader(std::move(input));
    const auto records = read_all(*reader);
    CHECK(located(*reader) == std::vector<std::string>{"1:15: record longer than 1 MiB, skipped"});
    REQUIRE(records.size() == 2);
    CHECK(records[1].index == 2);
  }
}
