// Plain text tables for the commands' summaries: columns padded to their widest cell.
#pragma once

#include <string>
#include <vector>

namespace batchproof::cli {

using TableRows = std::vector<std::vector<std::string>>;

// Each row on its own line after `indent`, cells separated by two blanks, no trailing blanks.
std::string render_table(const TableRows& rows, const std::string& indent = "  ");

}  // namespace batchproof::cli
