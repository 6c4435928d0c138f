// Round trip: the simulator writes a run of a policy in batchproof's trace format, and the
// auditor reads it back. A work-conserving policy audits clean and conforms to itself; the
// stylised vanilla vLLM is caught leaving work out.
#include <catch2/catch.hpp>

#include <sstream>

#include "audit_test_support.hpp"
#include "in_memory_input.hpp"
#include "sim/engine_sim.hpp"
#include "traces/foreign_trace_stream.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using namespace batchproof::traces::testing;

namespace {

// 150 requests of the chat workload at 80 % of its rate, seed 1.
std::string simulated_trace(const std::string& engine_name) {
  const auto& spec = paper_policies();
  const core::Engine& engine = *spec.find_engine(engine_name);
  std::ostringstream out;
  core::TraceWriter writer(out);
  sim::SimOptions options;
  options.seed = 1;
  options.requests = 150;
  options.rate.rate_scale = 0.8;
  options.trace = &writer;
  options.spec_file = "examples/paper_policies.bp";
  sim::simulate_engine(engine, *spec.find_workload("chat"), options);
  writer.flush();
  return out.str();
}

}  // namespace

TEST_CASE("a simulated run of Sarathi-Serve audits clean and conforms to its policy", "[audit][roundtrip]") {
  const std::string trace = simulated_trace("sarathi");
  auto report = audit_trace(trace);
  CHECK(report.violation_count == 0);
  CHECK(report.check(CheckKind::WorkConservation).status == CheckStatus::Clean);
  CHECK(report.check(CheckKind::WorkConservation).checked == report.records);
  CHECK(report.check(CheckKind::Lifecycle).status == CheckStatus::Clean);
  CHECK(report.check(CheckKind::Budget).status == CheckStatus::Clean);

  AuditOptions options;
  options.engine = paper_policies().find_engine("sarathi");
  options.spec_file = "examples/paper_policies.bp";
  auto conformance = audit_trace(trace, options);
  CHECK(conformance.violation_count == 0);
  CHECK(conformance.note_count == 0);
  CHECK(conformance.check(CheckKind::PolicyDivergence).status == CheckStatus::Clean);
  CHECK(conformance.check(CheckKind::PolicyDivergence).checked == conformance.records);
  // Sarathi-Serve mixes phases: that check has nothing to say.
  CHECK(conformance.check(CheckKind::MixedBatch).status == CheckStatus::NotChecked);

  // The run against another policy: Orca takes whole prompts, so the batches part.
  options.engine = paper_policies().find_engine("orca");
  auto other = audit_trace(trace, options);
  CHECK(other.check(CheckKind::PolicyDivergence).status == CheckStatus::Violated);
}

TEST_CASE("a simulated run of vanilla vLLM shows not_work_conserving", "[audit][roundtrip]") {
  const std::string trace = simulated_trace("vllm_vanilla");
  auto report = audit_trace(trace);
  CHECK(report.check(CheckKind::WorkConservation).status == CheckStatus::Violated);
  CHECK(report.check(CheckKind::WorkConservation).violations > 0);
  // Everything else about the run is in order.
  for (auto kind : {CheckKind::Budget, CheckKind::Lifecycle, CheckKind::ClockRegression, CheckKind::IterationGap})
    CHECK(report.check(kind).status == CheckStatus::Clean);
  // Its batches are prefill-only while prompts wait: decode tokens that fit are left out.
  bool decode_left_out = false;
  for (const auto& v : report.violations)
    if (v.kind == CheckKind::WorkConservation && v.message.find("could take its decode token") != std::string::npos)
      decode_left_out = true;
  CHECK(decode_left_out);

  AuditOptions options;
  options.engine = paper_policies().find_engine("vllm_vanilla");
  options.spec_file = "examples/paper_policies.bp";
  auto with_spec = audit_trace(trace, options);
  CHECK(with_spec.check(CheckKind::PolicyDivergence).status == CheckStatus::Clean);
  CHECK(with_spec.check(CheckKind::MixedBatch).status == CheckStatus::Clean);
  CHECK(with_spec.check(CheckKind::WorkConservation).status == CheckStatus::Violated);
}

TEST_CASE("the audit's analytics and profile fit on a simulated run", "[audit][roundtrip]") {
  const std::string trace = simulated_trace("sarathi");
  auto report = audit_trace(trace);
  const auto& a = report.analytics;
  CHECK(a.iterations == report.records);
  REQUIRE(a.arrivals);
  CHECK(*a.arrivals == 149);  // the run stops at the 150th arrival: no batch sees it
  REQUIRE(a.arrival_rate_per_s);
  CHECK(*a.arrival_rate_per_s == Approx(0.8 * 14).epsilon(0.25));
  // The simulator's iteration times are the profile's: the fit finds it exactly.
  REQUIRE(report.profile_fit);
  const auto& s = report.profile_fit->staircase;
  CHECK(s.model.b0 == 128);
  CHECK(s.model.c_s == Approx(0.01128).epsilon(1e-6));
  CHECK(s.model.a_s == Approx(0.03547).epsilon(1e-6));
  CHECK(s.r2 == Approx(1.0));
  REQUIRE(a.capacity_tokens_per_s);
  CHECK(*a.capacity_tokens_per_s == Approx(512 / 0.15316).epsilon(1e-6));
  REQUIRE(a.load);
  CHECK(*a.load == Approx(0.8 * 1.009).epsilon(0.25));
  REQUIRE(a.budget_utilisation);
  CHECK(*a.budget_utilisation > 0);
  CHECK(*a.budget_utilisation <= 1);
  REQUIRE(a.queue_growing);
  CHECK_FALSE(*a.queue_growing);
}

namespace {

// The same run written as a real engine's log (traces/foreign_writers.hpp), audited through
// that format's reader.
AuditReport audit_foreign(const std::string& engine_name, Format format, bool with_spec) {
  std::istringstream own(simulated_trace(engine_name));
  std::ostringstream log;
  {
    ForeignTraceStream foreign(format, log);
    foreign << own.rdbuf();
    REQUIRE(foreign.finish());
  }
  AuditOptions options;
  if (with_spec) {
    options.engine = paper_policies().find_engine("vllm_vanilla");
    options.spec_file = "examples/paper_policies.bp";
  }
  Auditor auditor(audit_setup(format, options, std::nullopt));
  auto reader = make_reader(format, std::make_unique<testing::InMemoryInput>("log", log.str()));
  Iteration record;
  while (reader->next(record)) auditor.add(record, "log");
  REQUIRE_FALSE(reader->fatal());
  CHECK(reader->malformed_count() == 0);
  return auditor.finish(reader->malformed_count());
}

}  // namespace

TEST_CASE("round trip through TensorRT-LLM's IterationStats: vanilla vLLM's unscheduled decodes are caught",
          "[audit][roundtrip]") {
  // Against vanilla vLLM's engine (budget 512, no batch limit, no KV limit, no reservation).
  auto vllm = audit_foreign("vllm_vanilla", Format::TrtllmIterStats, true);
  CHECK(vllm.check(CheckKind::WorkConservation).status == CheckStatus::Violated);
  CHECK(vllm.check(CheckKind::MixedBatch).status == CheckStatus::Clean);
  CHECK(vllm.check(CheckKind::Budget).status == CheckStatus::Clean);
  CHECK(vllm.check(CheckKind::IterationGap).status == CheckStatus::Clean);
  REQUIRE_FALSE(messages(vllm, CheckKind::WorkConservation).empty());
  CHECK_THAT(messages(vllm, CheckKind::WorkConservation).front(), Catch::Contains("sat unscheduled"));

  auto sarathi = audit_foreign("sarathi", Format::TrtllmIterStats, false);
  CHECK(sarathi.violation_count == 0);
  CHECK(sarathi.check(CheckKind::Budget).status == CheckStatus::Clean);
  CHECK(sarathi.check(CheckKind::Budget).limit == "as the log states it");
  // Sarathi-Serve mixes phases, which vanilla vLLM's policy never does.
  auto mixed = audit_foreign("sarathi", Format::TrtllmIterStats, true);
  CHECK(mixed.check(CheckKind::MixedBatch).status == CheckStatus::Violated);
}

TEST_CASE("round trip through vLLM's iteration log: what the log cannot say is not checked", "[audit][roundtrip]") {
  auto report = audit_foreign("vllm_vanilla", Format::Vllm, true);
  CHECK(report.check(CheckKind::WorkConservation).status == CheckStatus::NotChecked);
  CHECK(report.check(CheckKind::WorkConservation).reason ==
        "the format does not log the waiting queue beside each batch");
  CHECK(report.check(CheckKind::Budget).status == CheckStatus::Clean);
  CHECK(report.check(CheckKind::MixedBatch).status == CheckStatus::Clean);
  CHECK(report.check(CheckKind::PolicyDivergence).status == CheckStatus::NotChecked);
  CHECK(report.violation_count == 0);
  REQUIRE(report.profile_fit);
  CHECK(report.profile_fit->staircase.model.b0 == 128);
}

TEST_CASE("round trip under memory pressure: preemptions replayed, reservation waiting as notes", "[audit][roundtrip]") {
  // Vidur's Sarathi-Serve (KV of 3072 blocks, whole-prompt reservation, recompute of the
  // youngest) under long requests: it preempts, and waits for memory at admission.
  auto spec = spec_of(R"(
    import "../../examples/vidur_engines.bp"
    workload long {
      arrivals poisson 6 req/s
      prompt   uniform 500 .. 2000 tokens
      output   uniform 200 .. 800 tokens
    }
  )");
  const core::Engine& engine = *spec.find_engine("vidur_sarathi");
  std::ostringstream out;
  core::TraceWriter writer(out);
  sim::SimOptions options;
  options.requests = 300;
  options.trace = &writer;
  auto result = sim::simulate_engine(engine, *spec.find_workload("long"), options);
  writer.flush();
  REQUIRE(result.preemptions > 0);

  AuditOptions with_spec;
  with_spec.engine = &engine;
  with_spec.spec_file = "spec.bp";
  auto report = audit_trace(out.str(), with_spec);
  CHECK(report.violation_count == 0);
  CHECK(report.check(CheckKind::PolicyDivergence).status == CheckStatus::Clean);
  CHECK(report.check(CheckKind::Lifecycle).status == CheckStatus::Clean);
  CHECK(report.check(CheckKind::Kv).status == CheckStatus::Clean);
  CHECK(report.check(CheckKind::WorkConservation).notes > 0);
  for (const auto& n : report.notes)
    CHECK_THAT(n.message, Catch::Contains("allowed by the configuration of engine vidur_sarathi"));

  // From the header alone, the same waiting is a violation: nothing says the engine reserves.
  auto bare = audit_trace(out.str());
  CHECK(bare.check(CheckKind::WorkConservation).status == CheckStatus::Violated);
  CHECK(bare.check(CheckKind::Lifecycle).status == CheckStatus::Clean);
}
