#include "solver/prove.hpp"

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "core/batch_check.hpp"
#include "core/step.hpp"
#include "solver/symbolic_step.hpp"

namespace batchproof::solver {

namespace {

// The negation of the property on the symbolic batch: a state satisfying it is a counterexample.
z3::expr violation(z3::context& ctx, const core::Engine& e, const SymbolicState& s, const SymbolicBatch& b,
                   core::Property p) {
  z3::expr budget = e.token_budget ? ctx.int_val(static_cast<int64_t>(*e.token_budget)) : ctx.int_val(kSymbolicUnlimited);
  auto left_out = [&]() {
    // A token that fits and was left out (MODEL.md §2, and core/batch_check.hpp).
    z3::expr any = ctx.bool_val(false);
    z3::expr room = b.tokens + 1 <= budget;
    z3::expr new_item = e.max_batch ? b.items < ctx.int_val(static_cast<int64_t>(*e.max_batch)) : ctx.bool_val(true);
    int64_t bs = std::max<int64_t>(1, e.block_size);
    for (std::size_t i = 0; i < s.requests.size(); ++i) {
      const auto& r = s.requests[i];
      z3::expr in = b.prefill[i] > 0 || b.decode[i];
      z3::expr prompt_left = r.present && r.prompt - r.prefilled - b.prefill[i] > 0;
      z3::expr decode_left = r.present && r.admitted && r.prefilled == r.prompt && r.decoded < r.output && !b.decode[i];
      z3::expr memory = ctx.bool_val(true);
      if (e.kv_tokens()) {
        // KV for one more processed token (core/batch_check.cpp's memory_for_one_more).
        z3::expr processed = r.prefilled + r.decoded + b.prefill[i] + z3::ite(b.decode[i], ctx.int_val(1), ctx.int_val(0));
        z3::expr need = ((processed + ctx.int_val(bs)) / ctx.int_val(bs)) * ctx.int_val(bs);
        memory = need <= b.held[i] || need - b.held[i] <= b.free_kv;
      }
      any = any || (room && (in || new_item) && (prompt_left || decode_left) && memory);
    }
    return any;
  };
  switch (p) {
    case core::Property::Budget: return b.tokens > budget;
    case core::Property::BatchLimit:
      return e.max_batch ? b.items > ctx.int_val(static_cast<int64_t>(*e.max_batch)) : ctx.bool_val(false);
    case core::Property::MemorySafe: return b.free_kv < 0;
    case core::Property::WorkConserving: return left_out();
    case core::Property::Progress: return b.tokens == 0 && left_out();
    default: return ctx.bool_val(false);
  }
}

std::int64_t int_of(const z3::model& m, const z3::expr& x) {
  std::int64_t v = 0;
  m.eval(x, true).is_numeral_i64(v);
  return v;
}

}  // namespace

std::string unsupported(const core::Engine& e) {
  if (e.kv_tokens() && e.preemption != core::Preemption::None)
    return "the engine preempts when KV memory runs out (preemption is not encoded yet)";
  if (e.kv_tokens() && e.admission == core::Admission::PeakEstimate)
    return "the engine admits by LightLLM's peak estimate (not encoded yet)";
  if (e.batching == core::Batching::Static) return "the engine batches statically (not encoded yet)";
  return "";
}

ProofResult prove(const core::Engine& e, core::Property p, const ProveOptions& o) {
  auto start = std::chrono::steady_clock::now();
  ProofResult res;
  res.requests = o.requests;
  auto done = [&]() -> ProofResult& {
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
  };
  if (p == core::Property::Fcfs || !core::is_per_iteration(p)) {
    res.reason = fmt::format("{} is not encoded yet", core::property_name(p));
    return done();
  }
  if (p == core::Property::MemorySafe && !e.kv_tokens()) {
    res.verdict = Verdict::Holds;
    res.reason = "the engine has no KV-cache limit";
    return done();
  }
  if (p == core::Property::BatchLimit && !e.max_batch) {
    res.verdict = Verdict::Holds;
    res.reason = "the engine has no max_batch";
    return done();
  }
  if (std::string why = unsupported(e); !why.empty()) {
    res.reason = why;
    return done();
  }

  z3::context ctx;
  SymbolicState s = make_state(ctx, o.requests);
  SymbolicBatch b = symbolic_batch(ctx, e, s);
  z3::expr bad = violation(ctx, e, s, b, p);
  z3::optimize opt(ctx);
  z3::params params(ctx);
  params.set("timeout", static_cast<unsigned>(o.timeout_s * 1000));
  opt.set(params);
  opt.add(s.well_formed);
  opt.add(b.assumptions);
  // A policy that never splits a prompt never leaves one partly processed: states with a
  // started request are unreachable for it (a restart after preemption starts from 0).
  if (core::traits(e.policy).whole_only)
    for (const auto& rq : s.requests) opt.add(z3::implies(rq.admitted, rq.prefilled == rq.prompt));
  opt.add(bad);
  // The smallest counterexample (MODEL.md §2): fewest requests, then the smallest total of
  // remaining tokens, then the smallest largest one.
  std::vector<z3::expr> present, remaining;
  z3::expr largest = ctx.int_const("largest_remaining");
  for (const auto& r : s.requests) {
    present.push_back(z3::ite(r.present, ctx.int_val(1), ctx.int_val(0)));
    z3::expr left = (r.prompt - r.prefilled) + (r.output - r.decoded);
    remaining.push_back(left);
    opt.add(largest >= left);
  }
  z3::expr n_present = ctx.int_val(0), total = ctx.int_val(0);
  for (const auto& x : present) n_present = n_present + x;
  for (const auto& x : remaining) total = total + x;
  opt.minimize(n_present);
  opt.minimize(total);
  opt.minimize(largest);
  if (!o.smt2_file.empty()) {
    std::ofstream f(o.smt2_file);
    f << opt << "(check-sat)\n";
  }
  z3::check_result r = opt.check();
  if (r == z3::unknown) {
    res.reason = fmt::format("the solver gave up within {} s at N = {}", o.timeout_s, o.requests);
    return done();
  }
  if (r == z3::unsat) {
    res.verdict = Verdict::Holds;
    return done();
  }

  // A counterexample: rebuild the concrete state, replay it, and check both semantics agree.
  z3::model m = opt.get_model();
  Counterexample cx;
  cx.state.iterations_since_prefill = int_of(m, s.since_prefill);
  for (std::size_t i = 0; i < s.requests.size(); ++i) {
    const auto& sr = s.requests[i];
    if (!m.eval(sr.present, true).is_true()) continue;
    core::Request q;
    q.id = static_cast<std::int64_t>(i);
    q.arrival_s = static_cast<double>(i);
    q.prompt = int_of(m, sr.prompt);
    q.prefilled = int_of(m, sr.prefilled);
    q.output = int_of(m, sr.output);
    q.decoded = int_of(m, sr.decoded);
    q.priority = static_cast<std::int32_t>(int_of(m, sr.priority));
    if (m.eval(sr.admitted, true).is_true()) {
      q.kv_held = int_of(m, held_kv(ctx, e, sr));
      q.admitted_seq = cx.state.next_admission++;
      cx.state.kv_used += q.kv_held;
      cx.state.running.push_back(q);
    } else {
      core::arrive(cx.state, q);
    }
  }
  core::EngineState after = cx.state;
  core::StepOutcome out = core::step(e, after);
  cx.batch = out.batch;
  // The symbolic batch in the model must be the concrete batch, item by item.
  std::string mismatch;
  for (std::size_t i = 0; i < s.requests.size(); ++i) {
    if (!m.eval(s.requests[i].present, true).is_true()) continue;
    std::int64_t sym_prefill = int_of(m, b.prefill[i]);
    bool sym_decode = m.eval(b.decode[i], true).is_true();
    std::int64_t con_prefill = 0;
    bool con_decode = false;
    for (const auto& item : out.batch.items)
      if (item.request == static_cast<std::int64_t>(i)) {
        con_prefill = item.prefill;
        con_decode = item.decode;
      }
    if (sym_prefill != con_prefill || sym_decode != con_decode)
      mismatch += fmt::format(" request {}: symbolic {}+{}, concrete {}+{};", i, sym_prefill, sym_decode ? "d" : "-",
                              con_prefill, con_decode ? "d" : "-");
  }
  core::BatchCheck concrete = core::check_batch(e, cx.state, out.batch, after, p);
  if (!mismatch.empty() || !concrete.violation) {
    res.verdict = Verdict::InternalError;
    res.reason = !mismatch.empty()
                     ? "the symbolic and the concrete step disagree on the counterexample:" + mismatch
                     : "the concrete step does not confirm the solver's counterexample";
    res.counterexample = std::move(cx);
    return done();
  }
  cx.witness = *concrete.violation;
  res.verdict = Verdict::Violated;
  res.counterexample = std::move(cx);
  return done();
}

}  // namespace batchproof::solver
