#include "cli/command_support.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "cli/diagnostics_output.hpp"
#include "cli/exit_codes.hpp"
#include "dsl/dsl.hpp"

namespace batchproof::cli {

std::unique_ptr<traces::Input> open_log_reporting(const std::string& path) {
  core::Diagnostics diags;
  auto input = traces::Input::open(path, diags);
  if (!input) print_diagnostics(diags);
  return input;
}

std::optional<core::Spec> load_spec_reporting(const std::string& file) {
  core::Diagnostics diags;
  auto spec = dsl::load_spec(file, diags);
  print_diagnostics(diags);
  return spec;
}

int usage_error(std::string_view command, const std::string& message) {
  fmt::print(stderr, "batchproof {}: error: {}\n", command, message);
  return kBadInput;
}

std::string xml_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace batchproof::cli
