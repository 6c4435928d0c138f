#include "core/units.hpp"

#include <array>

namespace batchproof::core {

namespace {
constexpr double kKi = 1024.0;
constexpr std::array kUnits{
    Unit{"us", Dimension::Time, 1e-6},
    Unit{"ms", Dimension::Time, 1e-3},
    Unit{"s", Dimension::Time, 1.0},
    Unit{"token", Dimension::Tokens, 1.0},
    Unit{"tokens", Dimension::Tokens, 1.0},
    Unit{"block", Dimension::Blocks, 1.0},
    Unit{"blocks", Dimension::Blocks, 1.0},
    Unit{"request", Dimension::Requests, 1.0},
    Unit{"requests", Dimension::Requests, 1.0},
    Unit{"iteration", Dimension::Iterations, 1.0},
    Unit{"iterations", Dimension::Iterations, 1.0},
    Unit{"B", Dimension::Bytes, 1.0},
    Unit{"KiB", Dimension::Bytes, kKi},
    Unit{"MiB", Dimension::Bytes, kKi * kKi},
    Unit{"GiB", Dimension::Bytes, kKi * kKi * kKi},
    Unit{"TiB", Dimension::Bytes, kKi * kKi * kKi * kKi},
    Unit{"req/s", Dimension::Rate, 1.0},
    Unit{"req/min", Dimension::Rate, 1.0 / 60.0},
    Unit{"us/token", Dimension::TimePerToken, 1e-6},
    Unit{"ms/token", Dimension::TimePerToken, 1e-3},
    Unit{"s/token", Dimension::TimePerToken, 1.0},
    Unit{"%", Dimension::Fraction, 0.01},
};
}  // namespace

const Unit* find_unit(std::string_view name) {
  for (const auto& u : kUnits)
    if (u.name == name) return &u;
  return nullptr;
}

std::vector<std::string> unit_spellings() {
  std::vector<std::string> out;
  for (const auto& u : kUnits) out.emplace_back(u.name);
  return out;
}

std::string_view canonical_unit(Dimension d) {
  switch (d) {
    case Dimension::Time: return "ms";
    case Dimension::Tokens: return "tokens";
    case Dimension::Blocks: return "blocks";
    case Dimension::Requests: return "requests";
    case Dimension::Iterations: return "iterations";
    case Dimension::Bytes: return "GiB";
    case Dimension::Rate: return "req/s";
    case Dimension::TimePerToken: return "ms/token";
    case Dimension::Fraction: return "%";
    case Dimension::Number: return "";
  }
  return "";
}

std::string describe(Dimension d) {
  switch (d) {
    case Dimension::Time: return "a duration (us, ms, s)";
    case Dimension::Tokens: return "a token count (tokens)";
    case Dimension::Blocks: return "a block count (blocks)";
    case Dimension::Requests: return "a request count (requests)";
    case Dimension::Iterations: return "an iteration count (iterations)";
    case Dimension::Bytes: return "a memory size (B, KiB, MiB, GiB, TiB)";
    case Dimension::Rate: return "a rate (req/s, req/min)";
    case Dimension::TimePerToken: return "a time per token (us/token, ms/token, s/token)";
    case Dimension::Fraction: return "a percentage (%)";
    case Dimension::Number: return "a plain number";
  }
  return "a quantity";
}

}  // namespace batchproof::core
