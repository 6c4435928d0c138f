// The checks on normalised records: each with a planted violation, its clean counterpart, and
// the log that cannot support it (not checked, with the reason, never clean).
#include <catch2/catch.hpp>

#include "audit_test_support.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using namespace batchproof::traces::testing;

namespace {

AuditLimits stated(std::optional<std::int64_t> budget, std::optional<std::int64_t> max_batch,
                   std::optional<std::int64_t> kv) {
  AuditLimits l;
  l.budget = Limit::stated(budget, "the spec (test.bp, engine e)");
  l.max_batch = Limit::stated(max_batch, "the spec (test.bp, engine e)");
  l.kv_tokens = Limit::stated(kv, "the spec (test.bp, engine e)");
  return l;
}

}  // namespace

TEST_CASE("budget_exceeded: a batch over the budget, one at it, and a log without a budget", "[audit][checks]") {
  auto over = aggregate(1, 0, 0.0, 500, 13);
  auto at = aggregate(2, 1, 0.1, 500, 12);
  auto report = audit_records(Format::TrtllmIterStats, {over, at}, stated(512, std::nullopt, std::nullopt));
  const auto& c = report.check(CheckKind::Budget);
  CHECK(c.status == CheckStatus::Violated);
  CHECK(c.checked == 2);
  CHECK(c.violations == 1);
  CHECK(c.limit == "512 tokens (the spec (test.bp, engine e))");
  REQUIRE(messages(report, CheckKind::Budget) == std::vector<std::string>{"the batch holds 513 tokens, over the budget of 512"});
  CHECK(report.violations.front().line == 1);
  CHECK(report.violations.front().iteration == 0);
  CHECK(report.violations.front().details ==
        std::vector<std::string>{"line 1: iteration 0 at 0.000000 s for 0.010000 s: 513 tokens (500 prefill in 1, 13 "
                                 "decode in 13)"});

  auto clean = audit_records(Format::TrtllmIterStats, {at}, stated(512, std::nullopt, std::nullopt));
  CHECK(clean.check(CheckKind::Budget).status == CheckStatus::Clean);

  // The log's own runtime cap stands in when no spec is given.
  auto logged = over;
  logged.budget_tokens = 512;
  auto from_log = audit_records(Format::TrtllmIterStats, {logged});
  CHECK(from_log.check(CheckKind::Budget).status == CheckStatus::Violated);
  CHECK(from_log.check(CheckKind::Budget).limit == "as the log states it");

  auto unknown = audit_records(Format::TrtllmIterStats, {over});
  CHECK(unknown.check(CheckKind::Budget).status == CheckStatus::NotChecked);
  CHECK(unknown.check(CheckKind::Budget).reason ==
        "no token budget known (give --spec and --engine, or a log that states it)");
}

TEST_CASE("budget_exceeded: Vidur's padded budget counts prefills times the widest", "[audit][checks]") {
  auto limits = stated(512, std::nullopt, std::nullopt);
  limits.budget_form = core::BudgetForm::Padded;
  Iteration r;
  r.line = 4;
  r.index = 0;
  r.start_s = 0;
  r.has_items = true;
  r.items = {{1, 300, false, {}, {}}, {2, 100, false, {}, {}}};  // 400 tokens, padded 2 x 300
  r.prefill_tokens = 400;
  r.decode_tokens = 0;
  auto report = audit_records(Format::VidurChrome, {r}, limits);
  REQUIRE(messages(report, CheckKind::Budget) ==
          std::vector<std::string>{"the padded batch is 2 prefills x 300 tokens = 600, over the budget of 512"});
  r.items = {{1, 250, false, {}, {}}, {2, 100, false, {}, {}}};  // padded 2 x 250 = 500
  r.prefill_tokens = 350;
  CHECK(audit_records(Format::VidurChrome, {r}, limits).check(CheckKind::Budget).status == CheckStatus::Clean);
  // Without items, a padded budget cannot be decided.
  auto bare = aggregate(1, 0, 0, 350, 0);
  auto undecided = audit_records(Format::VidurBatchCsv, {bare}, limits);
  CHECK(undecided.check(CheckKind::Budget).status == CheckStatus::NotChecked);
  CHECK(undecided.check(CheckKind::Budget).reason ==
        "a padded budget needs each request's tokens, which the record lacks");
}

TEST_CASE("batch_limit_exceeded: more requests than max_batch", "[audit][checks]") {
  auto over = aggregate(1, 0, 0.0, 100, 3);  // 1 prefill + 3 decodes = 4 requests
  auto at = aggregate(2, 1, 0.1, 0, 3);
  auto report = audit_records(Format::TrtllmIterStats, {over, at}, stated(std::nullopt, 3, std::nullopt));
  CHECK(report.check(CheckKind::BatchLimit).status == CheckStatus::Violated);
  CHECK(messages(report, CheckKind::BatchLimit) ==
        std::vector<std::string>{"the batch holds 4 requests, over the limit of 3"});
  auto clean = audit_records(Format::TrtllmIterStats, {at}, stated(std::nullopt, 3, std::nullopt));
  CHECK(clean.check(CheckKind::BatchLimit).status == CheckStatus::Clean);
  auto none = audit_records(Format::TrtllmIterStats, {at});
  CHECK(none.check(CheckKind::BatchLimit).status == CheckStatus::NotChecked);
}

TEST_CASE("kv_exceeded: in tokens against the capacity, or as a logged fraction", "[audit][checks]") {
  auto over = aggregate(1, 0, 0.0, 0, 1);
  over.kv_used_tokens = 1001;
  auto fine = aggregate(2, 1, 0.1, 0, 1);
  fine.kv_used_tokens = 1000;
  auto report = audit_records(Format::TrtllmIterStats, {over, fine}, stated(std::nullopt, std::nullopt, 1000));
  CHECK(messages(report, CheckKind::Kv) == std::vector<std::string>{"KV in use is 1001 tokens, over the capacity of 1000"});
  CHECK(audit_records(Format::TrtllmIterStats, {fine}, stated(std::nullopt, std::nullopt, 1000))
            .check(CheckKind::Kv)
            .status == CheckStatus::Clean);

  auto fraction = aggregate(1, 0, 0.0, 0, 1);
  fraction.kv_usage = 1.02;
  auto by_fraction = audit_records(Format::Sglang, {fraction});
  CHECK(messages(by_fraction, CheckKind::Kv) == std::vector<std::string>{"KV usage is 102.0%, over the capacity"});
  fraction.kv_usage = 0.97;
  CHECK(audit_records(Format::Sglang, {fraction}).check(CheckKind::Kv).status == CheckStatus::Clean);

  auto nothing = audit_records(Format::Vllm, {aggregate(1, 0, 0.0, 0, 1)});
  CHECK(nothing.check(CheckKind::Kv).status == CheckStatus::NotChecked);
  CHECK(nothing.check(CheckKind::Kv).reason ==
        "no KV capacity known (give --spec and --engine, or a log that states it)");
}

TEST_CASE("mixed_batch: prefill and decode together under a policy that never mixes", "[audit][checks]") {
  auto spec = spec_of(R"(
    profile p { t(b) = 10 ms + 1 ms * ceil(b / 64) }
    engine vanilla {
      profile p
      token_budget 512 tokens
      policy {
        when pending > 0 { prefill pending fcfs whole } else { decode running fcfs }
      }
    }
    engine sarathi {
      profile p
      token_budget 512 tokens
      policy { decode running fcfs  prefill pending fcfs chunk }
    }
  )");
  const core::Engine& vanilla = *spec.find_engine("vanilla");
  auto mixed = aggregate(7, 3, 0.0, 100, 2);
  auto prefill_only = aggregate(8, 4, 0.1, 100, 0);
  auto report = audit_records(Format::Vllm, {mixed, prefill_only}, limits_from_engine(vanilla, "test.bp"), &vanilla);
  CHECK(report.check(CheckKind::MixedBatch).status == CheckStatus::Violated);
  CHECK(messages(report, CheckKind::MixedBatch) ==
        std::vector<std::string>{"the batch mixes 100 prefill and 2 decode, which the policy of the spec (test.bp, "
                                 "engine vanilla) never does"});
  CHECK(audit_records(Format::Vllm, {prefill_only}, limits_from_engine(vanilla, "test.bp"), &vanilla)
            .check(CheckKind::MixedBatch)
            .status == CheckStatus::Clean);

  const core::Engine& sarathi = *spec.find_engine("sarathi");
  auto mixing_allowed = audit_records(Format::Vllm, {mixed}, limits_from_engine(sarathi, "test.bp"), &sarathi);
  CHECK(mixing_allowed.check(CheckKind::MixedBatch).status == CheckStatus::NotChecked);
  CHECK(mixing_allowed.check(CheckKind::MixedBatch).reason ==
        "the policy of the spec (test.bp, engine sarathi) mixes prefill and decode");
  auto no_policy = audit_records(Format::Vllm, {mixed});
  CHECK(no_policy.check(CheckKind::MixedBatch).reason == "no policy known (give --spec and --engine)");

  CHECK_FALSE(policy_can_mix(vanilla.policy));
  CHECK(policy_can_mix(sarathi.policy));
}

TEST_CASE("clock_regression: a record that starts before the previous one", "[audit][checks]") {
  auto report = audit_records(Format::TrtllmIterStats,
                              {aggregate(1, 0, 2.0, 0, 1), aggregate(2, 1, 1.5, 0, 1), aggregate(3, 2, 2.5, 0, 1)});
  CHECK(report.check(CheckKind::ClockRegression).status == CheckStatus::Violated);
  CHECK(messages(report, CheckKind::ClockRegression) ==
        std::vector<std::string>{"starts at 1.500000 s, 0.500000 s before the previous record (line 1) started"});
  auto clean = audit_records(Format::TrtllmIterStats, {aggregate(1, 0, 1.0, 0, 1), aggregate(2, 1, 1.0, 0, 1)});
  CHECK(clean.check(CheckKind::ClockRegression).status == CheckStatus::Clean);
  auto negative = aggregate(1, 0, 1.0, 0, 1);
  negative.duration_s = -0.25;
  CHECK(messages(audit_records(Format::TrtllmIterStats, {negative}), CheckKind::ClockRegression) ==
        std::vector<std::string>{"lasts -0.250000 s: it ends before it starts"});
}

TEST_CASE("iteration_gap: dropped records and a counter that goes back", "[audit][checks]") {
  auto report = audit_records(Format::TrtllmIterStats, {aggregate(1, 0, 0.0, 0, 1), aggregate(2, 1, 0.1, 0, 1),
                                                         aggregate(3, 4, 0.2, 0, 1), aggregate(4, 5, 0.3, 0, 1),
                                                         aggregate(5, 7, 0.4, 0, 1), aggregate(6, 2, 0.5, 0, 1)});
  CHECK(report.check(CheckKind::IterationGap).violations == 3);
  CHECK(messages(report, CheckKind::IterationGap) ==
        std::vector<std::string>{"iterations 2 to 3 are missing (2 records dropped after line 2)",
                                 "iteration 6 is missing (1 record dropped after line 4)",
                                 "the iteration counter goes from 7 (line 5) back to 2: a restarted engine, or "
                                 "records out of order"});
  auto clean = audit_records(Format::TrtllmIterStats, {aggregate(1, 0, 0.0, 0, 1), aggregate(2, 1, 0.1, 0, 1)});
  CHECK(clean.check(CheckKind::IterationGap).status == CheckStatus::Clean);
  // Streams are followed apart: two ranks interleaved are no gap.
  auto a = aggregate(1, 0, 0.0, 0, 1), b = aggregate(2, 0, 0.0, 0, 1), c = aggregate(3, 1, 0.1, 0, 1);
  a.stream = "TP0";
  b.stream = "TP1";
  c.stream = "TP0";
  CHECK(audit_records(Format::TrtllmIterStats, {a, b, c}).check(CheckKind::IterationGap).status == CheckStatus::Clean);
  // SGLang logs one decode line in 40: its records are a sample, gaps are not checked.
  auto sampled = audit_records(Format::Sglang, {aggregate(1, 0, 0.0, 0, 1), aggregate(2, 40, 0.1, 0, 1)});
  CHECK(sampled.check(CheckKind::IterationGap).status == CheckStatus::NotChecked);
  CHECK(sampled.check(CheckKind::IterationGap).reason == "the format logs a sample of the iterations, not every one");
}

TEST_CASE("lifecycle_error: decode before the prompt is done, a token after finishing", "[audit][checks]") {
  auto record = [](std::int64_t line, std::vector<RequestItem> items, std::vector<ArrivalItem> arrivals = {},
                   std::vector<std::int64_t> departures = {}) {
    Iteration r;
    r.line = line;
    r.index = line - 1;
    r.start_s = static_cast<double>(line);
    r.has_items = true;
    r.items = std::move(items);
    r.arrivals = std::move(arrivals);
    r.departures = std::move(departures);
    return r;
  };
  // Request 1: prompt 10, output 2. Request 2: prompt 5, output 1.
  std::vector<Iteration> bad{
      record(1, {{1, 6, false, {}, {}}}, {{1, 0, 10, 2}, {2, 0, 5, 1}}),
      record(2, {{1, 0, true, {}, {}}, {2, 5, false, {}, {}}}),  // 4 prompt tokens of 1 left
      record(3, {{2, 0, true, {}, {}}}, {}, {2}),
      record(4, {{2, 0, true, {}, {}}}),  // 2 finished at line 3
      record(5, {{3, 4, false, {}, {}}}),  // never arrived
  };
  auto report = audit_records(Format::Batchproof, bad);  // the own format lists every arrival... when told so
  CHECK(messages(report, CheckKind::Lifecycle) ==
        std::vector<std::string>{"request 1 gets a decode token before its prompt is done (6 of 10 prompt tokens "
                                 "processed when the iteration started)",
                                 "request 2 gets a token after it finished"});
  AuditSetup setup;
  setup.format = Format::Batchproof;
  setup.arrivals_complete = true;
  Auditor strict(setup);
  for (const auto& r : bad) strict.add(r, "log");
  auto complete = strict.finish(0);
  CHECK(messages(complete, CheckKind::Lifecycle).back() == "request 3 is in the batch but never arrived");

  std::vector<Iteration> good{
      record(1, {{1, 6, false, {}, {}}}, {{1, 0, 10, 2}}),
      record(2, {{1, 4, false, {}, {}}}),
      record(3, {{1, 0, true, {}, {}}}),
      record(4, {{1, 0, true, {}, {}}}, {}, {1}),
  };
  auto clean = audit_records(Format::Batchproof, good);
  CHECK(clean.check(CheckKind::Lifecycle).status == CheckStatus::Clean);
  CHECK(clean.check(CheckKind::Lifecycle).checked == 4);
  // A format without requests cannot say.
  auto none = audit_records(Format::TrtllmIterStats, {aggregate(1, 0, 0.0, 0, 1)});
  CHECK(none.check(CheckKind::Lifecycle).status == CheckStatus::NotChecked);
  CHECK(none.check(CheckKind::Lifecycle).reason == "the format has no per-request detail");
}

TEST_CASE("not_work_conserving from logged counts: requests waited while budget, slots and KV were left",
          "[audit][checks]") {
  auto spec = spec_of(R"(
    profile p { t(b) = 10 ms + 1 ms * ceil(b / 64) }
    engine plain {
      profile p
      token_budget 512 tokens
      max_batch 16 requests
      kv_cache 100000 tokens
      policy { decode running fcfs  prefill pending fcfs chunk }
    }
    engine reserving {
      profile p
      token_budget 512 tokens
      max_batch 16 requests
      kv_cache 100000 tokens
      admission prompt
      policy { decode running fcfs  prefill pending fcfs chunk }
    }
  )");
  const core::Engine& plain = *spec.find_engine("plain");
  const auto limits = limits_from_engine(plain, "test.bp");
  auto waited = aggregate(3, 2, 0.0, 100, 2);  // 102 of 512 tokens, 3 of 16 requests
  waited.waiting = 3;
  waited.kv_used_tokens = 1000;
  auto report = audit_records(Format::TrtllmIterStats, {waited}, limits, &plain);
  CHECK(report.check(CheckKind::WorkConservation).status == CheckStatus::Violated);
  CHECK(messages(report, CheckKind::WorkConservation) ==
        std::vector<std::string>{"3 requests waited with 410 tokens of the budget, 13 batch slots and 99000 KV tokens "
                                 "left"});

  auto nobody = waited;
  nobody.waiting = 0;
  CHECK(audit_records(Format::TrtllmIterStats, {nobody}, limits, &plain).check(CheckKind::WorkConservation).status ==
        CheckStatus::Clean);
  auto full_budget = aggregate(3, 2, 0.0, 510, 2);
  full_budget.waiting = 3;
  full_budget.kv_used_tokens = 1000;
  CHECK(audit_records(Format::TrtllmIterStats, {full_budget}, limits, &plain)
            .check(CheckKind::WorkConservation)
            .status == CheckStatus::Clean);

  // Memory nearly full: head-of-line blocking on KV is allowed, a note.
  auto short_memory = waited;
  short_memory.kv_used_tokens = 99800;
  auto noted = audit_records(Format::TrtllmIterStats, {short_memory}, limits, &plain);
  CHECK(noted.check(CheckKind::WorkConservation).status == CheckStatus::Clean);
  CHECK(noted.check(CheckKind::WorkConservation).notes == 1);
  CHECK(note_messages(noted, CheckKind::WorkConservation) ==
        std::vector<std::string>{"3 requests waited with 410 tokens of the budget, 13 batch slots and 200 KV tokens "
                                 "left: memory may have held them back (head-of-line blocking on KV, allowed)"});

  // An engine that reserves at admission may hold them back for memory the log does not show;
  // so may TensorRT-LLM by default, when no spec says otherwise.
  const core::Engine& reserving = *spec.find_engine("reserving");
  auto reserved = audit_records(Format::TrtllmIterStats, {waited}, limits, &reserving);
  CHECK(reserved.check(CheckKind::WorkConservation).notes == 1);
  CHECK(reserved.violation_count == 0);
  auto trtllm = waited;
  trtllm.budget_tokens = 512;
  trtllm.budget_requests = 16;
  trtllm.kv_total_tokens = 100000;
  auto by_default = audit_records(Format::TrtllmIterStats, {trtllm});
  CHECK(by_default.violation_count == 0);
  CHECK(note_messages(by_default, CheckKind::WorkConservation) ==
        std::vector<std::string>{"3 requests waited with 410 tokens of the budget, 13 batch slots and 99000 KV tokens "
                                 "left: TensorRT-LLM's default GUARANTEED_NO_EVICT reserves each request's maximum "
                                 "length at admission, which the log does not show (allowed; --spec with an engine of "
                                 "`admission none` judges it)"});

  // Active requests left out of the batch (TensorRT-LLM's per-request stats): no reservation
  // stands in their way, they hold their KV already.
  auto unscheduled = aggregate(3, 2, 0.0, 0, 1);
  unscheduled.waiting = 0;
  unscheduled.kv_used_tokens = 1000;
  unscheduled.kv_total_tokens = 100000;
  unscheduled.budget_tokens = 512;
  unscheduled.budget_requests = 16;
  unscheduled.has_items = true;
  unscheduled.items = {{1, 0, true, true, false}, {2, 0, false, false, false}};
  CHECK(messages(audit_records(Format::TrtllmIterStats, {unscheduled}), CheckKind::WorkConservation) ==
        std::vector<std::string>{"1 active request sat unscheduled with 511 tokens of the budget, 15 batch slots and "
                                 "99000 KV tokens left"});

  // An engine without a batch limit has slots without end; one whose limit nobody states
  // leaves the record undecided. vLLM's lines carry no queue at all.
  auto unlimited = audit_records(Format::TrtllmIterStats, {waited}, stated(512, std::nullopt, 100000), &plain);
  CHECK(messages(unlimited, CheckKind::WorkConservation) ==
        std::vector<std::string>{"3 requests waited with 410 tokens of the budget and 99000 KV tokens left"});
  AuditLimits no_limit;
  no_limit.budget = Limit::stated(512, "x");
  no_limit.kv_tokens = Limit::stated(100000, "x");
  auto undecided = audit_records(Format::TrtllmIterStats, {waited}, no_limit);
  CHECK(undecided.check(CheckKind::WorkConservation).status == CheckStatus::NotChecked);
  CHECK(undecided.check(CheckKind::WorkConservation).reason == "no batch-size limit known");
  auto vllm = audit_records(Format::Vllm, {waited}, limits);
  CHECK(vllm.check(CheckKind::WorkConservation).status == CheckStatus::NotChecked);
  CHECK(vllm.check(CheckKind::WorkConservation).reason ==
        "the format does not log the waiting queue beside each batch");
}

TEST_CASE("not_work_conserving from logged counts: TensorRT-LLM's and SGLang's requests left out of the batch",
          "[audit][checks]") {
  // TensorRT-LLM: 5 active, 3 scheduled, 1 paused: 1 sat unscheduled.
  auto trt = aggregate(2, 1, 0.0, 100, 2);
  trt.running = 5;
  trt.preempted = 1;
  trt.waiting = 0;
  trt.budget_tokens = 512;
  trt.budget_requests = 16;
  trt.kv_total_tokens = 100000;
  trt.kv_used_tokens = 1000;
  CHECK(messages(audit_records(Format::TrtllmIterStats, {trt}), CheckKind::WorkConservation) ==
        std::vector<std::string>{"1 active request sat unscheduled with 410 tokens of the budget, 13 batch slots and "
                                 "99000 KV tokens left"});
  trt.running = 4;
  CHECK(audit_records(Format::TrtllmIterStats, {trt}).check(CheckKind::WorkConservation).status ==
        CheckStatus::Clean);

  // SGLang: a prefill-only batch (mixing off) beside 4 running requests.
  auto sglang = aggregate(2, 1, 0.0, 100, 0);
  sglang.running = 4;
  sglang.waiting = 0;
  sglang.kv_usage = 0.2;
  AuditLimits limits;
  limits.budget = Limit::stated(512, "x");
  limits.max_batch = Limit::stated(std::nullopt, "x");
  CHECK(messages(audit_records(Format::Sglang, {sglang}, limits), CheckKind::WorkConservation) ==
        std::vector<std::string>{"4 active requests sat unscheduled with 412 tokens of the budget and 80.0% of KV "
                                 "left"});
  sglang.decode_tokens.reset();  // mixing may be on: the line does not say who sat out
  sglang.decode_requests.reset();
  CHECK(audit_records(Format::Sglang, {sglang}, limits).check(CheckKind::WorkConservation).status ==
        CheckStatus::Clean);
}

TEST_CASE("lifecycle: requests of unknown length are forgotten when long unseen, so memory stays bounded",
          "[audit][checks]") {
  // A Vidur trace without --arrivals: no lengths, no departures; every id seen once.
  LifecycleTracker tracker(false, core::Accounting::Paper);
  std::vector<std::string> problems;
  Iteration r;
  r.has_items = true;
  for (std::int64_t id = 0; id < 200000; ++id) {
    r.items = {{id, 4, false, {}, {}}};
    tracker.add(r, problems);
  }
  CHECK(problems.empty());
  CHECK(tracker.live_requests() <= 65537);
  // What is still remembered is still judged: prompt tokens after an output token.
  r.items = {{199999, 0, true, {}, {}}};
  tracker.add(r, problems);
  r.items = {{199999, 3, false, {}, {}}};
  tracker.add(r, problems);
  CHECK(problems == std::vector<std::string>{"request 199999 gets prompt tokens after 1 output tokens"});
}
