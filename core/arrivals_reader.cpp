// The implementation of core/detail/arrivals_reader.hpp (core's sources are the .cpp files
// directly in core/).
#include "core/detail/arrivals_reader.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/line_diagnostics.hpp"

namespace batchproof::core {

void ArrivalsReader::error(int line, int col, std::string message, std::string_view text) {
  failed_ = true;
  diags_.error({path_, line, col}, std::move(message), shown_line(text, col));
}

void ArrivalsReader::malformed(int line, int col, std::string message, std::string_view text) {
  failed_ = true;
  add_malformed_line(diags_, malformed_, first_omitted_, {path_, line, col}, std::move(message), text);
}

bool ArrivalsReader::quiet() const { return malformed_limit_reached(malformed_); }

void ArrivalsReader::finish() { report_omitted_lines(diags_, malformed_, first_omitted_); }

void ArrivalsReader::rebase(double per_second) {
  if (arrivals_.empty()) return;
  const double first = std::min_element(arrivals_.begin(), arrivals_.end(), [](const Arrival& x, const Arrival& y) {
                         return x.time_s < y.time_s;
                       })->time_s;
  for (auto& a : arrivals_) a.time_s = (a.time_s - first) / per_second;
}

std::vector<Arrival> ArrivalsReader::take() {
  std::stable_sort(arrivals_.begin(), arrivals_.end(),
                   [](const Arrival& x, const Arrival& y) { return x.time_s < y.time_s; });
  return std::move(arrivals_);
}

std::string length_message(std::string_view field, WholeNumber w, const std::string& found) {
  switch (w) {
    case WholeNumber::Ok: break;
    case WholeNumber::NotWhole: return fmt::format("{}: expected a whole number of tokens, found {}", field, found);
    case WholeNumber::OutOfRange: return fmt::format("{}: number out of range, found {}", field, found);
  }
  return fmt::format("{}: expected at least 1 token, found {}", field, found);
}

std::string time_message(std::string_view field, std::string_view unit, TimeError e, const std::string& found) {
  if (e == TimeError::NotFinite) return fmt::format("{}: expected a finite number of {}, found {}", field, unit, found);
  return fmt::format("{}: expected a number of {}, found {}", field, unit, found);
}

}  // namespace batchproof::core
