#include "core/batch_check.hpp"

#include <limits>
#include <map>

#include <fmt/format.h>

namespace batchproof::core {

namespace {

constexpr std::int64_t kUnlimited = std::numeric_limits<std::int64_t>::max() / 4;

// The first token that fits and was left out, described; nullopt if the batch is maximal.
std::optional<std::string> left_out_token(const Engine& e, const EngineState& before, const Batch& batch,
                                          const EngineState& after) {
  std::int64_t budget = e.token_budget.value_or(kUnlimited);
  if (batch.tokens + 1 > budget) return std::nullopt;
  std::map<std::int64_t, const BatchItem*> items;
  for (const auto& i : batch.items) items[i.request] = &i;
  bool room_for_new = !e.max_batch || static_cast<std::int64_t>(batch.items.size()) < *e.max_batch;
  auto kv = e.kv_tokens();
  std::int64_t free_after = kv ? *kv - after.kv_used : kUnlimited;
  std::int64_t bs = std::max<std::int64_t>(1, e.block_size);
  // One more processed token for a request holding `held` KV after `processed` tokens.
  auto memory_for_one_more = [&](std::int64_t processed, std::int64_t held) {
    if (!kv) return true;
    std::int64_t need = (processed + 1 + bs - 1) / bs * bs;
    return need <= held || need - held <= free_after;
  };
  auto find_after = [&](std::int64_t id) -> const Request* {
    for (const auto& r : after.running)
      if (r.id == id) return &r;
    return nullptr;
  };
  auto check = [&](const Request& r, bool waiting) -> std::optional<std::string> {
    auto it = items.find(r.id);
    const BatchItem* in = it == items.end() ? nullptr : it->second;
    if (!in && !room_for_new) return std::nullopt;
    const Request* a = find_after(r.id);
    std::int64_t processed_after = r.prefilled + r.decoded + (in ? in->prefill + (in->decode ? 1 : 0) : 0);
    std::int64_t held_after = a ? a->kv_held : 0;
    if (!r.prompt_done()) {
      std::int64_t given = in ? in->prefill : 0;
      if (r.remaining_prompt() - given > 0 && memory_for_one_more(processed_after, held_after))
        return fmt::format("request {} ({}) could take one more prompt token: {} of its {} remaining were scheduled, "
                           "and the batch holds {} of {} tokens",
                           r.id, waiting ? "waiting" : "started", given, r.remaining_prompt(), batch.tokens,
                           e.token_budget ? std::to_string(budget) : "unlimited");
    } else if (r.decoded < r.output && !(in && in->decode) && memory_for_one_more(processed_after, held_after)) {
      return fmt::format("request {} (decoding) could take its decode token: the batch holds {} of {} tokens", r.id,
                         batch.tokens, e.token_budget ? std::to_string(budget) : "unlimited");
    }
    return std::nullopt;
  };
  for (const auto& r : before.running)
    if (auto w = check(r, false)) return w;
  for (const auto& r : before.waiting)
    if (auto w = check(r, true)) return w;
  return std::nullopt;
}

}  // namespace

BatchCheck check_batch(const Engine& e, const EngineState& before, const Batch& batch, const EngineState& after,
                       Property property) {
  BatchCheck out;
  switch (property) {
    case Property::Budget:
      if (e.token_budget && batch.tokens > *e.token_budget)
        out.violation = fmt::format("the batch holds {} tokens, over the budget of {}", batch.tokens, *e.token_budget);
      break;
    case Property::BatchLimit:
      if (e.max_batch && static_cast<std::int64_t>(batch.items.size()) > *e.max_batch)
        out.violation = fmt::format("the batch holds {} requests, over max_batch {}", batch.items.size(), *e.max_batch);
      break;
    case Property::MemorySafe:
      if (auto kv = e.kv_tokens(); kv && after.kv_used > *kv)
        out.violation = fmt::format("KV in use after the iteration is {} tokens, over the capacity of {}", after.kv_used, *kv);
      break;
    case Property::WorkConserving:
      if (auto w = left_out_token(e, before, batch, after)) out.violation = "not maximal: " + *w;
      break;
    case Property::Progress:
      if (batch.empty())
        if (auto w = left_out_token(e, before, batch, after)) out.violation = "empty batch, although " + *w;
      break;
    case Property::Fcfs:
    case Property::NoInstability:
    case Property::BacklogBound:
      out.supported = false;
      out.violation = fmt::format("{} is not decided on one concrete iteration here", property_name(property));
      break;
  }
  return out;
}

}  // namespace batchproof::core
