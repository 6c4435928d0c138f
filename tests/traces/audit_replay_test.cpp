// The replay of batchproof's own traces: work conservation decided exactly on the rebuilt
// state, waiting that the engine's configuration allows reported as notes, and conformance to
// the spec's policy with both batches shown.
#include <catch2/catch.hpp>

#include "audit_test_support.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using namespace batchproof::traces::testing;

namespace {

const std::string kHeader =
    R"({"type":"header","schema_version":1,"source":"test","engine":"e","token_budget":8,"budget_form":"plain","block_size":1,"accounting":"paper"})"
    "\n";

// Request 0: prompt 4, output 2; request 1: prompt 6, output 1. Budget 8, no KV limit.
const std::string kClean =
    kHeader +
    R"({"type":"iteration","index":0,"start_s":0,"end_s":1,"waiting":0,"running":2,"kv_used":8,"items":[{"id":0,"prefill":4},{"id":1,"prefill":4}],"arrivals":[{"id":0,"time_s":0,"prompt":4,"output":2},{"id":1,"time_s":0,"prompt":6,"output":1}]}
{"type":"iteration","index":1,"start_s":1,"end_s":2,"waiting":0,"running":2,"kv_used":11,"items":[{"id":0,"decode":1},{"id":1,"prefill":2}]}
{"type":"iteration","index":2,"start_s":2,"end_s":3,"waiting":0,"running":0,"kv_used":0,"items":[{"id":0,"decode":1},{"id":1,"decode":1}],"departures":[0,1]}
)";

// The same run with request 0's first decode token left out of iteration 1 (2 of 8 tokens).
const std::string kPlanted =
    kHeader +
    R"({"type":"iteration","index":0,"start_s":0,"end_s":1,"waiting":0,"running":2,"kv_used":8,"items":[{"id":0,"prefill":4},{"id":1,"prefill":4}],"arrivals":[{"id":0,"time_s":0,"prompt":4,"output":2},{"id":1,"time_s":0,"prompt":6,"output":1}]}
{"type":"iteration","index":1,"start_s":1,"end_s":2,"waiting":0,"running":2,"kv_used":10,"items":[{"id":1,"prefill":2}]}
{"type":"iteration","index":2,"start_s":2,"end_s":3,"waiting":0,"running":1,"kv_used":5,"items":[{"id":0,"decode":1},{"id":1,"decode":1}],"departures":[1]}
{"type":"iteration","index":3,"start_s":3,"end_s":4,"waiting":0,"running":0,"kv_used":0,"items":[{"id":0,"decode":1}],"departures":[0]}
)";

const char* kSpec = R"(
  profile p { t(b) = 10 ms + 1 ms * ceil(b / 64) }
  engine sarathi {
    profile p
    token_budget 8 tokens
    policy { decode running fcfs  prefill started fcfs chunk  prefill waiting fcfs chunk }
  }
  engine orca {
    profile p
    token_budget 8 tokens
    policy { prefill pending fcfs whole  decode running fcfs }
  }
  engine reserving {
    profile p
    token_budget 8 tokens
    kv_cache 12 tokens
    admission prompt
    policy { decode running fcfs  prefill started fcfs chunk  prefill waiting fcfs chunk }
  }
)";

}  // namespace

TEST_CASE("not_work_conserving on a replayed trace: a decode token left out, and the clean run", "[audit][replay]") {
  auto planted = audit_trace(kPlanted);
  const auto& wc = planted.check(CheckKind::WorkConservation);
  CHECK(wc.status == CheckStatus::Violated);
  CHECK(wc.checked == 4);
  CHECK(wc.violations == 1);
  REQUIRE(planted.violations.size() == 1);
  const auto& v = planted.violations.front();
  CHECK(v.kind == CheckKind::WorkConservation);
  CHECK(v.line == 3);
  CHECK(v.iteration == 1);
  CHECK(v.message == "not maximal: request 0 (decoding) could take its decode token: the batch holds 2 of 8 tokens");
  CHECK(v.details == std::vector<std::string>{
                         "line 3: iteration 1 at 1.000000 s for 1.000000 s: 2 tokens (2 prefill in 1), waiting 0, "
                         "running 2, KV 10 tokens, logged budget 8 tokens",
                         "batch: 1:prefill 2",
                         "state before: 2 running (0: decoded 0 of 2, 1: 4 of 6 prompt tokens), 0 waiting, KV 8 tokens"});
  // Every other check is clean, and conformance needs a spec.
  for (auto kind : {CheckKind::Budget, CheckKind::BatchLimit, CheckKind::Kv, CheckKind::ClockRegression,
                    CheckKind::IterationGap, CheckKind::Lifecycle})
    CHECK(planted.check(kind).status == CheckStatus::Clean);
  CHECK(planted.check(CheckKind::PolicyDivergence).status == CheckStatus::NotChecked);
  CHECK(planted.check(CheckKind::PolicyDivergence).reason == "no policy to replay (give --spec and --engine)");

  auto clean = audit_trace(kClean);
  CHECK(clean.violation_count == 0);
  CHECK(clean.check(CheckKind::WorkConservation).status == CheckStatus::Clean);
  CHECK(clean.check(CheckKind::WorkConservation).checked == 3);
}

TEST_CASE("policy_divergence: the logged batch against the one the spec's policy forms", "[audit][replay]") {
  auto spec = spec_of(kSpec);
  AuditOptions options;
  options.engine = spec.find_engine("sarathi");
  options.spec_file = "test.bp";
  auto conforming = audit_trace(kClean, options);
  CHECK(conforming.check(CheckKind::PolicyDivergence).status == CheckStatus::Clean);
  CHECK(conforming.check(CheckKind::PolicyDivergence).checked == 3);
  CHECK(conforming.violation_count == 0);

  // The planted run leaves sarathi's decode out once; afterwards the replay follows the log.
  auto diverging = audit_trace(kPlanted, options);
  CHECK(diverging.check(CheckKind::PolicyDivergence).violations == 1);
  auto divergences = messages(diverging, CheckKind::PolicyDivergence);
  REQUIRE(divergences ==
          std::vector<std::string>{"the logged batch is not the one the policy of engine sarathi of test.bp forms "
                                   "from the same state"});
  for (const auto& f : diverging.violations)
    if (f.kind == CheckKind::PolicyDivergence) {
      CHECK(f.iteration == 1);
      REQUIRE(f.details.size() == 4);
      CHECK(f.details[1] == "logged batch: 1:prefill 2");
      CHECK(f.details[2] == "policy's batch: 0:decode, 1:prefill 2");
    }

  // Orca takes whole prompts: the second prompt (6 tokens) does not fit beside the first.
  options.engine = spec.find_engine("orca");
  auto orca = audit_trace(kClean, options);
  REQUIRE(orca.check(CheckKind::PolicyDivergence).violations >= 1);
  CHECK(orca.violations.front().kind == CheckKind::PolicyDivergence);
  CHECK(orca.violations.front().iteration == 0);
  CHECK(orca.violations.front().details[2] == "policy's batch: 0:prefill 4");
}

TEST_CASE("not_work_conserving: waiting that admission's reservation explains is a note with the spec",
          "[audit][replay]") {
  // Request 0 (prompt 6, output 2) is admitted; request 1 (prompt 8) would fit a token or
  // more, but its reservation of the whole prompt does not fit the 12 KV tokens until 0 leaves.
  const std::string trace =
      R"({"type":"header","schema_version":1,"source":"test","engine":"reserving","token_budget":8,"budget_form":"plain","kv_capacity_tokens":12,"block_size":1,"accounting":"paper"}
{"type":"iteration","index":0,"start_s":0,"end_s":1,"waiting":1,"running":1,"kv_used":6,"items":[{"id":0,"prefill":6}],"arrivals":[{"id":0,"time_s":0,"prompt":6,"output":2},{"id":1,"time_s":0,"prompt":8,"output":1}]}
{"type":"iteration","index":1,"start_s":1,"end_s":2,"waiting":1,"running":1,"kv_used":7,"items":[{"id":0,"decode":1}]}
{"type":"iteration","index":2,"start_s":2,"end_s":3,"waiting":1,"running":0,"kv_used":0,"items":[{"id":0,"decode":1}],"departures":[0]}
{"type":"iteration","index":3,"start_s":3,"end_s":4,"waiting":0,"running":1,"kv_used":8,"items":[{"id":1,"prefill":8}]}
{"type":"iteration","index":4,"start_s":4,"end_s":5,"waiting":0,"running":0,"kv_used":0,"items":[{"id":1,"decode":1}],"departures":[1]}
)";
  // From the header alone nothing says the engine reserves: three violations.
  auto bare = audit_trace(trace);
  CHECK(bare.check(CheckKind::WorkConservation).violations == 3);
  CHECK(messages(bare, CheckKind::WorkConservation).front() ==
        "not maximal: request 1 (waiting) could take one more prompt token: 0 of its 8 remaining were scheduled, and "
        "the batch holds 6 of 8 tokens");

  auto spec = spec_of(kSpec);
  AuditOptions options;
  options.engine = spec.find_engine("reserving");
  options.spec_file = "test.bp";
  auto with_spec = audit_trace(trace, options);
  CHECK(with_spec.violation_count == 0);
  CHECK(with_spec.check(CheckKind::PolicyDivergence).status == CheckStatus::Clean);
  const auto& wc = with_spec.check(CheckKind::WorkConservation);
  CHECK(wc.status == CheckStatus::Clean);
  CHECK(wc.notes == 3);
  auto notes = note_messages(with_spec, CheckKind::WorkConservation);
  REQUIRE(notes.size() == 3);
  CHECK(notes[0] ==
        "not maximal: request 1 (waiting) could take one more prompt token: 0 of its 8 remaining were scheduled, and "
        "the batch holds 6 of 8 tokens; allowed by the configuration of engine reserving of test.bp: admitting "
        "request 1 needs 8 KV tokens (its reservation) and 6 were free");
  // In iteration 2, request 0 holds its 8 tokens until the batch ends: 4 were free.
  CHECK_THAT(notes[2], Catch::EndsWith("needs 8 KV tokens (its reservation) and 4 were free"));
}

TEST_CASE("lifecycle_error: the log's counts part from what its own batches leave", "[audit][replay]") {
  std::string wrong = kClean;
  auto at = wrong.find(R"("waiting":0,"running":2,"kv_used":11)");
  REQUIRE(at != std::string::npos);
  wrong.replace(at, 11, R"("waiting":1)");
  auto report = audit_trace(wrong);
  CHECK(messages(report, CheckKind::Lifecycle) ==
        std::vector<std::string>{"the log counts 1 waiting and 2 running after this iteration, but its arrivals, "
                                 "batches and departures leave 0 waiting and 2 running (reported once)"});
}

TEST_CASE("a state record with progress: its requests are the replay's state, each once", "[audit][replay]") {
  // Read by core's reader (a running request part-way): request 0 has decoded 1 of 2, request 1
  // waits with its whole prompt of 6. Its requests also reach the record checks as the next
  // record's first arrivals; the replay must not take them a second time.
  const std::string state =
      kHeader +
      R"({"type":"state","time_s":1,"requests":[{"id":0,"arrival_s":0,"prompt":4,"output":2,"prefilled":4,"decoded":1,"kv_held":5,"phase":"decoding"},{"id":1,"arrival_s":0.5,"prompt":6,"output":1,"prefilled":0,"decoded":0,"kv_held":0,"phase":"waiting"}]})"
      "\n";
  const std::string clean =
      state +
      R"({"type":"iteration","index":1,"start_s":1,"end_s":2,"waiting":0,"running":1,"kv_used":6,"items":[{"id":0,"decode":1},{"id":1,"prefill":6}],"departures":[0]}
{"type":"iteration","index":2,"start_s":2,"end_s":3,"waiting":0,"running":0,"kv_used":0,"items":[{"id":1,"decode":1}],"departures":[1]}
)";
  auto report = audit_trace(clean);
  CHECK(report.violation_count == 0);
  CHECK(report.check(CheckKind::WorkConservation).checked == 2);
  CHECK(report.check(CheckKind::Lifecycle).status == CheckStatus::Clean);

  // Request 1's prompt left out of the first batch: the state shown is the state record's.
  const std::string planted =
      state +
      R"({"type":"iteration","index":1,"start_s":1,"end_s":2,"waiting":1,"running":0,"kv_used":0,"items":[{"id":0,"decode":1}],"departures":[0]}
{"type":"iteration","index":2,"start_s":2,"end_s":3,"waiting":0,"running":1,"kv_used":6,"items":[{"id":1,"prefill":6}]}
{"type":"iteration","index":3,"start_s":3,"end_s":4,"waiting":0,"running":0,"kv_used":0,"items":[{"id":1,"decode":1}],"departures":[1]}
)";
  auto found = audit_trace(planted);
  REQUIRE(found.violations.size() == 1);
  const auto& v = found.violations.front();
  CHECK(v.kind == CheckKind::WorkConservation);
  CHECK(v.iteration == 1);
  REQUIRE(v.details.size() == 3);
  CHECK(v.details[2] == "state before: 1 running (0: decoded 1 of 2), 1 waiting (1: 0 of 6 prompt tokens), KV 5 tokens");
}
