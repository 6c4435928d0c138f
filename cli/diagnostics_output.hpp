// Printing diagnostics to stderr (sorted, one block each).
#pragma once

#include "core/source.hpp"

namespace batchproof::cli {

void print_diagnostics(const core::Diagnostics& diags);

}  // namespace batchproof::cli
