// The summary that `batchproof check` prints: built once from a spec, rendered as text or JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/capacity.hpp"
#include "core/findings.hpp"
#include "core/spec.hpp"

namespace batchproof::cli {

struct StationLoad : core::StationLoad {
  std::string network;
};

struct CheckReport {
  std::string file;
  const core::Spec* spec = nullptr;
  std::vector<core::ComputeCapacity> engine_capacity;  // per spec.engines
  struct Pair {
    const core::Engine* engine;
    const core::Workload* workload;
    core::LoadFigures figures;
  };
  std::vector<Pair> loads;
  std::vector<StationLoad> stations;
  std::vector<core::Finding> findings;
};

CheckReport build_report(const std::string& file, const core::Spec& spec);
std::string render_text(const CheckReport& r);
nlohmann::json render_json(const CheckReport& r);

}  // namespace batchproof::cli
