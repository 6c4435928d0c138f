// The implementation of core/detail/json_line.hpp (core's sources are the .cpp files directly
// in core/).
#include "core/detail/json_line.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"
#include "core/line_reader.hpp"

namespace batchproof::core {

namespace {

using nlohmann::json;

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::size_t skip_json_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_json_space(s[i])) ++i;
  return i;
}

std::size_t skip_json_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == '"')
      return i + 1;
  }
  return s.size();
}

std::size_t skip_json_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') return skip_json_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = skip_json_string(s, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return i;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_json_space(s[i])) ++i;
  return i;
}

// "syntax error while parsing value - invalid literal; last read: 'x'" from nlohmann's what().
std::string json_error_detail(std::string_view what) {
  if (auto p = what.find("] "); p != std::string_view::npos) what.remove_prefix(p + 2);
  if (what.substr(0, 11) == "parse error")
    if (auto p = what.find(": "); p != std::string_view::npos) what.remove_prefix(p + 2);
  return printable(what, 200);
}

}  // namespace

int json_start_column(std::string_view line) { return static_cast<int>(skip_json_space(line, 0)) + 1; }

JsonLine parse_json_line(std::string_view line, bool quiet) {
  JsonLine out;
  try {
    out.value = quiet ? json::parse(line.begin(), line.end(), nullptr, false) : json::parse(line.begin(), line.end());
    out.valid = !out.value.is_discarded();
    if (!out.valid) out.col = json_start_column(line);
  } catch (const json::parse_error& e) {
    out.col = std::clamp(static_cast<int>(e.byte), 1, static_cast<int>(line.size()) + 1);
    out.detail = json_error_detail(e.what());
    out.at_end = e.byte >= line.size();
  } catch (const json::exception& e) {  // a number too large for a double
    out.col = json_start_column(line);
    out.detail = json_error_detail(e.what());
  }
  return out;
}

std::string not_an_object(std::string_view line) {
  return fmt::format("expected a JSON object, found {}", printable(trim(line)));
}

std::string path_name(const Path& path) {
  std::string out;
  for (const auto& step : path) {
    if (step.is_index) {
      fmt::format_to(std::back_inserter(out), "[{}]", step.index);
    } else {
      if (!out.empty()) out += '.';
      out += step.key;
    }
  }
  return out;
}

std::pair<Span, std::size_t> locate(std::string_view line, const Path& path) {
  std::size_t i = skip_json_space(line, 0);
  std::size_t depth = 0;
  for (const auto& step : path) {
    if (i >= line.size()) break;
    std::optional<std::size_t> found;
    if (step.is_index) {
      if (line[i] != '[') break;
      std::size_t j = skip_json_space(line, i + 1);
      bool ok = true;
      for (std::size_t k = 0; k < step.index && ok; ++k) {
        j = skip_json_space(line, skip_json_value(line, j));
        ok = j < line.size() && line[j] == ',';
        j = skip_json_space(line, j + 1);
      }
      if (ok && j < line.size()) found = j;
    } else {
      if (line[i] != '{') break;
      std::size_t j = i + 1;
      for (;;) {
        j = skip_json_space(line, j);
        if (j >= line.size() || line[j] != '"') break;
        const std::size_t key_end = skip_json_string(line, j);
        if (key_end < j + 2) break;
        const std::string_view name = line.substr(j + 1, key_end - j - 2);
        j = skip_json_space(line, key_end);
        if (j >= line.size() || line[j] != ':') break;
        j = skip_json_space(line, j + 1);
        if (name == step.key) found = j;  // the last one, as nlohmann keeps
        j = skip_json_space(line, skip_json_value(line, j));
        if (j >= line.size() || line[j] != ',') break;
        ++j;
      }
    }
    if (!found) break;
    i = *found;
    ++depth;
  }
  return {Span{i, skip_json_value(line, i)}, depth};
}

std::string written_value(std::string_view line, Span span) {
  return printable(line.substr(span.begin, span.end - span.begin));
}

WholeNumber whole_from_json(const json& v, std::int64_t& out) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return WholeNumber::OutOfRange;
    out = static_cast<std::int64_t>(u);
    return WholeNumber::Ok;
  }
  if (v.is_number_integer()) {
    out = v.get<std::int64_t>();
    return WholeNumber::Ok;
  }
  if (v.is_number_float()) return whole_from_double(v.get<double>(), out);
  return WholeNumber::NotWhole;
}

bool finite_from_json(const json& v, double& out) {
  if (!v.is_number()) return false;
  out = v.get<double>();
  return std::isfinite(out);
}

}  // namespace batchproof::core
