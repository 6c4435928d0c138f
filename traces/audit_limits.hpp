// The limits an audit checks a log against, and where each came from. The spec's engine
// (--spec FILE --engine E) wins; else the log states them (batchproof's own header, or a
// record's logged runtime caps such as TensorRT-LLM's maxNumTokensRuntime); else the limit
// is unknown and the checks that need it say "not checked (no limit known)".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/engine.hpp"
#include "core/trace_format.hpp"

namespace batchproof::traces {

// One limit. `known` with no value: the source states there is none (an engine without
// max_batch has no batch-size limit). Not `known`: no source says anything.
struct Limit {
  bool known = false;
  std::optional<std::int64_t> value;
  std::string source;  // "the spec (engine sarathi)", "the trace header", ...

  static Limit stated(std::optional<std::int64_t> value, std::string source) {
    return Limit{true, value, std::move(source)};
  }
  // The limit in force at a record: this one if known, else what the record itself logs.
  struct InForce {
    bool known = false;
    std::optional<std::int64_t> value;
  };
  InForce or_logged(std::optional<std::int64_t> logged) const {
    if (known || !logged) return {known, value};
    return {true, logged};
  }
};

struct AuditLimits {
  Limit budget;
  core::BudgetForm budget_form = core::BudgetForm::Plain;
  Limit max_batch;
  Limit kv_tokens;
  std::int64_t block_size = 1;
  core::Accounting accounting = core::Accounting::Paper;
  // Whether the policy ever puts prefill and decode tokens in one batch; none: no policy known.
  std::optional<bool> policy_mixes;
  std::string policy_source;
};

// From a spec's engine (every limit is known: what the engine does not declare, it lacks).
AuditLimits limits_from_engine(const core::Engine& engine, std::string_view spec_file);
// From batchproof's own trace header (it states every limit; it says nothing of the policy).
AuditLimits limits_from_header(const core::TraceHeader& header);

// Whether some batch the policy forms can hold both phases: a rule without a guard always
// may add tokens of its phase; a guarded rule may or may not; `when` picks one branch.
bool policy_can_mix(const core::Policy& policy);

// An engine with the header's limits and memory facts and no policy: enough for
// core::check_batch, which reads only limits and memory.
core::Engine engine_from_header(const core::TraceHeader& header);

}  // namespace batchproof::traces
