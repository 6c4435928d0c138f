// audit and fit as a user runs them: reports, JSON, exit codes, and the round trip through
// the simulator's traces.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "run_binary.hpp"

using batchproof::test::run_batchproof;
using batchproof::test::slurp;

namespace {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) : path(std::filesystem::temp_directory_path() / name) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

const char* kPlanted = "tests/cli/data/audit_planted.jsonl";

}  // namespace

TEST_CASE("audit prints the checks, the violations with their records, and the analytics; exit 1", "[cli][audit]") {
  auto r = run_batchproof(std::string("audit ") + kPlanted + " --max-violations 1");
  CHECK(r.exit_code == 1);
  CHECK(r.err.empty());
  CHECK(r.out ==
        "audit tests/cli/data/audit_planted.jsonl (batchproof format): 4 iterations, 0 malformed\n"
        "\n"
        "checks\n"
        "  check                 status       checked  violations  notes  limit / reason\n"
        "  budget_exceeded       clean        4        0           0      8 tokens (the trace header)\n"
        "  batch_limit_exceeded  clean        4        0           0      none (the trace header)\n"
        "  kv_exceeded           clean        4        0           0      none (the trace header)\n"
        "  not_work_conserving   violated     4        1           0\n"
        "  mixed_batch           not checked  -        -           -      no policy known (give --spec and --engine)\n"
        "  clock_regression      clean        4        0           0\n"
        "  iteration_gap         clean        4        0           0\n"
        "  lifecycle_error       clean        4        0           0\n"
        "  policy_divergence     not checked  -        -           -      no policy to replay (give --spec and "
        "--engine)\n"
        "\n"
        "violations (1 in all; at most the first 1 of each kind shown)\n"
        "  tests/cli/data/audit_planted.jsonl:3: not_work_conserving: iteration 1: not maximal: request 0 (decoding) "
        "could take its decode token: the batch holds 2 of 8 tokens\n"
        "      line 3: iteration 1 at 1.000000 s for 1.000000 s: 2 tokens (2 prefill in 1), waiting 0, running 2, KV "
        "10 tokens, logged budget 8 tokens\n"
        "      batch: 1:prefill 2\n"
        "      state before: 2 running (0: decoded 0 of 2, 1: 4 of 6 prompt tokens), 0 waiting, KV 8 tokens\n"
        "\n"
        "analytics\n"
        "  4 iterations over 4.000 s, busy 4.000 s, 3.2 tokens/s\n"
        "  capacity 8.0 tokens/s: budget 8 tokens / fitted t(8) = 1000.000 ms (staircase)\n"
        "  arrivals 2 at 0.500 req/s, offering 3.2 tokens/s; load 0.406\n"
        "  budget utilisation 40.6%\n"
        "  waiting queue trend not computed: only 4 records with a waiting count and a time\n"
        "  profile fit over 4 iterations:\n"
        "    staircase t(b) = 1000 ms + 0 ms * ceil(b / 16): R^2 1.0000, RMSE 0.000 ms, largest residual 0.000 ms "
        "(best)\n"
        "    linear    t(b) = 1000 ms + 0 ms/token * max(0, b - 0): R^2 1.0000, RMSE 0.000 ms, largest residual "
        "0.000 ms\n"
        "\n"
        "audit: 1 violation (not_work_conserving 1), 0 notes, 2 checks not checked\n");
}

TEST_CASE("audit --json has the format, the counts, each violation with its line, and the profile fit", "[cli][audit]") {
  auto r = run_batchproof(std::string("audit ") + kPlanted + " --json");
  REQUIRE(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema_version"] == 1);
  CHECK(j["format"] == "batchproof");
  CHECK(j["records"] == 4);
  CHECK(j["malformed"] == 0);
  REQUIRE(j["violations"].size() == 1);
  const auto& v = j["violations"][0];
  CHECK(v["kind"] == "not_work_conserving");
  CHECK(v["iteration"] == 1);
  CHECK(v["line"] == 3);
  CHECK(v["message"] == "not maximal: request 0 (decoding) could take its decode token: the batch holds 2 of 8 tokens");
  CHECK(j["profile_fit"]["best"] == "staircase");
  CHECK(j["profile_fit"]["staircase"].contains("r2"));
  CHECK(j["profile_fit"]["staircase"]["residuals"].is_array());
  bool listed = false;
  for (const auto& c : j["checks"])
    if (c["kind"] == "policy_divergence") {
      listed = true;
      CHECK(c["status"] == "not checked");
      CHECK(c["reason"] == "no policy to replay (give --spec and --engine)");
    }
  CHECK(listed);
}

TEST_CASE("audit round trip: the simulator's Sarathi-Serve run is clean, vanilla vLLM's is not", "[cli][audit]") {
  TempDir dir("bp_audit_roundtrip");
  const std::string sim = "simulate examples/paper_policies.bp --workload chat --load 0.8 --requests 300 --trace ";
  REQUIRE(run_batchproof(sim + dir.file("sarathi.jsonl") + " --engine sarathi").exit_code == 0);
  REQUIRE(run_batchproof(sim + dir.file("vllm.jsonl") + " --engine vllm_vanilla").exit_code == 0);

  auto clean = run_batchproof("audit " + dir.file("sarathi.jsonl") +
                              " --spec examples/paper_policies.bp --engine sarathi --json");
  CHECK(clean.exit_code == 0);
  auto c = nlohmann::json::parse(clean.out);
  CHECK(c["violation_count"] == 0);
  for (const auto& check : c["checks"])
    if (check["kind"] == "not_work_conserving" || check["kind"] == "policy_divergence")
      CHECK(check["status"] == "clean");

  auto caught = run_batchproof("audit " + dir.file("vllm.jsonl"));
  CHECK(caught.exit_code == 1);
  CHECK(caught.out.find("  not_work_conserving   violated") != std::string::npos);
  CHECK(caught.out.find("could take its decode token") != std::string::npos);
}

TEST_CASE("audit: unreadable and unknown inputs exit 3; malformed records only with --strict", "[cli][audit]") {
  auto missing = run_batchproof("audit tests/cli/data/no_such_log.jsonl");
  CHECK(missing.exit_code == 3);
  CHECK(missing.err.find("tests/cli/data/no_such_log.jsonl") != std::string::npos);

  auto spec = run_batchproof("audit examples/paper_policies.bp");
  CHECK(spec.exit_code == 3);
  CHECK(spec.err.rfind("examples/paper_policies.bp: error: not a log batchproof reads: ", 0) == 0);

  TempDir dir("bp_audit_malformed");
  std::string text = slurp(kPlanted);
  // A broken line between iterations 1 and 2, and iteration 1's left-out decode repaired.
  auto at = text.find(R"({"type":"iteration","index":2)");
  text.insert(at, "{\"type\":\"iteration\",\"index\":\n");
  {
    std::ofstream out(dir.file("broken.jsonl"));
    out << text;
  }
  auto lenient = run_batchproof("audit " + dir.file("broken.jsonl"));
  CHECK(lenient.exit_code == 1);  // the planted violation, nothing more
  CHECK(lenient.out.find("4 iterations, 1 malformed") != std::string::npos);
  CHECK(lenient.err.find("broken.jsonl:4:") != std::string::npos);
  CHECK(run_batchproof("audit " + dir.file("broken.jsonl") + " --strict").exit_code == 3);

  CHECK(run_batchproof(std::string("audit ") + kPlanted + " --spec examples/paper_policies.bp").exit_code == 3);
  auto no_engine = run_batchproof(std::string("audit ") + kPlanted + " --spec examples/paper_policies.bp --engine sarathy");
  CHECK(no_engine.exit_code == 3);
  CHECK(no_engine.err == "batchproof audit: error: no engine 'sarathy' in examples/paper_policies.bp (did you mean "
                         "'sarathi'?)\n");
  auto arrivals = run_batchproof(std::string("audit ") + kPlanted + " --arrivals " + kPlanted);
  CHECK(arrivals.exit_code == 3);
  CHECK(arrivals.err == "batchproof audit: error: --arrivals is for Vidur and Sarathi-Serve traces, which log no "
                        "arrivals, and TensorRT-LLM's request stats, which log no prompt lengths; this is a batchproof "
                        "log\n");
  CHECK(run_batchproof(std::string("audit ") + kPlanted + " --format nope").exit_code == 3);
}

TEST_CASE("audit --spec: conformance to the policy, with both batches shown", "[cli][audit]") {
  auto r = run_batchproof(std::string("audit ") + kPlanted +
                          " --spec tests/cli/data/audit_engines.bp --engine sarathi8 --max-violations 1");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("  policy_divergence     violated     4        1") != std::string::npos);
  CHECK(r.out.find("      logged batch: 1:prefill 2\n      policy's batch: 0:decode, 1:prefill 2\n") !=
        std::string::npos);
}

TEST_CASE("fit prints a profile block that check reads; a log without times cannot be fitted", "[cli][audit]") {
  TempDir dir("bp_fit");
  REQUIRE(run_batchproof("simulate examples/paper_policies.bp --engine sarathi --workload chat --load 0.8 --requests "
                         "300 --trace " +
                         dir.file("run.jsonl"))
              .exit_code == 0);
  auto fit = run_batchproof("fit " + dir.file("run.jsonl") + " --name sarathi_fit");
  REQUIRE(fit.exit_code == 0);
  CHECK(fit.out.find("profile sarathi_fit {\n  t(b) = 11.28 ms + 35.47 ms * ceil(b / 128)\n  provenance \"batchproof "
                     "fit of ") != std::string::npos);
  {
    std::ofstream out(dir.file("fit.bp"));
    out << fit.out;
  }
  auto check = run_batchproof("check " + dir.file("fit.bp"));
  CHECK(check.exit_code == 0);
  CHECK(check.out.find("sarathi_fit  11.28 ms + 35.47 ms * ceil(b / 128)  153.16 ms") != std::string::npos);
  // Canonical already: fmt --check changes nothing.
  CHECK(run_batchproof("fmt --check " + dir.file("fit.bp")).exit_code == 0);

  auto table = run_batchproof("fit " + dir.file("run.jsonl") + " --form table --json");
  REQUIRE(table.exit_code == 0);
  auto j = nlohmann::json::parse(table.out);
  CHECK(j["chosen"] == "table");
  CHECK(j["best"] == "staircase");
  CHECK(j["profile"].get<std::string>().find("t(b) = table {") != std::string::npos);

  auto bad_name = run_batchproof("fit " + dir.file("run.jsonl") + " --name 9lives");
  CHECK(bad_name.exit_code == 3);
  auto too_few = run_batchproof("fit tests/cli/data/audit_too_few.jsonl");
  CHECK(too_few.exit_code == 2);
  CHECK(too_few.err == "batchproof fit: cannot fit: 2 of 2 iterations have their tokens and time, over 2 batch sizes "
                       "(3 are needed)\n");
}

TEST_CASE("audit --arrivals replays a Vidur trace: work conservation and conformance with the spec", "[cli][audit]") {
  const std::string base = "audit tests/cli/data/audit_vidur_planted.json --arrivals tests/cli/data/audit_vidur_arrivals.jsonl";
  auto r = run_batchproof(base + " --spec tests/cli/data/audit_engines.bp --engine sarathi8 --json");
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["format"] == "vidur");
  REQUIRE(j["violations"].size() == 2);
  CHECK(j["violations"][0]["kind"] == "policy_divergence");
  CHECK(j["violations"][0]["iteration"] == 1);
  CHECK(j["violations"][0]["stream"] == "replica 0");
  CHECK(j["violations"][1]["kind"] == "not_work_conserving");
  CHECK(j["violations"][1]["message"] ==
        "not maximal: request 0 (decoding) could take its decode token: the batch holds 2 of 8 tokens");
  // Without the spec the trace states no limits: nothing to judge the batches against.
  auto bare = run_batchproof(base);
  CHECK(bare.exit_code == 0);
  CHECK(bare.out.find("  policy_divergence     not checked  -        -           -      no replay: the trace states "
                      "no limits (give --spec and --engine)") != std::string::npos);
}

TEST_CASE("audit: the requests of a state record are present from the first iteration on", "[cli][audit]") {
  // docs/trace-format.md's example opens with a state record (with a request class, which takes
  // the full reader's path): its requests are in the first batch and must not be reported as
  // never arrived, nor as finished when they get their next token.
  auto r = run_batchproof("audit tests/traces/data/batchproof_doc_example.jsonl --json");
  CHECK(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["violations"].empty());
}

TEST_CASE("audit --arrivals with several replicas: each replica replayed with the requests its batches show", "[cli][audit]") {
  const std::string options = " --spec tests/cli/data/audit_engines.bp --engine sarathi8 --arrivals "
                              "tests/cli/data/audit_vidur_replicas_arrivals.jsonl";
  auto clean = run_batchproof("audit tests/cli/data/audit_vidur_replicas.json" + options + " --json");
  CHECK(clean.exit_code == 0);
  CHECK(clean.err.empty());
  auto j = nlohmann::json::parse(clean.out);
  CHECK(j["violations"].empty());
  for (const auto& c : j["checks"])
    if (c["kind"] == "policy_divergence" || c["kind"] == "not_work_conserving") {
      CHECK(c["status"] == "clean");
      CHECK(c["checked"] == 8);
    }

  // Replica 1 gives request 3 one prompt token of two in its third batch.
  auto planted = run_batchproof("audit tests/cli/data/audit_vidur_replicas_planted.json" + options + " --json");
  CHECK(planted.exit_code == 1);
  auto p = nlohmann::json::parse(planted.out);
  REQUIRE(p["violations"].size() == 2);
  CHECK(p["violations"][0]["kind"] == "policy_divergence");
  CHECK(p["violations"][0]["stream"] == "replica 1");
  CHECK(p["violations"][0]["iteration"] == 5);  // the batch id
  CHECK(p["violations"][1]["kind"] == "not_work_conserving");

  // Standard input cannot be read twice (the first pass places the arrivals).
  auto piped = run_batchproof("audit - --format vidur" + options + " < tests/cli/data/audit_vidur_replicas.json");
  CHECK(piped.exit_code == 3);
  CHECK(piped.err == "batchproof audit: error: --arrivals with a trace of several replicas ('replica 0' and "
                     "'replica 1') needs the trace read twice (the first pass finds where each request went), and "
                     "standard input cannot be\n");
}

TEST_CASE("audit --spec replays request classes: a class-priority policy conforms, its reverse does not", "[cli][audit]") {
  // Two classes; the engine admits by class priority. The audit reads the trace with the fast
  // reader, which carries each arrival's class to the replay: against the engine that wrote
  // it the trace conforms, against the reversed priority the first prefill choices differ.
  TempDir dir("batchproof-audit-classes");
  const std::string spec = dir.file("classes.bp");
  std::ofstream(spec) << "import \"" << BATCHPROOF_SOURCE_DIR << "/gpu_profiles/a100-80gb.bp\"\n"
                      << "policy by_class {\n"
                         "  decode running fcfs\n"
                         "  prefill pending priority chunk\n"
                         "}\n"
                         "engine short_first { profile codellama34b_a100 token_budget 256 tokens "
                         "class_priority short > long policy by_class }\n"
                         "engine long_first  { profile codellama34b_a100 token_budget 256 tokens "
                         "class_priority long > short policy by_class }\n"
                         "workload mixed {\n"
                         "  arrivals poisson 6 req/s\n"
                         "  class short { weight 3 prompt constant 64 tokens output constant 8 tokens }\n"
                         "  class long  { weight 1 prompt constant 700 tokens output constant 8 tokens }\n"
                         "}\n";
  const std::string trace = dir.file("run.jsonl");
  auto sim = run_batchproof("simulate " + spec + " --engine short_first --workload mixed --requests 400 --seed 3 "
                            "--trace " + trace);
  REQUIRE(sim.exit_code == 0);
  REQUIRE(slurp(trace).find("\"class\":\"long\"") != std::string::npos);

  auto same = run_batchproof("audit " + trace + " --spec " + spec + " --engine short_first --json");
  CHECK(same.exit_code == 0);
  auto j = nlohmann::json::parse(same.out);
  CHECK(j["violations"].empty());

  auto reversed = run_batchproof("audit " + trace + " --spec " + spec + " --engine long_first --json");
  CHECK(reversed.exit_code == 1);
  auto k = nlohmann::json::parse(reversed.out);
  REQUIRE_FALSE(k["violations"].empty());
  CHECK(k["violations"][0]["kind"] == "policy_divergence");
}
