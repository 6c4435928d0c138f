// detect_format over the first bytes of every format, the lines copied from
// docs/TRACE-FORMATS.md (with the start-up banners real logs open with), and the inputs it
// must not claim: empty, binary, unknown text and unknown JSON, each with its reason.
#include <catch2/catch.hpp>

#include <string>

#include "traces/reader.hpp"

using namespace batchproof::traces;

namespace {

// docs/trace-format.md's example header.
const std::string kOwnHeader =
    R"({"type":"header","schema_version":1,"source":"simulate","spec":"examples/paper_policies.bp","engine":"sarathi","profile":"codellama34b_a100","token_budget":512,"budget_form":"plain","kv_capacity_tokens":131000,"block_size":16,"accounting":"paper","notes":"seed 1"})";

// TRACE-FORMATS.md §1.3 (NVIDIA/TensorRT-LLM issue #3376).
const std::string kTrtllmRecord =
    R"({"cpuMemUsage":3492,"gpuMemUsage":25330607135,"inflightBatchingStats":{"avgNumDecodedTokensPerIter":0.0,"microBatchId":0,"numContextRequests":1,"numCtxTokens":16000,"numGenRequests":0,"numPausedRequests":0,"numScheduledRequests":1},"iter":0,"iterLatencyMS":0.0,"kvCacheStats":{"allocNewBlocks":250,"allocTotalBlocks":250,"cacheHitRate":0.0,"freeNumBlocks":1745,"maxNumBlocks":7240,"missedBlocks":0,"reusedBlocks":0,"tokensPerBlock":64,"usedNumBlocks":5495},"maxBatchSizeRuntime":16,"maxBatchSizeStatic":16,"maxBatchSizeTunerRecommended":0,"maxNumActiveRequests":16,"maxNumTokensRuntime":17800,"maxNumTokensStatic":17800,"maxNumTokensTunerRecommended":0,"newActiveRequestsQueueLatencyMS":0.091039,"numActiveRequests":1,"numCompletedRequests":0,"numNewActiveRequests":1,"numQueuedRequests":7,"pinnedMemUsage":55538100068,"staticBatchingStats":null,"timestamp":"04-07-2025 20:33:17.747028"})";

// Events as Vidur's BatchStage.to_chrome_trace and Sarathi-Serve's _to_chrome_trace_dict
// write them (json.dump: ", " and ": " separators).
const std::string kVidurEvent =
    R"({"name": "[0, 1]", "ph": "X", "ts": 0.0, "dur": 21564.3, "pid": 0, "tid": 0, "args": {"batch_id": 0, "batch_size": 2, "request_ids": [0, 1], "num_tokens": [512, 300]}})";
const std::string kSarathiEvent =
    R"({"name": "['0', '1']", "ph": "X", "ts": 1718000000000000.0, "dur": 45210.5, "pid": 0, "tid": 0, "args": {"batch_size": 2, "request_ids": ["0", "1"], "num_batched_tokens": 513, "num_batched_prompt_tokens": 512, "num_batched_output_tokens": 1, "prompt_chunk_lens": [512, 0]}})";

// Start-up banners, as real logs open.
const std::string kBanner =
    "INFO 2026-04-05 20:01:02 Loading model weights took 13.41 GB\n"
    "WARNING 2026-04-05 20:01:03 something unrelated: iteration speed may vary\n"
    "\n";

}  // namespace

TEST_CASE("detect: batchproof's own trace by its header record", "[detect]") {
  CHECK(detect_format(kOwnHeader + "\n") == Format::Batchproof);
  CHECK(detect_format("\xEF\xBB\xBF\n\n  " + kOwnHeader) == Format::Batchproof);
  CHECK(detect_format(R"({ "type" : "header", "schema_version": 1 })") == Format::Batchproof);
  // Cut by the head's end: the first keys decide.
  CHECK(detect_format(kOwnHeader.substr(0, 40)) == Format::Batchproof);
}

TEST_CASE("detect: TensorRT-LLM IterationStats as JSON Lines, an array, pretty-printed", "[detect]") {
  CHECK(detect_format(kTrtllmRecord + "\n" + kTrtllmRecord + "\n") == Format::TrtllmIterStats);
  CHECK(detect_format("[" + kTrtllmRecord + "," + kTrtllmRecord + "]") == Format::TrtllmIterStats);
  CHECK(detect_format("[\n  {\n    \"gpuMemUsage\": 56401920000,\n    \"iter\": 1,\n    \"iterLatencyMS\": 16.5\n  }\n]") ==
        Format::TrtllmIterStats);
  // "iter" with one of the other counters, without iterLatencyMS.
  CHECK(detect_format(R"({"iter": 3, "numActiveRequests": 2})") == Format::TrtllmIterStats);
  CHECK(detect_format(R"({"iter": 3, "requestStats": []})") == Format::TrtllmIterStats);
}

TEST_CASE("detect: Vidur and Sarathi-Serve chrome traces by their args, whatever the wrapper", "[detect]") {
  CHECK(detect_format(R"({"traceEvents": [)" + kVidurEvent + "]}") == Format::VidurChrome);
  CHECK(detect_format("[" + kSarathiEvent + ", " + kSarathiEvent + "]") == Format::SarathiChrome);
  CHECK(detect_format(R"({"traceEvents": [)" + kSarathiEvent + "]}") == Format::SarathiChrome);
  CHECK(detect_format("[" + kVidurEvent + "]") == Format::VidurChrome);
  // No args in view: the wrapper decides (Vidur writes the object, Sarathi-Serve the list).
  CHECK(detect_format(R"({"traceEvents": [{"name": "x", "ph": "M", "pid": 0})") == Format::VidurChrome);
  CHECK(detect_format(R"([{"name": "x", "ph": "M", "pid": 0})") == Format::SarathiChrome);
}

TEST_CASE("detect: the batch metrics CSV by its header row", "[detect]") {
  CHECK(detect_format("Batch Id,batch_num_tokens,batch_num_prefill_tokens,batch_num_decode_tokens,batch_size,"
                      "batch_execution_time\n0,512,512,0,1,0.0213\n") == Format::VidurBatchCsv);
  CHECK(detect_format("\"Batch Id\",batch_size,batch_num_tokens\r\n") == Format::VidurBatchCsv);
  CHECK_FALSE(detect_format("Request Id,request_e2e_time\n0,1.5\n"));
}

TEST_CASE("detect: TensorRT-LLM PyExecutor lines after start-up banners", "[detect]") {
  // TRACE-FORMATS.md §1.5 (PR #3914).
  CHECK(detect_format(kBanner +
                      "[04/28/2025-09:56:44] [TRT-LLM] [I] iter = 198, global_rank = 0, rank = 0, "
                      "currank_total_requests = 0/0, elapsed_time = 0.005060911178588867s, timestamp = 2025-04-28 "
                      "09:56:44, num_scheduled_requests: 10, states = {'num_ctx_requests': 0, 'num_ctx_tokens': 0, "
                      "'num_generation_tokens': 16}\n") == Format::TrtllmPyExecutor);
  CHECK(detect_format("[TRT-LLM] [I] [_torch][RANK 0] iter = 5, global_rank = 0, rank = 0, num_scheduled_requests = "
                      "4, kv_cache_util = 0.100, currank_total_requests = 4/4, host_step_time = 12.5ms, "
                      "prev_device_step_time = 11.0ms, timestamp = 2026-05-01 10:00:00, states = {'num_ctx_requests': "
                      "0, 'num_ctx_tokens': 0, 'num_generation_tokens': 4, 'cached_kv_tokens': 0}") ==
        Format::TrtllmPyExecutor);
}

TEST_CASE("detect: SGLang prefill and decode lines of every era", "[detect]") {
  // TRACE-FORMATS.md §2.1, §2.2.
  for (const std::string line :
       {"new fill batch. #seq: 1. #cached_token: 757. #new_token: 1. #remaining_req: 4. #running_req: 2. "
        "tree_cache_hit_rate: 80.83%.",
        "[16:43:29 TP0] Prefill batch. #new-seq: 4, #new-token: 8192, #cached-token: 291, cache hit rate: 2.76%, token "
        "usage: 0.04, #running-req: 1, #queue-req: 38",
        "[2026-04-05 20:02:49] Prefill batch, #new-seq: 1, #new-token: 352, #cached-token: 0, token usage: 0.08, "
        "#running-req: 32, #queue-req: 0, cuda graph: True, input throughput (token/s): 9543.17",
        "#running-req: 5, #token: 1938, token usage: 0.24, #queue-req: 0",
        "Decode batch. #running-req: 1010, #token: 55006, token usage: 0.93, gen throughput (token/s): 1397.13, "
        "#queue-req: 12279",
        "[2026-04-08 14:05:21 TP0] Decode batch, #running-req: 5, #token: 20800, token usage: 0.29, cuda graph: True, "
        "gen throughput (token/s): 144.95, #queue-req: 0"})
    CHECK(detect_format(kBanner + line + "\n") == Format::Sglang);
}

TEST_CASE("detect: vLLM iteration and periodic stats lines", "[detect]") {
  // TRACE-FORMATS.md §3.2, §3.3.
  for (const std::string line :
       {"(EngineCore_DP0 pid=2010410) INFO 12-22 21:44:40 [core.py:349] Iteration(515): 0 context requests, 0 context "
        "tokens, 20 generation requests, 20 generation tokens, iteration elapsed time: 10.99 ms",
        "Engine 000: Iteration(1234): 2 context requests, 4096 context tokens, 6 generation requests, 6 generation "
        "tokens, iteration elapsed time: 18.42 ms, GPU KV cache usage: 37.1%",
        "(APIServer pid=3646) INFO 05-19 10:13:11 [loggers.py:271] Engine 000: Avg prompt throughput: 0.0 tokens/s, "
        "Avg generation throughput: 1055.3 tokens/s, Running: 18 reqs, Waiting: 43 reqs, GPU KV cache usage: 95.9%, "
        "Prefix cache hit rate: 0.0%"})
    CHECK(detect_format(kBanner + line + "\n") == Format::Vllm);
}

TEST_CASE("detect: the format with most lines wins when a log quotes another's", "[detect]") {
  const std::string sglang = "Decode batch. #running-req: 3, #token: 90, token usage: 0.01, #queue-req: 0\n";
  const std::string vllm = "Avg prompt throughput: 1.0 tokens/s, Running: 1 reqs, Waiting: 0 reqs\n";
  CHECK(detect_format(vllm + sglang + sglang) == Format::Sglang);
  CHECK(detect_format(vllm + vllm + sglang) == Format::Vllm);
}

TEST_CASE("detect: nothing claimed for empty, binary, unknown text or JSON, and why", "[detect]") {
  CHECK_FALSE(detect_format(""));
  CHECK(undetected_reason("") == "the input is empty");
  CHECK(undetected_reason(" \n\r\n\t") == "the input is empty");

  const std::string binary("\x7f" "ELF\x02\x01\x01\0\0\0", 10);
  CHECK_FALSE(detect_format(binary));
  CHECK(undetected_reason(binary) == "the input is binary (a NUL byte at offset 7)");
  const std::string control = "\x01\x02\x03\x04\x05\x06 ab";
  CHECK_FALSE(detect_format(control));
  CHECK(undetected_reason(control) == "the input is not text (6 control bytes in the first 9)");

  CHECK_FALSE(detect_format("[]"));
  CHECK(undetected_reason(" [ ] ") == "the input is an empty JSON array");
  CHECK_FALSE(detect_format(R"({"hello": "world"})"));
  CHECK(undetected_reason(R"({"hello": "world"})") ==
        "JSON of no known log format: its first record has none of the keys that tell one (\"type\": \"header\", "
        "\"iterLatencyMS\", \"traceEvents\", \"ph\")");
  CHECK_FALSE(detect_format(kBanner + "GET /v1/completions 200\n"));
  CHECK(undetected_reason(kBanner) ==
        "no line of a known log format in the first 64 KiB (TensorRT-LLM \"iter = ...\", SGLang \"Prefill "
        "batch\"/\"Decode batch\", vLLM \"Iteration(...)\"/\"Avg prompt throughput\"), and no batch metrics CSV "
        "header");
}
