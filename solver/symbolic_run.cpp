#include "solver/symbolic_run.hpp"

#include <fmt/format.h>

namespace batchproof::solver {

namespace {

// The state after a batch, as core::step leaves it: prompt tokens and decode tokens added
// (Vidur's accounting: the iteration that finishes the prompt also yields the first output
// token), requests with a prefill admitted, finished ones gone.
SymbolicState next_state(z3::context& ctx, const core::Engine& e, const SymbolicState& s, const SymbolicBatch& b,
                         const std::string& tag, z3::expr& defs) {
  const bool vidur = e.accounting == core::Accounting::Vidur;
  SymbolicState n{{}, ctx.int_const((tag + "since").c_str()), ctx.bool_val(true)};
  z3::expr any_prefill = ctx.bool_val(false);
  for (std::size_t i = 0; i < s.requests.size(); ++i) {
    const auto& r = s.requests[i];
    auto name = [&](const char* field) { return fmt::format("{}{}@{}", tag, field, i); };
    SymbolicRequest q{ctx.bool_const(name("present").c_str()), ctx.bool_const(name("admitted").c_str()),
                      r.prompt, ctx.int_const(name("prefilled").c_str()),
                      r.output, ctx.int_const(name("decoded").c_str()), r.priority};
    z3::expr prefilled = r.prefilled + b.prefill[i];
    z3::expr decoded = r.decoded + z3::ite(b.decode[i], ctx.int_val(1), ctx.int_val(0));
    if (vidur) decoded = decoded + z3::ite(b.prefill[i] > 0 && prefilled == r.prompt, ctx.int_val(1), ctx.int_val(0));
    z3::expr finished = prefilled >= r.prompt && decoded >= r.output;
    defs = defs && q.prefilled == prefilled && q.decoded == decoded &&
           q.admitted == (r.admitted || b.prefill[i] > 0) && q.present == (r.present && !finished);
    any_prefill = any_prefill || b.prefill[i] > 0;
    n.requests.push_back(q);
  }
  defs = defs && n.since_prefill == z3::ite(any_prefill, ctx.int_val(0), s.since_prefill + 1);
  return n;
}

}  // namespace

SymbolicRun unroll(z3::context& ctx, const core::Engine& engine, const SymbolicState& start,
                   const std::vector<JoiningSlot>& joining, int iterations, const std::string& tag) {
  SymbolicRun run{{start}, {}, ctx.bool_val(true)};
  for (int j = 0; j < iterations; ++j) {
    run.batches.push_back(symbolic_batch(ctx, engine, run.states.back()));
    SymbolicState n = next_state(ctx, engine, run.states.back(), run.batches.back(),
                                 fmt::format("{}i{}_", tag, j + 1), run.definitions);
    for (const auto& join : joining) {
      if (join.iteration != j + 1) continue;
      auto& r = n.requests[join.slot];
      r.present = join.arrives;
      r.admitted = ctx.bool_val(false);
      r.prefilled = ctx.int_val(0);
      r.decoded = ctx.int_val(0);
    }
    run.states.push_back(n);
  }
  return run;
}

z3::expr real_of(z3::context& ctx, double value) {
  return ctx.real_val(fmt::format("{:.17f}", value).c_str());
}

SymbolicDuration symbolic_seconds(z3::context& ctx, const core::TimeModel& time, const z3::expr& tokens,
                                  const std::string& name) {
  using Form = core::TimeModel::Form;
  z3::expr b = z3::to_real(tokens);
  switch (time.form) {
    case Form::Staircase: {
      // steps = ⌈b / b0⌉, pinned by b0·(steps − 1) < b ≤ b0·steps.
      z3::expr steps = ctx.int_const((name + "_steps").c_str());
      z3::expr b0 = ctx.int_val(time.b0);
      return {real_of(ctx, time.c_s) + real_of(ctx, time.a_s) * z3::to_real(steps),
              b0 * (steps - 1) < tokens && tokens <= b0 * steps};
    }
    case Form::Linear: {
      z3::expr over = z3::ite(tokens > ctx.int_val(time.b0), tokens - ctx.int_val(time.b0), ctx.int_val(0));
      return {real_of(ctx, time.c_s) + real_of(ctx, time.a_s) * z3::to_real(over), ctx.bool_val(true)};
    }
    case Form::Table: {
      const auto& t = time.table;
      if (t.empty()) return {real_of(ctx, 0), ctx.bool_val(true)};
      if (t.size() == 1) return {real_of(ctx, t.front().second), ctx.bool_val(true)};
      // Segment k interpolates between points k and k + 1; the last one extrapolates.
      auto segment = [&](std::size_t k) {
        double x0 = static_cast<double>(t[k].first), x1 = static_cast<double>(t[k + 1].first);
        double slope = (t[k + 1].second - t[k].second) / (x1 - x0);
        return real_of(ctx, t[k].second) + real_of(ctx, slope) * (b - real_of(ctx, x0));
      };
      z3::expr s = segment(t.size() - 2);
      for (std::size_t k = t.size() - 2; k-- > 0;) s = z3::ite(tokens <= ctx.int_val(t[k + 1].first), segment(k), s);
      s = z3::ite(tokens <= ctx.int_val(t.front().first), real_of(ctx, t.front().second), s);
      return {s, ctx.bool_val(true)};
    }
  }
  return {real_of(ctx, 0), ctx.bool_val(true)};
}

}  // namespace batchproof::solver
