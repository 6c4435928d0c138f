// The witness search: two periods of the symbolic step, the second checking that the first's
// growth is never read (MODEL.md §4), then a concrete replay of many periods.
#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "core/policy.hpp"
#include "core/token_bucket.hpp"
#include "solver/symbolic_run.hpp"
#include "solver/witness.hpp"

namespace batchproof::solver {

namespace {

bool reads_since_prefill(const core::Condition& c) {
  for (const core::Expr* x : {&c.lhs, &c.rhs})
    for (const auto& t : x->terms)
      if (t.counter == core::Counter::IterationsSincePrefill) return true;
  for (const auto& o : c.operands)
    if (reads_since_prefill(o)) return true;
  return false;
}

bool reads_since_prefill(const std::vector<core::PolicyStmt>& body) {
  for (const auto& st : body) {
    if (st.rule && st.rule->guard && reads_since_prefill(*st.rule->guard)) return true;
    for (const auto& w : st.when) {
      for (const auto& br : w.branches)
        if (reads_since_prefill(br.condition) || reads_since_prefill(br.body)) return true;
      if (reads_since_prefill(w.otherwise)) return true;
    }
  }
  return false;
}

z3::expr one_if(z3::context& ctx, const z3::expr& b) { return z3::ite(b, ctx.int_val(1), ctx.int_val(0)); }

std::int64_t int_of(const z3::model& m, const z3::expr& x) {
  std::int64_t v = 0;
  m.eval(x, true).is_numeral_i64(v);
  return v;
}

// One query: is there a witness of period L?
class PeriodQuery {
 public:
  PeriodQuery(z3::context& ctx, const core::Engine& e, double capacity, const LengthBounds& lb, const SearchOptions& o,
              int period)
      : ctx_(ctx), e_(e), capacity_(capacity), lb_(lb), o_(o), L_(period), solver_(ctx) {}

  z3::check_result check() {
    if (!built_) build();
    built_ = true;
    z3::params p(ctx_);
    p.set("timeout", static_cast<unsigned>(o_.timeout_s * 1000));
    solver_.set(p);
    if (!o_.smt2_file.empty()) {
      std::ofstream f(o_.smt2_file);
      f << solver_ << "(check-sat)\n";
    }
    return solver_.check();
  }

  // Excludes the last witness's lengths (a candidate the replay refuted).
  void exclude_last() {
    z3::model m = solver_.get_model();
    z3::expr same = ctx_.bool_val(true);
    for (const auto& r : start_.requests) {
      z3::expr present = r.present;
      for (const auto& j : joins1_)
        if (&start_.requests[j.slot] == &r) present = j.arrives;
      same = same && present == m.eval(present, true) && r.prompt == m.eval(r.prompt, true) &&
             r.output == m.eval(r.output, true);
    }
    solver_.add(!same);
  }

  Witness witness() const {
    z3::model m = solver_.get_model();
    Witness w;
    w.period = L_;
    for (int i = 0; i < n0_; ++i) {
      const auto& r = start_.requests[static_cast<std::size_t>(i)];
      if (!m.eval(r.present, true).is_true()) continue;
      w.start.push_back({0.0, int_of(m, r.prompt), int_of(m, r.output), ""});
    }
    for (const auto& j : joins1_) {
      if (!m.eval(j.arrives, true).is_true()) continue;
      const auto& r = start_.requests[j.slot];
      w.pattern.push_back({j.iteration - 1, int_of(m, r.prompt), int_of(m, r.output)});
    }
    return w;
  }

 private:
  z3::expr bounded(const SymbolicRequest& r) {
    return r.prompt >= ctx_.int_val(lb_.prompt_lo) && r.prompt <= ctx_.int_val(lb_.prompt_hi) &&
           r.output >= ctx_.int_val(lb_.output_lo) && r.output <= ctx_.int_val(lb_.output_hi);
  }

  SymbolicRequest fresh(const std::string& name) {
    if (o_.uniform_lengths)
      return SymbolicRequest{ctx_.bool_const((name + "present").c_str()), ctx_.bool_val(false),
                             ctx_.int_const("prompt"), ctx_.int_val(0), ctx_.int_const("output"), ctx_.int_val(0),
                             ctx_.int_val(0)};
    return SymbolicRequest{ctx_.bool_const((name + "present").c_str()), ctx_.bool_val(false),
                           ctx_.int_const((name + "prompt").c_str()),   ctx_.int_val(0),
                           ctx_.int_const((name + "output").c_str()),   ctx_.int_val(0),
                           ctx_.int_val(0)};
  }

  // The (σ, ρ) envelope on every window of the periodic pattern, the start state a burst at
  // time 0. A request arriving during iteration j arrives at its middle (as the replay places
  // it), τ_j = t_0 + ... + t_{j-1} + t_j / 2. Since a whole period brings at most ρ·C·T, a window
  // longer than a period never needs more σ than a shorter one, so it is enough to bound the
  // windows [τ_i, τ_j] of one period, those that wrap into the next, and [0, τ_j] with the burst.
  void add_envelope(const std::vector<z3::expr>& arriving, const std::vector<z3::expr>& seconds, const z3::expr& T) {
    const z3::expr rate = real_of(ctx_, o_.load * capacity_);
    const z3::expr sigma = real_of(ctx_, static_cast<double>(*o_.sigma_tokens));
    std::vector<z3::expr> tau;
    z3::expr elapsed = real_of(ctx_, 0);
    for (int j = 0; j < L_; ++j) {
      tau.push_back(elapsed + seconds[static_cast<std::size_t>(j)] / real_of(ctx_, 2));
      elapsed = elapsed + seconds[static_cast<std::size_t>(j)];
    }
    z3::expr burst = ctx_.int_val(0);
    for (int k = 0; k < n0_; ++k) {
      const auto& x = start_.requests[static_cast<std::size_t>(k)];
      burst = burst + z3::ite(x.present, x.prompt + x.output, ctx_.int_val(0));
    }
    solver_.add(z3::to_real(burst) <= sigma);
    auto within = [&](int i, int j) {  // arrivals of iterations i..j of one period
      z3::expr s = ctx_.int_val(0);
      for (int k = i; k <= j; ++k) s = s + arriving[static_cast<std::size_t>(k)];
      return z3::to_real(s);
    };
    for (int j = 0; j < L_; ++j) {
      auto J = static_cast<std::size_t>(j);
      solver_.add(z3::to_real(burst) + within(0, j) <= sigma + rate * tau[J]);
      for (int i = 0; i <= j; ++i)
        solver_.add(within(i, j) <= sigma + rate * (tau[J] - tau[static_cast<std::size_t>(i)]));
      for (int i = j + 1; i < L_; ++i)
        solver_.add(within(i, L_ - 1) + within(0, j) <= sigma + rate * (T - tau[static_cast<std::size_t>(i)] + tau[J]));
    }
  }

  void build() {
    const int A = o_.arrivals_per_iteration;
    n0_ = o_.start_requests;
    // The start state: up to n0 waiting requests (a start from the empty system), then the
    // slots of the period's arrivals, absent until they join.
    start_ = SymbolicState{{}, ctx_.int_val(0), ctx_.bool_val(true)};
    for (int i = 0; i < n0_; ++i) {
      SymbolicRequest r = fresh(fmt::format("x0_{}_", i));
      solver_.add(z3::implies(r.present, bounded(r)));
      if (i > 0) solver_.add(z3::implies(r.present, start_.requests.back().present));
      start_.requests.push_back(r);
    }
    z3::expr work = ctx_.int_val(0);
    std::vector<z3::expr> arriving;  // work arriving during iteration j
    for (int j = 0; j < L_; ++j) {
      arriving.push_back(ctx_.int_val(0));
      for (int a = 0; a < A; ++a) {
        SymbolicRequest r = fresh(fmt::format("a{}_{}_", j, a));
        solver_.add(z3::implies(r.present, bounded(r)));
        if (a > 0) solver_.add(z3::implies(r.present, joins1_.back().arrives));
        joins1_.push_back({start_.requests.size(), j + 1, r.present});
        z3::expr w = z3::ite(r.present, r.prompt + r.output, ctx_.int_val(0));
        work = work + w;
        arriving.back() = arriving.back() + w;
        r.present = ctx_.bool_val(false);
        start_.requests.push_back(r);
      }
    }
    SymbolicRun run1 = unroll(ctx_, e_, start_, joins1_, L_, "p1_");
    solver_.add(run1.definitions);

    // Every iteration works (an idle engine would wait for arrivals, outside the pattern), and
    // the period's arrivals are at most ρ × capacity × its duration.
    z3::expr period_s = real_of(ctx_, 0);
    std::vector<z3::expr> seconds;
    for (int j = 0; j < L_; ++j) {
      const auto& b = run1.batches[static_cast<std::size_t>(j)];
      solver_.add(b.tokens >= 1);
      solver_.add(b.assumptions);
      SymbolicDuration d = symbolic_seconds(ctx_, e_.profile.time, b.tokens, fmt::format("t{}", j));
      solver_.add(d.constraints);
      seconds.push_back(d.seconds);
      period_s = period_s + d.seconds;
    }
    solver_.add(z3::to_real(work) <= real_of(ctx_, o_.load * capacity_) * period_s);
    if (o_.sigma_tokens) add_envelope(arriving, seconds, period_s);

    // The end state is the start state, request for request in order, plus Δ: requests the
    // matching leaves out, with work left.
    const SymbolicState& end = run1.states.back();
    const std::size_t S = end.requests.size();
    std::vector<z3::expr> delta, rank;
    z3::expr matched_before = ctx_.int_val(0), growth = ctx_.int_val(0), n_start = ctx_.int_val(0);
    for (int k = 0; k < n0_; ++k) n_start = n_start + one_if(ctx_, start_.requests[static_cast<std::size_t>(k)].present);
    for (std::size_t i = 0; i < S; ++i) {
      const auto& r = end.requests[i];
      delta.push_back(ctx_.bool_const(fmt::format("delta@{}", i).c_str()));
      solver_.add(z3::implies(delta[i], r.present));
      rank.push_back(matched_before);
      z3::expr matched = r.present && !delta[i];
      for (int k = 0; k < n0_; ++k) {
        const auto& x = start_.requests[static_cast<std::size_t>(k)];
        solver_.add(z3::implies(matched && rank[i] == k, x.present && !r.admitted && r.prefilled == 0 &&
                                                             r.decoded == 0 && r.prompt == x.prompt &&
                                                             r.output == x.output));
      }
      matched_before = matched_before + one_if(ctx_, matched);
      growth = growth + z3::ite(delta[i], (r.prompt - r.prefilled) + (r.output - r.decoded), ctx_.int_val(0));
    }
    solver_.add(matched_before == n_start);
    solver_.add(growth > 0);
    if (reads_since_prefill(e_.policy.body)) solver_.add(end.since_prefill == start_.since_prefill);

    // The second period starts from the end state, with the same arrivals: each matched request
    // gets what its image got in the first, Δ gets nothing, and so Δ is never read.
    SymbolicState start2 = end;
    std::vector<JoiningSlot> joins2;
    for (const auto& j : joins1_) {
      SymbolicRequest r = start_.requests[j.slot];
      r.present = ctx_.bool_val(false);
      joins2.push_back({start2.requests.size(), j.iteration, j.arrives});
      start2.requests.push_back(r);
    }
    SymbolicRun run2 = unroll(ctx_, e_, start2, joins2, L_, "p2_");
    solver_.add(run2.definitions);
    for (int j = 0; j < L_; ++j) {
      const auto& b1 = run1.batches[static_cast<std::size_t>(j)];
      const auto& b2 = run2.batches[static_cast<std::size_t>(j)];
      solver_.add(b2.assumptions);
      for (std::size_t i = 0; i < S; ++i) {
        z3::expr matched = end.requests[i].present && !delta[i];
        for (int k = 0; k < n0_; ++k)
          solver_.add(z3::implies(matched && rank[i] == k, b2.prefill[i] == b1.prefill[static_cast<std::size_t>(k)] &&
                                                               b2.decode[i] == b1.decode[static_cast<std::size_t>(k)]));
        solver_.add(z3::implies(delta[i], b2.prefill[i] == 0 && !b2.decode[i]));
      }
      for (std::size_t a = 0; a < joins1_.size(); ++a) {
        std::size_t s1 = joins1_[a].slot, s2 = joins2[a].slot;
        solver_.add(b2.prefill[s2] == b1.prefill[s1] && b2.decode[s2] == b1.decode[s1]);
      }
    }
  }

  z3::context& ctx_;
  const core::Engine& e_;
  double capacity_;
  LengthBounds lb_;
  const SearchOptions& o_;
  int L_;
  z3::solver solver_;
  int n0_ = 0;
  bool built_ = false;
  SymbolicState start_{{}, ctx_.int_val(0), ctx_.bool_val(true)};
  std::vector<JoiningSlot> joins1_;
};

}  // namespace

std::string search_unsupported(const core::Engine& e) {
  if (e.kv_tokens() && e.preemption != core::Preemption::None)
    return "the engine preempts when KV memory runs out (preemption is not encoded yet)";
  if (e.kv_tokens() && e.admission == core::Admission::PeakEstimate)
    return "the engine admits by LightLLM's peak estimate (not encoded yet)";
  if (e.batching == core::Batching::Static) return "the engine batches statically (not encoded yet)";
  // Slots stay in arrival order: admissions out of arrival order would reorder the running set.
  std::function<bool(const std::vector<core::PolicyStmt>&)> reorders = [&](const std::vector<core::PolicyStmt>& body) {
    for (const auto& st : body) {
      if (st.rule && st.rule->source != core::Source::Running && st.rule->order != core::Order::Fcfs) return true;
      for (const auto& w : st.when) {
        for (const auto& br : w.branches)
          if (reorders(br.body)) return true;
        if (reorders(w.otherwise)) return true;
      }
    }
    return false;
  };
  if (reorders(e.policy.body)) return "the policy admits requests out of arrival order (not encoded in the search yet)";
  return "";
}

SearchResult search_witness(const core::Engine& e, double capacity, const LengthBounds& lb, const SearchOptions& o,
                            int replay_periods) {
  auto t0 = std::chrono::steady_clock::now();
  SearchResult res;
  auto done = [&]() -> SearchResult& {
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return res;
  };
  if (std::string why = search_unsupported(e); !why.empty()) {
    res.reason = why;
    return done();
  }
  if (!(capacity > 0)) {
    res.reason = "the engine's compute capacity is not finite (no token budget)";
    return done();
  }
  bool gave_up = false;
  for (int L : o.periods) {
    z3::context ctx;
    PeriodQuery q(ctx, e, capacity, lb, o, L);
    for (int candidate = 0;; ++candidate) {
      z3::check_result r = q.check();
      if (r == z3::unsat) {
        if (candidate == 0) res.periods_searched.push_back(L);
        break;
      }
      if (r == z3::unknown) {
        gave_up = true;
        res.reason = fmt::format("the solver gave up within {} s at period {}", o.timeout_s, L);
        break;
      }
      Witness w = q.witness();
      Replay rp = replay_witness(e, w, capacity, replay_periods);
      rp.burst_tokens = core::envelope_burst(rp.arrivals, o.load * capacity);
      // The solver bounded every window of the pattern; the replay's arrivals must agree.
      if (rp.repeats && o.sigma_tokens && rp.burst_tokens > static_cast<double>(*o.sigma_tokens) * (1 + 1e-9) + 1e-6) {
        res.verdict = SearchVerdict::InternalError;
        res.reason = fmt::format("the replayed arrivals need a burst of {:.1f} tokens, more than sigma = {} that the "
                                 "solver's witness kept",
                                 rp.burst_tokens, *o.sigma_tokens);
        res.witness = std::move(w);
        res.replay = std::move(rp);
        return done();
      }
      if (rp.repeats) {
        res.verdict = SearchVerdict::Found;
        res.witness = std::move(w);
        res.replay = std::move(rp);
        return done();
      }
      // The solver checked two periods; a candidate whose first two periods the concrete step
      // does not reproduce means the two semantics disagree. A later period that differs is the
      // growth reaching what the policy reads: not a witness, so look for another.
      if (rp.failed_period <= 2) {
        res.verdict = SearchVerdict::InternalError;
        res.reason = "the concrete replay does not confirm the solver's witness: " + rp.mismatch;
        res.witness = std::move(w);
        res.replay = std::move(rp);
        return done();
      }
      ++res.refuted_candidates;
      if (candidate + 1 >= o.candidates_per_period) {
        gave_up = true;
        res.reason = fmt::format("{} candidates at period {} were refuted by the replay (the growth reaches what "
                                 "the policy reads); the last: {}",
                                 candidate + 1, L, rp.mismatch);
        break;
      }
      q.exclude_last();
    }
  }
  res.verdict = gave_up ? SearchVerdict::Unknown : SearchVerdict::NotFound;
  return done();
}

}  // namespace batchproof::solver
