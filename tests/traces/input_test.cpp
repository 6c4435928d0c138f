// Input::open: plain files, gzip (one member, several, cut short, corrupt, padded), standard
// input, lines across buffer boundaries, line ends, the byte order mark, the line cap, head()
// and raw blocks, and the files that cannot be read.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "traces/reader.hpp"
#include "traces/temp_files.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using traces::testing::all_lines;
using traces::testing::gzip;
using traces::testing::open_input;
using traces::testing::TempDir;

namespace {

// Lines of every length from 0 to 300 bytes and a few of several MiB, so that lines cross the
// input's 4 MiB buffer and its refills many times.
std::vector<std::string> varied_lines() {
  std::vector<std::string> lines;
  for (int i = 0; i < 30000; ++i) {
    std::string line = std::to_string(i);
    line.append(static_cast<std::size_t>((i * 7919) % 301), static_cast<char>('a' + i % 26));
    lines.push_back(std::move(line));
    if (i % 15000 == 7) lines.push_back(std::string((std::size_t{5} << 20) + 3, 'L'));
  }
  return lines;
}

std::string joined(const std::vector<std::string>& lines, const std::string& end) {
  std::string out;
  for (const auto& l : lines) out.append(l).append(end);
  return out;
}

std::string rendered(const core::Diagnostics& diags) {
  std::string out;
  for (const auto& d : diags.all()) out += core::render(d);
  return out;
}

}  // namespace

TEST_CASE("input: lines of a plain file, with LF, CRLF and a last line without an end", "[input]") {
  TempDir dir;
  auto input = open_input(dir.write("a.log", "first\nsecond\r\n\nlast"));
  std::string_view line;
  REQUIRE(input->next_line(line));
  CHECK(line == "first");
  CHECK(input->line_number() == 1);
  CHECK(input->line_terminated());
  REQUIRE(input->next_line(line));
  CHECK(line == "second");
  REQUIRE(input->next_line(line));
  CHECK(line == "");
  REQUIRE(input->next_line(line));
  CHECK(line == "last");
  CHECK(input->line_number() == 4);
  CHECK_FALSE(input->line_terminated());
  CHECK_FALSE(input->line_too_long());
  CHECK_FALSE(input->next_line(line));
  CHECK_FALSE(input->error());
  CHECK(input->path() == dir.path("a.log"));
  CHECK(input->padded());
}

TEST_CASE("input: a leading byte order mark is left out of the head and the first line", "[input]") {
  TempDir dir;
  auto input = open_input(dir.write("bom.log", "\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBFsecond\n"));
  CHECK(input->head() == "{\"a\":1}\n\xEF\xBB\xBFsecond\n");
  CHECK(all_lines(*input) == std::vector<std::string>{"{\"a\":1}", "\xEF\xBB\xBFsecond"});
}

TEST_CASE("input: an empty file has no lines, no head and no error", "[input]") {
  TempDir dir;
  auto input = open_input(dir.write("empty.log", ""));
  CHECK(input->head().empty());
  std::string_view line;
  CHECK_FALSE(input->next_line(line));
  CHECK_FALSE(input->error());
}

TEST_CASE("input: lines across buffer refills come out whole and in order", "[input]") {
  TempDir dir;
  const auto lines = varied_lines();
  SECTION("LF") {
    auto input = open_input(dir.write("varied.log", joined(lines, "\n")));
    CHECK(all_lines(*input) == lines);
    CHECK(input->line_number() == static_cast<std::int64_t>(lines.size()));
  }
  SECTION("CRLF, gzip") {
    auto input = open_input(dir.write("varied.log.gz", gzip(joined(lines, "\r\n"), 1)));
    CHECK(all_lines(*input) == lines);
    CHECK_FALSE(input->error());
  }
}

// A pipe hands the reader what was written so far, so its reads end mid-line, before bytes of
// an earlier fill still in the buffer (newlines among them) which the line search must not
// take. Each piece is written whole (at most PIPE_BUF bytes) once the one before was read, so
// the reads, and where they end, are the same every run.
TEST_CASE("input: lines from a pipe written in odd pieces come out whole and in order", "[input]") {
  std::vector<std::string> lines;
  for (int i = 0; i < 250000; ++i)  // under 64 bytes, two turns of the 4 MiB buffer
    lines.push_back(std::to_string(i) + std::string(static_cast<std::size_t>((i * 7919) % 57), 'a'));
  const std::string text = joined(lines, "\n");
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::thread writer([&] {
    std::size_t at = 0;
    for (std::size_t piece = 1; at < text.size(); piece = piece * 31 % 4093 + 1) {
      const std::size_t n = std::min(piece, text.size() - at);
      if (::write(fds[1], text.data() + at, n) != static_cast<ssize_t>(n)) break;
      at += n;
      for (int pending = 1; pending > 0;)
        if (::ioctl(fds[1], FIONREAD, &pending) != 0) pending = 0;
        else if (pending > 0) std::this_thread::yield();
    }
    ::close(fds[1]);
  });
  const int saved = ::dup(0);
  REQUIRE(saved >= 0);
  ::dup2(fds[0], 0);
  ::close(fds[0]);
  auto input = open_input("-");
  const auto read = all_lines(*input);
  ::dup2(saved, 0);
  ::close(saved);
  writer.join();
  CHECK(read == lines);
  CHECK_FALSE(input->error());
}

TEST_CASE("input: head() shows the first 64 KiB without consuming them", "[input]") {
  TempDir dir;
  std::string bytes;
  for (int i = 0; bytes.size() < 200000; ++i) bytes += "line " + std::to_string(i) + "\n";
  auto input = open_input(dir.write("long.log", bytes));
  const std::string_view head = input->head();
  CHECK(head.size() == Input::kHeadBytes);
  CHECK(head == std::string_view(bytes).substr(0, Input::kHeadBytes));
  CHECK(input->head() == head);
  std::string_view line;
  REQUIRE(input->next_line(line));
  CHECK(line == "line 0");
}

TEST_CASE("input: a line past the cap is read past, not held, and reported as too long", "[input]") {
  TempDir dir;
  const std::string huge(std::size_t{3} << 20, 'h');
  SECTION("followed by more lines") {
    auto input = open_input(dir.write("huge.log", "before\n" + huge + "\nafter\n"));
    input->set_max_line(std::size_t{1} << 20);
    CHECK(input->max_line() == std::size_t{1} << 20);
    std::string_view line;
    REQUIRE(input->next_line(line));
    CHECK(line == "before");
    REQUIRE(input->next_line(line));
    CHECK(input->line_too_long());
    CHECK(input->line_terminated());
    CHECK(input->line_number() == 2);
    CHECK(line == std::string(4096, 'h'));
    REQUIRE(input->next_line(line));
    CHECK_FALSE(input->line_too_long());
    CHECK(line == "after");
    CHECK(input->line_number() == 3);
    CHECK_FALSE(input->next_line(line));
  }
  SECTION("the last line, without an end (no line breaks at all)") {
    auto input = open_input(dir.write("huge.log", huge));
    input->set_max_line(std::size_t{1} << 20);
    std::string_view line;
    REQUIRE(input->next_line(line));
    CHECK(input->line_too_long());
    CHECK_FALSE(input->line_terminated());
    CHECK(line.size() == 4096);
    CHECK_FALSE(input->next_line(line));
    CHECK_FALSE(input->error());
  }
  SECTION("the default cap holds a line of 3 MiB") {
    auto input = open_input(dir.write("huge.log", huge + "\n"));
    std::string_view line;
    REQUIRE(input->next_line(line));
    CHECK_FALSE(input->line_too_long());
    CHECK(line.size() == huge.size());
  }
}

TEST_CASE("input: raw blocks carry every byte, after the lines already taken", "[input]") {
  TempDir dir;
  const std::string bytes = joined(varied_lines(), "\n");
  auto input = open_input(dir.write("blocks.log.gz", gzip(bytes, 1)));
  std::string_view line;
  REQUIRE(input->next_line(line));
  std::string rest;
  std::string_view block;
  int blocks = 0;
  while (input->next_block(block)) {
    rest.append(block);
    ++blocks;
  }
  CHECK(blocks > 2);
  CHECK(rest == bytes.substr(line.size() + 1));
}

TEST_CASE("input: gzip members one after the other read as one text", "[input]") {
  TempDir dir;
  const std::string path = dir.write("two.log.gz", gzip("a\nb\n") + gzip("") + gzip("c\nd"));
  auto input = open_input(path);
  CHECK(input->head() == "a\nb\nc\nd");
  CHECK(all_lines(*input) == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK_FALSE(input->error());
}

TEST_CASE("input: gzip recognised by its magic bytes, whatever the file's name", "[input]") {
  TempDir dir;
  auto input = open_input(dir.write("plain-name.jsonl", gzip("{\"x\":1}\n")));
  CHECK(all_lines(*input) == std::vector<std::string>{"{\"x\":1}"});
}

TEST_CASE("input: zero bytes after the gzip data are padding; other bytes an error", "[input]") {
  TempDir dir;
  SECTION("zeros") {
    auto input = open_input(dir.write("padded.gz", gzip("a\n") + std::string(100, '\0')));
    CHECK(all_lines(*input) == std::vector<std::string>{"a"});
    CHECK_FALSE(input->error());
  }
  SECTION("garbage") {
    auto input = open_input(dir.write("garbage.gz", gzip("a\n") + "junk"));
    CHECK(all_lines(*input) == std::vector<std::string>{"a"});
    CHECK(input->error() == "trailing bytes after the gzip data that are not gzip");
  }
}

TEST_CASE("input: a gzip file cut short gives its lines, then says it was cut", "[input]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "record " + std::to_string(i) + "\n";
  const std::string whole = gzip(text);
  auto input = open_input(dir.write("cut.log.gz", whole.substr(0, whole.size() / 2)));
  const auto lines = all_lines(*input);
  CHECK(input->error() == "truncated gzip data: the input ends in the middle of a compressed stream");
  REQUIRE(lines.size() > 100);
  REQUIRE(lines.size() < 20000);
  CHECK(lines[0] == "record 0");
  CHECK(lines[100] == "record 100");
  CHECK_FALSE(input->line_terminated());  // the last line given is the part before the cut
}

TEST_CASE("input: corrupt gzip data is an error with zlib's words", "[input]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "record " + std::to_string(i) + "\n";
  std::string bytes = gzip(text);
  for (std::size_t i = 20; i < 60; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  auto input = open_input(dir.write("corrupt.gz", bytes));
  all_lines(*input);
  REQUIRE(input->error());
  CHECK(input->error()->rfind("corrupt gzip data: ", 0) == 0);
}

TEST_CASE("input: a missing file, a directory: no input, a diagnostic naming the file", "[input]") {
  TempDir dir;
  core::Diagnostics diags;
  CHECK(Input::open(dir.path("absent.log"), diags) == nullptr);
  CHECK(Input::open(dir.path(""), diags) == nullptr);
  CHECK(rendered(diags) == dir.path("absent.log") + ": error: cannot open log: No such file or directory\n" +
                               dir.path("") + ": error: cannot open log: it is a directory\n");
}

TEST_CASE("input: standard input, plain or gzip, is named -", "[input]") {
  TempDir dir;
  const std::string plain = dir.write("stdin.log", "x\ny\n");
  const std::string packed = dir.write("stdin.log.gz", gzip("p\nq\n"));
  const int saved = ::dup(0);
  REQUIRE(saved >= 0);
  auto through_stdin = [&](const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    ::dup2(fd, 0);
    ::close(fd);
    auto input = open_input("-");
    CHECK(input->path() == "-");
    auto lines = all_lines(*input);
    ::dup2(saved, 0);
    return lines;
  };
  CHECK(through_stdin(plain) == std::vector<std::string>{"x", "y"});
  CHECK(through_stdin(packed) == std::vector<std::string>{"p", "q"});
  ::close(saved);
}
