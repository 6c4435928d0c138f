// Helpers shared by the dsl tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace batchproof::test {

// The repository's files matching a folder and an extension, sorted, as paths relative to
// the repository root (ctest runs the tests there).
inline std::vector<std::string> repo_files(const std::string& folder, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(BATCHPROOF_SOURCE_DIR) / folder))
    if (e.path().extension() == ext) out.push_back(folder + "/" + e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace batchproof::test
