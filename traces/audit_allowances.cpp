#include "traces/audit_allowances.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

namespace batchproof::traces {

namespace {

template <typename Pred>
void remove_requests(core::EngineState& s, Pred drop) {
  s.running.erase(std::remove_if(s.running.begin(), s.running.end(), drop), s.running.end());
  s.waiting.erase(std::remove_if(s.waiting.begin(), s.waiting.end(), drop), s.waiting.end());
}

std::unordered_map<std::int64_t, const core::BatchItem*> items_by_id(const core::Batch& batch) {
  std::unordered_map<std::int64_t, const core::BatchItem*> m;
  for (const auto& it : batch.items) m[it.request] = &it;
  return m;
}

// Visits every rule of a policy, in every branch.
template <typename Visit>
void for_each_rule(const std::vector<core::PolicyStmt>& body, Visit visit) {
  for (const auto& stmt : body) {
    if (stmt.rule) visit(*stmt.rule);
    for (const auto& w : stmt.when) {
      for (const auto& b : w.branches) for_each_rule(b.body, visit);
      for_each_rule(w.otherwise, visit);
    }
  }
}

}  // namespace

void drop_outside_padded_budget(const core::Engine& e, core::EngineState& before, const core::Batch& batch) {
  if (e.budget_form != core::BudgetForm::Padded || !e.token_budget) return;
  const std::int64_t budget = *e.token_budget;
  std::int64_t n = 0, widest = 0;
  for (const auto& it : batch.items)
    if (it.prefill > 0) {
      ++n;
      widest = std::max(widest, it.prefill);
    }
  auto items = items_by_id(batch);
  remove_requests(before, [&](const core::Request& r) {
    auto it = items.find(r.id);
    std::int64_t given = it == items.end() ? 0 : it->second->prefill;
    if (r.remaining_prompt() - given <= 0) return false;  // no prompt token left out
    std::int64_t n2 = given > 0 ? n : n + 1;
    std::int64_t widest2 = std::max(widest, given + 1);
    return n2 * widest2 > budget;
  });
}

void drop_allowed_by_configuration(const core::Engine& e, core::EngineState& before, const core::Batch& batch,
                                   const core::EngineState& after, std::vector<std::string>& reasons) {
  auto items = items_by_id(batch);
  auto in_batch = [&](const core::Request& r) { return items.count(r.id) > 0; };
  const std::int64_t block = std::max<std::int64_t>(1, e.block_size);

  // max_running: admission is closed while that many requests hold KV.
  if (e.max_running && static_cast<std::int64_t>(after.running.size()) >= *e.max_running) {
    std::size_t n = before.waiting.size();
    before.waiting.erase(std::remove_if(before.waiting.begin(), before.waiting.end(),
                                        [&](const core::Request& r) { return !in_batch(r); }),
                         before.waiting.end());
    if (n != before.waiting.size())
      reasons.push_back(fmt::format("max_running {} requests were holding KV, so no waiting request could be admitted",
                                    *e.max_running));
  }

  // Reservation at admission and the watermark, and head-of-line blocking on memory.
  if (auto kv = e.kv_tokens()) {
    const std::int64_t watermark = static_cast<std::int64_t>(e.watermark * static_cast<double>(*kv / block)) * block;
    const std::int64_t free = *kv - after.kv_used - watermark;
    bool stops_at_head = false;
    for_each_rule(e.policy.body, [&](const core::Rule& rule) {
      if (rule.phase == core::Phase::Prefill && rule.source != core::Source::Started &&
          rule.blocked == core::Blocked::Stop)
        stops_at_head = true;
    });
    std::optional<std::string> first;
    bool head_blocked = false, head_seen = false;
    std::int64_t held_back = 0;
    before.waiting.erase(
        std::remove_if(before.waiting.begin(), before.waiting.end(),
                       [&](const core::Request& r) {
                         if (in_batch(r)) return false;
                         const bool head = !head_seen;
                         head_seen = true;
                         if (head_blocked) {
                           ++held_back;
                           return true;
                         }
                         std::int64_t reserve = 0;
                         switch (e.admission) {
                           case core::Admission::None: break;
                           case core::Admission::Prompt: reserve = r.prompt; break;
                           case core::Admission::MaxLength: reserve = e.max_seq_len.value_or(r.prompt + r.output); break;
                           case core::Admission::PeakEstimate: reserve = r.prompt; break;
                         }
                         std::int64_t need = std::max(core::round_up_to_block(reserve, block), core::round_up_to_block(1, block));
                         if (need <= free && e.admission != core::Admission::PeakEstimate) return false;
                         if (!first)
                           first = e.admission == core::Admission::PeakEstimate
                                       ? fmt::format("LightLLM's peak estimate decides the admission of request {}",
                                                     r.id)
                                       : fmt::format("admitting request {} needs {} KV tokens{} and {} were free{}",
                                                     r.id, need,
                                                     e.admission != core::Admission::None ? " (its reservation)" : "",
                                                     std::max<std::int64_t>(0, free),
                                                     watermark > 0 ? " above the watermark" : "");
                         if (head && stops_at_head) head_blocked = true;
                         return true;
                       }),
        before.waiting.end());
    if (first) reasons.push_back(*first);
    if (held_back > 0)
      reasons.push_back(fmt::format("{} request{} behind it waited at the head of the queue (head-of-line blocking on "
                                    "KV)",
                                    held_back, held_back == 1 ? "" : "s"));
  }

  // A chunk cap per request, and a cap on prompts per batch.
  std::optional<std::int64_t> prompts_cap;
  std::vector<std::int64_t> chunk_caps;
  for_each_rule(e.policy.body, [&](const core::Rule& rule) {
    if (rule.phase != core::Phase::Prefill) return;
    if (rule.chunk_max) chunk_caps.push_back(*rule.chunk_max);
    if (rule.limit) prompts_cap = std::min(prompts_cap.value_or(*rule.limit), *rule.limit);
  });
  if (!chunk_caps.empty()) {
    std::optional<std::int64_t> capped;
    remove_requests(before, [&](const core::Request& r) {
      auto it = items.find(r.id);
      if (it == items.end()) return false;
      bool at_cap = std::find(chunk_caps.begin(), chunk_caps.end(), it->second->prefill) != chunk_caps.end();
      if (at_cap && !capped) capped = it->second->prefill;
      return at_cap;
    });
    if (capped) reasons.push_back(fmt::format("the policy caps a prompt's chunk at {} tokens", *capped));
  }
  if (prompts_cap) {
    std::int64_t prompts = 0;
    for (const auto& it : batch.items) prompts += it.prefill > 0 ? 1 : 0;
    if (prompts >= *prompts_cap) {
      std::size_t n = before.running.size() + before.waiting.size();
      remove_requests(before, [&](const core::Request& r) {
        auto it = items.find(r.id);
        return !r.prompt_done() && (it == items.end() || it->second->prefill == 0);
      });
      if (n != before.running.size() + before.waiting.size())
        reasons.push_back(fmt::format("the policy takes at most {} prompt{} a batch", *prompts_cap,
                                      *prompts_cap == 1 ? "" : "s"));
    }
  }
}

}  // namespace batchproof::traces
