#include "solver/symbolic_step.hpp"

#include <algorithm>
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
z3::expr one_if(z3::context& ctx, const z3::expr& b) { return z3::ite(b, ctx.int_val(1), ctx.int_val(0)); }

// The engine's constants that a visit reads.
struct Limits {
  bool limited = false, vidur = false;
  int64_t cap = 0, bs = 1, watermark = 0;
  explicit Limits(const core::Engine& e) {
    auto kv = e.kv_tokens();
    limited = kv.has_value();
    cap = kv.value_or(0);
    bs = std::max<int64_t>(1, e.block_size);
    if (kv) watermark = static_cast<int64_t>(e.watermark * static_cast<double>(*kv / bs)) * bs;
    vidur = e.accounting == core::Accounting::Vidur;
  }
};

z3::expr rounded(z3::context& ctx, int64_t bs, const z3::expr& tokens) {
  if (bs == 1) return tokens;
  return ((tokens + ctx.int_val(bs - 1)) / ctx.int_val(bs)) * ctx.int_val(bs);
}
// Tokens processed after n more prompt tokens (and Vidur's first output token with them).
z3::expr processed_after(z3::context& ctx, bool vidur, const SymbolicRequest& r, const z3::expr& n) {
  z3::expr done = r.prefilled + n + r.decoded;
  if (!vidur) return done;
  return done + z3::ite(n > 0 && r.prefilled + n >= r.prompt, ctx.int_val(1), ctx.int_val(0));
}
// core's fit_chunk_to_memory: the largest n' ≤ n whose processed tokens fit in what the
// request holds plus the free KV (two reductions reach it: only Vidur's extra token can
// make the first one short).
z3::expr fit_chunk(z3::context& ctx, const Limits& l, const SymbolicRequest& r, const z3::expr& n, const z3::expr& held,
                   const z3::expr& free) {
  z3::expr cap = ((held + free) / ctx.int_val(l.bs)) * ctx.int_val(l.bs);
  z3::expr room = cap - (r.prefilled + r.decoded);
  z3::expr c1 = smaller(n - 1, room);
  z3::expr c2 = z3::ite(c1 > 0 && processed_after(ctx, l.vidur, r, c1) > cap, smaller(c1 - 1, room), c1);
  z3::expr out = z3::ite(n <= 0 || processed_after(ctx, l.vidur, r, n) <= cap, n, c2);
  return z3::ite(out < 0, ctx.int_val(0), out);
}
z3::expr reservation(z3::context& ctx, const core::Engine& e, const SymbolicRequest& r) {
  switch (e.admission) {
    case core::Admission::Prompt: return r.prompt;
    case core::Admission::MaxLength:
      return e.max_seq_len ? ctx.int_val(static_cast<int64_t>(*e.max_seq_len)) : r.prompt + r.output;
    default: return ctx.int_val(0);
  }
}

z3::expr counter_value(z3::context& ctx, core::Counter c, const SymbolicCounters& k) {
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
  return ctx.int_val(0);
}

z3::expr expr_value(z3::context& ctx, const core::Expr& x, const SymbolicCounters& k) {
  z3::expr s = ctx.int_val(0);
  for (const auto& t : x.terms) {
    z3::expr v = t.counter ? counter_value(ctx, *t.counter, k) : ctx.int_val(static_cast<int64_t>(t.constant));
    s = t.negative ? s - v : s + v;
  }
  return s;
}

// Forms the batch rule by rule, as core::step's Former does.
class Former {
 public:
  Former(z3::context& ctx, const core::Engine& e, const SymbolicState& s)
      : ctx_(ctx), e_(e), s_(s), limits_(e),
        fold_{ctx.int_val(0), ctx.int_val(0), ctx.int_val(0), ctx.int_val(0), ctx.int_val(0), ctx.int_val(0),
              ctx.bool_val(true)} {
    z3::expr used_kv = ctx.int_val(0);
    z3::expr any_running = ctx.bool_val(false);
    for (const auto& r : s.requests) {
      z3::expr held = z3::ite(r.present && r.admitted, held_kv(ctx, e, r), ctx.int_val(0));
      slots_.push_back(Slot{ctx.int_val(0), ctx.bool_val(false), held});
      used_kv = used_kv + held;
      any_running = any_running || (r.present && r.admitted);
    }
    assumptions_ = ctx.bool_val(true);
    if (e.batching == core::Batching::Static) {
      // Every running request belongs to the cohort in progress (admission waits for the
      // previous one to finish), so a cohort runs exactly when some request does; its finished
      // members' KV is held until it ends.
      cohort_kv_ = ctx.int_const("cohort_kv");
      fold_.admission_open = !any_running;
      assumptions_ = cohort_kv_ >= 0 && z3::implies(!any_running, cohort_kv_ == 0);
      used_kv = used_kv + cohort_kv_;
    }
    fold_.free_kv = limits_.limited ? ctx.int_val(limits_.cap) - used_kv : ctx.int_val(kSymbolicUnlimited);
    if (limits_.limited) assumptions_ = assumptions_ && used_kv <= ctx.int_val(limits_.cap);
    start_ = counters();
    fold_.running = start_.running;
  }

  SymbolicBatch run() {
    run(e_.policy.body, ctx_.bool_val(true));
    SymbolicBatch b{{}, {}, fold_.used, fold_.items, {}, fold_.free_kv, assumptions_, cohort_kv_};
    for (const auto& sl : slots_) {
      b.prefill.push_back(sl.prefill);
      b.decode.push_back(sl.decode);
      b.held.push_back(sl.held);
    }
    return b;
  }

 private:
  SymbolicCounters counters() const {
    std::vector<z3::expr> waiting, admitted_now, running, decoding, started;
    for (std::size_t i = 0; i < s_.requests.size(); ++i) {
      const auto& r = s_.requests[i];
      waiting.push_back(is_waiting(r) && !(slots_[i].prefill > 0));
      admitted_now.push_back(is_waiting(r) && slots_[i].prefill > 0);
      running.push_back(r.present && r.admitted);
      decoding.push_back(is_decoding(r));
      started.push_back(is_started(r));
    }
    return SymbolicCounters{count(ctx_, waiting),
                            count(ctx_, running) + count(ctx_, admitted_now),
                            count(ctx_, decoding),
                            count(ctx_, started),
                            budget_term(ctx_, e_) - fold_.used,
                            limits_.limited ? fold_.free_kv : ctx_.int_val(kSymbolicUnlimited),
                            fold_.used,
                            fold_.items,
                            s_.since_prefill};
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
          z3::expr c = condition_holds(ctx_, b.condition, start_);
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

  // `here`: this candidate is the one visited now (always, for fcfs and lifo).
  void visit(const core::Rule& rule, std::size_t i, bool from_queue, Scan& scan, const z3::expr& here) {
    z3::expr limit_hit = rule.limit ? scan.taken >= ctx_.int_val(static_cast<int64_t>(*rule.limit)) : ctx_.bool_val(false);
    Offer o = offer(ctx_, e_, rule, s_.requests[i], from_queue, slots_[i], fold_, static_cast<int>(s_.requests.size()) + 1);
    z3::expr reached = here && scan.active && !limit_hit && o.eligible;
    z3::expr take = reached && o.fits;
    z3::expr blocked = reached && !o.fits;
    fold_ = fold_after(ctx_, e_, rule, from_queue, slots_[i], fold_, o, take);
    slots_[i] = slot_after(ctx_, e_, rule, slots_[i], o, take);
    scan.taken = scan.taken + one_if(ctx_, take);
    z3::expr ends = here && limit_hit;
    if (rule.blocked == core::Blocked::Stop) ends = ends || blocked;
    scan.active = scan.active && !ends;
  }

  void rule(const core::Rule& rule, const z3::expr& enabled) {
    z3::expr guard = enabled;
    if (rule.guard) guard = guard && condition_holds(ctx_, *rule.guard, counters());
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
  Limits limits_;
  FoldState fold_;
  std::vector<Slot> slots_;
  z3::expr assumptions_{ctx_};
  z3::expr cohort_kv_{ctx_.int_val(0)};
  SymbolicCounters start_{ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0),
                          ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0), ctx_.int_val(0)};
};

}  // namespace

z3::expr is_waiting(const SymbolicRequest& r) { return r.present && !r.admitted; }
z3::expr is_started(const SymbolicRequest& r) { return r.present && r.admitted && r.prefilled < r.prompt; }
z3::expr is_decoding(const SymbolicRequest& r) {
  return r.present && r.admitted && r.prefilled == r.prompt && r.decoded < r.output;
}

z3::expr budget_term(z3::context& ctx, const core::Engine& e) {
  return e.token_budget ? ctx.int_val(static_cast<int64_t>(*e.token_budget)) : ctx.int_val(kSymbolicUnlimited);
}

z3::expr condition_holds(z3::context& ctx, const core::Condition& c, const SymbolicCounters& k) {
  switch (c.kind) {
    case core::Condition::Kind::Compare: {
      z3::expr l = expr_value(ctx, c.lhs, k), r = expr_value(ctx, c.rhs, k);
      switch (c.op) {
        case core::CmpOp::Lt: return l < r;
        case core::CmpOp::Le: return l <= r;
        case core::CmpOp::Gt: return l > r;
        case core::CmpOp::Ge: return l >= r;
        case core::CmpOp::Eq: return l == r;
        case core::CmpOp::Ne: return l != r;
      }
      return ctx.bool_val(false);
    }
    case core::Condition::Kind::And: {
      z3::expr all = ctx.bool_val(true);
      for (const auto& o : c.operands) all = all && condition_holds(ctx, o, k);
      return all;
    }
    case core::Condition::Kind::Or: {
      z3::expr any = ctx.bool_val(false);
      for (const auto& o : c.operands) any = any || condition_holds(ctx, o, k);
      return any;
    }
    case core::Condition::Kind::Not: return !condition_holds(ctx, c.operands.front(), k);
  }
  return ctx.bool_val(false);
}

Offer offer(z3::context& ctx, const core::Engine& e, const core::Rule& rule, const SymbolicRequest& r, bool from_queue,
            const Slot& slot, const FoldState& at, int padded_cases) {
  Limits l(e);
  z3::expr budget = budget_term(ctx, e);
  z3::expr eligible = !(slot.prefill > 0 || slot.decode);
  if (rule.phase == core::Phase::Decode) eligible = eligible && is_decoding(r);
  else eligible = eligible && (from_queue ? is_waiting(r) : is_started(r));
  z3::expr room = rule.unbudgeted ? ctx.int_val(kSymbolicUnlimited) : budget - at.used;
  z3::expr n = ctx.int_val(1);
  z3::expr fits = room >= 1;
  if (rule.phase == core::Phase::Prefill) {
    z3::expr remaining = r.prompt - r.prefilled;
    if (!rule.unbudgeted && e.budget_form == core::BudgetForm::Padded) {
      // (n + 1) · max(prefill sizes) ≤ budget over the prefill items with this one.
      int64_t b = static_cast<int64_t>(*e.token_budget);
      z3::expr k = at.prefill_items + 1;
      z3::expr padded_room = ctx.int_val(0);
      if (padded_cases > 0) {
        // A case split over the number of items keeps the arithmetic linear.
        for (int64_t c = padded_cases; c >= 1; --c)
          padded_room = z3::ite(k == ctx.int_val(c),
                                z3::ite(at.max_prefill * ctx.int_val(c) > ctx.int_val(b), ctx.int_val(0), ctx.int_val(b / c)),
                                padded_room);
      } else {
        padded_room = z3::ite(at.max_prefill * k > ctx.int_val(b), ctx.int_val(0), ctx.int_val(b) / k);
      }
      room = smaller(room, padded_room);
    }
    if (rule.grain == core::Grain::Whole) {
      n = remaining;
      fits = remaining <= room;
    } else {
      n = smaller(remaining, room);
      if (rule.chunk_max) n = smaller(n, ctx.int_val(static_cast<int64_t>(*rule.chunk_max)));
      fits = n >= 1;
    }
  }
  z3::expr new_held = slot.held;  // what the request holds if it takes its tokens
  if (l.limited) {
    if (rule.phase == core::Phase::Decode) {
      z3::expr need = rounded(ctx, l.bs, r.prefilled + r.decoded + 1);
      new_held = z3::ite(need > slot.held, need, slot.held);
      fits = fits && new_held - slot.held <= at.free_kv;
    } else if (!from_queue) {
      if (rule.grain == core::Grain::Chunk) {
        n = fit_chunk(ctx, l, r, n, slot.held, at.free_kv);
        fits = n >= 1;
      }
      z3::expr need = rounded(ctx, l.bs, processed_after(ctx, l.vidur, r, n));
      new_held = z3::ite(need > slot.held, need, slot.held);
      fits = fits && new_held - slot.held <= at.free_kv;
    } else {
      z3::expr free_adm = at.free_kv - ctx.int_val(l.watermark);
      z3::expr reserve = rounded(ctx, l.bs, reservation(ctx, e, r));
      if (rule.grain == core::Grain::Chunk) {
        z3::expr spare = free_adm - reserve;
        n = fit_chunk(ctx, l, r, n, reserve, z3::ite(spare < 0, ctx.int_val(0), spare));
        fits = n >= 1;
      }
      z3::expr need = rounded(ctx, l.bs, processed_after(ctx, l.vidur, r, n));
      new_held = z3::ite(need > reserve, need, reserve);
      fits = fits && new_held <= free_adm;
    }
  }
  if (e.max_batch) fits = fits && at.items < ctx.int_val(static_cast<int64_t>(*e.max_batch));
  if (e.max_running && from_queue) fits = fits && at.running < ctx.int_val(static_cast<int64_t>(*e.max_running));
  if (from_queue && e.batching == core::Batching::Static) fits = fits && at.admission_open;
  return Offer{eligible, fits, n, new_held};
}

FoldState fold_after(z3::context& ctx, const core::Engine& e, const core::Rule& rule, bool from_queue, const Slot& slot,
                     const FoldState& at, const Offer& o, const z3::expr& take) {
  FoldState f = at;
  if (rule.phase == core::Phase::Prefill) {
    f.prefill_items = at.prefill_items + one_if(ctx, take);
    f.max_prefill = z3::ite(take && o.n > at.max_prefill, o.n, at.max_prefill);
    if (from_queue) f.running = at.running + one_if(ctx, take);
  }
  if (e.kv_tokens()) f.free_kv = (at.free_kv - z3::ite(take, o.new_held - slot.held, ctx.int_val(0))).simplify();
  // Simplify as we go: the terms grow with every visit.
  f.used = (at.used + z3::ite(take, o.n, ctx.int_val(0))).simplify();
  f.items = (at.items + one_if(ctx, take)).simplify();
  return f;
}

Slot slot_after(z3::context& ctx, const core::Engine& e, const core::Rule& rule, const Slot& slot, const Offer& o,
                const z3::expr& take) {
  (void)ctx;
  Slot s = slot;
  if (rule.phase == core::Phase::Decode) s.decode = slot.decode || take;
  else s.prefill = z3::ite(take, o.n, slot.prefill);
  if (e.kv_tokens()) s.held = z3::ite(take, o.new_held, slot.held);
  return s;
}

z3::expr left_out_token(z3::context& ctx, const core::Engine& e, const SymbolicRequest& r, const Slot& slot,
                        const z3::expr& tokens, const z3::expr& items, const z3::expr& free_kv) {
  z3::expr room = tokens + 1 <= budget_term(ctx, e);
  z3::expr new_item = e.max_batch ? items < ctx.int_val(static_cast<int64_t>(*e.max_batch)) : ctx.bool_val(true);
  int64_t bs = std::max<int64_t>(1, e.block_size);
  z3::expr in = slot.prefill > 0 || slot.decode;
  z3::expr prompt_left = r.present && r.prompt - r.prefilled - slot.prefill > 0;
  z3::expr decode_left = r.present && r.admitted && r.prefilled == r.prompt && r.decoded < r.output && !slot.decode;
  z3::expr memory = ctx.bool_val(true);
  if (e.kv_tokens()) {
    // KV for one more processed token (core/batch_check.cpp's memory_for_one_more).
    z3::expr processed = r.prefilled + r.decoded + slot.prefill + one_if(ctx, slot.decode);
    z3::expr need = ((processed + ctx.int_val(bs)) / ctx.int_val(bs)) * ctx.int_val(bs);
    memory = need <= slot.held || need - slot.held <= free_kv;
  }
  return room && (in || new_item) && (prompt_left || decode_left) && memory;
}

SymbolicRequest fresh_request(z3::context& ctx, const std::string& tag) {
  auto name = [&](const char* field) { return std::string(field) + "@" + tag; };
  return SymbolicRequest{ctx.bool_const(name("present").c_str()), ctx.bool_const(name("admitted").c_str()),
                         ctx.int_const(name("prompt").c_str()),   ctx.int_const(name("prefilled").c_str()),
                         ctx.int_const(name("output").c_str()),   ctx.int_const(name("decoded").c_str()),
                         ctx.int_const(name("priority").c_str())};
}

z3::expr request_well_formed(const SymbolicRequest& r) {
  z3::expr wf = r.priority >= 0;
  wf = wf && z3::implies(r.present, r.prompt >= 1 && r.prefilled >= 0 && r.prefilled <= r.prompt && r.output >= 1 &&
                                        r.decoded >= 0 && r.decoded < r.output &&
                                        z3::implies(r.decoded > 0, r.prefilled == r.prompt) &&
                                        z3::implies(r.admitted, r.prefilled >= 1) &&
                                        z3::implies(!r.admitted, r.prefilled == 0 && r.decoded == 0));
  // Absent requests are all zero: states differ only in what matters (symmetry), and the
  // minimal counterexample is well defined.
  wf = wf && z3::implies(!r.present, !r.admitted && r.prompt == 0 && r.prefilled == 0 && r.output == 0 &&
                                         r.decoded == 0 && r.priority == 0);
  return wf;
}

SymbolicState make_state(z3::context& ctx, int n) {
  SymbolicState s{{}, ctx.int_const("since_prefill"), ctx.bool_val(true)};
  z3::expr wf = s.since_prefill >= 0;
  for (int i = 0; i < n; ++i) {
    SymbolicRequest r = fresh_request(ctx, std::to_string(i));
    wf = wf && request_well_formed(r);
    // Present requests come first.
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
