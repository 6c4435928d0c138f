// The batch metrics CSV of Vidur and Sarathi-Serve, as pandas writes it: field by field,
// columns in another order, whole numbers written "12.0", empty cells, CRLF, malformed rows,
// and what is not such a file.
#include <catch2/catch.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "traces/in_memory_input.hpp"
#include "traces/readers.hpp"
#include "traces/temp_files.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using traces::testing::located;
using traces::testing::open_input;
using traces::testing::read_all;
using traces::testing::TempDir;

namespace {

std::string data_path(const std::string& name) {
  return std::string(BATCHPROOF_SOURCE_DIR) + "/tests/traces/data/" + name;
}

struct Read {
  std::vector<Iteration> records;
  std::unique_ptr<RecordReader> reader;
};

Read read_csv(const std::string& text) {
  TempDir dir;
  Read out;
  out.reader = make_vidur_batch_csv_reader(open_input(dir.write("batch_metrics.csv", text)));
  out.records = read_all(*out.reader);
  return out;
}

}  // namespace

TEST_CASE("batch csv: Vidur's batch_metrics.csv, field by field", "[batch-csv]") {
  auto reader = make_vidur_batch_csv_reader(open_input(data_path("vidur_batch_metrics.csv")));
  const auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 4);
  const Iteration& a = records[0];
  CHECK(a.line == 2);
  CHECK(a.stream == "");
  CHECK(a.index == 0);
  CHECK(a.duration_s == 0.020000000000000018);
  CHECK_FALSE(a.start_s);
  CHECK(a.prefill_tokens == 812);
  CHECK(a.decode_tokens == 0);
  CHECK(a.decode_requests == 0);
  CHECK(a.prefill_requests == 2);
  CHECK_FALSE(a.has_items);
  CHECK_FALSE(a.running);
  CHECK_FALSE(a.budget_tokens);
  const Iteration& c = records[2];
  CHECK(c.line == 4);
  CHECK(c.index == 2);
  CHECK(c.prefill_tokens == 200);
  CHECK(c.decode_tokens == 1);
  CHECK(c.decode_requests == 1);
  CHECK(c.prefill_requests == 1);
  CHECK(c.tokens() == 201);
  CHECK(records[3].duration_s == 0.007);
}

TEST_CASE("batch csv: Sarathi-Serve's, with CRLF, \"12.0\" numbers and an empty cell", "[batch-csv]") {
  auto reader = make_vidur_batch_csv_reader(open_input(data_path("sarathi_batch_metrics.csv")));
  const auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  REQUIRE(records.size() == 2);
  CHECK(records[0].index == 0);
  CHECK(records[0].prefill_tokens == 512);
  CHECK(records[0].decode_tokens == 1);
  CHECK(records[0].prefill_requests == 1);
  CHECK(records[0].duration_s == 0.0452105);
  CHECK(records[1].decode_requests == 2);
  CHECK(records[1].prefill_requests == 1);
}

TEST_CASE("batch csv: columns in any order, quoted names, some missing", "[batch-csv]") {
  const auto out = read_csv("batch_size,\"Batch Id\",batch_num_tokens,batch_num_decode_tokens\n4,9,100,3\n");
  CHECK(out.reader->diagnostics().all().empty());
  REQUIRE(out.records.size() == 1);
  const Iteration& r = out.records[0];
  CHECK(r.index == 9);
  CHECK(r.prefill_tokens == 97);  // batch_num_tokens less the decode tokens
  CHECK(r.decode_tokens == 3);
  CHECK(r.prefill_requests == 1);
  CHECK_FALSE(r.duration_s);
}

TEST_CASE("batch csv: malformed rows are counted, located and skipped", "[batch-csv]") {
  const auto out = read_csv(
      "Batch Id,batch_num_tokens,batch_num_prefill_tokens,batch_num_decode_tokens,batch_size,batch_execution_time\n"
      "0,10,10,0,1,0.5\n"
      "1,10,10,0,1\n"
      "2,ten,10,0,1,0.5\n"
      "3,10,10,0,1,-0.5\n"
      ",10,10,0,1,0.5\n"
      "5,10,2.5,0,1,0.5\n"
      "\n"
      "6,10,10,0,1,0.25");
  CHECK(located(*out.reader) == std::vector<std::string>{
                                    "3:1: expected 6 cells as in the header row, found 5",
                                    "4:3: batch_num_tokens: expected a non-negative whole number, found ten",
                                    "5:13: batch_execution_time: expected a non-negative number of seconds, found -0.5",
                                    "6:1: Batch Id: missing",
                                    "7:6: batch_num_prefill_tokens: expected a non-negative whole number, found 2.5",
                                });
  CHECK(out.reader->malformed_count() == 5);
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[1].line == 9);
  CHECK(out.records[1].duration_s == 0.25);
}

TEST_CASE("batch csv: a row whose part exceeds its whole is malformed, not a negative count", "[batch-csv]") {
  // Every column: more decode tokens (one per decoding request) than requests in the batch.
  auto out = read_csv(
      "Batch Id,batch_num_tokens,batch_num_prefill_tokens,batch_num_decode_tokens,batch_size,batch_execution_time\n"
      "0,130,128,2,3,0.5\n"
      "1,133,128,5,3,0.5\n");
  CHECK(located(*out.reader) ==
        std::vector<std::string>{"3:1: 5 decode tokens (one per decoding request) exceed batch_size (3)"});
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].prefill_requests == 1);
  // Decode tokens derived as tokens less prefill: a prefill larger than the batch (here far past
  // int64 if subtracted from the size) is reported, never computed.
  out = read_csv(
      "Batch Id,batch_num_tokens,batch_num_prefill_tokens,batch_size\n"
      "0,130,128,3\n"
      "1,64807981222,9223372036854708817,3\n");
  CHECK(located(*out.reader) ==
        std::vector<std::string>{"3:1: batch_num_prefill_tokens (9223372036854708817) exceeds batch_num_tokens (64807981222)"});
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].decode_tokens == 2);
  CHECK(out.records[0].prefill_requests == 1);
  // Prefill derived as tokens less decode.
  out = read_csv(
      "Batch Id,batch_num_tokens,batch_num_decode_tokens,batch_size\n"
      "0,130,2,3\n"
      "1,1,2,3\n");
  CHECK(located(*out.reader) == std::vector<std::string>{"3:1: batch_num_decode_tokens (2) exceeds batch_num_tokens (1)"});
  REQUIRE(out.records.size() == 1);
  CHECK(out.records[0].prefill_tokens == 128);
}

TEST_CASE("batch csv: what is not a batch metrics CSV is fatal", "[batch-csv]") {
  auto fatal_message = [](const std::string& text) {
    const auto out = read_csv(text);
    CHECK(out.records.empty());
    CHECK(out.reader->fatal());
    const auto messages = located(*out.reader);
    REQUIRE(messages.size() == 1);
    return messages[0];
  };
  CHECK(fatal_message("") ==
        "0:0: not a batch metrics CSV (Vidur or Sarathi-Serve batch_metrics.csv): the input is empty");
  CHECK(fatal_message("\nRequest Id,request_e2e_time\n0,1.5\n") ==
        "2:1: not a batch metrics CSV (Vidur or Sarathi-Serve batch_metrics.csv): the header row has no \"Batch Id\" "
        "column, found Request Id,request_e2e_time");
  CHECK(fatal_message(std::string("\x7f" "ELF\x02\0\0\0", 8)) ==
        "1:1: not a batch metrics CSV (Vidur or Sarathi-Serve batch_metrics.csv): the header row has no \"Batch Id\" "
        "column, found ?ELF????");
}

TEST_CASE("batch csv: a long generated file", "[batch-csv]") {
  std::string text = "Batch Id,batch_num_tokens,batch_num_prefill_tokens,batch_num_decode_tokens,batch_size,batch_execution_time\n";
  const int n = 50000;
  for (int i = 0; i < n; ++i) text += std::to_string(i) + ",130,128,2,3,0.0125\n";
  const auto out = read_csv(text);
  CHECK(out.reader->diagnostics().all().empty());
  REQUIRE(out.records.size() == static_cast<std::size_t>(n));
  CHECK(out.records.back().index == n - 1);
  CHECK(out.records.back().prefill_requests == 1);
}

// The fast path (a plain row read in one pass) against the general path (which reads every
// row that is not plain): the same rows read once as written, once with a space after each
// row's last cell, which the general path trims and the fast path does not take. Records,
// messages (line:col) and counts must not differ, on plain rows and on rows of every kind the
// fast path must leave to the general path.
namespace {

using traces::testing::memory_input;

// Every field, doubles to the bit.
std::string describe(const Iteration& r) {
  auto whole = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string("-"); };
  auto real = [](const std::optional<double>& v) { return v ? fmt::format("{:a}", *v) : std::string("-"); };
  std::string out = fmt::format("stream={} line={} index={} start={} duration={} ", r.stream, r.line, whole(r.index),
                                real(r.start_s), real(r.duration_s));
  out += fmt::format("prefill={}/{} decode={}/{} cached={} running={} waiting={}/{} preempted={} ",
                     whole(r.prefill_requests), whole(r.prefill_tokens), whole(r.decode_requests),
                     whole(r.decode_tokens), whole(r.cached_tokens), whole(r.running), whole(r.waiting),
                     whole(r.waiting_tokens), whole(r.preempted));
  out += fmt::format("kv={}/{}/{} budget={}/{} items={}:{}:{}:{} steps={}", whole(r.kv_used_tokens),
                     whole(r.kv_total_tokens), real(r.kv_usage), whole(r.budget_tokens), whole(r.budget_requests),
                     r.has_items, r.items.size(), r.arrivals.size(), r.departures.size(), r.steps);
  return out;
}

struct Outcome {
  std::vector<std::string> records;
  std::vector<std::string> messages;
  std::int64_t malformed = 0;
  bool fatal = false;
};

Outcome read_text(const std::string& text) {
  auto reader = make_vidur_batch_csv_reader(memory_input("batch_metrics.csv", text));
  Outcome out;
  for (const Iteration& r : read_all(*reader)) out.records.push_back(describe(r));
  out.messages = located(*reader);
  out.malformed = reader->malformed_count();
  out.fatal = reader->fatal();
  return out;
}

void check_same(const Outcome& fast, const Outcome& general, const std::string& text) {
  INFO(text);
  CHECK(fast.messages == general.messages);
  CHECK(fast.malformed == general.malformed);
  CHECK(fast.fatal == general.fatal);
  REQUIRE(fast.records.size() == general.records.size());
  for (std::size_t i = 0; i < fast.records.size(); ++i)
    if (fast.records[i] != general.records[i]) {
      CHECK(fast.records[i] == general.records[i]);  // the first that differs
      break;
    }
}

// Rows of a header, each line with the text appended to its last cell (before the line end).
struct Rows {
  std::string header;
  std::vector<std::string> lines;  // without the line end
  std::vector<bool> crlf;

  std::string text(const std::string& after_last_cell) const {
    std::string out = header + "\n";
    for (std::size_t i = 0; i < lines.size(); ++i) out.append(lines[i]).append(after_last_cell).append(crlf[i] ? "\r\n" : "\n");
    return out;
  }
};

// Deterministic everywhere: mt19937's output is fixed by the standard, the distributions are not.
class Dice {
 public:
  explicit Dice(std::uint32_t seed) : gen_(seed) {}
  std::uint64_t below(std::uint64_t n) { return (static_cast<std::uint64_t>(gen_()) << 32 | gen_()) % n; }
  bool one_in(std::uint64_t n) { return below(n) == 0; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

 private:
  std::mt19937 gen_;
};

std::string plain_whole(Dice& dice) {
  switch (dice.below(6)) {
    case 0: return "0";
    case 1: return std::to_string(dice.below(10));
    case 2: return std::to_string(dice.below(100000));
    case 3: return std::to_string(dice.below(100000000000ull));
    case 4: return dice.pick(std::vector<std::string>{"9223372036854775807", "1000000000000000000", "12345678"});
    default: return std::to_string(dice.below(1000));
  }
}

std::string plain_seconds(Dice& dice) {
  if (dice.one_in(4))
    return dice.pick(std::vector<std::string>{"0", "0.0", "1.0", "2.50", "1E-3", "1e+2", "123", "1e-05", "0.007",
                                              "0.020000000000000018", "1.7976931348623157e308", "5e-324"});
  const double x = static_cast<double>(dice.below(1ull << 53)) / static_cast<double>(1ull << dice.below(60));
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);  // shortest, as Python's repr
  return std::string(buf, r.ptr);
}

// A cell the fast path must not take, of a whole-number column or of the seconds.
std::string odd_cell(Dice& dice, const std::string& plain, bool seconds) {
  static const std::vector<std::string> anywhere{
      "", "nan", "NaN", "NAN", "abc", "inf", "-inf", "1e400", "99999999999999999999", "9223372036854775808",
      "-9223372036854775809", "0x10", "1,", "\"\"", "\"1,5\"", "\"12", "12\"", "-0", "+1", "１"};
  static const std::vector<std::string> whole_only{"12.0", "1e3", "2.5", "007", "-3", "00", "1.", ".5", "4.0e0"};
  static const std::vector<std::string> seconds_only{".5", "5.", "-0.0", "-0.5", "00.5", "0.5e", "1e-400", "0.5.0", "-1e-3"};
  switch (dice.below(7)) {
    case 0: return std::string("\"").append(plain).append("\"");
    case 1: return std::string(" ").append(plain);
    case 2: return std::string(plain).append("\t");
    case 3: return seconds ? dice.pick(seconds_only) : dice.pick(whole_only);
    case 4: return std::string("-").append(plain);
    default: return dice.pick(anywhere);
  }
}

Rows generate(const std::vector<std::string>& columns, int rows, std::uint32_t seed) {
  Dice dice(seed);
  Rows out;
  for (std::size_t k = 0; k < columns.size(); ++k) out.header.append(k > 0 ? "," : "").append(columns[k]);
  for (int i = 0; i < rows; ++i) {
    std::vector<std::string> cells;
    for (const auto& c : columns) {
      if (c == "Batch Id")
        cells.push_back(std::to_string(i));
      else if (c == "batch_execution_time" || c == "inter_batch_delay")
        cells.push_back(plain_seconds(dice));
      else
        cells.push_back(plain_whole(dice));
    }
    // Three rows in five stay plain; the others get one or two changes.
    if (dice.below(5) < 2) {
      const int changes = dice.one_in(4) ? 2 : 1;
      for (int n = 0; n < changes && !cells.empty(); ++n) {
        const std::size_t k = dice.below(cells.size());
        switch (dice.below(12)) {
          case 0: cells.pop_back(); break;  // none left: an empty line
          case 1: cells.push_back(plain_whole(dice)); break;
          case 2: cells.back() += ","; break;
          case 3: cells.assign(1, dice.one_in(2) ? "" : "  \t"); break;  // blank lines
          default:
            cells[k] = odd_cell(dice, cells[k],
                                k < columns.size() &&
                                    (columns[k] == "batch_execution_time" || columns[k] == "inter_batch_delay"));
        }
      }
    }
    std::string line;
    for (std::size_t k = 0; k < cells.size(); ++k) line.append(k > 0 ? "," : "").append(cells[k]);
    out.lines.push_back(line);
    out.crlf.push_back(dice.one_in(3));
  }
  return out;
}

const std::vector<std::vector<std::string>>& layouts() {
  static const std::vector<std::vector<std::string>> all{
      {"Batch Id", "batch_num_tokens", "batch_num_prefill_tokens", "batch_num_decode_tokens", "batch_size",
       "batch_execution_time"},
      // Another order, a column no one reads in the middle (Sarathi-Serve's), the seconds first.
      {"batch_execution_time", "batch_size", "batch_num_decode_tokens", "Batch Id", "inter_batch_delay",
       "batch_num_tokens", "batch_num_prefill_tokens"},
      // Columns missing: the prefill tokens from the total, no seconds.
      {"Batch Id", "batch_num_tokens", "batch_num_decode_tokens", "batch_size"},
      {"Batch Id"},
  };
  return all;
}

}  // namespace

TEST_CASE("batch csv: plain rows read as the general path reads them, on a long mixed file", "[batch-csv]") {
  for (std::size_t l = 0; l < layouts().size(); ++l) {
    const Rows rows = generate(layouts()[l], 20000, static_cast<std::uint32_t>(17 + l));
    const Outcome fast = read_text(rows.text(""));
    const Outcome general = read_text(rows.text(" "));
    check_same(fast, general, rows.header);
    CHECK(fast.records.size() > 5000);
    CHECK(fast.malformed > 1000);
    CHECK_FALSE(fast.fatal);
  }
}

TEST_CASE("batch csv: plain rows and their messages as the general path's, 40 rows at a time", "[batch-csv]") {
  // Beyond the first ten malformed rows only a count is kept: short files to compare every message.
  for (std::size_t l = 0; l < layouts().size(); ++l) {
    const Rows rows = generate(layouts()[l], 4000, static_cast<std::uint32_t>(101 + l));
    for (std::size_t from = 0; from < rows.lines.size(); from += 40) {
      Rows part{rows.header, {}, {}};
      for (std::size_t i = from; i < from + 40 && i < rows.lines.size(); ++i) {
        part.lines.push_back(rows.lines[i]);
        part.crlf.push_back(rows.crlf[i]);
      }
      check_same(read_text(part.text("")), read_text(part.text(" ")), part.text(""));
    }
  }
}

TEST_CASE("batch csv: plain rows, values as written", "[batch-csv]") {
  const auto out = read_csv(
      "batch_size,Batch Id,inter_batch_delay,batch_num_tokens,batch_num_decode_tokens,batch_execution_time\n"
      "64,7,0.00027,511,63,0.15316000000000002\n"
      "3,9223372036854775807,,130,2,1e-05\n"
      "1,8,0.1,1,0,5e-324\r\n");
  CHECK(out.reader->diagnostics().all().empty());
  REQUIRE(out.records.size() == 3);
  CHECK(out.records[0].line == 2);
  CHECK(out.records[0].index == 7);
  CHECK(out.records[0].prefill_tokens == 448);
  CHECK(out.records[0].decode_tokens == 63);
  CHECK(out.records[0].decode_requests == 63);
  CHECK(out.records[0].prefill_requests == 1);
  CHECK(out.records[0].duration_s == 0.15316000000000002);
  CHECK(out.records[1].index == INT64_MAX);
  CHECK(out.records[1].prefill_tokens == 128);
  CHECK(out.records[1].duration_s == 1e-05);
  CHECK(out.records[2].line == 4);
  CHECK(out.records[2].index == 8);
  CHECK(out.records[2].prefill_requests == 1);
  CHECK(out.records[2].duration_s == 5e-324);
}

TEST_CASE("batch csv: a reused record keeps nothing of what it held", "[batch-csv]") {
  // The CLI passes one record to every call; another reader may have filled it.
  auto reader = make_vidur_batch_csv_reader(memory_input(
      "batch_metrics.csv",
      "Batch Id,batch_num_tokens,batch_num_prefill_tokens,batch_num_decode_tokens,batch_size,batch_execution_time\n"
      "0,10,10,0,1,0.5\n"      // plain
      "1,10,10.0,0,1,0.5\n"));  // the general path
  for (int i = 0; i < 2; ++i) {
    Iteration r;
    r.stream = "replica 3";
    r.start_s = 1.5;
    r.cached_tokens = r.running = r.waiting = r.waiting_tokens = r.preempted = 4;
    r.kv_used_tokens = r.kv_total_tokens = r.budget_tokens = r.budget_requests = 5;
    r.kv_usage = 0.5;
    r.prefill_requests = r.decode_requests = 6;
    r.has_items = true;
    r.items.resize(3);
    r.arrivals.resize(2);
    r.departures.resize(1);
    r.steps = 40;
    REQUIRE(reader->next(r));
    Iteration expected;
    expected.line = 2 + i;
    expected.index = i;
    expected.duration_s = 0.5;
    expected.prefill_tokens = 10;
    expected.decode_tokens = 0;
    expected.decode_requests = 0;
    expected.prefill_requests = 1;
    CHECK(describe(r) == describe(expected));
  }
}

TEST_CASE("batch csv: the data files as the general path reads them", "[batch-csv]") {
  for (const std::string name : {"vidur_batch_metrics.csv", "sarathi_batch_metrics.csv"}) {
    const std::string text = traces::testing::read_file(data_path(name));
    // A space before each line end but the header's: the general path trims it.
    std::string spaced;
    for (std::size_t at = 0, line = 0; at < text.size(); ++line) {
      std::size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::size_t cut = end > at && text[end - 1] == '\r' ? end - 1 : end;
      spaced.append(text, at, cut - at).append(line > 0 ? " " : "").append(text, cut, end - cut);
      if (end < text.size()) spaced += '\n';
      at = end + 1;
    }
    CHECK(spaced.size() > text.size());
    check_same(read_text(text), read_text(spaced), name);
  }
}
