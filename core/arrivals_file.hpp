// Arrivals files: batchproof's own JSON Lines and the public traces (Azure LLM inference CSV,
// Vidur's processed CSV, Mooncake JSON Lines), read into one list of arrivals.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/source.hpp"
#include "core/workload.hpp"

namespace batchproof::core {

// Reads the arrivals in `path`, sorted by time (stable). TraceFormat::Auto detects the format
// from the first non-blank line. Public traces are rebased so that the earliest arrival is at
// 0 s; batchproof times are kept as written. Every problem (an unreadable file, a malformed
// line, no arrivals) becomes an error in `diags` and the result is nullopt.
std::optional<std::vector<Arrival>> read_arrivals(const std::string& path, TraceFormat format, Diagnostics& diags);

// "auto", "batchproof", "azure", "vidur", "mooncake".
std::string_view format_name(TraceFormat format);
std::optional<TraceFormat> format_from_name(std::string_view name);
// Every name, for "did you mean".
std::vector<std::string> format_names();

// Batchproof JSON Lines, one {"time", "prompt", "output"[, "class"]} object a line, with times
// printed in the shortest form that reads back to the same double.
std::string write_arrivals_jsonl(const std::vector<Arrival>& arrivals);

}  // namespace batchproof::core
