// Units and their dimensions. Every quantity in a spec is stored in base units:
// seconds, tokens, blocks, requests, iterations, bytes, requests per second,
// seconds per token, or a plain fraction (a percentage divided by 100).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace batchproof::core {

enum class Dimension { Time, Tokens, Blocks, Requests, Iterations, Bytes, Rate, TimePerToken, Fraction, Number };

struct Unit {
  std::string_view name;
  Dimension dim;
  double scale;  // multiply a value in this unit by scale to get base units
};

// The unit spelled `name` exactly (case-sensitive: "MiB", not "mib"), or nullptr.
const Unit* find_unit(std::string_view name);
// Every spelling, for "did you mean".
std::vector<std::string> unit_spellings();
// The canonical unit of a dimension (what the printer and messages use).
std::string_view canonical_unit(Dimension d);
// "a duration (us, ms, s)" and the like, for messages.
std::string describe(Dimension d);

}  // namespace batchproof::core
