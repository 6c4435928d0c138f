// The JSON Lines arrivals formats: batchproof's own ({"time", "prompt", "output"[, "class"]}, in
// seconds) and Mooncake's traces ({"timestamp", "input_length", "output_length"}, in
// milliseconds).
#include <cstdint>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/detail/arrivals_reader.hpp"
#include "core/detail/json_line.hpp"

namespace batchproof::core {

namespace {

using nlohmann::json;

struct JsonLayout {
  std::string_view time, prompt, output;
  std::string_view time_unit;
  bool has_class;
};
constexpr JsonLayout kBatchproofLayout{"time", "prompt", "output", "seconds", true};
constexpr JsonLayout kMooncakeLayout{"timestamp", "input_length", "output_length", "milliseconds", false};

void read_record(std::string_view line, int number, const JsonLayout& layout, ArrivalsReader& reader) {
  const int first_col = json_start_column(line);
  const JsonLine parsed = parse_json_line(line, reader.quiet());
  if (!parsed.valid) {
    reader.malformed(number, parsed.col, "malformed JSON: " + parsed.detail, line);
    return;
  }
  const json& j = parsed.value;
  if (!j.is_object()) {
    reader.malformed(number, first_col, not_an_object(line), line);
    return;
  }

  // Where a member's value sits on the line, and its text, for a message about it.
  auto value_at = [&](std::string_view key) -> std::pair<int, std::string> {
    const auto [span, depth] = locate(line, {PathStep{key}});
    if (depth == 0) return {first_col, "?"};
    return {static_cast<int>(span.begin) + 1, written_value(line, span)};
  };
  auto member = [&](std::string_view key) -> const json* {
    auto it = j.find(key);
    if (it != j.end()) return &*it;
    reader.malformed(number, first_col, fmt::format("missing field \"{}\"", key), line);
    return nullptr;
  };

  Arrival a;
  const json* t = member(layout.time);
  if (!t) return;
  if (!finite_from_json(*t, a.time_s)) {
    const auto [col, text] = value_at(layout.time);
    const TimeError e = t->is_number() ? TimeError::NotFinite : TimeError::NotNumber;
    reader.malformed(number, col, time_message(layout.time, layout.time_unit, e, text), line);
    return;
  }
  for (std::string_view key : {layout.prompt, layout.output}) {
    const json* v = member(key);
    if (!v) return;
    std::int64_t& out = key == layout.prompt ? a.prompt : a.output;
    if (const WholeNumber w = whole_from_json(*v, out); !is_token_count(w, out)) {
      const auto [col, text] = value_at(key);
      reader.malformed(number, col, length_message(key, w, text), line);
      return;
    }
  }
  if (layout.has_class) {
    if (auto it = j.find("class"); it != j.end()) {
      if (!it->is_string()) {
        const auto [col, text] = value_at("class");
        reader.malformed(number, col, fmt::format("class: expected a string, found {}", text), line);
        return;
      }
      a.cls = it->get<std::string>();
    }
  }
  reader.arrivals().push_back(std::move(a));
}

}  // namespace

std::optional<TraceFormat> jsonl_format(std::string_view first_record) {
  // Keys, not a parse: a malformed first record is still recognized and then reported.
  if (first_record.find("\"time\"") != std::string_view::npos) return TraceFormat::Batchproof;
  if (first_record.find("\"timestamp\"") != std::string_view::npos &&
      first_record.find("\"input_length\"") != std::string_view::npos)
    return TraceFormat::Mooncake;
  return std::nullopt;
}

void read_jsonl_arrivals(LineReader& lines, TraceFormat format, ArrivalsReader& reader) {
  const bool mooncake = format == TraceFormat::Mooncake;
  do
    read_record(lines.line(), lines.number(), mooncake ? kMooncakeLayout : kBatchproofLayout, reader);
  while (lines.next_nonblank());
  if (mooncake) reader.rebase(1000.0);  // milliseconds
}

}  // namespace batchproof::core
