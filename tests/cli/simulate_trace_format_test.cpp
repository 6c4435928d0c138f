// simulate --trace-format: the run written as a real engine's log (the readers' round trips are
// in tests/traces/foreign_writers_test.cpp).
#include <filesystem>

#include <catch2/catch.hpp>

#include "run_binary.hpp"

using batchproof::test::run_batchproof;
using batchproof::test::slurp;

namespace {
const std::string kRun = "simulate examples/paper_policies.bp --engine sarathi --workload chat --requests 200 --seed 5";
}

TEST_CASE("simulate --trace-format writes TensorRT-LLM, SGLang and vLLM logs", "[cli][simulate]") {
  auto dir = std::filesystem::temp_directory_path() / "bp_sim_trace_format";
  std::filesystem::create_directories(dir);
  const auto file = [&](const char* name) { return (dir / name).string(); };

  auto trtllm = run_batchproof(kRun + " --trace " + file("t.jsonl") + " --trace-format trtllm");
  CHECK(trtllm.exit_code == 0);
  CHECK(slurp(file("t.jsonl")).rfind("{\"cpuMemUsage\":0,\"gpuMemUsage\":0,\"inflightBatchingStats\":{", 0) == 0);

  auto sglang = run_batchproof(kRun + " --trace " + file("s.log") + " --trace-format sglang");
  CHECK(sglang.exit_code == 0);
  const std::string s = slurp(file("s.log"));
  CHECK(s.rfind("[2025-01-01 00:00:00] server_args=ServerArgs(model_path='batchproof/sarathi', ", 0) == 0);
  CHECK(s.find(" TP0] Prefill batch, #new-seq: ") != std::string::npos);

  auto vllm = run_batchproof(kRun + " --trace " + file("v.log") + " --trace-format vllm");
  CHECK(vllm.exit_code == 0);
  const std::string v = slurp(file("v.log"));
  CHECK(v.rfind("(APIServer pid=4241) INFO 01-01 00:00:00 [utils.py:233] non-default args: {'model': 'batchproof/sarathi', "
                "'max_num_batched_tokens': 512, ",
                0) == 0);
  CHECK(v.find("\n(APIServer pid=4241) INFO 01-01 00:00:00 [loggers.py:182] Engine 000: Iteration(0): ") != std::string::npos);

  // The same run, whatever the format of its trace.
  auto own = run_batchproof(kRun + " --trace " + file("b.jsonl") + " --trace-format batchproof");
  CHECK(own.exit_code == 0);
  CHECK(own.out == vllm.out);
  CHECK(slurp(file("b.jsonl")).rfind("{\"type\":\"header\",\"schema_version\":1,", 0) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("simulate --trace-format: a format with no writer, or no --trace, exits 3", "[cli][simulate]") {
  auto bogus = run_batchproof(kRun + " --trace /dev/null --trace-format bogus");
  CHECK(bogus.exit_code == 3);
  CHECK(bogus.err.find("--trace-format takes batchproof, trtllm, sglang or vllm, not 'bogus'") != std::string::npos);
  auto reader_only = run_batchproof(kRun + " --trace /dev/null --trace-format trtllm-log");
  CHECK(reader_only.exit_code == 3);
  CHECK(reader_only.err.find("not 'trtllm-log'") != std::string::npos);
  auto alone = run_batchproof(kRun + " --trace-format vllm");
  CHECK(alone.exit_code == 3);
  CHECK(alone.err.find("--trace-format goes with --trace FILE") != std::string::npos);
}
