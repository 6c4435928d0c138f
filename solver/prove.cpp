#include "solver/prove.hpp"

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "core/batch_check.hpp"
#include "core/step.hpp"
#include "solver/fcfs.hpp"
#include "solver/fcfs_symbolic.hpp"
#include "solver/fold_lemma.hpp"
#include "solver/symbolic_step.hpp"

namespace batchproof::solver {

namespace {

// The negation of the property on the symbolic batch: a state satisfying it is a counterexample.
z3::expr violation(z3::context& ctx, const core::Engine& e, const SymbolicState& s, const SymbolicBatch& b,
                   core::Property p) {
  auto left_out = [&]() {
    z3::expr any = ctx.bool_val(false);
    for (std::size_t i = 0; i < s.requests.size(); ++i)
      any = any || left_out_token(ctx, e, s.requests[i], Slot{b.prefill[i], b.decode[i], b.held[i]}, b.tokens, b.items,
                                  b.free_kv);
    return any;
  };
  switch (p) {
    case core::Property::Budget: return b.tokens > budget_term(ctx, e);
    case core::Property::BatchLimit:
      return e.max_batch ? b.items > ctx.int_val(static_cast<int64_t>(*e.max_batch)) : ctx.bool_val(false);
    case core::Property::MemorySafe: return b.free_kv < 0;
    case core::Property::WorkConserving: return left_out();
    case core::Property::Progress: return b.tokens == 0 && left_out();
    case core::Property::Fcfs: return fcfs_violated(ctx, e, s, b);
    default: return ctx.bool_val(false);
  }
}

// Every rule that admits from the waiting queue visits it in FCFS order and stops at the first
// request that does not fit: then the admitted requests of every reachable state arrived before
// every waiting one (a rule admits a prefix of the queue, arrivals join its back, and finished
// requests leave; preemption, which would put one back at the front, is outside the fragment).
bool admits_in_arrival_order(const std::vector<core::PolicyStmt>& body) {
  for (const auto& s : body) {
    if (s.rule && s.rule->phase == core::Phase::Prefill && s.rule->source != core::Source::Started &&
        (s.rule->order != core::Order::Fcfs || s.rule->blocked != core::Blocked::Stop))
      return false;
    for (const auto& w : s.when) {
      for (const auto& b : w.branches)
        if (!admits_in_arrival_order(b.body)) return false;
      if (!admits_in_arrival_order(w.otherwise)) return false;
    }
  }
  return true;
}

std::int64_t int_of(const z3::model& m, const z3::expr& x) {
  std::int64_t v = 0;
  m.eval(x, true).is_numeral_i64(v);
  return v;
}

// One bounded query: the smallest counterexample among states of up to n requests, if any.
// `e` is the engine encoded; `concrete` the one replayed, the same unless `e` is an
// approximation of it (see refute_by_approximation): then a counterexample that the concrete
// step does not reproduce is "unknown", not an internal error.
void bounded(const core::Engine& e, const core::Engine& concrete, core::Property p, int n, const ProveOptions& o,
             ProofResult& res) {
  const bool approximate = &e != &concrete;
  z3::context ctx;
  SymbolicState s = make_state(ctx, n);
  SymbolicBatch b = symbolic_batch(ctx, e, s);
  z3::expr bad = violation(ctx, e, s, b, p);
  z3::optimize opt(ctx);
  z3::params params(ctx);
  params.set("timeout", static_cast<unsigned>(o.timeout_s * 1000));
  opt.set(params);
  opt.add(s.well_formed);
  opt.add(b.assumptions);
  // States a policy cannot reach: a policy that never splits a prompt never leaves one partly
  // processed (a restart after preemption starts from 0); one that admits in arrival order
  // never runs a request while an earlier one waits.
  if (core::traits(e.policy).whole_only)
    for (const auto& rq : s.requests) opt.add(z3::implies(rq.admitted, rq.prefilled == rq.prompt));
  if (admits_in_arrival_order(e.policy.body))
    for (std::size_t i = 1; i < s.requests.size(); ++i)
      opt.add(z3::implies(s.requests[i].admitted, s.requests[i - 1].admitted));
  // An engine with max_seq_len refuses longer requests when they arrive (vLLM's max_model_len,
  // Vidur's max_tokens; `check` warns when a workload has them): no state holds one.
  if (e.max_seq_len)
    for (const auto& rq : s.requests)
      opt.add(z3::implies(rq.present, rq.prompt + rq.output <= ctx.int_val(static_cast<int64_t>(*e.max_seq_len))));
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
  if (!o.smt2_file.empty() && n == o.requests) {
    std::ofstream f(o.smt2_file);
    f << opt << "(check-sat)\n";
  }
  res.requests = n;
  z3::check_result r = opt.check();
  if (r == z3::unknown) {
    res.verdict = Verdict::Unknown;
    res.reason = fmt::format("the solver gave up within {} s at N = {}", o.timeout_s, n);
    return;
  }
  if (r == z3::unsat) {
    res.verdict = Verdict::Holds;
    return;
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
  if (e.batching == core::Batching::Static && !cx.state.running.empty()) {
    // The running requests form the cohort in progress; its finished members hold cohort_kv.
    cx.state.cohort = 0;
    for (auto& q : cx.state.running) q.cohort = 0;
    cx.state.cohort_kv = int_of(m, b.cohort_kv);
    cx.state.kv_used += cx.state.cohort_kv;
  }
  core::EngineState after = cx.state;
  core::StepOutcome out = core::step(concrete, after);
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
  std::optional<std::string> confirmed = p == core::Property::Fcfs
                                             ? fcfs_violation(concrete, cx.state, out.batch)
                                             : core::check_batch(concrete, cx.state, out.batch, after, p).violation;
  if (approximate && (!mismatch.empty() || !confirmed)) {
    res.verdict = Verdict::Unknown;
    res.reason = fmt::format("the smallest counterexample of the approximation ({} requests) does not replay on the "
                             "engine itself:{}",
                             n, !mismatch.empty() ? mismatch : " the concrete step finds no violation");
    return;
  }
  if (!mismatch.empty() || !confirmed) {
    res.verdict = Verdict::InternalError;
    res.reason = !mismatch.empty()
                     ? "the symbolic and the concrete step disagree on the counterexample:" + mismatch
                     : "the concrete step does not confirm the solver's counterexample";
    res.counterexample = std::move(cx);
    return;
  }
  cx.witness = *confirmed;
  res.verdict = Verdict::Violated;
  res.counterexample = std::move(cx);
}

}  // namespace

std::string unsupported(const core::Engine& e) {
  if (e.kv_tokens() && e.preemption != core::Preemption::None)
    return "the engine preempts when KV memory runs out (preemption is not encoded yet)";
  if (e.kv_tokens() && e.admission == core::Admission::PeakEstimate)
    return "the engine admits by LightLLM's peak estimate (not encoded yet)";
  return "";
}

// Preemption and LightLLM's peak-estimate admission are outside the encoding, so nothing about
// such an engine can be proved by the bounded search. It can still be refuted: encode the engine
// without them (it never preempts, and admits on its prompt's KV alone) and keep the smallest
// counterexample only if the engine itself, replayed by core::step, forms the same batch there
// and breaks the property. Finding none proves nothing: the verdict stays unknown.
void refute_by_approximation(const core::Engine& e, core::Property p, const ProveOptions& o, const std::string& why,
                             ProofResult& res) {
  core::Engine approx = e;
  approx.preemption = core::Preemption::None;
  if (approx.admission == core::Admission::PeakEstimate) approx.admission = core::Admission::Prompt;
  if (!unsupported(approx).empty() || (p == core::Property::Fcfs && !fcfs_unsupported(approx).empty())) {
    res.reason = why;
    return;
  }
  for (int n = 1;; n = std::min(2 * n, o.requests)) {
    bounded(approx, e, p, n, o, res);
    if (res.verdict != Verdict::Holds || n >= o.requests) break;
  }
  if (res.verdict == Verdict::Holds) {
    res.verdict = Verdict::Unknown;
    res.reason = fmt::format("{}; the engine without them has no counterexample of up to {} request{}, which "
                             "proves nothing about the engine itself",
                             why, o.requests, o.requests == 1 ? "" : "s");
  } else if (res.verdict == Verdict::Unknown) {
    res.reason = why + "; " + res.reason;
  }
}

ProofResult prove(const core::Engine& e, core::Property p, const ProveOptions& o) {
  auto start = std::chrono::steady_clock::now();
  ProofResult res;
  res.requests = o.requests;
  auto done = [&]() -> ProofResult& {
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
  };
  if (!core::is_per_iteration(p)) {
    res.reason = fmt::format("{} is not a per-iteration property", core::property_name(p));
    return done();
  }
  auto trivially = [&](const char* why) -> ProofResult& {
    res.verdict = Verdict::Holds;
    res.scope = Scope::AllN;
    res.reason = why;
    return done();
  };
  if (p == core::Property::MemorySafe && !e.kv_tokens()) return trivially("the engine has no KV-cache limit");
  if (p == core::Property::BatchLimit && !e.max_batch) return trivially("the engine has no max_batch");
  // Preemption and peak-estimate admission are outside the bounded encoding, but the invariant
  // lemmas over-approximate them (fold_lemma.hpp): they can decide "holds" for the limits, and
  // an approximation without them can still refute (refute_by_approximation).
  const std::string outside = unsupported(e);
  std::string why = outside;
  if (why.empty() && p == core::Property::Fcfs) why = fcfs_unsupported(e);
  if (!why.empty() && outside.empty()) {
    res.reason = why;
    return done();
  }
  bool limits = p == core::Property::Budget || p == core::Property::BatchLimit || p == core::Property::MemorySafe;
  if (o.lemma && (outside.empty() || limits)) {
    LemmaResult l = fold_lemma(e, p, o.timeout_s);
    if (l.proved) {
      res.verdict = Verdict::Holds;
      res.scope = Scope::AllN;
      res.by_lemma = true;
      res.reason = "for all N, by the inductive lemma";
      return done();
    }
    res.lemma_note = l.why_not;
    if (!outside.empty()) why += "; the inductive lemma did not prove it: " + l.why_not;
  }
  if (!outside.empty()) {
    refute_by_approximation(e, p, o, why, res);
    return done();
  }
  // Bounded: N = 1, 2, 4, ... , the requested N. A counterexample with n requests is one for
  // every larger N as well (absent requests change nothing).
  for (int n = 1;; n = std::min(2 * n, o.requests)) {
    bounded(e, e, p, n, o, res);
    if (res.verdict != Verdict::Holds || n >= o.requests) break;
  }
  return done();
}

}  // namespace batchproof::solver
