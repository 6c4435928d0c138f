// Diagnostics about the lines of an input file: its bytes quoted safely in a message, the line
// kept for the caret display, and how many malformed lines are reported.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/source.hpp"

namespace batchproof::core {

// Bytes of a bad value quoted in a message.
inline constexpr std::size_t kMaxQuoted = 40;

// File bytes made safe for a message: control and non-ASCII bytes (junk, or a half-cut UTF-8
// sequence) become '?', so a message is always printable and valid UTF-8. Past `limit` bytes
// the text is cut and "..." added.
std::string printable(std::string_view s, std::size_t limit = kMaxQuoted);

// The source line kept in a diagnostic: a long line is cut, but never before the column it
// points at.
std::string shown_line(std::string_view line, int col);

// Lenient per line: every malformed line is counted, the first kMaxLineErrors are reported and
// the rest summed up in one error. Enough to see what is wrong without burying it: a broken
// file usually breaks every line.
inline constexpr int kMaxLineErrors = 10;

// Counts one more malformed line in `count`. Among the first kMaxLineErrors it is reported
// (with `line` for the caret display); the first one left out is remembered in `first_omitted`.
void add_malformed_line(Diagnostics& diags, int& count, SourceLoc& first_omitted, SourceLoc loc,
                        std::string message, std::string_view line);

// The next malformed line will only be counted: a reader need not make its message.
inline bool malformed_limit_reached(int count) { return count >= kMaxLineErrors; }

// "... and N more malformed lines" if lines were left out, located at the first of them so that
// sorted diagnostics keep it last.
void report_omitted_lines(Diagnostics& diags, int count, const SourceLoc& first_omitted);

}  // namespace batchproof::core
