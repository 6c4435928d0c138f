// Arrivals files: reading the file, telling its format from its first line, and the public
// functions. The formats are read in core/arrivals_csv.cpp (Azure, Vidur) and
// core/arrivals_jsonl.cpp (batchproof, Mooncake).
#include "core/arrivals_file.hpp"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <sstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/detail/arrivals_reader.hpp"
#include "core/line_reader.hpp"

namespace batchproof::core {

namespace {

using nlohmann::json;

constexpr std::array kFormatNames{
    std::pair{TraceFormat::Auto, std::string_view{"auto"}},
    std::pair{TraceFormat::Batchproof, std::string_view{"batchproof"}},
    std::pair{TraceFormat::Azure, std::string_view{"azure"}},
    std::pair{TraceFormat::Vidur, std::string_view{"vidur"}},
    std::pair{TraceFormat::Mooncake, std::string_view{"mooncake"}},
};

std::optional<std::string> read_file(const std::string& path, Diagnostics& diags) {
  auto fail = [&](int err) {
    diags.error({path, 0, 0}, fmt::format("cannot read arrivals file: {}",
                                          std::error_code(err, std::generic_category()).message()));
    return std::nullopt;
  };
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(errno);
  std::string data;
  std::array<char, 1 << 16> buf;
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) data.append(buf.data(), n);
  const int err = std::ferror(f) ? errno : 0;  // a directory opens, then fails to read (EISDIR)
  std::fclose(f);
  if (err != 0) return fail(err);
  return data;
}

std::optional<TraceFormat> detect_format(std::string_view first_line) {
  const std::string_view line = trim(first_line);
  if (!line.empty() && line.front() == '{') return jsonl_format(line);
  return csv_format(line);
}

std::optional<std::vector<Arrival>> read_arrivals_unguarded(const std::string& path, TraceFormat format,
                                                            Diagnostics& diags) {
  auto data = read_file(path, diags);
  if (!data) return std::nullopt;
  std::istringstream in(std::move(*data));
  LineReader lines(in);
  if (!lines.next_nonblank()) {
    diags.error({path, 0, 0}, "no arrivals in file");
    return std::nullopt;
  }
  ArrivalsReader reader(path, diags);
  if (format == TraceFormat::Auto) {
    auto detected = detect_format(lines.line());
    if (!detected) {
      reader.error(lines.number(), 1,
                   "cannot tell the format of this arrivals file: expected JSON Lines with \"time\" (batchproof) or "
                   "\"timestamp\" and \"input_length\" (Mooncake), or a CSV header "
                   "TIMESTAMP,ContextTokens,GeneratedTokens (Azure) or "
                   "arrived_at,num_prefill_tokens,num_decode_tokens (Vidur)",
                   lines.line());
      return std::nullopt;
    }
    format = *detected;
  }
  if (format == TraceFormat::Azure || format == TraceFormat::Vidur)
    read_csv_arrivals(lines, format, reader);
  else
    read_jsonl_arrivals(lines, format, reader);
  reader.finish();
  if (reader.failed()) return std::nullopt;
  auto arrivals = reader.take();
  if (arrivals.empty()) {
    diags.error({path, 0, 0}, "no arrivals in file");
    return std::nullopt;
  }
  return arrivals;
}

}  // namespace

std::optional<std::vector<Arrival>> read_arrivals(const std::string& path, TraceFormat format, Diagnostics& diags) {
  try {
    return read_arrivals_unguarded(path, format, diags);
  } catch (const std::exception& e) {  // out of memory, in practice
    diags.error({path, 0, 0}, fmt::format("cannot read arrivals file: {}", e.what()));
    return std::nullopt;
  }
}

std::string_view format_name(TraceFormat format) {
  for (const auto& [f, name] : kFormatNames)
    if (f == format) return name;
  return "auto";
}

std::optional<TraceFormat> format_from_name(std::string_view name) {
  for (const auto& [f, n] : kFormatNames)
    if (n == name) return f;
  return std::nullopt;
}

std::vector<std::string> format_names() {
  std::vector<std::string> out;
  for (const auto& [f, name] : kFormatNames) out.emplace_back(name);
  return out;
}

std::string write_arrivals_jsonl(const std::vector<Arrival>& arrivals) {
  std::string out;
  out.reserve(arrivals.size() * 48);
  for (const auto& a : arrivals) {
    // fmt's "{}" is the shortest text that reads back to the same double; JSON has no inf/nan.
    if (std::isfinite(a.time_s))
      fmt::format_to(std::back_inserter(out), "{{\"time\": {}, \"prompt\": {}, \"output\": {}", a.time_s, a.prompt,
                     a.output);
    else
      fmt::format_to(std::back_inserter(out), "{{\"time\": null, \"prompt\": {}, \"output\": {}", a.prompt, a.output);
    if (!a.cls.empty()) {
      try {
        out += ", \"class\": " + json(a.cls).dump(-1, ' ', false, json::error_handler_t::replace);
      } catch (const json::exception&) {
        out += ", \"class\": \"?\"";
      }
    }
    out += "}\n";
  }
  return out;
}

}  // namespace batchproof::core
