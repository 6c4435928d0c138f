// The per-iteration properties of MODEL.md §2, checked on one concrete iteration: the state
// before it, the batch the policy formed, the state after. The ground truth that every solver
// counterexample is confirmed against (and that the auditor's replay will use).
#pragma once

#include <optional>
#include <string>

#include "core/check.hpp"
#include "core/engine.hpp"
#include "core/state.hpp"

namespace batchproof::core {

struct BatchCheck {
  bool supported = true;           // false: this property is not decided here (reason in witness)
  std::optional<std::string> violation;  // what is wrong, if anything
};

// A token that fits and was left out (work conservation, and progress when the batch is
// empty) is: the next prompt token of a request whose prompt is not all in the batch, or the
// decode token of a request whose prompt was done before the iteration and that has none in
// the batch, when one more token stays within the budget, max_batch (for a request not in the
// batch yet) and KV memory.
BatchCheck check_batch(const Engine& engine, const EngineState& before, const Batch& batch, const EngineState& after,
                       Property property);

}  // namespace batchproof::core
