#include "core/findings.hpp"

#include <fmt/format.h>

#include "core/capacity.hpp"
#include "core/kmax_bound.hpp"

namespace batchproof::core {

BestBatch most_efficient_batch(const TimeModel& t, std::int64_t b_max) {
  BestBatch best;
  for (std::int64_t b = 1; b <= b_max; ++b) {
    double s = t.seconds(b);
    if (s <= 0) continue;
    double rate = static_cast<double>(b) / s;
    if (rate > best.tokens_per_s * (1 + 1e-12)) best = {b, rate};
  }
  return best;
}

namespace {

void engine_findings(const Engine& e, std::vector<Finding>& out) {
  if (e.token_budget) {
    std::int64_t b_max = *e.token_budget;
    BestBatch best = most_efficient_batch(e.profile.time, b_max);
    double full = static_cast<double>(b_max) / e.profile.time.seconds(b_max);
    if (best.tokens != b_max && best.tokens_per_s > full * (1 + 1e-9))
      out.push_back({"inefficient_profile", e.loc,
                     fmt::format("engine '{}': full batches are not the most efficient under profile '{}': {} tokens "
                                 "run at {:.1f} tokens/s, above the {:.1f} tokens/s of {} tokens (MODEL.md §1: the "
                                 "throughput theorem assumes b/t(b) ≤ b_max/t(b_max))",
                                 e.name, e.profile.name, best.tokens, best.tokens_per_s, full, b_max)});
    const TimeModel& t = e.profile.time;
    if (t.form == TimeModel::Form::Staircase && b_max % t.b0 != 0)
      out.push_back({"budget_not_multiple", e.loc,
                     fmt::format("engine '{}': the token budget {} is not a multiple of the profile's step {} tokens "
                                 "(the paper's Assumption 1 takes b0 dividing b_max)",
                                 e.name, b_max, t.b0)});
    if (t.form == TimeModel::Form::Table && !t.table.empty() && b_max > t.table.back().first)
      out.push_back({"table_extrapolated", e.loc,
                     fmt::format("engine '{}': the token budget {} lies beyond the last point ({} tokens) of profile "
                                 "'{}'; t(b_max) is extrapolated",
                                 e.name, b_max, t.table.back().first, e.profile.name)});
  }
  if (e.preemption != Preemption::None && !e.kv_tokens())
    out.push_back({"preemption_without_memory", e.loc,
                   fmt::format("engine '{}': preemption has no effect without a kv_cache", e.name)});
  if (e.admission == Admission::MaxLength && e.max_seq_len && e.kv_tokens() && *e.max_seq_len > *e.kv_tokens())
    out.push_back({"kv_too_small", e.loc,
                   fmt::format("engine '{}': admission reserves max_seq_len = {} tokens, more than the KV capacity of "
                               "{} tokens: no request is ever admitted",
                               e.name, *e.max_seq_len, *e.kv_tokens())});
}

void pair_findings(const Engine& e, const Workload& w, std::vector<Finding>& out) {
  PolicyTraits traits = core::traits(e.policy);
  auto max_prompt = w.max_prompt();
  if (traits.whole_only && e.token_budget && max_prompt && *max_prompt > *e.token_budget)
    out.push_back({"freeze", e.loc,
                   fmt::format("engine '{}' with workload '{}': prompts of up to {} tokens exceed the token budget of "
                               "{} tokens, and the policy never splits a prompt: the engine freezes at the first such "
                               "prompt (MODEL.md §5)",
                               e.name, w.name, *max_prompt, *e.token_budget)});
  auto kv = e.kv_tokens();
  auto max_output = w.max_output();
  if (kv && max_prompt && max_output && *max_prompt + *max_output > *kv)
    out.push_back({"kv_too_small", e.loc,
                   fmt::format("engine '{}' with workload '{}': a request of up to {} tokens (prompt and output) "
                               "does not fit in the KV capacity of {} tokens",
                               e.name, w.name, *max_prompt + *max_output, *kv)});
  if (e.max_seq_len && max_prompt && max_output && *max_prompt + *max_output > *e.max_seq_len)
    out.push_back({"longer_than_max_seq_len", e.loc,
                   fmt::format("engine '{}' with workload '{}': requests reach {} tokens, more than max_seq_len = {}",
                               e.name, w.name, *max_prompt + *max_output, *e.max_seq_len)});
  LoadFigures f = load_on(e, w);
  if (f.usable_tokens_per_s <= 0)
    out.push_back({"no_capacity", e.loc,
                   fmt::format("engine '{}' with workload '{}': {}", e.name, w.name, f.compute.b_max.reason)});
  // Inside the usable capacity, but not inside what k_max lets through (core/kmax_bound.hpp).
  if (auto k = kmax_bound(e, w); k && f.usable_tokens_per_s > 0 && f.load < 1.0 && f.rate_per_s >= k->requests_per_s)
    out.push_back({"kmax_bound", e.loc,
                   fmt::format("engine '{}' with workload '{}': unstable inside the compute capacity because of k_max: "
                               "{:.3f} req/s (load {:.3f}) is at or above the {:.3f} req/s that max_batch {} lets "
                               "through (each request needs {:.1f} batch slots on average, at most {:.1f} slots/s): "
                               "every policy is unstable there (MODEL.md §3)",
                               e.name, w.name, f.rate_per_s, f.load, k->requests_per_s, k->k_max,
                               k->slots_per_request, k->slots_per_s)});
}

// One finding per workload that overloads some engines: every policy is unstable there.
void overload_findings(const Spec& spec, const Workload& w, std::vector<Finding>& out) {
  std::string engines;
  double offered = 0;
  for (const auto& e : spec.engines) {
    LoadFigures f = load_on(e, w);
    offered = f.offered_tokens_per_s;
    if (f.usable_tokens_per_s > 0 && f.load >= 1.0)
      engines += fmt::format("{}{} ({:.3f})", engines.empty() ? "" : ", ", e.name, f.load);
  }
  if (!engines.empty())
    out.push_back({"overloaded", w.loc,
                   fmt::format("workload '{}' offers {:.1f} tokens/s, at or above the usable capacity of {}: every "
                               "policy is unstable there at this rate (MODEL.md §3)",
                               w.name, offered, engines)});
}

}  // namespace

std::vector<Finding> find_issues(const Spec& spec) {
  std::vector<Finding> out;
  for (const auto& e : spec.engines) engine_findings(e, out);
  for (const auto& w : spec.workloads) {
    for (const auto& e : spec.engines) pair_findings(e, w, out);
    overload_findings(spec, w, out);
  }
  return out;
}

}  // namespace batchproof::core
