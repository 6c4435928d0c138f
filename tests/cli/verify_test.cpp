// prove and verify as a user runs them: verdicts, exit codes, JSON, JUnit.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "run_binary.hpp"

using batchproof::test::run_batchproof;
using batchproof::test::slurp;

TEST_CASE("prove: holds exits 0, violated exits 1 with the counterexample table", "[cli][verify]") {
  auto holds = run_batchproof("prove examples/paper_policies.bp --engine sarathi --property work_conserving --requests 6");
  CHECK(holds.exit_code == 0);
  CHECK(holds.out.rfind(
            "prove sarathi work_conserving: holds for every number of requests (inductive lemma, checked once for all N) [",
            0) == 0);
  auto bounded =
      run_batchproof("prove examples/paper_policies.bp --engine sarathi --property work_conserving --requests 6 --bounded");
  CHECK(bounded.exit_code == 0);
  CHECK(bounded.out.rfind("prove sarathi work_conserving: holds for every state of up to 6 requests (bounded) [", 0) == 0);
  auto violated = run_batchproof("prove examples/paper_policies.bp --engine vllm_vanilla --property progress");
  CHECK(violated.exit_code == 1);
  CHECK(violated.out.find("    0        waiting  513     0          1       0\n") != std::string::npos);
  CHECK(violated.out.find("    batch: (empty) (0 tokens of a budget of 512)\n") != std::string::npos);
  auto unknown =
      run_batchproof("prove examples/vidur_engines.bp --engine vidur_sarathi --property work_conserving --requests 2");
  CHECK(unknown.exit_code == 2);
  CHECK(run_batchproof("prove examples/paper_policies.bp --engine sarathi --property no_instability").exit_code == 3);
}

TEST_CASE("prove --json gives the verdict and the counterexample", "[cli][verify]") {
  auto r = run_batchproof("prove examples/ci.bp --engine proposal_phase_split --property work_conserving --json");
  REQUIRE(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["verdict"] == "violated");
  CHECK(j["counterexample"]["requests"].size() == 2);
  CHECK(j["counterexample"]["batch"].size() == 1);
  CHECK(j["scope"] == "from_n");
  CHECK(j["requests"] == 2);
  auto all = nlohmann::json::parse(
      run_batchproof("prove examples/paper_policies.bp --engine sarathi --property fcfs --json").out);
  CHECK(all["verdict"] == "holds");
  CHECK(all["scope"] == "all");
  CHECK(all["method"] == "inductive_lemma");
  CHECK(all["requests"].is_null());
  auto bounded = nlohmann::json::parse(
      run_batchproof("prove examples/paper_policies.bp --engine sarathi --property budget --requests 3 --bounded --json")
          .out);
  CHECK(bounded["scope"] == "up_to_n");
  CHECK(bounded["requests"] == 3);
}

TEST_CASE("verify runs every check of the CI example, as stated, and writes JUnit", "[cli][verify]") {
  auto junit = (std::filesystem::temp_directory_path() / "bp_verify.xml").string();
  auto r = run_batchproof("verify examples/ci.bp --junit " + junit);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("verify: 5 checks, 5 as stated, 0 not, 0 unknown\n") != std::string::npos);
  std::string xml = slurp(junit);
  CHECK(xml.find("<testsuite name=\"batchproof verify\" tests=\"5\" failures=\"0\" skipped=\"0\">") != std::string::npos);
  std::filesystem::remove(junit);
}

TEST_CASE("verify: an expectation that does not hold fails the run, unknown checks exit 2", "[cli][verify]") {
  auto dir = std::filesystem::temp_directory_path() / "bp_verify_bad";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "wrong.bp") << "profile p { t(b) = 10 ms + 10 ms * ceil(b / 64) }\n"
                                     "engine e { profile p token_budget 64 tokens policy { prefill waiting fcfs whole decode running fcfs } }\n"
                                     "check wc: work_conserving(e) expect holds\n";
  auto r = run_batchproof("verify " + (dir / "wrong.bp").string());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("FAIL wc: work_conserving(e) violated (1 request counterexample), expected holds") != std::string::npos);
  auto paper = run_batchproof("verify examples/paper_policies.bp");
  CHECK(paper.exit_code == 0);  // every check as stated: the instability searches and the backlog bound are decided
  std::filesystem::remove_all(dir);
}

TEST_CASE("prove --trace writes the counterexample in batchproof's trace format", "[cli][verify]") {
  auto file = (std::filesystem::temp_directory_path() / "bp_cx.jsonl").string();
  auto r = run_batchproof("prove examples/paper_policies.bp --engine orca --property work_conserving --trace " + file);
  CHECK(r.exit_code == 1);
  std::string t = slurp(file);
  CHECK(t.rfind("{\"type\":\"header\",\"schema_version\":1,\"source\":\"prove\"", 0) == 0);
  CHECK(t.find("{\"type\":\"state\",\"time_s\":0,\"requests\":[{\"id\":0,\"arrival_s\":0,\"prompt\":513,\"output\":1") !=
        std::string::npos);
  CHECK(t.find("{\"type\":\"iteration\",\"index\":0") != std::string::npos);
  std::filesystem::remove(file);
}
