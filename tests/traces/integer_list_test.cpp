// Lists of whole numbers read 64 bytes at a time (traces/integer_list.hpp) against a plain
// reading of the same grammar: on lists as writers print them (every length of number, lists
// crossing many chunks, ending at the end of the text) and on tens of thousands of mutated
// ones (blanks, signs, leading zeros, fractions, stray bytes, cut short), with an explicit seed.
// Whatever the chunked reader accepts is what the plain reading gives; whatever it leaves, the
// cursor reads number by number, to the same result.
#include <catch2/catch.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "traces/canonical_cursor.hpp"
#include "traces/integer_list.hpp"

using batchproof::traces::canonical::Cursor;
using batchproof::traces::canonical::ListSeparator;
using batchproof::traces::canonical::read_plain_integer_list;

namespace {

struct Reading {
  std::vector<std::int64_t> numbers;
  std::size_t length = 0;  // of the list, '[' to ']'
  bool plain = true;       // no negative number, none of more than 18 digits
};

// JSON's integers (no leading zero, no fraction or exponent after), within int64, with
// exactly `sep` between them: the grammar both readers implement, read the obvious way.
std::optional<Reading> reference(const std::string& text, const std::string& sep) {
  Reading r;
  std::size_t i = 0;
  if (text.empty() || text[0] != '[') return std::nullopt;
  ++i;
  if (i < text.size() && text[i] == ']') {
    r.length = i + 1;
    return r;
  }
  for (;;) {
    const std::size_t start = i;
    if (i < text.size() && text[i] == '-') ++i;
    const std::size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == digits || (i - digits > 1 && text[digits] == '0')) return std::nullopt;
    if (i < text.size() && (text[i] == '.' || text[i] == 'e' || text[i] == 'E')) return std::nullopt;
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data() + start, text.data() + i, v);
    if (ec != std::errc() || end != text.data() + i) return std::nullopt;
    if (text[start] == '-' || i - digits > 18) r.plain = false;
    r.numbers.push_back(v);
    if (i < text.size() && text[i] == ']') {
      r.length = i + 1;
      return r;
    }
    if (text.compare(i, sep.size(), sep) != 0) return std::nullopt;
    i += sep.size();
  }
}

std::optional<Reading> chunked(const std::string& text, ListSeparator sep) {
  Reading r;
  const char* after = read_plain_integer_list(text.data(), text.data() + text.size(), sep, r.numbers);
  if (after == nullptr) return std::nullopt;
  r.length = static_cast<std::size_t>(after - text.data());
  return r;
}

template <std::size_t N>
std::optional<Reading> by_cursor(const std::string& text, const char (&sep)[N]) {
  Cursor c(text);
  Reading r;
  if (!c.integers(sep, r.numbers)) return std::nullopt;
  r.length = static_cast<std::size_t>(c.position() - text.data());
  return r;
}

// Compares the three readings of `text`.
template <std::size_t N>
void agree(const std::string& text, const char (&sep)[N]) {
  INFO("list: " << text);
  const std::string sep_text(sep);
  const ListSeparator kind = sep_text == "," ? ListSeparator::Comma : ListSeparator::CommaSpace;
  const auto expected = reference(text, sep_text);
  const auto fast = chunked(text, kind);
  const auto cursor = by_cursor(text, sep);
  REQUIRE(cursor.has_value() == expected.has_value());
  if (expected) {
    CHECK(cursor->numbers == expected->numbers);
    CHECK(cursor->length == expected->length);
  }
  if (fast) {
    REQUIRE(expected.has_value());
    CHECK(fast->numbers == expected->numbers);
    CHECK(fast->length == expected->length);
  } else if (expected) {
    CHECK_FALSE(expected->plain);  // a plain list the chunked reader must take
  }
}

std::string list(const std::vector<std::string>& numbers, const std::string& sep) {
  std::string s = "[";
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (i > 0) s += sep;
    s += numbers[i];
  }
  s += ']';
  return s;
}

std::string random_number(std::mt19937_64& rng) {
  static const std::string kDigits = "0123456789";
  const std::size_t length = std::uniform_int_distribution<std::size_t>(1, 20)(rng) <= 14
                                 ? std::uniform_int_distribution<std::size_t>(1, 3)(rng)
                                 : std::uniform_int_distribution<std::size_t>(1, 20)(rng);
  std::string n(1, kDigits[std::uniform_int_distribution<std::size_t>(1, 9)(rng)]);
  while (n.size() < length) n += kDigits[rng() % 10];
  if (rng() % 8 == 0) n.assign(1, '0');
  return n;
}

}  // namespace

TEST_CASE("integer lists: as writers print them, every length, across chunks", "[traces][canonical]") {
  for (const char* sep : {", ", ","}) {
    const std::string s(sep);
    const auto check = [&](const std::string& text) {
      if (s == ",") agree(text, ",");
      else agree(text, ", ");
    };
    check("[]");
    check("[0]");
    check(list({"12", "13", "448"}, s));
    // Every length of number from 1 to 19 digits, at every offset against the 64-byte chunks.
    const std::string digits = "9182736450918273645";
    for (std::size_t n = 1; n <= digits.size(); ++n)
      for (std::size_t pad = 0; pad < 70; ++pad) {
        std::vector<std::string> numbers(pad / 3 + 1, "7");
        numbers.push_back(digits.substr(0, n));
        numbers.push_back("1");
        check(list(numbers, s));
        check(list(numbers, s) + "}}");  // the text goes on after the list
      }
    // Long lists: a Vidur batch of 512 requests with ids of 6 and 7 digits.
    std::vector<std::string> ids;
    for (int i = 0; i < 512; ++i) ids.push_back(std::to_string(999'800 + i));
    check(list(ids, s));
  }
  // The chunked reader takes the plain lists, and leaves the rest to the cursor.
  std::vector<std::int64_t> out;
  const auto take = [&](const std::string& text) {
    return read_plain_integer_list(text.data(), text.data() + text.size(), ListSeparator::CommaSpace, out);
  };
  CHECK(take("[12, 13, 448]") != nullptr);
  CHECK(out == std::vector<std::int64_t>{12, 13, 448});
  CHECK(take("[-1, 2]") == nullptr);
  CHECK(take("[1 , 2]") == nullptr);
  CHECK(take("[1,  2]") == nullptr);
  CHECK(take("[01, 2]") == nullptr);
  CHECK(take("[1, 2, ]") == nullptr);
  CHECK(take("[1.5, 2]") == nullptr);
  CHECK(take("[1, 2") == nullptr);
  CHECK(take("[1234567890123456789]") == nullptr);  // 19 digits: the exact path
  CHECK(take("[123456789012345678]") != nullptr);
  CHECK(out == std::vector<std::int64_t>{123456789012345678});
}

TEST_CASE("integer lists: mutated lists read as the plain reading reads them", "[traces][canonical]") {
  std::mt19937_64 rng(20261122);
  const std::string kStray = " ,-0123456789.e]x\"\t\xff";
  for (int round = 0; round < 20000; ++round) {
    const bool spaced = round % 2 == 0;
    const std::string sep = spaced ? ", " : ",";
    std::vector<std::string> numbers(std::uniform_int_distribution<std::size_t>(0, 90)(rng));
    for (auto& n : numbers) n = random_number(rng);
    if (!numbers.empty() && rng() % 10 == 0) numbers[rng() % numbers.size()].insert(0, 1, '-');
    std::string text = list(numbers, sep);
    // Up to three mutations: a stray byte inserted or replacing one, a byte removed.
    const auto mutations = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int m = 0; m < mutations && text.size() > 1; ++m) {
      const std::size_t at = 1 + rng() % (text.size() - 1);
      const char stray = kStray[rng() % kStray.size()];
      switch (rng() % 3) {
        case 0: text.insert(at, 1, stray); break;
        case 1: text[at] = stray; break;
        default: text.erase(at, 1); break;
      }
    }
    if (rng() % 10 == 0) text.resize(rng() % (text.size() + 1));  // cut short
    if (rng() % 2 == 0) text += ", \"num_tokens\": [1]}}";           // the record goes on
    if (spaced) agree(text, ", ");
    else agree(text, ",");
  }
}
