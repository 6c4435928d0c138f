#include "cli/diagnostics_output.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace batchproof::cli {

void print_diagnostics(const core::Diagnostics& diags) {
  // Very long runs of errors (a binary file) are cut: the first ones say what is wrong.
  constexpr std::size_t kMaxShown = 50;
  auto all = diags.sorted();
  for (std::size_t i = 0; i < all.size() && i < kMaxShown; ++i) fmt::print(stderr, "{}", core::render(all[i]));
  if (all.size() > kMaxShown) fmt::print(stderr, "... and {} more diagnostics\n", all.size() - kMaxShown);
  if (diags.error_count() > 0)
    fmt::print(stderr, "{} error{}\n", diags.error_count(), diags.error_count() == 1 ? "" : "s");
}

}  // namespace batchproof::cli
