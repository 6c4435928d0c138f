// The table of formats: names, what each can support, and which are detected how.
#include <array>
#include <utility>

#include "traces/reader.hpp"

namespace batchproof::traces {
namespace {

struct FormatRow {
  Format format;
  std::string_view name;
  FormatSupport support;
};

// What each format logs, from TRACE-FORMATS.md §8. Fields: request_level, budget, batch_limit,
// kv, work_conservation, durations, every_iteration.
constexpr std::array kFormats{
    FormatRow{Format::Batchproof, "batchproof", {true, true, true, true, true, true, true}},
    FormatRow{Format::TrtllmIterStats, "trtllm", {false, true, true, true, true, true, true}},
    FormatRow{Format::TrtllmPyExecutor, "trtllm-log", {false, true, true, false, false, true, true}},
    FormatRow{Format::Sglang, "sglang", {false, true, true, true, true, false, false}},
    FormatRow{Format::Vllm, "vllm", {false, true, true, false, false, true, true}},
    FormatRow{Format::VidurChrome, "vidur", {true, true, true, false, true, true, true}},
    FormatRow{Format::SarathiChrome, "sarathi", {true, true, true, false, true, true, true}},
    FormatRow{Format::VidurBatchCsv, "vidur-csv", {false, true, true, false, false, true, true}},
};

}  // namespace

std::string_view format_name(Format format) {
  for (const auto& row : kFormats)
    if (row.format == format) return row.name;
  return "unknown";
}

std::optional<Format> parse_format(std::string_view name) {
  for (const auto& row : kFormats)
    if (row.name == name) return row.format;
  return std::nullopt;
}

std::vector<Format> all_formats() {
  std::vector<Format> formats;
  for (const auto& row : kFormats) formats.push_back(row.format);
  return formats;
}

FormatSupport format_support(Format format) {
  for (const auto& row : kFormats)
    if (row.format == format) return row.support;
  return {};
}

}  // namespace batchproof::traces
