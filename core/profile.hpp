// A GPU profile: how long one iteration of b tokens takes, plus the memory facts that
// derive a KV-cache capacity. MODEL.md §1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/source.hpp"

namespace batchproof::core {

struct TimeModel {
  enum class Form { Staircase, Linear, Table };
  Form form = Form::Staircase;
  double c_s = 0;    // constant part, seconds
  double a_s = 0;    // staircase: seconds per step; linear: seconds per token above b0
  std::int64_t b0 = 1;
  // Table form: (tokens, seconds), strictly increasing in tokens. Linear interpolation
  // between points, the first point's time below it, the last segment's slope beyond it.
  std::vector<std::pair<std::int64_t, double>> table;

  // Iteration time of a batch of b tokens, in seconds. t(0) is 0: an empty batch is no iteration.
  double seconds(std::int64_t b) const;
};

struct Profile {
  std::string name;
  TimeModel time;
  std::optional<std::string> gpu;
  std::optional<double> gpu_memory_bytes;
  std::optional<double> weights_bytes;
  std::optional<double> kv_bytes_per_token;
  std::optional<std::int64_t> tensor_parallel;
  std::string provenance;
  SourceLoc loc;
};

}  // namespace batchproof::core
