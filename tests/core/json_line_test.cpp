// core/detail/json_line.hpp is internal to core; core's own tests may include it.
#include "core/detail/json_line.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <tuple>

using namespace batchproof::core;
using nlohmann::json;

TEST_CASE("JSON lines: a value, or where and why not") {
  JsonLine p = parse_json_line(R"(  {"a": [1, 2]})", false);
  CHECK(p.valid);
  CHECK(p.value["a"][1] == 2);

  p = parse_json_line(R"({"a": x})", false);
  CHECK_FALSE(p.valid);
  CHECK(p.col == 7);
  CHECK(p.detail == "syntax error while parsing value - invalid literal; last read: '\"a\": x'");
  CHECK_FALSE(p.at_end);

  p = parse_json_line(R"({"a": 1)", false);
  CHECK_FALSE(p.valid);
  CHECK(p.at_end);
  CHECK(p.col == 8);

  p = parse_json_line(R"(  {"a": 1e999})", false);  // too large for a double
  CHECK_FALSE(p.valid);
  CHECK(p.col == 3);
  CHECK_FALSE(p.detail.empty());

  p = parse_json_line(R"(  {"a": x})", true);  // quiet: no message
  CHECK_FALSE(p.valid);
  CHECK(p.col == 3);
  CHECK(p.detail.empty());

  CHECK(json_start_column(" \t[1]") == 3);
  CHECK(not_an_object(" [1, 2] ") == "expected a JSON object, found [1, 2]");
}

TEST_CASE("JSON lines: locating a value on the line") {
  const std::string line = R"({"a": 1, "items": [{"id": 4}, {"id": 5, "prefill": "x"}], "a": [2]})";
  auto [span, depth] = locate(line, {PathStep{"items"}, PathStep{{}, 1, true}, PathStep{"prefill"}});
  CHECK(depth == 3);
  CHECK(written_value(line, span) == "\"x\"");
  CHECK(path_name({PathStep{"items"}, PathStep{{}, 1, true}, PathStep{"prefill"}}) == "items[1].prefill");

  std::tie(span, depth) = locate(line, {PathStep{"a"}});
  CHECK(depth == 1);
  CHECK(written_value(line, span) == "[2]");  // the last of repeated keys, as nlohmann keeps

  std::tie(span, depth) = locate(line, {PathStep{"items"}, PathStep{{}, 5, true}});
  CHECK(depth == 1);  // as far as the path goes
  CHECK(span.begin == line.find('['));

  std::tie(span, depth) = locate(line, {PathStep{"missing"}});
  CHECK(depth == 0);
  CHECK(span.begin == 0);
}

TEST_CASE("JSON lines: whole and finite numbers") {
  std::int64_t n = 0;
  CHECK(whole_from_json(json::parse("12"), n) == WholeNumber::Ok);
  CHECK(n == 12);
  CHECK(whole_from_json(json::parse("-12"), n) == WholeNumber::Ok);
  CHECK(n == -12);
  CHECK(whole_from_json(json::parse("12.0"), n) == WholeNumber::Ok);
  CHECK(whole_from_json(json::parse("9223372036854775807"), n) == WholeNumber::Ok);
  CHECK(whole_from_json(json::parse("9223372036854775808"), n) == WholeNumber::OutOfRange);
  CHECK(whole_from_json(json::parse("1e19"), n) == WholeNumber::OutOfRange);
  CHECK(whole_from_json(json::parse("12.5"), n) == WholeNumber::NotWhole);
  CHECK(whole_from_json(json::parse("\"12\""), n) == WholeNumber::NotWhole);
  CHECK(whole_from_json(json::parse("true"), n) == WholeNumber::NotWhole);

  double d = 0;
  CHECK(finite_from_json(json::parse("2.5"), d));
  CHECK(d == 2.5);
  CHECK(finite_from_json(json::parse("3"), d));
  CHECK(d == 3);
  CHECK_FALSE(finite_from_json(json::parse("null"), d));
  CHECK_FALSE(finite_from_json(json(std::numeric_limits<double>::infinity()), d));
}
