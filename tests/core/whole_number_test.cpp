#include "core/whole_number.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

using namespace batchproof::core;

TEST_CASE("whole numbers from a double") {
  std::int64_t n = -1;
  CHECK(whole_from_double(12.0, n) == WholeNumber::Ok);
  CHECK(n == 12);
  CHECK(whole_from_double(-3.0, n) == WholeNumber::Ok);
  CHECK(n == -3);
  n = 7;
  CHECK(whole_from_double(12.5, n) == WholeNumber::NotWhole);
  CHECK(whole_from_double(std::nan(""), n) == WholeNumber::NotWhole);
  CHECK(whole_from_double(std::numeric_limits<double>::infinity(), n) == WholeNumber::NotWhole);
  CHECK(whole_from_double(1e19, n) == WholeNumber::OutOfRange);
  CHECK(whole_from_double(-1e19, n) == WholeNumber::OutOfRange);
  CHECK(n == 7);  // set only when Ok
}

TEST_CASE("whole numbers from text") {
  std::int64_t n = 0;
  CHECK(whole_from_text("42", n) == WholeNumber::Ok);
  CHECK(n == 42);
  CHECK(whole_from_text("12.0", n) == WholeNumber::Ok);
  CHECK(n == 12);
  CHECK(whole_from_text("1e3", n) == WholeNumber::Ok);
  CHECK(n == 1000);
  CHECK(whole_from_text("-9223372036854775808", n) == WholeNumber::Ok);
  CHECK(n == std::numeric_limits<std::int64_t>::min());
  CHECK(whole_from_text("9223372036854775808", n) == WholeNumber::OutOfRange);
  CHECK(whole_from_text("99999999999999999999.5", n) == WholeNumber::OutOfRange);
  CHECK(whole_from_text("1e400", n) == WholeNumber::OutOfRange);
  for (const char* text : {"", "abc", "12.5", "12 ", "+3", "0x10", "nan", "inf"}) {
    INFO(text);
    CHECK(whole_from_text(text, n) == WholeNumber::NotWhole);
  }
}
