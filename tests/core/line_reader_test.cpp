#include "core/line_reader.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace batchproof::core;

namespace {

struct Lines {
  std::vector<std::string> text;
  std::vector<bool> terminated;
  std::vector<bool> too_long;
  int last_number = 0;
};

Lines read_all(const std::string& input, std::size_t max_bytes = 1 << 20) {
  std::istringstream in(input);
  Lines out;
  std::string line;
  for (;;) {
    const LineRead r = read_line(in, line, out.last_number, max_bytes);
    if (r.status != LineStatus::Line) break;
    out.text.push_back(line);
    out.terminated.push_back(r.terminated);
    out.too_long.push_back(r.too_long);
  }
  return out;
}

}  // namespace

TEST_CASE("lines: numbered, without their end, CRLF and a byte order mark removed") {
  const Lines l = read_all("\xEF\xBB\xBF" "a\r\nb\n\n\xEF\xBB\xBF" "c\r\r\nlast");
  CHECK(l.text == std::vector<std::string>{"a", "b", "", "\xEF\xBB\xBF" "c\r", "last"});
  CHECK(l.terminated == std::vector<bool>{true, true, true, true, false});
  CHECK(l.last_number == 5);
  CHECK(read_all("").text.empty());
  CHECK(read_all("x\n").text == std::vector<std::string>{"x"});
  CHECK(read_all(std::string("a\0b\n", 4)).text == std::vector<std::string>{std::string("a\0b", 3)});
}

TEST_CASE("lines: longer than the read buffer, and longer than the limit") {
  const std::string big(200'000, 'x');
  Lines l = read_all(big + "\nshort\n");
  REQUIRE(l.text.size() == 2);
  CHECK(l.text[0] == big);
  CHECK(l.text[1] == "short");

  l = read_all(big + "\nshort\n" + big, 100'000);
  CHECK(l.text == std::vector<std::string>{"", "short", ""});
  CHECK(l.too_long == std::vector<bool>{true, false, true});
  CHECK(l.terminated == std::vector<bool>{true, true, false});
  CHECK(l.last_number == 3);
}

TEST_CASE("line reader: the lines of an input, blank ones skipped on request") {
  std::istringstream in("  \r\nfirst\n\t\nsecond");
  LineReader lines(in);
  REQUIRE(lines.next_nonblank());
  CHECK(lines.line() == "first");
  CHECK(lines.number() == 2);
  REQUIRE(lines.next());
  CHECK(lines.line() == "\t");
  REQUIRE(lines.next_nonblank());
  CHECK(lines.line() == "second");
  CHECK(lines.number() == 4);
  CHECK_FALSE(lines.next());
  CHECK_FALSE(lines.next_nonblank());
}

TEST_CASE("blank and trim") {
  CHECK(trim(" \t a b \r\f\v") == "a b");
  CHECK(trim("\n") == "\n");  // a line has no '\n' in it: not space here
  CHECK(is_blank(""));
  CHECK(is_blank(" \t\r"));
  CHECK_FALSE(is_blank(" . "));
}
