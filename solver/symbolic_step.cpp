#include "solver/symbolic_step.hpp"

#include <string>

namespace batchproof::solver {

namespace {

z3::expr sum(z3::context& ctx, const std::vector<z3::expr>& xs) {
  z3::expr s = ctx.int_val(0);
  for (const auto& x : xs) s = s + x;
  return s;
}

z3::expr count(z3::context& ctx, const std::vector<z3::expr>& bools) {
  std::vector<z3::expr> xs;
  for (const auto& b : bools) xs.push_back(z3::ite(b, ctx.int_val(1), ctx.int_val(0)));
  return sum(ctx, xs);
}

z3::expr smaller(const z3::expr& a, const z3::expr& b) { return z3::ite(a <= b, a, b); }

// Forms the batch rule by rule, as core::step's Former does.
class Former {
 public:
  Former(z3::context& ctx, const core::Engine& e, const SymbolicState& s)
      : ctx_(ctx), e_(e), s_(s), used_(ctx.int_val(0)), items_(ctx.int_val(0)) {
    budget_ = e.token_budget ? ctx.int_val(static_cast<int64_t>(*e.token_budget)) : ctx.int_val(kSymbolicUnlimited);
    for (const auto& r : s.requests) {
      prefill_.push_back(ctx.int_val(0));
      decode_.push_back(ctx.bool_val(false));
      (void)r;
    }
    auto kv = e.kv_tokens();
    limited_ = kv.has_value();
    cap_ = kv.value_or(0);
    bs_ = std::max<int64_t>(1, e.block_size);
    if (kv) watermark_ = static_cast<int64_t>(e.watermark * static_cast<double>(*kv / bs_)) * bs_;
    vidur_ = e.accounting == core::Accounting::Vidur;
    z3::expr used_kv = ctx.int_val(0);
    for (const auto& r : s.requests) {
      held_.push_back(z3::ite(r.present && r.admitted, held_kv(ctx, e, r), ctx.int_val(0)));
      used_kv = used_kv + held_.back();
    }
    free_ = limited_ ? ctx.int_val(cap_) - used_kv : ctx.int_val(kSymbolicUnlimited);
    assumptions_ = limited_ ? used_kv <= ctx.int_val(cap_) : ctx.bool_val(true);
    start_ = counters();
    prefill_items_ = ctx.int_val(0);
    max_prefill_ = ctx.int_val(0);
    running_ = start_.running;
  }

  SymbolicBatch run() {
    run(e_.policy.body, ctx_.bool_val(true));
    return SymbolicBatch{prefill_, decode_, used_, items_, held_, free_, assumptions_};
  }

 private:
  struct Counters {
    z3::expr waiting, running, decoding, started, budget_left, free_kv, batch_tokens, batch_requests, since;
  };

  // Phases as the iteration starts.
  z3::expr is_waiting(const SymbolicRequest& r) const { return r.present && !r.admitted; }
  z3::expr is_started(const SymbolicRequest& r) const { return r.present && r.admitted && r.prefilled < r.prompt; }
  z3::expr is_decoding(const SymbolicRequest& r) const {
    return r.present && r.admitted && r.prefilled == r.prompt && r.decoded < r.output;
  }
  z3::expr in_batch(std::size_t i) const { return prefill_[i] > 0 || decode_[i]; }

  Counters counters() const {
    std::vector<z3::expr> waiting, admitted_now, running, decoding, started;
    for (std::size_t i = 0; i < s_.requests.size(); ++i) {
      const auto& r = s_.requests[i];
      waiting.push_back(is_waiting(r) && !(prefill_[i] > 0));
      admitted_now.push_back(is_waiting(r) && prefill_[i] > 0);
      running.push_back(r.present && r.admitted);
      decoding.push_back(is_decoding(r));
      started.push_back(is_started(r));
    }
    return Counters{count(ctx_, waiting),
                    count(ctx_, running) + count(ctx_, admitted_now),
                    count(ctx_, decoding),
                    count(ctx_, started),
                    budget_ - used_,
                    limited_ ? free_ : ctx_.int_val(kSymbolicUnlimited),
                    used_,
                    items_,
                    s_.since_prefill};
  }

  z3::expr value(core::Counter c, const Counters& k) const {
    switch (c) {
      case core::Counter::Waiting: return k.waiting;
      case core::Counter::Running: return k.running;
      case core::Counter::Decoding: return k.decoding;
      case core::Counter::Started: return k.started;
      case core::Counter::Pending: return k.started + k.waiting;
      case core::Counter::BudgetLeft: return k.budget_left;
      case core::Counter::FreeKv: return k.free_kv;
      case core::Counter::BatchTokens: return k.batch_tokens;
      case core::Counter::BatchRequests: return k.batch_requests;
      case core::Counter::IterationsSincePrefill: return k.since;
    }
    return ctx_.int_val(0);
  }

  z3::expr expr(const core::Expr& x, const Counters& k) const {
    z3::expr s = ctx_.int_val(0);
    for (const auto& t : x.terms) {
      z3::expr v = t.counter ? value(*t.counter, k) : ctx_.int_val(static_cast<int64_t>(t.constant));
      s = t.negative ? s - v : s + v;
    }
    return s;
  }

  z3::expr holds(const core::Condition& c, const Counters& k) const {
    switch (c.kind) {
      case core::Condition::Kind::Compare: {
        z3::expr l = expr(c.lhs, k), r = expr(c.rhs, k);
        switch (c.op) {
          case core::CmpOp::Lt: return l < r;
          case core::CmpOp::Le: return l <= r;
          case core::CmpOp::Gt: return l > r;
          case core::CmpOp::Ge: return l >= r;
          case core::CmpOp::Eq: return l == r;
          case core::CmpOp::Ne: return l != r;
        }
        return ctx_.bool_val(false);
      }
      case core::Condition::Kind::And: {
        z3::expr all = ctx_.bool_val(true);
        for (const auto& o : c.operands) all = all && holds(o, k);
        return all;
      }
      case core::Condition::Kind::Or: {
        z3::expr any = ctx_.bool_val(false);
        for (const auto& o : c.operands) any = any || holds(o, k);
        return any;
      }
      case core::Condition::Kind::Not: return !holds(c.operands.front(), k);
    }
    return ctx_.bool_val(false);
  }

  // The branches of a `when` are exclusive, so each runs under its own enabling condition.
  void run(const std::vector<core::PolicyStmt>& body, const z3::expr& enabled) {
    for (const auto& stmt : body) {
      if (stmt.rule) {
        rule(*stmt.rule, enabled);
        continue;
      }
      for (const auto& w : stmt.when) {
        z3::expr none_before = ctx_.bool_val(true);
        for (const auto& b : w.branches) {
          z3::expr c = holds(b.condition, start_);
          run(b.body, enabled && none_before && c);
          none_before = none_before && !c;
        }
        run(w.otherwise, enabled && none_before);
      }
    }
  }

  // One candidate visit of a rule, as core's `visit`.
  struct Scan {
    z3::expr active;  // the rule has not ended
    z3::expr taken;   // requests the rule took so far
  };

  z3::expr rounded(const z3::expr& tokens) const {
    if (bs_ == 1) return tokens;
    return ((tokens + ctx_.int_val(bs_ - 1)) / ctx_.int_val(bs_)) * ctx_.int_val(bs_);
  }
  // Tokens processed after n more prompt tokens (and Vidur's first output token with them).
  z3::expr processed_after(const SymbolicRequest& r, const z3::expr& n) const {
    z3::expr done = r.prefilled + n + r.decoded;
    if (!vidur_) return done;
    return done + z3::ite(n > 0 && r.prefilled + n >= r.prompt, ctx_.int_val(1), ctx_.int_val(0));
  }
  // core's fit_chunk_to_memory: the largest n' ≤ n whose processed tokens fit in what the
  // request holds plus the free KV (two reductions reach it: only Vidur's extra token can
  // make the first one short).
  z3::expr fit_chunk(const SymbolicRequest& r, const z3::expr& n, const z3::expr& held, const z3::expr& free) const {
    z3::expr cap = ((held + free) / ctx_.int_val(bs_)) * ctx_.int_val(bs_);
    z3::expr room = cap - (r.prefilled + r.decoded);
    z3::expr c1 = smaller(n - 1, room);
    z3::expr c2 = z3::ite(c1 > 0 && processed_after(r, c1) > cap, smaller(c1 - 1, room), c1);
    z3::expr out = z3::ite(n <= 0 || processed_after(r, n) <= cap, n, c2);
    return z3::ite(out < 0, ctx_.int_val(0), out);
  }

  // `here`: this candidate is the one visited now (always, for fcfs and lifo).
  void visit(const core::Rule& rule, std::size_t i, bool from_queue, Scan& scan, const z3::expr& here) {
    const auto& r = s_.requests[i];
    z3::expr limit_hit = rule.limit ? scan.taken >= ctx_.int_val(static_cast<int64_t>(*rule.limit)) : ctx_.bool_val(false);
    z3::expr eligible = !in_batch(i);
    if (rule.phase == core::Phase::Decode) eligible = eligible && is_decoding(r);
    else eligible = eligible && (from_queue ? is_waiting(r) : is_started(r));
    z3::expr room = rule.unbudgeted ? ctx_.int_val(kSymbolicUnlimited) : budget_ - used_;
    z3::expr n = ctx_.int_val(1);
    z3::expr fits = room >= 1;
    if (rule.phase == core::Phase::Prefill) {
      z3::expr remaining = r.prompt - r.prefilled;
      if (!rule.unbudgeted && e_.budget_form == core::BudgetForm::Padded) {
        // (n + 1) · max(prefill sizes) ≤ budget over the prefill items with this one: a case
        // split over the number of items keeps the arithmetic linear.
        z3::expr padded_room = ctx_.int_val(0);
        int64_t b = static_cast<int64_t>(*e_.token_budget);
        for (int64_t k = static_cast<int64_t>(s_.requests.size()) + 1; k >= 1; --k)
          padded_room = z3::ite(prefill_items_ + 1 == ctx_.int_val(k),
                                z3::ite(max_prefill_ * ctx_.int_val(k) > ctx_.int_val(b), ctx_.int_val(0), ctx_.int_val(b / k)),
                                padded_room);
        room = smaller(room, padded_room);
      }
      if (rule.grain == core::Grain::Whole) {
        n = remaining;
        fits = remaining <= room;
      } else {
        n = smaller(remaining, room);
        if (rule.chunk_max) n = smaller(n, ctx_.int_val(static_cast<int64_t>(*rule.chunk_max)));
        fits = n >= 1;
      }
    }
    z3::expr new_held = held_[i];  // what the request holds if it takes its tokens
    if (limited_) {
      if (rule.phase == core::Phase::Decode) {
        z3::expr need = rounded(r.prefilled + r.decoded + 1);
        new_held = z3::ite(need > held_[i], need, held_[i]);
        fits = fits && new_held - held_[i] <= free_;
      } else if (!from_queue) {
        if (rule.grain == core::Grain::Chunk) {
          n = fit_chunk(r, n, held_[i], free_);
          fits = n >= 1;
        }
        z3::expr need = rounded(processed_after(r, n));
        new_held = z3::ite(need > held_[i], need, held_[i]);
        fits = fits && new_held - held_[i] <= free_;
      } else {
        z3::expr free_adm = free_ - ctx_.int_val(watermark_);
        z3::expr reserve = rounded(reservation(r));
        if (rule.grain == core::Grain::Chunk) {
          z3::expr spare = free_adm - reserve;
          n = fit_chunk(r, n, reserve, z3::ite(spare < 0, ctx_.int_val(0), spare));
          fits = n >= 1;
        }
        z3::expr need = rounded(processed_after(r, n));
        new_held = z3::ite(need > reserve, need, reserve);
        fits = fits && new_held <= free_adm;
      }
    }
    if (e_.max_batch) fits = fits && items_ < ctx_.int_val(static_cast<int64_t>(*e_.max_batch));
    if (e_.max_running && from_queue) fits = fits && running_ < ctx_.int_val(static_cast<int64_t>(*e_.max_running));
    z3::expr reached = here && scan.active && !limit_hit && eligible;
    z3::expr take = reached && fits;
    z3::expr blocked = reached && !fits;
    if (rule.phase == core::Phase::Decode) decode_[i] = decode_[i] || take;
    else {
      prefill_[i] = z3::ite(take, n, prefill_[i]);
      prefill_items_ = prefill_items_ + z3::ite(take, ctx_.int_val(1), ctx_.int_val(0));
      max_prefill_ = z3::ite(take && n > max_prefill_, n, max_prefill_);
      if (from_queue) running_ = running_ + z3::ite(take, ctx_.int_val(1), ctx_.int_val(0));
    }
    if (limited_) {
      free_ = (free_ - z3::ite(take, new_held - held_[i], ctx_.int_val(0))).simplify();
      held_[i] = z3::ite(take, new_held, held_[i]);
    }
    used_ = used_ + z3::ite(take, n, ctx_.int_val(0));
    items_ = items_ + z3::ite(take, ctx_.int_val(1), ctx_.int_val(0));
    scan.taken = scan.taken + z3::ite(take, ctx_.int_val(1), ctx_.int_val(0));
    z3::expr ends = here && limit_hit;
    if (rule.blocked == core::Blocked::Stop) ends = ends || blocked;
    scan.active = scan.active && !ends;
    // Simplify as we go: the terms grow with every visit.
    used_ = used_.simplify();
    items_ = items_.simplify();
  }

  void rule(const core::Rule& rule, const z3::expr& enabled) {
    z3::expr guard = enabled;
    if (rule.guard) guard = guard && holds(*rule.guard, counters());
    Scan scan{guard, ctx_.int_val(0)};
    std::vector<std::pair<std::size_t, bool>> order;  // (request, from the waiting queue)
    std::size_t n = s_.requests.size();
    bool reads_running = rule.phase == core::Phase::Decode || rule.source != core::Source::Waiting;
    bool reads_queue = rule.phase == core::Phase::Prefill && rule.source != core::Source::Started;
    if (reads_running)
      for (std::size_t i = 0; i < n; ++i) order.emplace_back(i, false);
    if (reads_queue)
      for (std::size_t i = 0; i < n; ++i) order.emplace_back(i, true);
    if (rule.order == core::Order::Lifo) std::reverse(order.begin(), order.end());
    if (rule.order == core::Order::Fcfs || rule.order == core::Order::Lifo) {
      for (const auto& [i, queue] : order) visit(rule, i, queue, scan, ctx_.bool_val(true));
      return;
    }
    // Key orders: at each step, the unvisited candidate with the smallest key (ties: the
    // earlier in FCFS order) is visited; exactly one candidate is chosen per step.
    std::vector<z3::expr> key, visited;
    for (const auto& [i, queue] : order) {
      const auto& r = s_.requests[i];
      key.push_back(rule.order == core::Order::ShortestPrompt      ? r.prompt
                    : rule.order == core::Order::ShortestRemaining ? (r.prompt - r.prefilled) + (r.output - r.decoded)
                                                                    : r.priority);
      visited.push_back(ctx_.bool_val(false));
    }
    for (std::size_t step = 0; step < order.size(); ++step) {
      std::vector<z3::expr> chosen;
      for (std::size_t c = 0; c < order.size(); ++c) {
        z3::expr first = !visited[c];
        for (std::size_t d = 0; d < order.size(); ++d) {
          if (d == c) continue;
          z3::expr before = d < c ? key[c] < key[d] : key[c] <= key[d];
          first = first && (visited[d] || before);
        }
        chosen.push_back(first.simplify());
      }
      for (std::size_t c = 0; c < order.size(); ++c) {
        visit(rule, order[c].first, order[c].second, scan, chosen[c]);
        visited[c] = visited[c] || chosen[c];
      }
    }
  }

  z3::context& ctx_;
  const core::Engine& e_;
  const SymbolicState& s_;
  z3::expr budget_{ctx_}, used_, items_;
  z3::expr prefill_items_{ctx_}, max_prefill_{ctx_};  // for the padded budget
  z3::expr running_{ctx_};                            // admitted requests, live (max_running)
  // KV memory, when the engine has a limit.
  bool limited_ = false, vidur_ = false;
  int64_t cap_ = 0, bs_ = 1, watermark_ = 0;
  std::vector<z3::expr> held_;
  z3::expr free_{ctx_}, assumptions_{ctx_};

  z3::expr reservation(const SymbolicRequest& r) const {
    switch (e_.admission) {
      case core::Admission::Prompt: return r.prompt;
      case core::Admission::MaxLength:
        return e_.max_seq_len ? ctx_.int_val(static_cast<int64_t>(*e_.max_seq_len)) : r.prompt + r.output;
      default: return ctx_.int_val(0);
    }
  }
  std::vector<z3::expr> prefill_, decode_;
  Counters start_{ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0),
                  ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0)};
};

}  // namespace

SymbolicState make_state(z3::context& ctx, int n) {
  SymbolicState s{{}, ctx.int_const("since_prefill"), ctx.bool_val(true)};
  z3::expr wf = s.since_prefill >= 0;
  for (int i = 0; i < n; ++i) {
    auto name = [&](const char* field) { return std::string(field) + "@" + std::to_string(i); };
    SymbolicRequest r{ctx.bool_const(name("present").c_str()), ctx.bool_const(name("admitted").c_str()),
                      ctx.int_const(name("prompt").c_str()),   ctx.int_const(name("prefilled").c_str()),
                      ctx.int_const(name("output").c_str()),   ctx.int_const(name("decoded").c_str()),
                      ctx.int_const(name("priority").c_str())};
    wf = wf && r.priority >= 0;
    wf = wf && z3::implies(r.present, r.prompt >= 1 && r.prefilled >= 0 && r.prefilled <= r.prompt &&
                                          r.output >= 1 && r.decoded >= 0 && r.decoded < r.output &&
                                          z3::implies(r.decoded > 0, r.prefilled == r.prompt) &&
                                          z3::implies(r.admitted, r.prefilled >= 1) &&
                                          z3::implies(!r.admitted, r.prefilled == 0 && r.decoded == 0));
    // Absent requests are all zero, and present ones come first: states differ only in what
    // matters (symmetry), and the minimal counterexample is well defined.
    wf = wf && z3::implies(!r.present, !r.admitted && r.prompt == 0 && r.prefilled == 0 && r.output == 0 &&
                                           r.decoded == 0 && r.priority == 0);
    if (i > 0) wf = wf && z3::implies(r.present, s.requests.back().present);
    s.requests.push_back(r);
  }
  s.well_formed = wf;
  return s;
}

z3::expr held_kv(z3::context& ctx, const core::Engine& e, const SymbolicRequest& r) {
  int64_t bs = std::max<int64_t>(1, e.block_size);
  auto rounded = [&](const z3::expr& t) {
    return bs == 1 ? t : ((t + ctx.int_val(bs - 1)) / ctx.int_val(bs)) * ctx.int_val(bs);
  };
  z3::expr reserve = ctx.int_val(0);
  if (e.admission == core::Admission::Prompt) reserve = r.prompt;
  if (e.admission == core::Admission::MaxLength)
    reserve = e.max_seq_len ? ctx.int_val(static_cast<int64_t>(*e.max_seq_len)) : r.prompt + r.output;
  z3::expr a = rounded(reserve), b = rounded(r.prefilled + r.decoded);
  return z3::ite(a >= b, a, b);
}

SymbolicBatch symbolic_batch(z3::context& ctx, const core::Engine& engine, const SymbolicState& state) {
  return Former(ctx, engine, state).run();
}

}  // namespace batchproof::solver
