// A fitted iteration-time model as the language writes it: the `t(b) = ...` line, and a whole
// `profile` block in canonical form (dsl::format_source) that loads as it stands
// (dsl::load_spec_text), ready for gpu_profiles/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/profile.hpp"
#include "core/source.hpp"

namespace batchproof::cli {

// "t(b) = 11.28 ms + 35.47 ms * ceil(b / 128)", "t(b) = 61.59 ms + 0.36584 ms/token * max(0, b - 95)",
// "t(b) = table { 1 -> 20.1 ms, 64 -> 21.4 ms }".
std::string time_model_text(const core::TimeModel& model);

// `comments` go before the block, one `// ` line each. nullopt (with diagnostics) if the text
// would not load: a bug, since every fitted model is valid.
std::optional<std::string> profile_block(const std::string& name, const core::TimeModel& model,
                                         const std::string& provenance, const std::vector<std::string>& comments,
                                         core::Diagnostics& diags);

}  // namespace batchproof::cli
