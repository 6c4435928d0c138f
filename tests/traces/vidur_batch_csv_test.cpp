// The batch metrics CSV of Vidur and Sarathi-Serve, as pandas writes it: field by field,
// columns in another order, whole numbers written "12.0", empty cells, CRLF, malformed rows,
// and what is not such a file.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

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
