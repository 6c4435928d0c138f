// simulate, capacity and arrivals as a user runs them.
#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "run_binary.hpp"

using batchproof::test::run_batchproof;
using batchproof::test::slurp;

TEST_CASE("simulate --json reports the verdict, slopes, throughput and latency quantiles", "[cli][simulate]") {
  auto r = run_batchproof("simulate examples/paper_policies.bp --engine sarathi --workload chat --load 0.8 --requests 5000 --seed 7 --json");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema_version"] == 1);
  CHECK(j["engine"] == "sarathi");
  CHECK(j["stable"] == true);
  CHECK(j["arrived"] == 5000);
  for (const char* key : {"backlog_slope_tokens_per_s", "fluid_slope_tokens_per_s", "throughput_tokens_per_s", "completed"})
    CHECK(j.contains(key));
  CHECK(j["fluid_slope_tokens_per_s"].get<double>() < 0);
  for (const char* q : {"ttft", "tbt", "e2e", "queueing"})
    for (const char* k : {"mean", "p50", "p90", "p99"}) CHECK(j["latency_s"][q].contains(k));
  // Same seed, same run.
  auto again = run_batchproof("simulate examples/paper_policies.bp --engine sarathi --workload chat --load 0.8 --requests 5000 --seed 7 --json");
  CHECK(again.out == r.out);
}

TEST_CASE("simulate --expect turns the verdict into the exit code", "[cli][simulate]") {
  auto ft = "simulate examples/paper_policies.bp --engine faster_transformer --workload chat --load 0.75 --requests 5000";
  CHECK(run_batchproof(std::string(ft) + " --expect unstable").exit_code == 0);
  auto wrong = run_batchproof(std::string(ft) + " --expect stable");
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.out.find("verdict: unstable (expected stable)") != std::string::npos);
  CHECK(run_batchproof(std::string(ft) + " --expect maybe").exit_code == 3);
}

TEST_CASE("simulate writes CSV, SVG and trace files, and bad arguments exit 3", "[cli][simulate]") {
  auto dir = std::filesystem::temp_directory_path() / "bp_sim_out";
  std::filesystem::create_directories(dir);
  auto r = run_batchproof("simulate examples/paper_policies.bp --engine sarathi --engine orca --workload chat --requests 2000 --csv " +
                          (dir / "b.csv").string() + " --svg " + (dir / "b.svg").string());
  CHECK(r.exit_code == 0);
  std::string csv = slurp(dir / "b.csv");
  CHECK(csv.rfind("engine,time_s,backlog_tokens,backlog_requests\n", 0) == 0);
  CHECK(csv.find("\norca,") != std::string::npos);
  std::string svg = slurp(dir / "b.svg");
  CHECK(svg.find("<svg") == 0);
  CHECK(svg.find(">sarathi</text>") != std::string::npos);
  CHECK(svg.find(">orca</text>") != std::string::npos);
  auto t = run_batchproof("simulate examples/paper_policies.bp --engine sarathi --workload chat --requests 50 --trace " +
                          (dir / "t.jsonl").string());
  CHECK(t.exit_code == 0);
  CHECK(slurp(dir / "t.jsonl").rfind("{\"type\":\"header\",\"schema_version\":1,\"source\":\"simulate\"", 0) == 0);
  CHECK(run_batchproof("simulate examples/paper_policies.bp --engine nope --workload chat").exit_code == 3);
  CHECK(run_batchproof("simulate examples/paper_policies.bp --engine sarathi --workload chat --load 0.5 --rate 3").exit_code == 3);
  std::filesystem::remove_all(dir);
}

TEST_CASE("arrivals writes a workload's arrivals, and simulate replays them", "[cli][simulate]") {
  auto dir = std::filesystem::temp_directory_path() / "bp_arrivals";
  std::filesystem::create_directories(dir);
  auto file = (dir / "chat.jsonl").string();
  auto a = run_batchproof("arrivals examples/workloads.bp --workload chat --rate 10 --duration 60 --seed 3 -o " + file);
  REQUIRE(a.exit_code == 0);
  std::string text = slurp(file);
  auto lines = std::count(text.begin(), text.end(), '\n');
  CHECK(lines > 500);  // about 600 at 10 req/s
  CHECK(lines < 700);
  auto r = run_batchproof("simulate examples/paper_policies.bp --engine sarathi --arrivals " + file + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["arrived"] == lines);
  std::filesystem::remove_all(dir);
}

TEST_CASE("simulate --network runs an agent network: Rybko-Stolyar with exit-first priority is unstable below capacity", "[cli][simulate]") {
  auto unstable = run_batchproof("simulate examples/rybko_stolyar.bp --network rs_exit_first --requests 20000 --json");
  REQUIRE(unstable.exit_code == 0);
  auto j = nlohmann::json::parse(unstable.out);
  CHECK(j["stable"] == false);
  for (const auto& s : j["stations"]) CHECK(s["load"].get<double>() < 1.0);
  auto stable = run_batchproof("simulate examples/rybko_stolyar.bp --network rs_entry_first --requests 20000 --expect stable");
  CHECK(stable.exit_code == 0);
}

TEST_CASE("capacity prints compute, memory, usable and empirical capacity", "[cli][simulate]") {
  auto r = run_batchproof("capacity examples/azure_conv_replay.bp --engine sarathi_512 --requests 2000 --seeds 1 --precision 0.05 --json");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["pairs"].size() == 1);
  const auto& p = j["pairs"][0];
  CHECK(p["workload"] == "azure_conv");
  CHECK(p["load"].get<double>() > 1);
  CHECK(p["memory_capacity_tokens_per_s"].is_number());
  CHECK(p["empirical"]["probes"].get<int>() >= 2);
}
