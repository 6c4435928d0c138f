// fmt's contract: parse -> print -> parse gives the same tree (positions aside), and printing
// is idempotent, for every bundled spec.
#include <algorithm>

#include <catch2/catch.hpp>

#include "dsl/dsl.hpp"
#include "dsl/parse.hpp"
#include "test_support.hpp"

using namespace batchproof;

namespace {
dsl::ParsedFile parse_ok(const std::string& name, const std::string& text) {
  core::Diagnostics diags;
  dsl::ParsedFile parsed;
  bool ok = dsl::parse_text(name, text, parsed, diags);
  for (const auto& d : diags.all()) UNSCOPED_INFO(core::render(d));
  REQUIRE(ok);
  return parsed;
}
}  // namespace

TEST_CASE("every bundled spec survives parse, print, parse unchanged") {
  std::vector<std::string> files = test::repo_files("examples", ".bp");
  auto profiles = test::repo_files("gpu_profiles", ".bp");
  files.insert(files.end(), profiles.begin(), profiles.end());
  REQUIRE(files.size() >= 8);
  for (const auto& file : files) {
    DYNAMIC_SECTION(file) {
      core::Diagnostics diags;
      auto text = dsl::read_file(file, diags);
      REQUIRE(text);
      dsl::ParsedFile first = parse_ok(file, *text);
      auto printed = dsl::format_source(file, *text, diags);
      REQUIRE(printed);
      dsl::ParsedFile second = parse_ok(file, *printed);
      CHECK(first.file == second.file);
      CHECK(first.comments.size() == second.comments.size());
      auto again = dsl::format_source(file, *printed, diags);
      REQUIRE(again);
      CHECK(*again == *printed);
      // The bundled files are kept in canonical form.
      CHECK(*printed == *text);
    }
  }
}

TEST_CASE("the tree comparison sees a changed literal") {
  auto a = parse_ok("a.bp", "engine e { token_budget 512 tokens }");
  auto b = parse_ok("b.bp", "engine e { token_budget 256 tokens }");
  auto c = parse_ok("c.bp", "engine  e {\n  token_budget 512 tokens\n}\n");
  CHECK_FALSE(a.file == b.file);
  CHECK(a.file == c.file);
}

TEST_CASE("fmt lays out a messy spec canonically and keeps its comments") {
  std::string messy =
      "// header\n"
      "engine   e{profile p token_budget 512 tokens   // b_max\n"
      "max_batch 8 requests\n"
      "policy{when waiting>0{prefill waiting fcfs whole}else{decode running fcfs}}}\n"
      "check c : work_conserving( e ) up to 8 requests expect violated\n"
      "check long_name: progress(e)\n";
  core::Diagnostics diags;
  auto out = dsl::format_source("m.bp", messy, diags);
  REQUIRE(out);
  CHECK(*out ==
        "// header\n"
        "engine e {\n"
        "  profile      p\n"
        "  token_budget 512 tokens  // b_max\n"
        "  max_batch    8 requests\n"
        "  policy {\n"
        "    when waiting > 0 {\n"
        "      prefill waiting fcfs whole\n"
        "    } else {\n"
        "      decode running fcfs\n"
        "    }\n"
        "  }\n"
        "}\n"
        "\n"
        "check c:         work_conserving(e) up to 8 requests expect violated\n"
        "check long_name: progress(e)\n");
}

TEST_CASE("fmt keeps one-line hops and classes, and a blank line where the source had one") {
  std::string src =
      "workload w {\n"
      "  arrivals poisson 2 req/s\n"
      "\n\n"
      "  class a { weight 3 prompt constant 8 tokens output constant 2 tokens }\n"
      "}\n";
  core::Diagnostics diags;
  auto out = dsl::format_source("w.bp", src, diags);
  REQUIRE(out);
  CHECK(*out ==
        "workload w {\n"
        "  arrivals poisson 2 req/s\n"
        "\n"
        "  class a { weight 3 prompt constant 8 tokens output constant 2 tokens }\n"
        "}\n");
}
