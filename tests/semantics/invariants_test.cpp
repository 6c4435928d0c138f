// Invariants of the concrete step over long random runs of every bundled engine: KV in use
// is exactly what the requests hold, the limits hold, no request is lost or duplicated, and
// the counts the step caches match a recount.
#include <set>

#include <catch2/catch.hpp>

#include "core/step.hpp"
#include "dsl/dsl.hpp"
#include "sim/length_sample.hpp"
#include "sim/random.hpp"

using namespace batchproof;

namespace {
void check_invariants(const core::Engine& e, const core::EngineState& s, const core::StepOutcome& out,
                      std::int64_t arrived, std::int64_t& finished) {
  std::int64_t held = 0, started = 0, decoding = 0;
  std::set<std::int64_t> ids;
  for (const auto& r : s.running) {
    held += r.kv_held;
    if (!r.prompt_done()) ++started;
    else if (r.decoded < r.output) ++decoding;
    REQUIRE_FALSE(r.finished());
    REQUIRE(ids.insert(r.id).second);
  }
  for (const auto& r : s.waiting) {
    REQUIRE(r.kv_held == 0);
    REQUIRE(r.prefilled == 0);
    REQUIRE(ids.insert(r.id).second);
  }
  REQUIRE(s.kv_used == held + s.cohort_kv);
  if (auto kv = e.kv_tokens()) REQUIRE(s.kv_used <= *kv);
  if (e.token_budget && e.budget_form == core::BudgetForm::Plain) {
    bool unbudgeted = false;  // unbudgeted decodes may exceed the budget by design
    for (const auto& st : e.policy.body)
      if (st.rule && st.rule->unbudgeted) unbudgeted = true;
    for (const auto& st : e.policy.body)
      for (const auto& w : st.when)
        for (const auto& b : w.branches)
          for (const auto& x : b.body)
            if (x.rule && x.rule->unbudgeted) unbudgeted = true;
    if (!unbudgeted) REQUIRE(out.batch.tokens <= *e.token_budget);
  }
  if (e.max_batch) REQUIRE(static_cast<std::int64_t>(out.batch.items.size()) <= *e.max_batch);
  if (e.max_running) REQUIRE(static_cast<std::int64_t>(s.running.size()) <= *e.max_running);
  REQUIRE(s.counted_at == s.iteration);
  REQUIRE(s.started_count == started);
  REQUIRE(s.decoding_count == decoding);
  finished += static_cast<std::int64_t>(out.finished.size());
  REQUIRE(static_cast<std::int64_t>(ids.size()) + finished == arrived);
}
}  // namespace

TEST_CASE("invariants of the step over random runs of every example engine") {
  for (const char* file : {"examples/paper_policies.bp", "examples/vidur_engines.bp"}) {
    core::Diagnostics diags;
    auto spec = dsl::load_spec(file, diags);
    REQUIRE(spec);
    for (const auto& e : spec->engines) {
      DYNAMIC_SECTION(file << ": " << e.name) {
        sim::Random rng(42);
        core::LengthLaw prompt{core::LengthLaw::Form::Uniform, 1, 500};  // under every budget: no freeze
        core::LengthLaw output{core::LengthLaw::Form::Geometric};
        output.mean_param = 40;
        output.max = 2000;
        core::EngineState s;
        core::StepOutcome out;
        std::int64_t arrived = 0, finished = 0;
        for (int it = 0; it < 1500; ++it) {
          for (std::int64_t k = rng.uniform_int(0, 2); k > 0; --k) {
            core::Request r;
            r.id = arrived++;
            r.prompt = sim::sample_length(prompt, rng);
            r.output = sim::sample_length(output, rng);
            core::arrive(s, r);
          }
          core::step(e, s, out);
          check_invariants(e, s, out, arrived, finished);
        }
        CHECK(finished > 0);
      }
    }
  }
}
