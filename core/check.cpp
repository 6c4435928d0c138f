#include "core/check.hpp"

#include <array>
#include <utility>

namespace batchproof::core {

namespace {
struct PropertyInfo {
  Property property;
  std::string_view name;
  std::string_view violation;
};
constexpr std::array kProperties{
    PropertyInfo{Property::WorkConserving, "work_conserving", "not_work_conserving"},
    PropertyInfo{Property::Budget, "budget", "budget_exceeded"},
    PropertyInfo{Property::BatchLimit, "batch_limit", "batch_limit_exceeded"},
    PropertyInfo{Property::MemorySafe, "memory_safe", "kv_exceeded"},
    PropertyInfo{Property::Progress, "progress", "no_progress"},
    PropertyInfo{Property::Fcfs, "fcfs", "fcfs_violated"},
    PropertyInfo{Property::NoInstability, "no_instability", "instability_witness"},
    PropertyInfo{Property::BacklogBound, "backlog_bound", "backlog_bound_exceeded"},
};
}  // namespace

std::string_view property_name(Property p) {
  for (const auto& i : kProperties)
    if (i.property == p) return i.name;
  return "";
}

std::string_view violation_kind(Property p) {
  for (const auto& i : kProperties)
    if (i.property == p) return i.violation;
  return "";
}

std::optional<Property> property_from_name(std::string_view name) {
  for (const auto& i : kProperties)
    if (i.name == name) return i.property;
  return std::nullopt;
}

std::vector<std::string> property_names() {
  std::vector<std::string> out;
  for (const auto& i : kProperties) out.emplace_back(i.name);
  return out;
}

bool is_per_iteration(Property p) { return p != Property::NoInstability && p != Property::BacklogBound; }

}  // namespace batchproof::core
