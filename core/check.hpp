// `check` declarations: a property, what it is about, its parameters, its expected verdict.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/source.hpp"

namespace batchproof::core {

// The vocabulary shared by `prove`, `check` and `audit` (DESIGN.md).
enum class Property {
  WorkConserving, Budget, BatchLimit, MemorySafe, Progress, Fcfs,  // per iteration, about an engine
  NoInstability,                                                    // (engine, workload) or (network)
  BacklogBound,                                                     // (engine[, workload])
};
enum class Expect { None, Holds, Violated };

struct Check {
  std::string name;
  Property property = Property::WorkConserving;
  std::string engine;    // or a network, for no_instability
  std::string workload;  // may be empty
  bool on_network = false;
  std::optional<std::int64_t> up_to_requests;
  std::optional<double> load;  // load <= R
  std::optional<std::int64_t> period;
  std::optional<std::int64_t> sigma_tokens;
  std::optional<double> rho;
  std::optional<double> timeout_s;
  Expect expect = Expect::None;
  SourceLoc loc;
};

std::string_view property_name(Property p);
// The violation kind an audit reports for this property ("" for none).
std::string_view violation_kind(Property p);
std::optional<Property> property_from_name(std::string_view name);
std::vector<std::string> property_names();
bool is_per_iteration(Property p);

}  // namespace batchproof::core
