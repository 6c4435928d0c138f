// Stability certificates: the aggregate abstraction, its induction queries, and the least B.
// docs/search.md ("Stability certificates") states the argument; the comments here say which
// constraint stands for which step of it.
#include "solver/backlog_bound.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <z3++.h>

#include "core/capacity.hpp"
#include "core/token_bucket.hpp"

namespace batchproof::solver {

namespace {

// A number of the spec as an exact rational: the decimal it was written as. Profiles and ρ are
// decimals in the spec; the double that holds one (after unit scaling) reads back to it at 15
// significant digits, so the proof is about the numbers the user wrote.
z3::expr exact(z3::context& ctx, double v) {
  std::string s = fmt::format("{:.14e}", v);  // [-]d.dddddddddddddde[+-]XX
  bool negative = s.front() == '-';
  if (negative) s.erase(0, 1);
  std::size_t e = s.find('e');
  std::string digits = s.substr(0, 1);
  digits.append(s.substr(2, e - 2));
  int exponent = std::stoi(s.substr(e + 1)) - 14;
  std::string num = negative ? "-" : "";
  num.append(digits);
  std::string den = "1";
  if (exponent >= 0) num.append(static_cast<std::size_t>(exponent), '0');
  else den.append(static_cast<std::size_t>(-exponent), '0');
  num.append("/").append(den);
  return ctx.real_val(num.c_str());
}

z3::expr int_real(z3::context& ctx, std::int64_t v) { return ctx.real_val(static_cast<int64_t>(v)); }

// t(x) of the profile, exactly, for an integer term x ≥ 1 (core::TimeModel::seconds, form by
// form). `guard` says when x ≥ 1 holds; the staircase's step count is an integer constant.
z3::expr time_term(z3::context& ctx, z3::solver& s, const core::TimeModel& m, const z3::expr& x, const z3::expr& guard) {
  using F = core::TimeModel::Form;
  switch (m.form) {
    case F::Staircase: {
      z3::expr k = ctx.int_const("steps");
      z3::expr b0 = ctx.int_val(static_cast<int64_t>(m.b0));
      s.add(z3::implies(guard, b0 * (k - 1) < x && x <= b0 * k));
      return exact(ctx, m.c_s) + exact(ctx, m.a_s) * z3::to_real(k);
    }
    case F::Linear: {
      z3::expr b0 = ctx.int_val(static_cast<int64_t>(m.b0));
      return exact(ctx, m.c_s) + exact(ctx, m.a_s) * z3::to_real(z3::ite(x > b0, x - b0, ctx.int_val(0)));
    }
    case F::Table: {
      const auto& p = m.table;
      if (p.empty()) return ctx.real_val(0);
      if (p.size() == 1) return exact(ctx, p[0].second);
      auto segment = [&](std::size_t i) {  // the line through points i and i + 1
        z3::expr slope = ((exact(ctx, p[i + 1].second) - exact(ctx, p[i].second)) /
                          int_real(ctx, p[i + 1].first - p[i].first))
                             .simplify();
        return exact(ctx, p[i].second) + slope * (z3::to_real(x) - int_real(ctx, p[i].first));
      };
      z3::expr t = segment(p.size() - 2);  // the last segment, extended beyond the table
      for (std::size_t i = p.size() - 1; i-- > 0;)
        t = z3::ite(x <= ctx.int_val(static_cast<int64_t>(p[i + 1].first)), segment(i), t);
      return z3::ite(x <= ctx.int_val(static_cast<int64_t>(p[0].first)), exact(ctx, p[0].second), t);
    }
  }
  return ctx.real_val(0);
}

// t(b) for a number b ≥ 1, exactly.
z3::expr time_at(z3::context& ctx, const core::TimeModel& m, std::int64_t b) {
  if (m.form == core::TimeModel::Form::Staircase)
    return (exact(ctx, m.c_s) + exact(ctx, m.a_s) * int_real(ctx, (b + m.b0 - 1) / m.b0)).simplify();
  z3::solver unused(ctx);  // the linear and table forms add no constraint for a number
  return time_term(ctx, unused, m, ctx.int_val(static_cast<int64_t>(b)), ctx.bool_val(true)).simplify();
}

// The abstraction's one step, asserted once; each query adds W + c ≤ B and W' + c' > B.
struct InductionQuery {
  z3::context& ctx;
  z3::solver s;
  z3::expr W, c, idle, D, x, t, a, W2, c2, refill;

  InductionQuery(z3::context& ctx_, const core::Engine& e, std::int64_t sigma_tokens, double rho, std::int64_t o_max,
                 const BoundOptions& o)
      : ctx(ctx_),
        s(ctx_),
        W(ctx_.int_const("W")),
        c(ctx_.real_const("credit")),
        idle(ctx_.bool_const("idle")),
        D(ctx_.int_const("demand")),
        x(ctx_.int_const("served")),
        t(ctx_.real_const("seconds")),
        a(ctx_.int_const("arrived")),
        W2(ctx_.int_const("W_after")),
        c2(ctx_.real_const("credit_after")),
        refill(ctx_.real_const("credit_refilled")) {
    z3::params p(ctx);
    p.set("timeout", static_cast<unsigned>(std::max(1.0, o.timeout_s * 1000)));
    if (o.rlimit > 0) p.set("rlimit", o.rlimit);
    s.set(p);
    const std::int64_t b = *e.token_budget;
    z3::expr sigma = int_real(ctx, sigma_tokens);
    z3::expr zero = ctx.int_val(0);
    z3::expr busy = !idle;
    // The arrival rate r = ρ·C = ρ·b_max / t(b_max), an exact rational.
    z3::expr T = time_at(ctx, e.profile.time, b);
    z3::expr rate = (exact(ctx, rho) * int_real(ctx, b) / T).simplify();
    // The state: W tokens in the system, credit c ∈ [0, σ] (the bucket never overdraws).
    s.add(W >= 0 && c >= 0 && c <= sigma);
    s.add(idle == (W == 0));
    // Idle: time passes until the first arrival; the bucket refills to at most σ, and what
    // arrives at that instant (and starts the next iteration) is paid from it.
    s.add(z3::implies(idle, refill >= c && refill <= sigma && a >= 0 && z3::to_real(a) <= refill && W2 == a &&
                                c2 >= 0 && c2 <= refill - z3::to_real(a) && x == zero && D == zero &&
                                t == ctx.real_val(0)));
    // Busy: the demand D (existential) is at least one token per request present, and every
    // request holds at most p_i + O_max ≤ (O_max + 1)·p_i tokens while prefilling and O_max
    // while decoding, so W ≤ (O_max + 1)·D. A work-conserving engine within its budget serves
    // min(b_max, D) tokens, for t(min(b_max, D)) seconds.
    z3::expr full = D >= ctx.int_val(static_cast<int64_t>(b));
    s.add(z3::implies(busy, D >= 1 && D <= W && W <= ctx.int_val(static_cast<int64_t>(o_max + 1)) * D));
    s.add(z3::implies(busy, x == z3::ite(full, ctx.int_val(static_cast<int64_t>(b)), D)));
    s.add(z3::implies(busy, t == time_term(ctx, s, e.profile.time, x, busy)));
    // Arrivals during the iteration join at its end: at most the credit plus the refill r·t;
    // the credit after is at most min(σ, c + r·t − a) (capping only at the end gives more).
    z3::expr budget_left = c + rate * t - z3::to_real(a);
    s.add(z3::implies(busy, a >= 0 && budget_left >= 0 && W2 == W - x + a && c2 >= 0 && c2 <= sigma &&
                                c2 <= budget_left));
  }

  // sat: some step from a state with W + c <= B ends with W' + c' > B (B is not inductive); unsat:
  // B is inductive. The caller reads a model, then pops.
  z3::check_result leaves(std::int64_t B) {
    s.push();
    z3::expr bound = int_real(ctx, B);
    s.add(z3::to_real(W) + c <= bound);
    s.add(z3::to_real(W2) + c2 > bound);
    z3::check_result r = s.check();
    return r;
  }
  void pop() { s.pop(); }
};

double as_double(const z3::expr& v) {
  std::string s = v.get_decimal_string(9);
  if (!s.empty() && s.back() == '?') s.pop_back();
  return std::stod(s);
}
std::int64_t as_int(const z3::expr& v) {
  std::int64_t i = 0;
  v.is_numeral_i64(i);
  return i;
}

std::string lengths_note(std::int64_t o_max) { return fmt::format("outputs <= {} tokens", o_max); }

}  // namespace

std::string bound_unsupported(const core::Engine& e) {
  if (!e.token_budget) return "the engine has no token budget: the certificate needs full batches of b_max tokens";
  if (e.budget_form != core::BudgetForm::Plain)
    return "the engine's budget is padded: a batch's tokens are not what the budget bounds";
  if (e.max_batch)
    return "the engine limits a batch to k_max requests: a work-conserving batch need not be full when the demand is "
           "at least b_max (MODEL.md §3)";
  if (e.max_running) return "the engine limits the running requests (max_running): a batch need not be full";
  if (e.kv_tokens()) return "the engine has a KV-cache limit: memory, not the budget, may bound a batch (MODEL.md §3)";
  if (e.batching == core::Batching::Static) return "the engine batches statically";
  if (e.accounting != core::Accounting::Paper)
    return "the engine uses Vidur's accounting: a batch's tokens are not the work it removes";
  if (std::string why = unsupported(e); !why.empty()) return why;
  return "";
}

BoundResult prove_backlog_bound(const core::Engine& e, const LengthBounds& lb, const Envelope& env,
                                const BoundOptions& o) {
  auto start = std::chrono::steady_clock::now();
  BoundResult res;
  auto done = [&]() -> BoundResult& {
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
  };
  const core::ComputeCapacity cap = core::compute_capacity(e);
  res.capacity_tokens_per_s = cap.tokens_per_s;
  const std::int64_t sigma = env.sigma_tokens;
  if (std::string why = bound_unsupported(e); !why.empty()) {
    res.reason = "no certificate: " + why;
    return done();
  }
  if (env.rho > 1) {
    res.verdict = BoundVerdict::Refuted;
    res.reason = fmt::format(
        "rho = {} > 1: the envelope lets work arrive at {} x C = {:.1f} tokens/s, more than any policy serves (C = "
        "{:.1f} tokens/s, MODEL.md §3): the backlog grows by at least {:.1f} tokens/s for ever",
        env.rho, env.rho, env.rho * cap.tokens_per_s, cap.tokens_per_s, (env.rho - 1) * cap.tokens_per_s);
    return done();
  }
  // A request is one arrival, at one instant: its work is at most σ (a window of duration 0).
  res.output_max = std::min(lb.output_hi, sigma - lb.prompt_lo);
  if (res.output_max < lb.output_lo) {
    res.verdict = BoundVerdict::Proven;
    res.bound = 0;
    res.reason = fmt::format("B = 0 tokens: no request fits the envelope (the smallest, {} + {} tokens, exceeds "
                             "sigma = {}): nothing ever arrives",
                             lb.prompt_lo, lb.output_lo, sigma);
    return done();
  }

  // The facts the abstraction rests on, proved by the per-iteration verifier.
  ProveOptions po;
  po.requests = o.wc_requests;
  po.timeout_s = o.timeout_s;
  ProofResult budget = prove(e, core::Property::Budget, po);
  if (budget.verdict != Verdict::Holds) {
    if (budget.verdict == Verdict::InternalError) res.verdict = BoundVerdict::InternalError;
    res.reason = budget.verdict == Verdict::Violated
                     ? "no certificate: a batch can exceed the token budget (prove budget: violated)"
                     : "no certificate: the budget property is undecided: " + budget.reason;
    return done();
  }
  ProofResult wc = prove(e, core::Property::WorkConserving, po);
  if (wc.verdict == Verdict::InternalError) {
    res.verdict = BoundVerdict::InternalError;
    res.reason = wc.reason;
    return done();
  }
  if (wc.verdict == Verdict::Unknown) {
    res.reason = "no certificate: work conservation is undecided: " + wc.reason;
    return done();
  }
  if (wc.verdict == Verdict::Violated) {
    std::string why = fmt::format("no certificate: not work-conserving (a {} request counterexample: {})",
                                  wc.counterexample->state.running.size() + wc.counterexample->state.waiting.size(),
                                  wc.counterexample->witness);
    if (!(env.rho < 1)) {
      res.reason = why;
      return done();
    }
    // A replayed instability witness whose arrivals fit the envelope refutes every bound.
    SearchOptions so;
    so.load = env.rho;
    so.periods = {1, 2, 3, 4};
    so.timeout_s = o.timeout_s;
    so.sigma_tokens = sigma;  // only witnesses inside the envelope refute
    LengthBounds wl = lb;
    wl.output_hi = res.output_max;
    SearchResult sr = search_witness(e, cap.tokens_per_s, wl, so);
    res.witness = sr;
    switch (sr.verdict) {
      case SearchVerdict::Found:
        res.witness_burst = core::envelope_burst(sr.replay->arrivals, env.rho * cap.tokens_per_s);
        if (res.witness_burst <= static_cast<double>(sigma)) {
          res.verdict = BoundVerdict::Refuted;
          res.reason = fmt::format("{}; an instability witness fits the envelope (period {}, load {:.4f}, burst "
                                   "{:.1f} <= sigma): +{} tokens a period for ever",
                                   why, sr.witness->period, sr.replay->load, res.witness_burst,
                                   sr.replay->growth_tokens);
        } else {
          res.reason = fmt::format("{}; the instability witness found (period {}, load {:.4f}) needs sigma >= {:.1f}",
                                   why, sr.witness->period, sr.replay->load, res.witness_burst);
        }
        break;
      case SearchVerdict::NotFound:
        res.reason = fmt::format("{}; no instability witness inside the envelope at load <= {} for periods 1..4", why,
                                 env.rho);
        break;
      case SearchVerdict::Unknown: res.reason = fmt::format("{}; the witness search: {}", why, sr.reason); break;
      case SearchVerdict::InternalError:
        res.verdict = BoundVerdict::InternalError;
        res.reason = sr.reason;
        break;
    }
    return done();
  }

  // A bounded proof covers states of up to N requests; prove's reason says when it covers more
  // (every N, by an inductive lemma, or trivially).
  auto scope = [&](const ProofResult& pr) {
    return pr.reason.empty() ? fmt::format("for every state of up to {} requests", o.wc_requests) : pr.reason;
  };
  res.rests_on = fmt::format("work_conserving({}) {}; budget({}) {}", e.name, scope(wc), e.name, scope(budget));

  // The induction: the least integer B ≥ σ (the initial state: empty, bucket full) for which
  // W + c ≤ B is preserved by every step of the abstraction.
  const std::int64_t b = *e.token_budget;
  double t_max = 0;
  for (std::int64_t v = 1; v <= b; ++v) t_max = std::max(t_max, e.profile.time.seconds(v));
  const double T = e.profile.time.seconds(b);
  double candidate = static_cast<double>(sigma) + static_cast<double>(res.output_max + 1) * static_cast<double>(b) +
                     std::ceil(env.rho * static_cast<double>(b) * t_max / T) + 1;
  if (!(candidate < 1e17) || !(T > 0)) {
    res.reason = "no certificate: the numbers are too large for exact integer arithmetic";
    return done();
  }
  z3::context ctx;
  InductionQuery q(ctx, e, sigma, env.rho, res.output_max, o);
  auto gave_up = [&](std::int64_t B) {
    res.verdict = BoundVerdict::Unknown;
    res.reason = fmt::format("the solver gave up on the induction at B = {} ({})", B, q.s.reason_unknown());
  };
  std::int64_t hi = static_cast<std::int64_t>(candidate);
  for (int tries = 0;; ++tries) {
    ++res.queries;
    z3::check_result r = q.leaves(hi);
    q.pop();
    if (r == z3::unknown) {
      gave_up(hi);
      return done();
    }
    if (r == z3::unsat) break;
    if (tries == 8 || hi > (std::numeric_limits<std::int64_t>::max() >> 4)) {
      res.verdict = BoundVerdict::InternalError;
      res.reason = fmt::format("W + c <= B is not inductive even at B = {}, above what the argument gives", hi);
      return done();
    }
    hi *= 2;
  }
  std::int64_t lo = sigma - 1;  // not a bound: the initial state has W + c = σ
  while (hi - lo > 1) {
    std::int64_t mid = lo + (hi - lo) / 2;
    ++res.queries;
    z3::check_result r = q.leaves(mid);
    if (r == z3::unknown) {
      q.pop();
      gave_up(mid);
      return done();
    }
    if (r == z3::unsat) {
      hi = mid;
    } else {
      lo = mid;
    }
    q.pop();
  }
  // Why B − 1 is not inductive: the step that leaves it.
  if (hi - 1 >= sigma) {
    ++res.queries;
    if (q.leaves(hi - 1) == z3::sat) {
      z3::model m = q.s.get_model();
      InductionCounterexample cx;
      cx.work = as_int(m.eval(q.W, true));
      cx.credit = as_double(m.eval(q.c, true));
      cx.idle = m.eval(q.idle, true).is_true();
      cx.demand = as_int(m.eval(q.D, true));
      cx.served = as_int(m.eval(q.x, true));
      cx.seconds = as_double(m.eval(q.t, true));
      cx.arrived = as_int(m.eval(q.a, true));
      cx.work_after = as_int(m.eval(q.W2, true));
      cx.credit_after = as_double(m.eval(q.c2, true));
      res.below = cx;
    }
    q.pop();
  }
  if (!o.smt2_file.empty()) {
    q.s.push();
    q.s.add(z3::to_real(q.W) + q.c <= int_real(ctx, hi));
    q.s.add(z3::to_real(q.W2) + q.c2 > int_real(ctx, hi));
    std::ofstream f(o.smt2_file);
    f << "; batchproof bound: the induction step at B = " << hi << " (unsat: W + credit <= B is inductive)\n"
      << q.s.to_smt2();
    q.s.pop();
  }
  // D*: the largest demand below b_max whose iteration lets more arrive than it serves.
  for (std::int64_t d = b - 1; d >= 1; --d)
    if (env.rho * static_cast<double>(b) * e.profile.time.seconds(d) / T > static_cast<double>(d)) {
      res.growth_demand = d;
      break;
    }
  res.verdict = BoundVerdict::Proven;
  res.bound = hi;
  res.reason = fmt::format("B = {} tokens (W + credit <= B is inductive, {} is not; {}; {})", hi, hi - 1,
                           lengths_note(res.output_max), res.rests_on);
  return done();
}

}  // namespace batchproof::solver
