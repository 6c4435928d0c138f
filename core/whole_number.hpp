// Whole numbers (token counts, ids, indices) as input files write them: "12", and "12.0" too,
// since tools that write through floating point (pandas with a missing value anywhere) print
// whole numbers that way.
#pragma once

#include <cstdint>
#include <string_view>

namespace batchproof::core {

enum class WholeNumber { Ok, NotWhole, OutOfRange };

// `v` as a whole number in `out` (set only when Ok).
WholeNumber whole_from_double(double v, std::int64_t& out);

// The whole number written in `text`, which is all number: "12", "-3", "12.0", "1e3".
WholeNumber whole_from_text(std::string_view text, std::int64_t& out);

}  // namespace batchproof::core
