// Lowering of policies: rules (phase, source, order, grain, options, guard) and conditions.
#include <array>

#include <fmt/format.h>

#include "dsl/lower.hpp"

namespace batchproof::dsl {

namespace x3 = boost::spirit::x3;

namespace {

struct CounterInfo {
  const char* name;
  core::Counter counter;
  core::Dimension dim;
};
constexpr std::array kCounters{
    CounterInfo{"waiting", core::Counter::Waiting, core::Dimension::Requests},
    CounterInfo{"running", core::Counter::Running, core::Dimension::Requests},
    CounterInfo{"decoding", core::Counter::Decoding, core::Dimension::Requests},
    CounterInfo{"started", core::Counter::Started, core::Dimension::Requests},
    CounterInfo{"pending", core::Counter::Pending, core::Dimension::Requests},
    CounterInfo{"budget_left", core::Counter::BudgetLeft, core::Dimension::Tokens},
    CounterInfo{"free_kv", core::Counter::FreeKv, core::Dimension::Tokens},
    CounterInfo{"batch_tokens", core::Counter::BatchTokens, core::Dimension::Tokens},
    CounterInfo{"batch_requests", core::Counter::BatchRequests, core::Dimension::Requests},
    CounterInfo{"iterations_since_prefill", core::Counter::IterationsSincePrefill, core::Dimension::Iterations},
};

const std::vector<std::string> kSources{"running", "started", "waiting", "pending"};
const std::vector<std::string> kOrders{"fcfs", "lifo", "shortest_prompt", "shortest_remaining", "priority"};
const std::vector<std::string> kGrains{"whole", "chunk"};
const std::vector<std::string> kBlocked{"stop", "skip"};

std::vector<std::string> all_rule_words() {
  std::vector<std::string> w;
  for (const auto* list : {&kSources, &kOrders, &kGrains, &kBlocked}) w.insert(w.end(), list->begin(), list->end());
  w.push_back("unbudgeted");
  w.push_back("limit");
  return w;
}

std::optional<std::size_t> index_of(const std::vector<std::string>& list, const std::string& word) {
  for (std::size_t i = 0; i < list.size(); ++i)
    if (list[i] == word) return i;
  return std::nullopt;
}

const char* dimension_word(core::Dimension d) {
  switch (d) {
    case core::Dimension::Requests: return "requests";
    case core::Dimension::Tokens: return "tokens";
    case core::Dimension::Iterations: return "iterations";
    default: return "numbers";
  }
}

// The dimension an expression fixes: its first counter's, else its first counting unit's.
std::optional<core::Dimension> dimension_of(const ast::Expr& e) {
  std::vector<const ast::Operand*> ops{&e.first};
  for (const auto& s : e.rest) ops.push_back(&s.operand);
  for (const auto* o : ops)
    if (const auto* n = boost::get<ast::Name>(&o->get()))
      for (const auto& c : kCounters)
        if (n->text() == c.name) return c.dim;
  for (const auto* o : ops)
    if (const auto* q = boost::get<ast::Quantity>(&o->get()); q && q->unit)
      if (const core::Unit* u = core::find_unit(q->unit->text());
          u && (u->dim == core::Dimension::Requests || u->dim == core::Dimension::Tokens ||
                u->dim == core::Dimension::Iterations))
        return u->dim;
  return std::nullopt;
}

}  // namespace

std::optional<core::Rule> Lowerer::rule(const ast::Rule& r) {
  core::Rule out;
  out.loc = loc(r);
  out.phase = r.phase.text() == "decode" ? core::Phase::Decode : core::Phase::Prefill;
  const ast::Tagged* source = nullptr;
  const ast::Tagged* order = nullptr;
  const ast::Tagged* grain = nullptr;
  const ast::Tagged* blocked = nullptr;
  const ast::Tagged* limit = nullptr;
  bool ok = true, unknown_word = false;
  // A category given twice ("running waiting") is an error at the second word.
  auto once = [&](const ast::Tagged*& slot, const ast::Tagged& node, const char* category, const std::string& word) {
    if (slot) {
      error(node, fmt::format("a rule has one {}; '{}' is a second one", category, word));
      ok = false;
      return false;
    }
    slot = &node;
    return true;
  };
  for (const auto& w : r.words) {
    if (const auto* c = boost::get<ast::ChunkMax>(&w.get())) {
      if (!once(grain, *c, "grain", "chunk")) continue;
      out.grain = core::Grain::Chunk;
      auto n = whole(c->max, core::Dimension::Tokens, "the chunk size", 1);
      if (!n) ok = false;
      else out.chunk_max = *n;
    } else if (const auto* l = boost::get<ast::Limit>(&w.get())) {
      if (!once(limit, *l, "limit", "limit")) continue;
      auto n = whole(l->count, core::Dimension::Requests, "the rule's request limit", 1);
      if (!n) ok = false;
      else out.limit = *n;
    } else {
      const auto& word = boost::get<ast::Name>(w.get());
      const std::string& t = word.text();
      if (auto i = index_of(kSources, t)) {
        if (once(source, word, "source", t)) out.source = static_cast<core::Source>(*i);
      } else if (auto o = index_of(kOrders, t)) {
        if (once(order, word, "order", t)) out.order = static_cast<core::Order>(*o);
      } else if (auto g = index_of(kGrains, t)) {
        if (once(grain, word, "grain", t)) out.grain = *g == 0 ? core::Grain::Whole : core::Grain::Chunk;
      } else if (auto b = index_of(kBlocked, t)) {
        if (once(blocked, word, "head-of-line behaviour (stop or skip)", t))
          out.blocked = *b == 0 ? core::Blocked::Stop : core::Blocked::Skip;
      } else if (t == "unbudgeted") {
        out.unbudgeted = true;
      } else {
        error(word, fmt::format("unknown word '{}' in a rule{}", t, core::did_you_mean(t, all_rule_words())));
        ok = false;
        unknown_word = true;
      }
    }
  }
  // An unknown word may well be the missing source or grain, misspelled: say it once.
  if (unknown_word) return std::nullopt;
  if (!source) {
    error(r.phase, out.phase == core::Phase::Decode
                       ? "a decode rule needs its source: 'decode running ...'"
                       : "a prefill rule needs its source: started, waiting or pending");
    return std::nullopt;
  }
  if (out.phase == core::Phase::Decode) {
    if (out.source != core::Source::Running) {
      error(*source, "decode rules take requests from 'running' (prompt done, output left)");
      ok = false;
    }
    if (grain) {
      error(*grain, "a decode rule takes one token per request; it has no grain (whole, chunk)");
      ok = false;
    }
    out.grain = core::Grain::OneToken;
  } else {
    if (out.source == core::Source::Running) {
      error(*source, "prefill rules take requests from 'started', 'waiting' or 'pending', not 'running'");
      ok = false;
    }
    if (!grain) {
      error(r.phase, "a prefill rule needs a grain: 'whole', 'chunk', or 'chunk <= N tokens'");
      ok = false;
    }
  }
  if (r.guard) {
    auto g = condition(*r.guard);
    if (!g) ok = false;
    else out.guard = std::move(*g);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::vector<core::PolicyStmt> Lowerer::policy_body(const std::vector<ast::Stmt>& body) {
  std::vector<core::PolicyStmt> out;
  for (const auto& s : body) {
    core::PolicyStmt stmt;
    stmt.loc = loc(s);
    if (const auto* r = boost::get<ast::Rule>(&s.get())) {
      auto lowered = rule(*r);
      if (!lowered) continue;
      stmt.rule = std::move(*lowered);
    } else {
      const ast::When& w = boost::get<x3::forward_ast<ast::When>>(s.get()).get();
      core::When when;
      bool ok = true;
      auto branch = [&](const ast::Branch& b) {
        auto c = condition(b.condition);
        if (!c) ok = false;
        when.branches.push_back({c ? std::move(*c) : core::Condition{}, policy_body(b.body)});
      };
      branch(w.first);
      for (const auto& b : w.else_when) branch(b);
      if (w.otherwise) when.otherwise = policy_body(*w.otherwise);
      if (!ok) continue;
      stmt.when.push_back(std::move(when));
    }
    out.push_back(std::move(stmt));
  }
  return out;
}

std::optional<core::Expr> Lowerer::expr(const ast::Expr& e, std::optional<core::Dimension>& dim) {
  core::Expr out;
  bool ok = true;
  auto term = [&](const ast::Operand& o, bool negative) {
    core::Term t;
    t.negative = negative;
    if (const auto* n = boost::get<ast::Name>(&o.get())) {
      const CounterInfo* info = nullptr;
      for (const auto& c : kCounters)
        if (n->text() == c.name) info = &c;
      if (!info) {
        std::vector<std::string> names;
        for (const auto& c : kCounters) names.emplace_back(c.name);
        error(*n, fmt::format("unknown counter '{}'{}", n->text(), core::did_you_mean(n->text(), names)));
        ok = false;
        return;
      }
      if (dim && *dim != info->dim) {
        error(*n, fmt::format("cannot mix {} and {} in a condition ('{}' counts {})", dimension_word(*dim),
                              dimension_word(info->dim), info->name, dimension_word(info->dim)));
        ok = false;
        return;
      }
      dim = info->dim;
      t.counter = info->counter;
    } else {
      const auto& q = boost::get<ast::Quantity>(o.get());
      // A bare number takes the dimension of the counters it is compared with.
      core::Dimension want = dim.value_or(core::Dimension::Requests);
      auto v = whole(q, want, fmt::format("a number compared with {}", dimension_word(want)), 0, true);
      if (!v) {
        ok = false;
        return;
      }
      t.constant = *v;
    }
    out.terms.push_back(t);
  };
  term(e.first, false);
  for (const auto& s : e.rest) term(s.operand, s.sign == '-');
  if (!ok) return std::nullopt;
  return out;
}

std::optional<core::Condition> Lowerer::condition(const ast::OrCond& c) {
  // Recursion mirrors the tree: or -> and -> unary (comparison, not, parenthesised or).
  struct Walk {
    Lowerer& l;
    std::optional<core::Condition> unary(const ast::Unary& u) {
      if (const auto* cmp = boost::get<ast::Comparison>(&u.get())) {
        core::Condition out;
        out.kind = core::Condition::Kind::Compare;
        // The comparison's dimension is that of its first counter (or, failing one, its
        // first unit); bare numbers on either side take it.
        std::optional<core::Dimension> dim = dimension_of(cmp->lhs);
        if (!dim) dim = dimension_of(cmp->rhs);
        auto lhs = l.expr(cmp->lhs, dim);
        auto rhs = l.expr(cmp->rhs, dim);
        if (!lhs || !rhs) return std::nullopt;
        out.lhs = std::move(*lhs);
        out.rhs = std::move(*rhs);
        static const std::array<std::pair<const char*, core::CmpOp>, 6> ops{
            {{"<", core::CmpOp::Lt}, {"<=", core::CmpOp::Le}, {">", core::CmpOp::Gt}, {">=", core::CmpOp::Ge},
             {"==", core::CmpOp::Eq}, {"!=", core::CmpOp::Ne}}};
        for (const auto& [text, op] : ops)
          if (cmp->op == text) out.op = op;
        return out;
      }
      if (const auto* n = boost::get<x3::forward_ast<ast::NotCond>>(&u.get())) {
        auto inner = unary(n->get().operand);
        if (!inner) return std::nullopt;
        core::Condition out;
        out.kind = core::Condition::Kind::Not;
        out.operands.push_back(std::move(*inner));
        return out;
      }
      return or_cond(boost::get<x3::forward_ast<ast::OrCond>>(u.get()).get());
    }
    std::optional<core::Condition> and_cond(const ast::AndCond& a) {
      if (a.rest.empty()) return unary(a.first);
      core::Condition out;
      out.kind = core::Condition::Kind::And;
      bool ok = true;
      for (const ast::Unary* u : all(a)) {
        auto x = unary(*u);
        if (!x) ok = false;
        else out.operands.push_back(std::move(*x));
      }
      if (!ok) return std::nullopt;
      return out;
    }
    std::optional<core::Condition> or_cond(const ast::OrCond& o) {
      if (o.rest.empty()) return and_cond(o.first);
      core::Condition out;
      out.kind = core::Condition::Kind::Or;
      bool ok = true;
      auto one = [&](const ast::AndCond& a) {
        auto x = and_cond(a);
        if (!x) ok = false;
        else out.operands.push_back(std::move(*x));
      };
      one(o.first);
      for (const auto& a : o.rest) one(a);
      if (!ok) return std::nullopt;
      return out;
    }
    static std::vector<const ast::Unary*> all(const ast::AndCond& a) {
      std::vector<const ast::Unary*> v{&a.first};
      for (const auto& u : a.rest) v.push_back(&u);
      return v;
    }
  };
  return Walk{*this}.or_cond(c);
}

}  // namespace batchproof::dsl
