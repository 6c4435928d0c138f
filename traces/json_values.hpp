// Values out of simdjson's DOM (internal to traces/): whole numbers and seconds by the rules
// core's JSON Lines readers use ("12.0" is a whole number too; a number past 64 bits is out of
// range), the value as written for a message, and where a member is on its line.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/whole_number.hpp"

namespace batchproof::traces::json {

using simdjson::dom::element;
using simdjson::dom::element_type;

[[gnu::always_inline]] inline core::WholeNumber whole(element v, std::int64_t& out) {
  switch (v.type()) {
    case element_type::INT64: out = v.get_int64().value_unsafe(); return core::WholeNumber::Ok;
    case element_type::UINT64: {
      const std::uint64_t u = v.get_uint64().value_unsafe();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return core::WholeNumber::OutOfRange;
      out = static_cast<std::int64_t>(u);
      return core::WholeNumber::Ok;
    }
    case element_type::DOUBLE: return core::whole_from_double(v.get_double().value_unsafe(), out);
    default: return core::WholeNumber::NotWhole;
  }
}

[[gnu::always_inline]] inline bool whole_at_least(element v, std::int64_t& out, std::int64_t least) {
  return whole(v, out) == core::WholeNumber::Ok && out >= least;
}

// Any finite JSON number, as a double.
[[gnu::always_inline]] inline bool finite(element v, double& out) {
  switch (v.type()) {
    case element_type::INT64: out = static_cast<double>(v.get_int64().value_unsafe()); return true;
    case element_type::UINT64: out = static_cast<double>(v.get_uint64().value_unsafe()); return true;
    case element_type::DOUBLE: out = v.get_double().value_unsafe(); return std::isfinite(out);
    default: return false;
  }
}

// `text` itself when it lies in a buffer with simdjson's padding after it (Input::padded()),
// else a copy in `scratch` with the padding.
std::string_view padded(std::string_view text, bool text_padded, std::vector<char>& scratch);

inline bool is_null(element v) { return v.type() == element_type::NULL_VALUE; }

// The members of one object that a reader wants, found in one pass over its members (faster
// than a lookup each); of repeated keys the last counts, as nlohmann (core's parser) keeps it.
template <std::size_t N>
struct Members {
  std::array<element, N> value{};
  std::array<bool, N> seen{};
  const element* get(std::size_t k) const { return seen[k] ? &value[k] : nullptr; }
};

// False if `v` is not an object.
template <std::size_t N>
bool collect(element v, const std::array<std::string_view, N>& names, Members<N>& m) {
  simdjson::dom::object obj;
  if (v.get_object().get(obj)) return false;
  for (auto field : obj) {
    for (std::size_t k = 0; k < N; ++k)
      if (field.key == names[k]) {
        m.value[k] = field.value;
        m.seen[k] = true;
        break;
      }
  }
  return true;
}

// The value as a short text for "found ..." in a message (what simdjson prints, cut).
std::string shown(element v);

// Where member `key` of the object that starts at `from` has its value in `text` (a best
// guess: the first `"key":` after `from`), or `from` if not found. For columns in messages.
std::size_t member_offset(std::string_view text, std::string_view key, std::size_t from = 0);

}  // namespace batchproof::traces::json
