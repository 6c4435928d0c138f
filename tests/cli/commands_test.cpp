// The binary as a user meets it: check, fmt, --version, exit codes, JSON.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "run_binary.hpp"

using batchproof::test::run_batchproof;

TEST_CASE("the version flag names the program and its version", "[cli][commands]") {
  auto r = run_batchproof("--version");
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("batchproof ", 0) == 0);
}

TEST_CASE("check passes on every example and GPU profile", "[cli][commands]") {
  auto r = run_batchproof("check examples/*.bp gpu_profiles/*.bp");
  CHECK(r.err.empty());
  CHECK(r.exit_code == 0);
}

TEST_CASE("check --json: the paper's A100 profile at b_max = 512 gives 512 / 153.16 ms", "[cli][commands]") {
  auto r = run_batchproof("check --json examples/paper_policies.bp");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema_version"] == 1);
  const auto& file = j["files"][0];
  CHECK(file["ok"] == true);
  bool found = false;
  for (const auto& e : file["engines"]) {
    if (e["name"] != "sarathi") continue;
    found = true;
    CHECK(e["token_budget"] == 512);
    CHECK(e["t_b_max_ms"].get<double>() == Approx(153.16));
    CHECK(e["compute_capacity_tokens_per_s"].get<double>() == Approx(512.0 / 0.15316));
  }
  CHECK(found);
  // The chat workload: prompts uniform 10..248 (mean 129), outputs geometric with mean 112.
  const auto& w = file["workloads"][0];
  CHECK(w["name"] == "chat");
  CHECK(w["mean_prompt"].get<double>() == Approx(129.0));
  CHECK(w["mean_output"].get<double>() == Approx(112.0));
  for (const auto& l : file["loads"])
    CHECK(l["load"].get<double>() == Approx(14.0 * 241.0 / (512.0 / 0.15316)));
}

TEST_CASE("check reports a prompt longer than the budget under a whole-prompt policy", "[cli][commands]") {
  auto dir = std::filesystem::temp_directory_path() / "bp_freeze";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "freeze.bp") << "profile p { t(b) = 10 ms + 10 ms * ceil(b / 64) }\n"
                                      "engine e { profile p token_budget 256 tokens policy { prefill waiting fcfs whole decode running fcfs } }\n"
                                      "workload w { arrivals poisson 1 req/s prompt uniform 100 .. 300 tokens output constant 10 tokens }\n";
  auto r = run_batchproof("check --json " + (dir / "freeze.bp").string());
  REQUIRE(r.exit_code == 0);  // findings are warnings
  auto j = nlohmann::json::parse(r.out);
  bool freeze = false;
  for (const auto& f : j["files"][0]["findings"])
    if (f["kind"] == "freeze") {
      freeze = true;
      CHECK(f["line"] == 2);
      CHECK(f["message"].get<std::string>().find("prompts of up to 300 tokens exceed the token budget of 256 tokens") !=
            std::string::npos);
    }
  CHECK(freeze);
  std::filesystem::remove_all(dir);
}

TEST_CASE("check finds a profile whose full batches are not the most efficient", "[cli][commands]") {
  auto dir = std::filesystem::temp_directory_path() / "bp_ineff";
  std::filesystem::create_directories(dir);
  // 128 tokens take 20 ms (6400 tokens/s); 129..256 take 60 ms: 256 tokens run at 4267 tokens/s.
  std::ofstream(dir / "i.bp") << "profile p { t(b) = -0 ms + 20 ms * ceil(b / 128) }\n";
  std::ofstream(dir / "i.bp", std::ios::trunc)
      << "profile p { t(b) = table { 128 -> 20 ms, 129 -> 60 ms, 256 -> 60 ms } }\n"
         "engine e { profile p token_budget 256 tokens policy { decode running fcfs } }\n";
  auto r = run_batchproof("check " + (dir / "i.bp").string());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("full batches are not the most efficient under profile 'p': 128 tokens run at 6400.0 tokens/s, "
                   "above the 4266.7 tokens/s of 256 tokens") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("check exits 3 on bad input and keeps going to the next file", "[cli][commands]") {
  auto dir = std::filesystem::temp_directory_path() / "bp_bad";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bad.bp") << "engine e { token_budget 512 }\n";
  auto r = run_batchproof("check " + (dir / "bad.bp").string() + " examples/workloads.bp");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("bad.bp:1:25: error: missing unit: token_budget is a token count (tokens), such as '512 tokens'") !=
        std::string::npos);
  CHECK(r.out.find("examples/workloads.bp: ok") != std::string::npos);
  auto missing = run_batchproof("check no/such/file.bp");
  CHECK(missing.exit_code == 3);
  CHECK(missing.err.rfind("no/such/file.bp: error: cannot read 'no/such/file.bp': No such file or directory", 0) == 0);
  auto usage = run_batchproof("check");
  CHECK(usage.exit_code == 3);
  std::filesystem::remove_all(dir);
}

TEST_CASE("fmt --check accepts the bundled specs and rejects a messy one without touching it", "[cli][commands]") {
  CHECK(run_batchproof("fmt --check examples/*.bp gpu_profiles/*.bp").exit_code == 0);
  auto dir = std::filesystem::temp_directory_path() / "bp_fmt";
  std::filesystem::create_directories(dir);
  auto file = dir / "messy.bp";
  std::string messy = "workload w{arrivals poisson 1 req/s prompt constant 8 tokens output constant 8 tokens}\n";
  std::ofstream(file) << messy;
  auto r = run_batchproof("fmt --check " + file.string());
  CHECK(r.exit_code == 1);
  CHECK(batchproof::test::slurp(file) == messy);
  CHECK(run_batchproof("fmt " + file.string()).exit_code == 0);
  CHECK(batchproof::test::slurp(file) ==
        "workload w {\n"
        "  arrivals poisson 1 req/s\n"
        "  prompt   constant 8 tokens\n"
        "  output   constant 8 tokens\n"
        "}\n");
  CHECK(run_batchproof("fmt --check " + file.string()).exit_code == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the README shows check's output exactly as it prints", "[cli][commands]") {
  std::string readme = batchproof::test::slurp(std::filesystem::path(BATCHPROOF_SOURCE_DIR) / "README.md");
  const std::string prompt = "$ batchproof check examples/paper_policies.bp\n";
  auto start = readme.find(prompt);
  REQUIRE(start != std::string::npos);
  start += prompt.size();
  auto end = readme.find("```", start);
  REQUIRE(end != std::string::npos);
  auto r = run_batchproof("check examples/paper_policies.bp");
  CHECK(r.out == readme.substr(start, end - start));
}
