#include "solver/fold_lemma.hpp"

#include <vector>

#include <fmt/format.h>

#include "solver/fcfs.hpp"
#include "solver/symbolic_step.hpp"

namespace batchproof::solver {

namespace {

bool preempts(const core::Engine& e) { return e.kv_tokens() && e.preemption != core::Preemption::None; }

struct FlatRule {
  const core::Rule* rule;
  z3::expr enabled;  // the `when` branches leading to it, on the counters as the iteration starts
  std::size_t index;  // position in the policy, from 1, for messages
  bool prefill_before;  // some rule that may run before it in the same iteration takes prompt tokens
};

class Lemma {
 public:
  Lemma(const core::Engine& e, double timeout_s) : e_(e), timeout_ms_(static_cast<unsigned>(timeout_s * 1000)) {}

  LemmaResult prove(core::Property p) {
    switch (p) {
      case core::Property::Budget:
        // Strengthened so that decodes that ignore the budget are still bounded by max_batch:
        // before any prefill item, every item is one decode token (T ≤ K), and K ≤ max_batch.
        return invariant("tokens ≤ b_max", [&](const FoldState& f) {
          z3::expr inv = f.used <= budget_term(ctx_, e_) && z3::implies(f.prefill_items == 0, f.used <= f.items) &&
                         f.prefill_items <= f.items;
          if (e_.max_batch) inv = inv && f.items <= ctx_.int_val(static_cast<int64_t>(*e_.max_batch));
          return inv;
        });
      case core::Property::BatchLimit:
        if (!e_.max_batch) return LemmaResult{true, ""};
        return invariant("items ≤ max_batch", [&](const FoldState& f) {
          return f.items <= ctx_.int_val(static_cast<int64_t>(*e_.max_batch));
        });
      case core::Property::MemorySafe:
        if (!e_.kv_tokens()) return LemmaResult{true, ""};
        return invariant("free KV ≥ 0", [&](const FoldState& f) { return f.free_kv >= 0; });
      case core::Property::WorkConserving:
      case core::Property::Progress:
        if (preempts(e_)) return LemmaResult{false, "preemption is encoded only for budget, batch_limit and memory_safe"};
        return maximal(p == core::Property::Progress);
      case core::Property::Fcfs: {
        if (preempts(e_)) return LemmaResult{false, "preemption is encoded only for budget, batch_limit and memory_safe"};
        for (PhaseKind k : {PhaseKind::Waiting, PhaseKind::Started, PhaseKind::Decoding})
          if (LemmaResult l = fcfs(k); !l.proved) return l;
        return LemmaResult{true, ""};
      }
      default: return LemmaResult{false, fmt::format("no lemma for {}", core::property_name(p))};
    }
  }

 private:
  std::string tag(const char* what) { return fmt::format("{}~{}", what, fresh_++); }
  z3::expr fresh_int(const char* what) { return ctx_.int_const(tag(what).c_str()); }

  FoldState fresh_fold() {
    return FoldState{fresh_int("used"),        fresh_int("items"),       fresh_int("free_kv"),
                     fresh_int("prefill_items"), fresh_int("max_prefill"), fresh_int("running"), open_};
  }
  // `b` is at or after `a` in the fold: what grows has not shrunk, the free KV has not grown.
  static z3::expr later(const FoldState& a, const FoldState& b) {
    return b.used >= a.used && b.items >= a.items && b.free_kv <= a.free_kv && b.prefill_items >= a.prefill_items &&
           b.max_prefill >= a.max_prefill && b.running >= a.running;
  }
  static z3::expr basic(const FoldState& f) {
    return f.used >= 0 && f.items >= 0 && f.prefill_items >= 0 && f.max_prefill >= 0 && f.running >= 0;
  }
  // A present request of a reachable state (prove.cpp adds the same facts to the bounded search).
  z3::expr reachable(const SymbolicRequest& r) const {
    z3::expr c = request_well_formed(r) && r.present;
    if (core::traits(e_.policy).whole_only) c = c && z3::implies(r.admitted, r.prefilled == r.prompt);
    return c;
  }
  z3::expr held0(const SymbolicRequest& r) {
    return e_.kv_tokens() ? z3::ite(r.admitted, held_kv(ctx_, e_, r), ctx_.int_val(0)) : ctx_.int_val(0);
  }

  std::vector<FlatRule> rules(const SymbolicCounters& start) {
    std::vector<FlatRule> out;
    std::size_t index = 0;
    bool prefill = false;
    flatten(e_.policy.body, ctx_.bool_val(true), start, out, index, prefill);
    return out;
  }
  // `prefill`: a prefill rule may have run before, on the way to this body (the branches of a
  // `when` are exclusive: each starts from what came before the `when`).
  void flatten(const std::vector<core::PolicyStmt>& body, const z3::expr& enabled, const SymbolicCounters& start,
               std::vector<FlatRule>& out, std::size_t& index, bool& prefill) {
    for (const auto& stmt : body) {
      if (stmt.rule) {
        out.push_back(FlatRule{&*stmt.rule, enabled, ++index, prefill});
        prefill = prefill || stmt.rule->phase == core::Phase::Prefill;
        continue;
      }
      for (const auto& w : stmt.when) {
        z3::expr none_before = ctx_.bool_val(true);
        bool after = prefill;
        for (const auto& b : w.branches) {
          z3::expr c = condition_holds(ctx_, b.condition, start);
          bool p = prefill;
          flatten(b.body, enabled && none_before && c, start, out, index, p);
          after = after || p;
          none_before = none_before && !c;
        }
        bool p = prefill;
        flatten(w.otherwise, enabled && none_before, start, out, index, p);
        prefill = after || p;
      }
    }
  }

  static std::vector<bool> sources(const core::Rule& rule) {
    std::vector<bool> out;  // from the waiting queue?
    if (rule.phase == core::Phase::Decode || rule.source != core::Source::Waiting) out.push_back(false);
    if (rule.phase == core::Phase::Prefill && rule.source != core::Source::Started) out.push_back(true);
    return out;
  }

  // Unsat within the timeout: the lemma's obligation holds.
  bool refuted(const z3::expr& query, std::string& why, const std::string& what) {
    z3::solver s(ctx_);
    z3::params params(ctx_);
    params.set("timeout", timeout_ms_);
    s.set(params);
    s.add(query);
    z3::check_result r = s.check();
    if (r == z3::unsat) return true;
    why = r == z3::sat ? what : what + " (the solver gave up)";
    return false;
  }

  // An invariant of the running state, kept by one visit of any request under any rule.
  template <class Inv>
  LemmaResult invariant(const char* name, Inv inv) {
    z3::expr budget = budget_term(ctx_, e_);
    SymbolicCounters any{fresh_int("waiting0"), fresh_int("running0"), fresh_int("decoding0"), fresh_int("started0"),
                         budget, fresh_int("free0"), ctx_.int_val(0), ctx_.int_val(0), fresh_int("since0")};
    for (const FlatRule& fr : rules(any)) {
      const bool decode = fr.rule->phase == core::Phase::Decode;
      for (bool queue : sources(*fr.rule)) {
        SymbolicRequest r = fresh_request(ctx_, tag("r"));
        // The rule starts in `begin` (its guard reads it); r's visit comes at `at`, after it.
        FoldState begin = fresh_fold(), at = fresh_fold();
        // (Evictions may free KV and lower the running count between the rule's start and r's
        // visit: no order on F and R then.)
        FoldState at_kv = at;
        if (preempts(e_)) {
          at_kv.free_kv = begin.free_kv;
          at_kv.running = begin.running;
        }
        z3::expr within = basic(begin) && inv(begin) && later(begin, at_kv);
        // Within a decode rule every take is one token and one item, and no prefill item; only a
        // prefill rule adds prefill items, so none before the first one.
        if (decode) within = within && at.used - begin.used == at.items - begin.items && at.prefill_items == begin.prefill_items;
        if (decode && !fr.prefill_before) within = within && begin.prefill_items == 0;
        SymbolicCounters live{fresh_int("waiting_live"), begin.running, any.decoding, any.started, budget - begin.used,
                              e_.kv_tokens() ? begin.free_kv : ctx_.int_val(kSymbolicUnlimited), begin.used, begin.items,
                              any.since};
        z3::expr on = fr.enabled;
        if (fr.rule->guard) on = on && condition_holds(ctx_, *fr.rule->guard, live);
        Slot slot{fresh_int("slot_prefill"), ctx_.bool_const(tag("slot_decode").c_str()), fresh_int("slot_held")};
        z3::expr reached = ctx_.bool_const(tag("reached").c_str());
        // An engine that preempts may evict others (or r itself) before r's tokens fit: any
        // amount of KV may have been freed just before the visit; evictions touch neither the
        // batch's tokens nor its items (a victim is never in the batch).
        FoldState freed = at;
        z3::expr more = ctx_.bool_val(true);
        if (preempts(e_)) {
          freed.free_kv = fresh_int("free_after_evictions");
          more = freed.free_kv >= at.free_kv;
        }
        Offer o = offer(ctx_, e_, *fr.rule, r, queue, slot, freed, 0);
        FoldState next = fold_after(ctx_, e_, *fr.rule, queue, slot, freed, o, reached && o.eligible && o.fits);
        z3::expr q = more && within && z3::implies(reached, on) && reachable(r) && basic(at) && inv(at) &&
                     slot.prefill >= 0 && slot.held >= 0 &&
                     z3::implies(slot.prefill == 0 && !slot.decode, slot.held == held0(r)) && !inv(next);
        std::string why;
        if (!refuted(q, why, fmt::format("rule {} may break the invariant {}", fr.index, name)))
          return LemmaResult{false, why};
      }
    }
    return LemmaResult{true, ""};
  }

  // No request has a token that fits and was left out (and, for progress, the batch is empty).
  LemmaResult maximal(bool empty_batch) {
    SymbolicRequest r = fresh_request(ctx_, "r");
    z3::expr q = reachable(r);
    auto at_least = [&](const z3::expr& x, const z3::expr& b) {
      q = q && x >= z3::ite(b, ctx_.int_val(1), ctx_.int_val(0));
    };
    z3::expr budget = budget_term(ctx_, e_);
    z3::expr unlimited = ctx_.int_val(kSymbolicUnlimited);
    auto kv = e_.kv_tokens();
    SymbolicCounters start{fresh_int("waiting0"), fresh_int("running0"), fresh_int("decoding0"), fresh_int("started0"),
                           budget, kv ? fresh_int("free0") : unlimited, ctx_.int_val(0), ctx_.int_val(0),
                           fresh_int("since0")};
    at_least(start.waiting, is_waiting(r));
    at_least(start.running, r.admitted);
    at_least(start.decoding, is_decoding(r));
    at_least(start.started, is_started(r));
    q = q && start.since >= 0;
    if (e_.batching == core::Batching::Static) q = q && z3::implies(r.admitted, !open_);
    if (kv) q = q && start.free_kv >= 0 && start.free_kv <= ctx_.int_val(*kv) - held0(r);
    FoldState prev{ctx_.int_val(0), ctx_.int_val(0), start.free_kv, ctx_.int_val(0), ctx_.int_val(0), start.running, open_};
    Slot slot{ctx_.int_val(0), ctx_.bool_val(false), held0(r)};
    for (const FlatRule& fr : rules(start)) {
      const core::Rule& rule = *fr.rule;
      FoldState begin = fresh_fold();  // as the rule starts
      q = q && later(prev, begin);
      z3::expr waiting_live = fresh_int("waiting_live");
      q = q && waiting_live >= 0 && waiting_live <= start.waiting;
      SymbolicCounters live{waiting_live, begin.running, start.decoding, start.started, budget - begin.used,
                            kv ? begin.free_kv : unlimited, begin.used, begin.items, start.since};
      z3::expr on = fr.enabled;
      if (rule.guard) on = on && condition_holds(ctx_, *rule.guard, live);
      FoldState now = begin;
      for (bool queue : sources(rule)) now = visit(rule, on, begin, now, r, queue, slot, q).after;
      prev = now;
    }
    FoldState end = fresh_fold();
    q = q && later(prev, end);
    z3::expr bad = left_out_token(ctx_, e_, r, slot, end.used, end.items, end.free_kv);
    if (empty_batch) bad = bad && end.used == 0;
    std::string why;
    if (!refuted(q && bad, why, "one request's visits leave a token that may fit")) return LemmaResult{false, why};
    return LemmaResult{true, ""};
  }

  enum class PhaseKind { Waiting, Started, Decoding };
  z3::expr in_phase(PhaseKind k, const SymbolicRequest& r) const {
    return k == PhaseKind::Waiting ? is_waiting(r) : k == PhaseKind::Started ? is_started(r) : is_decoding(r);
  }
  static bool covers(const core::Rule& rule, PhaseKind k) {
    if (k == PhaseKind::Decoding) return rule.phase == core::Phase::Decode;
    if (rule.phase != core::Phase::Prefill) return false;
    return rule.source == core::Source::Pending ||
           rule.source == (k == PhaseKind::Waiting ? core::Source::Waiting : core::Source::Started);
  }

  // A rule's visit of one tracked request, from a running state after `from`: the visit's own
  // state, whether the rule is still going, and why it may have ended (its limit, or a
  // candidate before that did not fit).
  struct Visit {
    FoldState at, after;
    z3::expr active, taken, take;
  };
  Visit visit(const core::Rule& rule, const z3::expr& on, const FoldState& begin, const FoldState& from,
              const SymbolicRequest& r, bool queue, Slot& slot, z3::expr& q) {
    FoldState at = fresh_fold();
    q = q && later(from, at);
    z3::expr active = ctx_.bool_const(tag("active").c_str());
    z3::expr taken = fresh_int("taken");
    q = q && taken >= 0;
    z3::expr limit_hit = rule.limit ? taken >= ctx_.int_val(static_cast<int64_t>(*rule.limit)) : ctx_.bool_val(false);
    z3::expr ended_why = limit_hit;
    if (rule.blocked == core::Blocked::Stop) {
      SymbolicRequest b = fresh_request(ctx_, tag("blocker"));
      FoldState bat = fresh_fold();
      Slot bslot{ctx_.int_val(0), ctx_.bool_val(false), held0(b)};
      z3::expr blocked = ctx_.bool_val(false);
      for (bool bq : sources(rule)) {
        Offer bo = offer(ctx_, e_, rule, b, bq, bslot, bat, 0);
        blocked = blocked || (bo.eligible && !bo.fits);
      }
      ended_why = ended_why || (reachable(b) && later(begin, bat) && later(bat, at) && blocked);
    }
    q = q && z3::implies(!active, ended_why);
    Offer o = offer(ctx_, e_, rule, r, queue, slot, at, 0);
    z3::expr take = on && active && !limit_hit && o.eligible && o.fits;
    FoldState after = fold_after(ctx_, e_, rule, queue, slot, at, o, take);
    slot = slot_after(ctx_, e_, rule, slot, o, take);
    return Visit{at, after, active, taken, take};
  }

  // Two requests of the same phase, i arrived before j: j cannot get tokens of its phase while
  // i gets none and fits in j's place (solver/fcfs.hpp). Only rules in FCFS or LIFO order.
  LemmaResult fcfs(PhaseKind k) {
    SymbolicRequest ri = fresh_request(ctx_, "i"), rj = fresh_request(ctx_, "j");
    z3::expr q = reachable(ri) && reachable(rj) && in_phase(k, ri) && in_phase(k, rj);
    z3::expr budget = budget_term(ctx_, e_);
    auto one = [&](const z3::expr& b) { return z3::ite(b, ctx_.int_val(1), ctx_.int_val(0)); };
    SymbolicCounters start{fresh_int("waiting0"), fresh_int("running0"), fresh_int("decoding0"), fresh_int("started0"),
                           budget, ctx_.int_val(kSymbolicUnlimited), ctx_.int_val(0), ctx_.int_val(0),
                           fresh_int("since0")};
    q = q && start.waiting >= one(is_waiting(ri)) + one(is_waiting(rj)) &&
        start.running >= one(ri.admitted) + one(rj.admitted) &&
        start.decoding >= one(is_decoding(ri)) + one(is_decoding(rj)) &&
        start.started >= one(is_started(ri)) + one(is_started(rj)) && start.since >= 0;
    FoldState prev{ctx_.int_val(0), ctx_.int_val(0), start.free_kv, ctx_.int_val(0), ctx_.int_val(0), start.running, open_};
    Slot si{ctx_.int_val(0), ctx_.bool_val(false), ctx_.int_val(0)}, sj = si;
    const bool queue = k == PhaseKind::Waiting;
    for (const FlatRule& fr : rules(start)) {
      const core::Rule& rule = *fr.rule;
      if (!covers(rule, k)) continue;  // its candidates are others: it only uses resources
      if (rule.order != core::Order::Fcfs && rule.order != core::Order::Lifo)
        return LemmaResult{false, fmt::format("rule {} orders its candidates by a key", fr.index)};
      FoldState begin = fresh_fold();
      q = q && later(prev, begin);
      z3::expr waiting_live = fresh_int("waiting_live");
      q = q && waiting_live >= 0 && waiting_live <= start.waiting;
      SymbolicCounters live{waiting_live, begin.running, start.decoding, start.started, budget - begin.used,
                            start.free_kv, begin.used, begin.items, start.since};
      z3::expr on = fr.enabled;
      if (rule.guard) on = on && condition_holds(ctx_, *rule.guard, live);
      bool i_first = rule.order == core::Order::Fcfs;
      Visit a = visit(rule, on, begin, begin, i_first ? ri : rj, queue, i_first ? si : sj, q);
      Visit b = visit(rule, on, begin, a.after, i_first ? rj : ri, queue, i_first ? sj : si, q);
      // The scan goes on past the second only if it went on past the first; taken only grows.
      q = q && z3::implies(b.active, a.active) && b.taken >= a.taken + one(a.take);
      prev = b.after;
    }
    FoldState end = fresh_fold();
    q = q && later(prev, end);
    z3::expr left = budget - end.used;
    z3::expr bad = ctx_.bool_val(false);
    if (k == PhaseKind::Decoding) {
      bad = sj.decode && !si.decode && 1 <= 1 + left;
    } else {
      z3::expr need = whole_prompts_only(e_, k == PhaseKind::Waiting) ? ri.prompt - ri.prefilled : ctx_.int_val(1);
      bad = sj.prefill > 0 && si.prefill == 0 && need <= sj.prefill + left;
    }
    std::string why;
    if (!refuted(q && bad, why, "two requests of one phase may be served out of order")) return LemmaResult{false, why};
    return LemmaResult{true, ""};
  }

  const core::Engine& e_;
  unsigned timeout_ms_;
  z3::context ctx_;
  int fresh_ = 0;
  // Static batching: admission is open for the whole iteration or closed for all of it.
  z3::expr open_ = ctx_.bool_const("admission_open");
};

}  // namespace

LemmaResult fold_lemma(const core::Engine& engine, core::Property property, double timeout_s) {
  if (engine.kv_tokens() && engine.admission == core::Admission::PeakEstimate) {
    // LightLLM admits a request only if its peak-estimate check passes, and then exactly as
    // `admission prompt` does (core/step.cpp's admit): its admissions are a subset of those of
    // the same engine with `admission prompt`, each changing the running state alike. The
    // invariant lemmas, whose visits may or may not take, hold for it if they hold for that one.
    if (property != core::Property::Budget && property != core::Property::BatchLimit &&
        property != core::Property::MemorySafe)
      return LemmaResult{false, "peak-estimate admission is encoded only for budget, batch_limit and memory_safe"};
    core::Engine prompt = engine;
    prompt.admission = core::Admission::Prompt;
    return Lemma(prompt, timeout_s).prove(property);
  }
  return Lemma(engine, timeout_s).prove(property);
}

}  // namespace batchproof::solver
