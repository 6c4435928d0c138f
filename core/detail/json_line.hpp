// INTERNAL TO CORE: include this header only from core's own .cpp files. It includes
// <nlohmann/json.hpp>, which core keeps out of its public headers (docs/DESIGN.md: core uses
// nlohmann privately). Implemented in core/json_line.cpp.
//
// One line of a JSON Lines file, as core's readers take it: nlohmann validates and reads the
// line; only when a value is wrong is the line scanned again as text, to point at the value's
// column (which nlohmann does not keep) and quote it as written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/whole_number.hpp"

namespace batchproof::core {

// The column (1-based) where the JSON on `line` begins.
int json_start_column(std::string_view line);

struct JsonLine {
  nlohmann::json value;
  bool valid = false;  // `value` is the line's JSON; if not, where and why:
  int col = 1;
  std::string detail;   // nlohmann's reason: "syntax error while parsing value - ..."
  bool at_end = false;  // the parse ran into the end of the line: cut off, if the input ends there
};

// Parses `line`. `quiet`: only whether it parses matters (past the reported malformed lines),
// so nlohmann is asked for no exception and `detail` stays empty.
JsonLine parse_json_line(std::string_view line, bool quiet);

// "expected a JSON object, found ...": about a record line that holds JSON but not an object.
std::string not_an_object(std::string_view line);

// Where a value is on a line: bytes [begin, end).
struct Span {
  std::size_t begin = 0, end = 0;
};

// A step into a JSON value: a member (by key) or an array element (by index).
struct PathStep {
  std::string_view key;  // always a literal of the reader
  std::size_t index = 0;
  bool is_index = false;
};
using Path = std::vector<PathStep>;

// "items[2].prefill"
std::string path_name(const Path& path);

// The value at `path` in the JSON on `line`, following the steps while they can be followed (a
// key written with escapes is not recognized; of repeated keys the last counts, as nlohmann
// keeps it): the span of the deepest value found and how many steps led to it.
std::pair<Span, std::size_t> locate(std::string_view line, const Path& path);

// The value at `span` as written on `line`, quoted in a message.
std::string written_value(std::string_view line, Span span);

// A JSON number that is a whole number (see core/whole_number.hpp), in `out` when Ok.
WholeNumber whole_from_json(const nlohmann::json& v, std::int64_t& out);

// A JSON number that is finite, in `out`.
bool finite_from_json(const nlohmann::json& v, double& out);

}  // namespace batchproof::core
