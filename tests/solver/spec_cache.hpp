// Specs for the solver tests, each file loaded once (paths relative to the source root, where
// ctest runs the tests).
#pragma once

#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "core/source.hpp"
#include "dsl/dsl.hpp"

namespace batchproof::test {

inline const core::Spec& cached_spec(const char* file) {
  static std::map<std::string, core::Spec> cache;
  auto it = cache.find(file);
  if (it == cache.end()) {
    core::Diagnostics diags;
    auto s = dsl::load_spec(file, diags);
    REQUIRE(s);
    it = cache.emplace(file, *s).first;
  }
  return it->second;
}

}  // namespace batchproof::test
