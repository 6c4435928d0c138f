// Lowering: what a spec means, field by field.
#include <catch2/catch.hpp>

#include "core/capacity.hpp"
#include "dsl/dsl.hpp"

using namespace batchproof;

namespace {
core::Spec load_ok(const std::string& text, const std::string& path = "inline.bp") {
  core::Diagnostics diags;
  auto spec = dsl::load_spec_text(path, text, diags);
  for (const auto& d : diags.all()) UNSCOPED_INFO(core::render(d));
  REQUIRE(spec);
  return *spec;
}

std::vector<std::string> errors_of(const std::string& text) {
  core::Diagnostics diags;
  auto spec = dsl::load_spec_text("bad.bp", text, diags);
  CHECK_FALSE(spec);
  std::vector<std::string> out;
  for (const auto& d : diags.sorted()) out.push_back(core::render(d));
  return out;
}

const char* kProfile = "profile a100 { t(b) = 11.28 ms + 35.47 ms * ceil(b / 128) }\n";
}  // namespace

TEST_CASE("the paper's A100 profile: t(512) = 153.16 ms, capacity 512 / 153.16 ms") {
  core::Spec spec = load_ok("import \"gpu_profiles/a100-80gb.bp\"\n"
                            "engine sarathi {\n"
                            "  profile codellama34b_a100\n"
                            "  token_budget 512 tokens\n"
                            "  policy { decode running fcfs prefill started fcfs chunk prefill waiting fcfs chunk }\n"
                            "}\n");
  const core::Engine* e = spec.find_engine("sarathi");
  REQUIRE(e);
  CHECK(e->profile.time.form == core::TimeModel::Form::Staircase);
  CHECK(e->profile.time.c_s == Approx(0.01128));
  CHECK(e->profile.time.a_s == Approx(0.03547));
  CHECK(e->profile.time.b0 == 128);
  CHECK(e->profile.time.seconds(512) == Approx(0.15316));
  CHECK(e->profile.time.seconds(129) == Approx(0.01128 + 2 * 0.03547));
  core::ComputeCapacity c = core::compute_capacity(*e);
  REQUIRE(c.b_max.from_budget);
  CHECK(c.tokens_per_s == Approx(512.0 / 0.15316));
}

TEST_CASE("piecewise linear and table profiles") {
  core::Spec spec = load_ok(
      "profile lin { t(b) = 20 ms + 0.5 ms/token * max(0, b - 64) }\n"
      "profile tab { t(b) = table { 1 -> 10 ms, 100 -> 20 ms, 200 -> 40 ms } }\n");
  const auto& lin = spec.find_profile("lin")->time;
  CHECK(lin.seconds(64) == Approx(0.020));
  CHECK(lin.seconds(100) == Approx(0.020 + 36 * 0.0005));
  const auto& tab = spec.find_profile("tab")->time;
  CHECK(tab.seconds(1) == Approx(0.010));
  CHECK(tab.seconds(50) == Approx(0.010 + 49.0 / 99.0 * 0.010));
  CHECK(tab.seconds(150) == Approx(0.030));
  CHECK(tab.seconds(300) == Approx(0.060));  // the last segment's slope beyond the table
}

TEST_CASE("engine attributes and an inline policy") {
  core::Spec spec = load_ok(std::string(kProfile) +
                            "engine v {\n"
                            "  profile a100\n"
                            "  token_budget 4096 tokens padded\n"
                            "  max_batch 128 requests\n"
                            "  max_running 128 requests\n"
                            "  kv_cache 3072 blocks\n"
                            "  block_size 16 tokens\n"
                            "  watermark 1 %\n"
                            "  admission prompt\n"
                            "  max_seq_len 4096 tokens\n"
                            "  preemption recompute_youngest\n"
                            "  accounting vidur\n"
                            "  class_priority a > b\n"
                            "  policy {\n"
                            "    when waiting > 0 and free_kv >= 16 tokens { prefill waiting fcfs whole limit 4 requests }\n"
                            "    else { decode running fcfs unbudgeted }\n"
                            "  }\n"
                            "}\n");
  const core::Engine& e = *spec.find_engine("v");
  CHECK(*e.token_budget == 4096);
  CHECK(e.budget_form == core::BudgetForm::Padded);
  CHECK(*e.max_batch == 128);
  CHECK(*e.max_running == 128);
  CHECK(e.kv.form == core::KvCache::Form::Blocks);
  CHECK(*e.kv_tokens() == 3072 * 16);
  CHECK(e.watermark == Approx(0.01));
  CHECK(e.admission == core::Admission::Prompt);
  CHECK(*e.max_seq_len == 4096);
  CHECK(e.preemption == core::Preemption::RecomputeYoungest);
  CHECK(e.accounting == core::Accounting::Vidur);
  CHECK(e.class_priority == std::vector<std::string>{"a", "b"});
  REQUIRE(e.policy.body.size() == 1);
  REQUIRE(e.policy.body[0].when.size() == 1);
  const core::When& w = e.policy.body[0].when[0];
  REQUIRE(w.branches.size() == 1);
  const core::Condition& c = w.branches[0].condition;
  CHECK(c.kind == core::Condition::Kind::And);
  REQUIRE(c.operands.size() == 2);
  CHECK(*c.operands[0].lhs.terms[0].counter == core::Counter::Waiting);
  CHECK(c.operands[0].op == core::CmpOp::Gt);
  CHECK(c.operands[1].rhs.terms[0].constant == 16);
  const core::Rule& admit = *w.branches[0].body[0].rule;
  CHECK(admit.phase == core::Phase::Prefill);
  CHECK(admit.source == core::Source::Waiting);
  CHECK(admit.grain == core::Grain::Whole);
  CHECK(*admit.limit == 4);
  const core::Rule& decode = *w.otherwise[0].rule;
  CHECK(decode.phase == core::Phase::Decode);
  CHECK(decode.unbudgeted);
  CHECK(decode.grain == core::Grain::OneToken);
}

TEST_CASE("kv_cache derived from the profile's memory facts") {
  core::Spec spec = load_ok(
      "profile p { gpu_memory 80 GiB weights 62 GiB kv_per_token 192 KiB t(b) = 10 ms + 1 ms * ceil(b / 1) }\n"
      "engine e { profile p kv_cache derived block_size 16 tokens memory_utilization 90 % "
      "policy { decode running fcfs } }\n");
  // (0.9 · 80 GiB − 62 GiB) / 192 KiB = 54613.3 → 54613 → whole blocks of 16: 54608.
  CHECK(*spec.find_engine("e")->kv_tokens() == 54608);
}

TEST_CASE("workload laws and their means") {
  core::Spec spec = load_ok(
      "workload chat { arrivals poisson 14 req/s prompt uniform 10 .. 248 tokens output geometric mean 112 tokens }\n"
      "workload fixed { arrivals every 500 ms prompt constant 100 tokens output constant 100 tokens }\n"
      "workload bursty { arrivals bursts 8 requests every 2 s prompt constant 10 tokens output exponential mean 50 tokens max 400 tokens }\n");
  const core::Workload& chat = *spec.find_workload("chat");
  CHECK(chat.arrivals.rate_per_s == Approx(14));
  CHECK(chat.mean_prompt() == Approx(129));
  CHECK(chat.mean_output() == Approx(112));
  CHECK(*chat.max_prompt() == 248);
  CHECK_FALSE(chat.max_output());
  CHECK(spec.find_workload("fixed")->arrivals.mean_rate() == Approx(2));
  const core::Workload& bursty = *spec.find_workload("bursty");
  CHECK(bursty.arrivals.mean_rate() == Approx(4));
  CHECK(*bursty.max_output() == 400);
}

TEST_CASE("a trace workload replays the Azure conversation trace") {
  core::Spec spec = load_ok("workload conv { arrivals trace \"data/azure_llm_2023_conv.csv\" format azure }\n");
  const core::Workload& w = *spec.find_workload("conv");
  CHECK(w.arrivals.trace.size() == 19366);
  CHECK(w.arrivals.trace.front().prompt == 374);
  CHECK(w.arrivals.trace.front().output == 44);
}

TEST_CASE("networks: stations, routes with forks, priorities") {
  core::Spec spec = load_ok(std::string(kProfile) +
                            "engine e { profile a100 token_budget 512 tokens policy { decode running priority } }\n"
                            "network n {\n"
                            "  station s1 = e\n"
                            "  station pool = e replicas 4 dispatch jsq_tokens\n"
                            "  class A { arrivals poisson 1 req/s hop s1 { prompt constant 8 tokens output constant 2 tokens }\n"
                            "            fork { hop pool { prompt constant 4 tokens output constant 4 tokens }\n"
                            "                   hop s1 { prompt constant 4 tokens output constant 4 tokens } } }\n"
                            "  class B { arrivals every 1 s hop pool { prompt constant 8 tokens output constant 2 tokens } }\n"
                            "  priority s1: B > A\n"
                            "}\n");
  const core::Network& n = *spec.find_network("n");
  REQUIRE(n.stations.size() == 2);
  CHECK(n.stations[1].replicas == 4);
  CHECK(n.stations[1].dispatch == core::Dispatch::ShortestQueueTokens);
  REQUIRE(n.classes.size() == 2);
  REQUIRE(n.classes[0].route.size() == 2);
  CHECK(n.classes[0].route[1].fork);
  CHECK(n.classes[0].route[1].hops.size() == 2);
  CHECK(n.priority.at("s1") == std::vector<std::string>{"B", "A"});
}

TEST_CASE("checks: property, arguments, parameters, expected verdict") {
  core::Spec spec = load_ok(std::string(kProfile) +
                            "engine e { profile a100 token_budget 512 tokens policy { decode running fcfs } }\n"
                            "workload w { arrivals poisson 1 req/s prompt constant 8 tokens output constant 8 tokens }\n"
                            "check a: work_conserving(e) up to 12 requests timeout 5 s expect violated\n"
                            "check b: no_instability(e, w) load <= 0.9 period 40 iterations\n"
                            "check c: backlog_bound(e, w) sigma 4096 tokens rho 0.9\n");
  REQUIRE(spec.checks.size() == 3);
  CHECK(spec.checks[0].property == core::Property::WorkConserving);
  CHECK(*spec.checks[0].up_to_requests == 12);
  CHECK(*spec.checks[0].timeout_s == Approx(5));
  CHECK(spec.checks[0].expect == core::Expect::Violated);
  CHECK(spec.checks[1].workload == "w");
  CHECK(*spec.checks[1].load == Approx(0.9));
  CHECK(*spec.checks[1].period == 40);
  CHECK(*spec.checks[2].sigma_tokens == 4096);
  CHECK(*spec.checks[2].rho == Approx(0.9));
}

TEST_CASE("declarations may come after their use and from imports") {
  core::Spec spec = load_ok("check c: progress(e)\n"
                            "engine e { profile p token_budget 64 tokens policy q }\n"
                            "policy q { prefill waiting fcfs whole }\n"
                            "profile p { t(b) = 1 ms + 1 ms * ceil(b / 64) }\n");
  CHECK(spec.find_engine("e")->policy.name == "q");
}

TEST_CASE("several errors in one run, each at its place") {
  auto errs = errors_of(std::string(kProfile) +
                        "engine e {\n"
                        "  profile a10\n"
                        "  token_budget 512 ms\n"
                        "  policy { decode running fcsf }\n"
                        "}\n");
  REQUIRE(errs.size() == 3);
  CHECK(errs[0] ==
        "bad.bp:3:11: error: unknown profile 'a10' (did you mean 'a100'?)\n"
        "    profile a10\n"
        "            ^\n");
  CHECK(errs[1] ==
        "bad.bp:4:20: error: wrong unit: token_budget is a token count (tokens), but '512 ms' is a duration (us, ms, s)\n"
        "    token_budget 512 ms\n"
        "                     ^\n");
  CHECK(errs[2] ==
        "bad.bp:5:27: error: unknown word 'fcsf' in a rule (did you mean 'fcfs'?)\n"
        "    policy { decode running fcsf }\n"
        "                            ^\n");
}

TEST_CASE("a syntax error does not stop the next declaration from being checked") {
  auto errs = errors_of("engine e {\n  token_budget\n}\nworkload w { arrivals poisson 3 req/z }\n");
  REQUIRE(errs.size() == 2);
  CHECK(errs[0].rfind("bad.bp:3:1: error: expected a number with its unit, such as '512 tokens', found '}'", 0) == 0);
  CHECK(errs[1].rfind("bad.bp:4:33: error: unknown unit 'req/z' (did you mean 'req/s'?)", 0) == 0);
}
