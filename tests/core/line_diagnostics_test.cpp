#include "core/line_diagnostics.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace batchproof::core;

TEST_CASE("printable: file bytes safe for a message") {
  CHECK(printable("plain text") == "plain text");
  CHECK(printable("tab\there, caf\xC3\xA9, \x7f") == "tab?here, caf??, ?");
  CHECK(printable(std::string(41, 'x')) == std::string(40, 'x') + "...");
  CHECK(printable(std::string(40, 'x')) == std::string(40, 'x'));
  CHECK(printable("abcdef", 3) == "abc...");
}

TEST_CASE("shown line: cut when long, never before its column") {
  const std::string line(10'000, 'x');
  CHECK(shown_line("short", 3) == "short");
  CHECK(shown_line(line, 1).size() == 4096);
  CHECK(shown_line(line, 5000).size() == 5080);
  CHECK(shown_line(line, 0).size() == 4096);
}

TEST_CASE("malformed lines: the first ten reported, the rest counted") {
  Diagnostics diags;
  int count = 0;
  SourceLoc first_omitted;
  report_omitted_lines(diags, count, first_omitted);
  CHECK(diags.all().empty());
  for (int line = 1; line <= 10; ++line) {
    CHECK_FALSE(malformed_limit_reached(count));
    add_malformed_line(diags, count, first_omitted, {"f", line, 2}, "bad " + std::to_string(line), "the line");
  }
  CHECK(malformed_limit_reached(count));
  REQUIRE(diags.all().size() == 10);
  CHECK(diags.all()[9].message == "bad 10");
  CHECK(diags.all()[9].loc.line == 10);
  CHECK(diags.all()[9].source_line == "the line");

  add_malformed_line(diags, count, first_omitted, {"f", 11, 3}, "bad 11", "x");
  report_omitted_lines(diags, count, first_omitted);
  REQUIRE(diags.all().size() == 11);
  CHECK(diags.all()[10].message == "... and 1 more malformed line");
  CHECK(diags.all()[10].loc.line == 11);
  CHECK(diags.all()[10].loc.col == 3);

  add_malformed_line(diags, count, first_omitted, {"f", 12, 1}, "bad 12", "x");
  add_malformed_line(diags, count, first_omitted, {"f", 13, 1}, "bad 13", "x");
  report_omitted_lines(diags, count, first_omitted);
  CHECK(count == 13);
  CHECK(diags.all().back().message == "... and 3 more malformed lines");
  CHECK(diags.all().back().loc.line == 11);  // the first left out, so that it sorts last
}
