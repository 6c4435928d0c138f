// Bad input of every kind gets a located diagnostic, never a crash or a hang: random
// mutations of the bundled specs, junk bytes, huge files, deep nesting.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/dsl.hpp"
#include "test_support.hpp"

using namespace batchproof;

namespace {

// A small deterministic generator (the same sequence on every platform and library).
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

std::string mutate(std::string text, SplitMix& rng) {
  static const std::string kAlphabet = "{}()<>=:,.;+-*/%\"\\ \n\t0123456789abcxyz_#\x01\xff\xc3";
  int edits = 1 + static_cast<int>(rng.below(3));
  for (int k = 0; k < edits && !text.empty(); ++k) {
    std::size_t at = rng.below(text.size());
    switch (rng.below(6)) {
      case 0: text.erase(at, 1 + rng.below(12)); break;                                   // delete a span
      case 1: text.insert(at, 1, kAlphabet[rng.below(kAlphabet.size())]); break;         // insert a character
      case 2: text[at] = kAlphabet[rng.below(kAlphabet.size())]; break;                  // replace a character
      case 3: text.insert(at, text.substr(rng.below(text.size()), 1 + rng.below(40))); break;  // duplicate a span
      case 4: text.resize(at); break;                                                     // truncate
      default: {                                                                          // swap two spans
        std::size_t b = rng.below(text.size());
        if (at > b) std::swap(at, b);
        std::size_t n = std::min<std::size_t>(1 + rng.below(8), b - at);
        if (b + n <= text.size() && n > 0) {
          std::string x = text.substr(at, n), y = text.substr(b, n);
          text.replace(b, n, x);
          text.replace(at, n, y);
        }
      }
    }
  }
  return text;
}

// Either the spec loads, or some error names this file with a line and a column.
void require_loads_or_located_error(const std::string& path, const std::string& text) {
  core::Diagnostics diags;
  std::optional<core::Spec> spec;
  REQUIRE_NOTHROW(spec = dsl::load_spec_text(path, text, diags));
  if (spec) return;
  REQUIRE(diags.has_errors());
  bool located = false;
  for (const auto& d : diags.all())
    if (d.severity == core::Severity::Error && d.loc.file == path && d.loc.line > 0 && d.loc.col > 0) located = true;
  if (!located)
    for (const auto& d : diags.all()) UNSCOPED_INFO(core::render(d));
  REQUIRE(located);
}

}  // namespace

TEST_CASE("random mutations of every bundled spec: loaded, or a located error") {
  std::vector<std::string> files = test::repo_files("examples", ".bp");
  auto profiles = test::repo_files("gpu_profiles", ".bp");
  files.insert(files.end(), profiles.begin(), profiles.end());
  SplitMix rng{20261122};
  int loaded = 0, rejected = 0;
  for (const auto& file : files) {
    core::Diagnostics diags;
    auto text = dsl::read_file(file, diags);
    REQUIRE(text);
    for (int i = 0; i < 150; ++i) {
      std::string mutated = mutate(*text, rng);
      INFO(file << " mutation " << i);
      require_loads_or_located_error(file, mutated);
      core::Diagnostics d2;
      (dsl::load_spec_text(file, mutated, d2) ? loaded : rejected)++;
      // The formatter must cope as well: text, or a syntax error.
      core::Diagnostics d3;
      std::optional<std::string> formatted;
      REQUIRE_NOTHROW(formatted = dsl::format_source(file, mutated, d3));
      CHECK((formatted.has_value() || d3.has_errors()));
    }
  }
  // The mutations exercise both outcomes.
  CHECK(loaded > 0);
  CHECK(rejected > 0);
}

TEST_CASE("junk bytes, empty and blank files") {
  SplitMix rng{7};
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>(rng.below(256));
  require_loads_or_located_error("junk.bp", junk);
  std::string nul("engine e {\0 }", 13);
  require_loads_or_located_error("nul.bp", nul);
  core::Diagnostics diags;
  CHECK(dsl::load_spec_text("empty.bp", "", diags));
  CHECK(dsl::load_spec_text("blank.bp", "\n\n  // only a comment\n", diags));
  CHECK_FALSE(diags.has_errors());
}

TEST_CASE("nesting deeper than 64 levels is refused before parsing") {
  std::string deep = "policy p { decode running fcfs if " + std::string(10000, '(') + "waiting > 0" +
                     std::string(10000, ')') + " }";
  core::Diagnostics diags;
  CHECK_FALSE(dsl::load_spec_text("deep.bp", deep, diags));
  REQUIRE(diags.error_count() == 1);
  CHECK(diags.all()[0].message == "nesting too deep: more than 64 levels of braces and parentheses");
  CHECK(diags.all()[0].loc.col == 98);  // the 65th level: the policy's brace and 64 parentheses
}

TEST_CASE("a 10 MB spec loads") {
  std::string big = "profile p { t(b) = 1 ms + 1 ms * ceil(b / 64) }\n";
  int n = 0;
  while (big.size() < 10u << 20) {
    big += fmt::format("workload w{} {{ arrivals poisson {} req/s prompt constant 8 tokens output constant 8 tokens }}\n",
                       n, 1 + n % 7);
    ++n;
  }
  core::Diagnostics diags;
  auto spec = dsl::load_spec_text("big.bp", big, diags);
  REQUIRE(spec);
  CHECK(spec->workloads.size() == static_cast<std::size_t>(n));
}

TEST_CASE("a missing import and an import cycle") {
  core::Diagnostics diags;
  CHECK_FALSE(dsl::load_spec_text("tests/dsl/x.bp", "import \"no_such_file.bp\"\n", diags));
  REQUIRE(diags.error_count() == 1);
  CHECK(core::render(diags.all()[0]) ==
        "tests/dsl/x.bp:1:8: error: cannot read imported file 'tests/dsl/no_such_file.bp': No such file or directory\n"
        "  import \"no_such_file.bp\"\n"
        "         ^\n");
}

TEST_CASE("an import cycle names the cycle") {
  core::Diagnostics diags;
  CHECK_FALSE(dsl::load_spec("tests/dsl/data/cycle_a.bp", diags));
  REQUIRE(diags.error_count() == 1);
  CHECK(diags.all()[0].message == "import cycle: cycle_a.bp -> cycle_b.bp -> cycle_a.bp");
  CHECK(diags.all()[0].loc.file == "tests/dsl/data/cycle_b.bp");
}
