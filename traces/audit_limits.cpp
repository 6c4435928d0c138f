#include "traces/audit_limits.hpp"

#include <set>

#include <fmt/format.h>

namespace batchproof::traces {

namespace {

// Phase masks: which phases a batch may hold (bit 0 decode, bit 1 prefill).
using Masks = std::set<int>;
constexpr int kDecode = 1, kPrefill = 2;

Masks masks_of(const std::vector<core::PolicyStmt>& body);

Masks combine(const Masks& a, const Masks& b) {
  Masks out;
  for (int x : a)
    for (int y : b) out.insert(x | y);
  return out;
}

Masks masks_of(const core::PolicyStmt& stmt) {
  if (stmt.rule) {
    int phase = stmt.rule->phase == core::Phase::Decode ? kDecode : kPrefill;
    // A rule may always find nothing to take; a batch then holds none of its phase.
    return Masks{0, phase};
  }
  Masks out;
  for (const auto& w : stmt.when) {
    for (const auto& b : w.branches) {
      auto m = masks_of(b.body);
      out.insert(m.begin(), m.end());
    }
    auto m = masks_of(w.otherwise);
    out.insert(m.begin(), m.end());
  }
  if (out.empty()) out.insert(0);
  return out;
}

Masks masks_of(const std::vector<core::PolicyStmt>& body) {
  Masks acc{0};
  for (const auto& stmt : body) acc = combine(acc, masks_of(stmt));
  return acc;
}

}  // namespace

bool policy_can_mix(const core::Policy& policy) {
  return masks_of(policy.body).count(kDecode | kPrefill) > 0;
}

AuditLimits limits_from_engine(const core::Engine& engine, std::string_view spec_file) {
  std::string source = fmt::format("the spec ({}, engine {})", spec_file, engine.name);
  AuditLimits l;
  l.budget = Limit::stated(engine.token_budget, source);
  l.budget_form = engine.budget_form;
  l.max_batch = Limit::stated(engine.max_batch, source);
  l.kv_tokens = Limit::stated(engine.kv_tokens(), source);
  l.block_size = std::max<std::int64_t>(1, engine.block_size);
  l.accounting = engine.accounting;
  l.policy_mixes = policy_can_mix(engine.policy);
  l.policy_source = source;
  return l;
}

AuditLimits limits_from_header(const core::TraceHeader& header) {
  const std::string source = "the trace header";
  AuditLimits l;
  l.budget = Limit::stated(header.token_budget, source);
  l.budget_form = header.budget_form;
  l.max_batch = Limit::stated(header.max_batch, source);
  l.kv_tokens = Limit::stated(header.kv_capacity_tokens, source);
  l.block_size = std::max<std::int64_t>(1, header.block_size);
  l.accounting = header.accounting;
  return l;
}

core::Engine engine_from_header(const core::TraceHeader& header) {
  core::Engine e;
  e.name = header.engine;
  e.token_budget = header.token_budget;
  e.budget_form = header.budget_form;
  e.max_batch = header.max_batch;
  if (header.kv_capacity_tokens) {
    e.kv.form = core::KvCache::Form::Tokens;
    e.kv.tokens = *header.kv_capacity_tokens;
  }
  e.block_size = std::max<std::int64_t>(1, header.block_size);
  e.accounting = header.accounting;
  return e;
}

}  // namespace batchproof::traces
