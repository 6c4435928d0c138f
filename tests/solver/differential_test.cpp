// The symbolic step agrees with core's concrete step: for many random small states, the batch
// that Z3 evaluates from the symbolic encoding is the batch core::step forms, item by item.
#include <catch2/catch.hpp>
#include <z3++.h>

#include "core/step.hpp"
#include "dsl/dsl.hpp"
#include "sim/random.hpp"
#include "solver/fcfs.hpp"
#include "solver/fcfs_symbolic.hpp"
#include "solver/prove.hpp"
#include "solver/symbolic_step.hpp"

using namespace batchproof;

namespace {

// A random state of up to n requests: running ones (started or decoding) and waiting ones,
// interleaved in queue order.
core::EngineState random_state(sim::Random& rng, int n, bool whole_only, const core::Engine& e) {
  core::EngineState s;
  auto kv = e.kv_tokens();
  std::int64_t bs = std::max<std::int64_t>(1, e.block_size);
  auto rounded = [&](std::int64_t t) { return (t + bs - 1) / bs * bs; };
  // What an admitted request holds: its reservation or its processed tokens (core's invariant).
  auto held = [&](const core::Request& r) {
    std::int64_t reserve = e.admission == core::Admission::Prompt      ? r.prompt
                           : e.admission == core::Admission::MaxLength ? e.max_seq_len.value_or(r.prompt + r.output)
                                                                       : 0;
    return std::max(rounded(reserve), rounded(r.prefilled + r.decoded));
  };
  int count = static_cast<int>(rng.uniform_int(0, n));
  for (int i = 0; i < count; ++i) {
    core::Request r;
    r.id = i;
    r.prompt = rng.uniform_int(1, kv ? 200 : 700);
    r.output = rng.uniform_int(1, 20);
    r.priority = static_cast<std::int32_t>(rng.uniform_int(0, 2));
    if (rng.uniform_int(0, 2) > 0) {  // running
      bool decoding = whole_only || rng.uniform_int(0, 1) == 1;
      r.prefilled = decoding ? r.prompt : rng.uniform_int(1, r.prompt - (r.prompt > 1 ? 1 : 0));
      if (r.prefilled == r.prompt) r.decoded = rng.uniform_int(0, r.output - 1);
      r.kv_held = held(r);
      if (kv && s.kv_used + r.kv_held > *kv) {  // it would not fit: it waits instead
        r.prefilled = r.decoded = r.kv_held = 0;
        core::arrive(s, r);
        continue;
      }
      r.admitted_seq = s.next_admission++;
      s.kv_used += r.kv_held;
      s.running.push_back(r);
    } else {
      core::arrive(s, r);
    }
  }
  s.iterations_since_prefill = rng.uniform_int(0, 15);
  if (e.batching == core::Batching::Static && !s.running.empty()) {
    // Static batching: the running requests are the cohort in progress (the symbolic state's
    // cohort_kv is pinned to 0 below: no member has finished yet).
    s.cohort = 0;
    for (auto& r : s.running) r.cohort = 0;
  }
  return s;
}

std::vector<std::string> items(const core::Batch& b, int n) {
  std::vector<std::string> out(static_cast<std::size_t>(n), "-");
  for (const auto& i : b.items) out[static_cast<std::size_t>(i.request)] = i.decode ? "d" : std::to_string(i.prefill);
  return out;
}

}  // namespace

TEST_CASE("differential: the symbolic step evaluated in Z3 equals core::step on random states") {
  const int n = 5;
  for (const char* file : {"examples/paper_policies.bp", "tests/solver/policies.bp", "examples/vidur_engines.bp"}) {
    core::Diagnostics diags;
    auto spec = dsl::load_spec(file, diags);
    REQUIRE(spec);
    for (const auto& e : spec->engines) {
      if (!solver::unsupported(e).empty()) continue;
      DYNAMIC_SECTION(file << ": " << e.name) {
        z3::context ctx;
        solver::SymbolicState sym = solver::make_state(ctx, n);
        solver::SymbolicBatch batch = solver::symbolic_batch(ctx, e, sym);
        const bool fcfs = solver::fcfs_unsupported(e).empty();
        z3::expr fcfs_term = fcfs ? solver::fcfs_violated(ctx, e, sym, batch) : ctx.bool_val(false);
        int fcfs_violations = 0;
        sim::Random rng(7);
        int nonempty = 0;
        for (int trial = 0; trial < 40; ++trial) {
          core::EngineState s = random_state(rng, n, core::traits(e.policy).whole_only, e);
          // Pin the symbolic state to the concrete one, in queue order (running by id, waiting by queue).
          z3::solver z(ctx);
          z.add(sym.well_formed);
          z.add(sym.since_prefill == ctx.int_val(static_cast<int64_t>(s.iterations_since_prefill)));
          std::vector<const core::Request*> by_id(static_cast<std::size_t>(n), nullptr);
          std::vector<bool> admitted(static_cast<std::size_t>(n), false);
          for (const auto& r : s.running) by_id[static_cast<std::size_t>(r.id)] = &r, admitted[static_cast<std::size_t>(r.id)] = true;
          for (const auto& r : s.waiting) by_id[static_cast<std::size_t>(r.id)] = &r;
          for (int i = 0; i < n; ++i) {
            const auto& q = sym.requests[static_cast<std::size_t>(i)];
            const core::Request* r = by_id[static_cast<std::size_t>(i)];
            if (!r) {
              z.add(!q.present);
              continue;
            }
            z.add(q.present && q.admitted == ctx.bool_val(admitted[static_cast<std::size_t>(i)]) &&
                  q.prompt == ctx.int_val(static_cast<int64_t>(r->prompt)) &&
                  q.prefilled == ctx.int_val(static_cast<int64_t>(r->prefilled)) &&
                  q.output == ctx.int_val(static_cast<int64_t>(r->output)) &&
                  q.decoded == ctx.int_val(static_cast<int64_t>(r->decoded)) &&
                  q.priority == ctx.int_val(static_cast<int64_t>(r->priority)));
          }
          z.add(batch.assumptions);
          z.add(batch.cohort_kv == 0);
          REQUIRE(z.check() == z3::sat);
          z3::model m = z.get_model();
          std::vector<std::string> symbolic(static_cast<std::size_t>(n), "-");
          for (int i = 0; i < n; ++i) {
            int64_t p = 0;
            m.eval(batch.prefill[static_cast<std::size_t>(i)], true).is_numeral_i64(p);
            if (m.eval(batch.decode[static_cast<std::size_t>(i)], true).is_true()) symbolic[static_cast<std::size_t>(i)].assign(1, 'd');
            else if (p > 0) symbolic[static_cast<std::size_t>(i)] = std::to_string(p);
          }
          core::EngineState copy = s;
          core::StepOutcome out = core::step(e, copy);
          INFO("trial " << trial);
          CHECK(symbolic == items(out.batch, n));
          nonempty += out.batch.empty() ? 0 : 1;
          if (fcfs) {
            // fcfs: the symbolic term and the concrete check agree on the same iteration.
            bool concrete = solver::fcfs_violation(e, s, out.batch).has_value();
            CHECK(m.eval(fcfs_term, true).is_true() == concrete);
            fcfs_violations += concrete ? 1 : 0;
          }
        }
        CHECK(nonempty > 12);  // the comparison is about real batches, not empty ones
        if (e.name == "key_orders" || e.name == "forms") CHECK(fcfs_violations > 0);
      }
    }
  }
}
