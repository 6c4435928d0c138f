#include "core/whole_number.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

namespace batchproof::core {

WholeNumber whole_from_double(double v, std::int64_t& out) {
  if (!std::isfinite(v) || v != std::floor(v)) return WholeNumber::NotWhole;
  if (std::abs(v) >= 9.2e18) return WholeNumber::OutOfRange;
  out = static_cast<std::int64_t>(v);
  return WholeNumber::Ok;
}

WholeNumber whole_from_text(std::string_view text, std::int64_t& out) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(first, last, out);
  if (ec == std::errc() && p == last) return WholeNumber::Ok;
  if (ec == std::errc::result_out_of_range && p == last) return WholeNumber::OutOfRange;
  double v = 0;
  auto [q, ec2] = std::from_chars(first, last, v);
  if (q != last || text.empty()) return WholeNumber::NotWhole;
  if (ec2 == std::errc::result_out_of_range) return WholeNumber::OutOfRange;
  if (ec2 != std::errc()) return WholeNumber::NotWhole;
  return whole_from_double(v, out);
}

}  // namespace batchproof::core
