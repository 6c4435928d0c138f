#include "solver/fcfs.hpp"

#include <limits>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "solver/fcfs_symbolic.hpp"

namespace batchproof::solver {

namespace {

enum class Phase { Waiting, Started, Decoding, None };

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Waiting: return "waiting";
    case Phase::Started: return "started";
    case Phase::Decoding: return "decoding";
    case Phase::None: return "finished";
  }
  return "";
}

void rules_of(const std::vector<core::PolicyStmt>& body, std::vector<const core::Rule*>& out) {
  for (const auto& s : body) {
    if (s.rule) out.push_back(&*s.rule);
    for (const auto& w : s.when) {
      for (const auto& b : w.branches) rules_of(b.body, out);
      rules_of(w.otherwise, out);
    }
  }
}

}  // namespace

std::string fcfs_unsupported(const core::Engine& e) {
  if (e.kv_tokens()) return "fcfs is not encoded for engines with a KV-cache limit yet";
  if (e.budget_form == core::BudgetForm::Padded) return "fcfs is not encoded for a padded budget yet";
  return "";
}

bool whole_prompts_only(const core::Engine& e, bool waiting) {
  std::vector<const core::Rule*> rules;
  rules_of(e.policy.body, rules);
  for (const auto* r : rules) {
    if (r->phase != core::Phase::Prefill) continue;
    bool covers = r->source == core::Source::Pending ||
                  r->source == (waiting ? core::Source::Waiting : core::Source::Started);
    if (covers && r->grain == core::Grain::Chunk) return false;
  }
  return true;
}

std::optional<std::string> fcfs_violation(const core::Engine& e, const core::EngineState& before,
                                          const core::Batch& batch) {
  struct Seen {
    const core::Request* r;
    Phase phase;
    std::int64_t tokens;  // of its phase's kind in the batch: prompt tokens, or 1 for a decode
  };
  std::map<std::int64_t, const core::BatchItem*> items;
  for (const auto& i : batch.items) items[i.request] = &i;
  std::vector<Seen> all;
  auto add = [&](const core::Request& r, Phase p) {
    auto it = items.find(r.id);
    std::int64_t t = 0;
    if (it != items.end()) t = p == Phase::Decoding ? (it->second->decode ? 1 : 0) : it->second->prefill;
    all.push_back(Seen{&r, p, t});
  };
  for (const auto& r : before.running)
    add(r, !r.prompt_done() ? Phase::Started : r.decoded < r.output ? Phase::Decoding : Phase::None);
  for (const auto& r : before.waiting) add(r, Phase::Waiting);
  const std::int64_t budget = e.token_budget.value_or(std::numeric_limits<std::int64_t>::max() / 4);
  const std::int64_t left = budget - batch.tokens;
  auto earlier = [](const core::Request& a, const core::Request& b) {
    return a.arrival_s < b.arrival_s || (a.arrival_s == b.arrival_s && a.id < b.id);
  };
  // The later request j first, then the earliest i it overtook: one message per iteration.
  for (const auto& j : all) {
    if (j.phase == Phase::None || j.tokens == 0) continue;
    for (const auto& i : all) {
      if (i.phase != j.phase || i.tokens != 0 || !earlier(*i.r, *j.r)) continue;
      std::int64_t need = 1;
      if (i.phase != Phase::Decoding && whole_prompts_only(e, i.phase == Phase::Waiting)) need = i.r->remaining_prompt();
      if (need > j.tokens + left) continue;
      return fmt::format(
          "request {} ({}) got {} while request {}, {} too and arrived earlier, got none although {} in its place "
          "would fit: the batch holds {} of {} tokens",
          j.r->id, phase_name(j.phase),
          j.phase == Phase::Decoding ? std::string("its decode token") : fmt::format("{} prompt tokens", j.tokens),
          i.r->id, phase_name(i.phase),
          i.phase == Phase::Decoding ? std::string("its decode token")
          : need == 1                ? std::string("one prompt token")
                                     : fmt::format("its {} prompt tokens", need),
          batch.tokens, e.token_budget ? std::to_string(budget) : std::string("unlimited"));
    }
  }
  return std::nullopt;
}

// fcfs on the symbolic batch (solver/fcfs.hpp, and its concrete twin fcfs_violation): a
// request j gets tokens of its phase while an earlier request i of the same phase gets none
// and its smallest take fits in j's tokens plus the budget left.
z3::expr fcfs_violated(z3::context& ctx, const core::Engine& e, const SymbolicState& s, const SymbolicBatch& b) {
  z3::expr left = budget_term(ctx, e) - b.tokens;
  bool whole_waiting = whole_prompts_only(e, true), whole_started = whole_prompts_only(e, false);
  z3::expr any = ctx.bool_val(false);
  for (std::size_t j = 0; j < s.requests.size(); ++j) {
    const auto& rj = s.requests[j];
    z3::expr decode_j = z3::ite(b.decode[j], ctx.int_val(1), ctx.int_val(0));
    for (std::size_t i = 0; i < j; ++i) {
      const auto& ri = s.requests[i];
      z3::expr remaining_i = ri.prompt - ri.prefilled;
      z3::expr need_waiting = whole_waiting ? remaining_i : ctx.int_val(1);
      z3::expr need_started = whole_started ? remaining_i : ctx.int_val(1);
      z3::expr waiting = is_waiting(ri) && is_waiting(rj) && b.prefill[j] > 0 && b.prefill[i] == 0 &&
                         need_waiting <= b.prefill[j] + left;
      z3::expr started = is_started(ri) && is_started(rj) && b.prefill[j] > 0 && b.prefill[i] == 0 &&
                         need_started <= b.prefill[j] + left;
      z3::expr decoding = is_decoding(ri) && is_decoding(rj) && b.decode[j] && !b.decode[i] && 1 <= decode_j + left;
      any = any || waiting || started || decoding;
    }
  }
  return any;
}

}  // namespace batchproof::solver
