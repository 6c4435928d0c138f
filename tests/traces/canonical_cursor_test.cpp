// The fast paths' cursor reads integers a word at a time: every length from 1 to 19 digits,
// followed by every kind of byte (or by nothing, or by too few bytes to load a word), reads as
// std::from_chars reads it; what JSON forbids (a leading zero, a fraction, no digits) fails.
#include <catch2/catch.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
#include <cstdint>
#include <string>
#include <vector>

#include "traces/canonical_cursor.hpp"

using batchproof::traces::canonical::Cursor;

namespace {

struct Read {
  bool ok = false;
  std::int64_t value = 0;
  std::size_t length = 0;
};

Read read_integer(const std::string& text) {
  Cursor c(text);
  Read r;
  r.ok = c.integer(r.value);
  r.length = static_cast<std::size_t>(c.position() - text.data());
  return r;
}

}  // namespace

TEST_CASE("cursor: integers of every length, with every kind of byte after them", "[traces][canonical]") {
  const std::vector<std::string> after{"", ",", "]", "}", " ", ":", "/", "a", "\xfa", "\xff", "\x7f", "\"x\":12345678"};
  std::string digits = "9182736450918273645";  // 19 digits: fits int64
  for (std::size_t n = 1; n <= digits.size(); ++n) {
    for (const auto& tail : after) {
      for (const bool negative : {false, true}) {
        std::string number = negative ? "-" : "";
        number += digits.substr(0, n);
        std::string text = number;
        text += tail;
        INFO(text);
        std::int64_t expected = 0;
        std::from_chars(number.data(), number.data() + number.size(), expected);
        const Read r = read_integer(text);
        REQUIRE(r.ok);
        CHECK(r.value == expected);
        CHECK(r.length == number.size());
      }
    }
  }
}

TEST_CASE("cursor: every value below 10^7 in a list reads exactly", "[traces][canonical]") {
  // Step through values of every digit pattern (1 to 7 digits, zeros inside included).
  for (std::int64_t v = 0; v < 10'000'000; v += 997) {
    const std::string text = std::to_string(v) + ", 1]";
    const Read r = read_integer(text);
    REQUIRE(r.ok);
    REQUIRE(r.value == v);
  }
  for (std::int64_t v : {0, 7, 10, 100, 1000000, 9999999, 1020304}) {
    const Read r = read_integer(std::to_string(v) + "xxxxxxxx");
    REQUIRE(r.ok);
    CHECK(r.value == v);
  }
}

TEST_CASE("cursor: what JSON does not allow as an integer is refused", "[traces][canonical]") {
  for (const std::string bad : {"", "-", "x", "01", "00,", "-01234567", "12.0", "12e3", "12E3", "1234567.5,xxxxx",
                                "99999999999999999999", "-99999999999999999999,"}) {
    INFO(bad);
    CHECK_FALSE(read_integer(bad).ok);
  }
  // Zero alone is an integer; the largest and smallest int64 too.
  CHECK(read_integer("0,xxxxxxx").value == 0);
  CHECK(read_integer("9223372036854775807").value == INT64_MAX);
  CHECK(read_integer("-9223372036854775808,").value == INT64_MIN);
}

TEST_CASE("cursor: decimal numbers read to the double from_chars reads", "[traces][canonical]") {
  // Short ones take the exact division (at most 15 digits, no exponent), the others from_chars:
  // both must give from_chars' double, bit for bit, for every form JSON allows.
  std::mt19937_64 rng(11);
  const auto digits = [&](std::size_t n, bool lead) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('0' + (i == 0 && lead ? 1 + rng() % 9 : rng() % 10));
    return s;
  };
  for (int round = 0; round < 200000; ++round) {
    std::string text = rng() % 4 == 0 ? "-" : "";
    const std::size_t whole = rng() % 12;
    text += whole == 0 ? "0" : digits(whole, true);
    if (rng() % 4 != 0) {
      text += '.';
      text += digits(1 + rng() % 18, false);
    }
    if (rng() % 8 == 0) {
      text += rng() % 2 ? 'e' : 'E';
      if (rng() % 2) text += '-';
      text += digits(1 + rng() % 2, false);
    }
    const std::string tail = rng() % 2 ? "," : "";
    INFO(text);
    double expected = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), expected);
    REQUIRE(end == text.data() + text.size());
    const std::string input = text + tail;
    Cursor c(input);
    double got = 0;
    if (ec != std::errc() || !std::isfinite(expected)) {
      CHECK_FALSE(c.number(got));
      continue;
    }
    REQUIRE(c.number(got));
    CHECK(std::memcmp(&got, &expected, sizeof got) == 0);  // bit for bit: -0.0 too
    CHECK(c.position() == input.data() + text.size());
  }
  // A decimal the cursor must read as from_chars does, to the bit.
  auto same_as_from_chars = [](const std::string& text) {
    INFO(text);
    double expected = 0;
    std::from_chars(text.data(), text.data() + text.size(), expected);
    Cursor c(text);
    double got = 0;
    REQUIRE(c.number(got));
    CHECK(std::memcmp(&got, &expected, sizeof got) == 0);
  };
  // Decimals of 16 to 19 digits exactly half-way between two doubles, and a step either side:
  // the division's rounding (traces/exact_decimal.hpp) must tell a tie, rounded to even, from a
  // quotient just off it. m = (2^53 + 2i + 1) / 2^j is a tie; its decimal has j fraction
  // digits, (2^53 + 2i + 1) * 5^j in all.
  for (int j = 0; j <= 4; ++j) {
    for (int round = 0; round < 2000; ++round) {
      std::uint64_t scaled = (std::uint64_t{1} << 53) + 2 * (rng() % 1000000) + 1;
      for (int k = 0; k < j; ++k) scaled *= 5;
      for (std::int64_t step : {-1, 0, 1}) {
        std::string text = std::to_string(scaled + static_cast<std::uint64_t>(step));
        if (j > 0) text.insert(text.size() - static_cast<std::size_t>(j), 1, '.');
        same_as_from_chars(text);
      }
    }
  }
  // Times as Python writes them (17 significant digits), and the largest 19-digit mantissas.
  for (const std::string text : {"0.15316000000000002", "1234.5678901234567", "9999999999999999999",
                                 "0.9999999999999999999", "18446744073709551.61", "0.0000000000000000001"})
    same_as_from_chars(text);
  // An exponent with a '+' (which from_chars does not take), and what JSON does not allow.
  double x = 0;
  Cursor plus("1.5e+3");
  REQUIRE(plus.number(x));
  CHECK(x == 1500.0);
  for (const std::string bad : {"", "-", ".5", "1.", "01.5", "1e", "1e+", "+1", "1e400"}) {
    INFO(bad);
    Cursor c(bad);
    CHECK_FALSE((c.number(x) && c.at_end()));
  }
}
