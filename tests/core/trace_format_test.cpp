#include "core/trace_format.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/state.hpp"

using namespace batchproof::core;

namespace {

const std::string kPath = "run.trace.jsonl";

// A minimal valid header line, for tests about what follows it.
const std::string kHeaderLine =
    R"({"type":"header","schema_version":1,"source":"simulate","engine":"e","budget_form":"plain","block_size":1,"accounting":"paper"})"
    "\n";

TraceHeader full_header() {
  TraceHeader h;
  h.source = "simulate";
  h.spec = "examples/paper_policies.bp";
  h.engine = "sarathi";
  h.profile = "codellama34b_a100";
  h.token_budget = 512;
  h.budget_form = BudgetForm::Padded;
  h.max_batch = 256;
  h.kv_capacity_tokens = 131000;
  h.block_size = 16;
  h.accounting = Accounting::Vidur;
  h.notes = "seed 7; \"quoted\", back\\slash, tab\t, newline\n, bell\x07, caf\xC3\xA9";
  return h;
}

TraceRequestState request(std::int64_t id, double arrival, std::int64_t prompt, std::int64_t output,
                          std::int64_t prefilled, std::int64_t decoded, std::int64_t kv, bool admitted,
                          std::string cls = {}) {
  TraceRequestState r;
  r.id = id;
  r.arrival_s = arrival;
  r.prompt = prompt;
  r.output = output;
  r.prefilled = prefilled;
  r.decoded = decoded;
  r.kv_held = kv;
  r.admitted = admitted;
  r.cls = std::move(cls);
  return r;
}

TraceState initial_state() {
  TraceState s;
  s.time_s = 0.1 + 0.2;  // not 0.3: the shortest round trip must keep every bit
  s.requests = {request(0, 0, 100, 20, 100, 3, 112, true, "chat"), request(1, 0.05, 300, 7, 128, 0, 304, true),
                request(2, 0.25, 50, 10, 0, 0, 0, false, "batch")};
  return s;
}

std::vector<TraceIteration> iterations() {
  TraceIteration a;
  a.index = 0;
  a.start_s = 0.30000000000000004;
  a.end_s = 0.3467;
  a.items = {{0, 0, true}, {1, 172, false}, {2, 50, false}};
  a.waiting = 0;
  a.running = 3;
  a.kv_used = 112 + 304 + 48 + 2;
  a.tokens = 223;

  TraceIteration b;
  b.index = 1;
  b.start_s = 0.3467;
  b.end_s = 1.0 / 3.0;  // an iteration may be recorded with any times: the reader does not judge
  b.items = {{0, 0, true}, {1, 0, true}, {2, 0, true}};
  b.arrivals = {{3, 0.31, 40, 5, ""}, {4, 0.3466999, 1, 1, "chat"}};
  b.departures = {0};
  b.preempted = {2, 1};
  b.waiting = 4;
  b.running = 0;
  b.kv_used = 0;
  b.tokens = 3;

  TraceIteration c;
  c.index = 2;
  c.start_s = 1e-300;
  c.end_s = 12345.678901234567;
  c.items = {{4, 1, true}, {-7, 0, false}};
  c.waiting = 3;
  c.running = 1;
  c.kv_used = std::numeric_limits<std::int64_t>::max();
  c.tokens = 2;
  c.requests = std::vector<TraceRequestState>{request(4, 0.3466999, 1, 1, 1, 1, 16, true, "chat"),
                                              request(2, 0.25, 50, 10, 0, 0, 0, false)};
  return {a, b, c};
}

struct ReadResult {
  std::vector<TraceRecord> records;
  std::vector<int> lines;  // location().line of each record
  std::vector<Diagnostic> diags;
  int malformed = 0;
  bool fatal = false;
};

ReadResult read_all(const std::string& text) {
  std::istringstream in(text);
  TraceReader reader(in, kPath);
  ReadResult r;
  TraceRecord record;
  while (reader.next(record)) {
    r.records.push_back(record);
    r.lines.push_back(reader.location().line);
  }
  CHECK_FALSE(reader.next(record));  // and stays at the end
  r.diags = reader.diagnostics().all();
  r.malformed = reader.malformed_count();
  r.fatal = reader.fatal();
  for (const auto& d : r.diags) UNSCOPED_INFO(render(d));
  return r;
}

void check_diag(const Diagnostic& d, int line, int col, const std::string& message,
                Severity severity = Severity::Error) {
  INFO(render(d));
  CHECK(d.severity == severity);
  CHECK(d.loc.file == kPath);
  CHECK(d.loc.line == line);
  CHECK(d.loc.col == col);
  CHECK(d.message == message);
}

// The one diagnostic of a file that is not read at all.
Diagnostic fatal_diag(const std::string& text) {
  auto r = read_all(text);
  CHECK(r.fatal);
  CHECK(r.records.empty());
  REQUIRE(r.diags.size() == 1);
  return r.diags[0];
}

}  // namespace

TEST_CASE("trace round trip: header, state and three iterations read back field by field") {
  std::ostringstream out;
  TraceWriter writer(out);
  const TraceHeader header = full_header();
  const TraceState state = initial_state();
  const auto its = iterations();
  writer.write_header(header);
  writer.write_state(state);
  for (const auto& it : its) writer.write_iteration(it);
  writer.flush();
  CHECK(writer.ok());
  CHECK(writer.records_written() == 5);

  auto r = read_all(out.str());
  REQUIRE(r.diags.empty());
  CHECK(r.malformed == 0);
  CHECK_FALSE(r.fatal);
  REQUIRE(r.records.size() == 5);
  CHECK(r.lines == std::vector<int>{1, 2, 3, 4, 5});

  REQUIRE(std::holds_alternative<TraceHeader>(r.records[0]));
  const auto& h = std::get<TraceHeader>(r.records[0]);
  CHECK(h.schema_version == 1);
  CHECK(h.source == header.source);
  CHECK(h.spec == header.spec);
  CHECK(h.engine == header.engine);
  CHECK(h.profile == header.profile);
  CHECK(h.token_budget == header.token_budget);
  CHECK(h.budget_form == BudgetForm::Padded);
  CHECK(h.max_batch == header.max_batch);
  CHECK(h.kv_capacity_tokens == header.kv_capacity_tokens);
  CHECK(h.block_size == 16);
  CHECK(h.accounting == Accounting::Vidur);
  CHECK(h.notes == header.notes);
  CHECK(h == header);

  REQUIRE(std::holds_alternative<TraceState>(r.records[1]));
  const auto& s = std::get<TraceState>(r.records[1]);
  CHECK(s.time_s == state.time_s);
  REQUIRE(s.requests.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& got = s.requests[i];
    const auto& want = state.requests[i];
    INFO("request " << i);
    CHECK(got.id == want.id);
    CHECK(got.arrival_s == want.arrival_s);
    CHECK(got.prompt == want.prompt);
    CHECK(got.output == want.output);
    CHECK(got.prefilled == want.prefilled);
    CHECK(got.decoded == want.decoded);
    CHECK(got.kv_held == want.kv_held);
    CHECK(got.admitted == want.admitted);
    CHECK(got.phase() == want.phase());
    CHECK(got.cls == want.cls);
  }
  CHECK(s.requests[0].phase() == "decoding");
  CHECK(s.requests[1].phase() == "started");
  CHECK(s.requests[2].phase() == "waiting");

  for (std::size_t k = 0; k < 3; ++k) {
    INFO("iteration " << k);
    REQUIRE(std::holds_alternative<TraceIteration>(r.records[2 + k]));
    const auto& got = std::get<TraceIteration>(r.records[2 + k]);
    const auto& want = its[k];
    CHECK(got.index == want.index);
    CHECK(got.start_s == want.start_s);
    CHECK(got.end_s == want.end_s);
    CHECK(got.items == want.items);
    CHECK(got.arrivals == want.arrivals);
    CHECK(got.departures == want.departures);
    CHECK(got.preempted == want.preempted);
    CHECK(got.waiting == want.waiting);
    CHECK(got.running == want.running);
    CHECK(got.kv_used == want.kv_used);
    CHECK(got.tokens == want.tokens);
    CHECK(got.requests == want.requests);
    CHECK(got == want);
  }
}

TEST_CASE("trace writer: compact lines, empty lists and absent options left out") {
  std::ostringstream out;
  TraceWriter writer(out);
  TraceHeader h;
  h.source = "prove";
  h.engine = "orca";
  writer.write_header(h);
  TraceState s;
  s.time_s = 0;
  s.requests = {request(1, 0.5, 10, 2, 0, 0, 0, false)};
  writer.write_state(s);
  TraceIteration it;
  it.index = 0;
  it.start_s = 0.5;
  it.end_s = 0.54675;
  it.items = {{1, 10, false}, {2, 0, true}};
  it.arrivals = {{1, 0.5, 10, 2, "chat"}};
  it.departures = {2};
  it.waiting = 0;
  it.running = 1;
  it.kv_used = 10;
  it.tokens = 11;
  writer.write_iteration(it);
  it.index = 1;
  it.items = {};
  it.arrivals = {};
  it.departures = {};
  it.tokens = 0;
  writer.write_iteration(it);
  CHECK(out.str() ==
        R"({"type":"header","schema_version":1,"source":"prove","spec":"","engine":"orca","profile":"","budget_form":"plain","block_size":1,"accounting":"paper"})"
        "\n"
        R"({"type":"state","time_s":0,"requests":[{"id":1,"arrival_s":0.5,"prompt":10,"output":2,"prefilled":0,"decoded":0,"kv_held":0,"phase":"waiting"}]})"
        "\n"
        R"({"type":"iteration","index":0,"start_s":0.5,"end_s":0.54675,"tokens":11,"waiting":0,"running":1,"kv_used":10,"items":[{"id":1,"prefill":10},{"id":2,"decode":1}],"arrivals":[{"id":1,"time_s":0.5,"prompt":10,"output":2,"class":"chat"}],"departures":[2]})"
        "\n"
        R"({"type":"iteration","index":1,"start_s":0.5,"end_s":0.54675,"tokens":0,"waiting":0,"running":1,"kv_used":10,"items":[]})"
        "\n");

  auto r = read_all(out.str());
  REQUIRE(r.diags.empty());
  REQUIRE(r.records.size() == 4);
  const auto& back = std::get<TraceHeader>(r.records[0]);
  CHECK_FALSE(back.token_budget);
  CHECK_FALSE(back.max_batch);
  CHECK_FALSE(back.kv_capacity_tokens);
  CHECK(back == h);
  CHECK(std::get<TraceIteration>(r.records[3]) == it);
}

TEST_CASE("trace writer: strings stay valid JSON, non-finite times become null") {
  std::ostringstream out;
  TraceWriter writer(out);
  TraceHeader h;
  h.source = "collect";
  h.engine = "bad\xFF\xC3utf8";  // a stray byte and a cut sequence
  writer.write_header(h);
  TraceIteration it;
  it.start_s = std::numeric_limits<double>::infinity();
  it.end_s = std::nan("");
  writer.write_iteration(it);
  const std::string text = out.str();
  CHECK(text.find(R"("engine":"bad)" "\xEF\xBF\xBD\xEF\xBF\xBD" R"(utf8")") != std::string::npos);
  CHECK(text.find(R"("start_s":null,"end_s":null)") != std::string::npos);

  auto r = read_all(text);
  REQUIRE(r.records.size() == 1);
  CHECK(std::get<TraceHeader>(r.records[0]).engine == "bad\xEF\xBF\xBD\xEF\xBF\xBDutf8");
  REQUIRE(r.diags.size() == 1);
  check_diag(r.diags[0], 2, 41, "start_s: expected a finite number of seconds, found null");
}

TEST_CASE("trace writer: a failing stream turns ok() false and throws nothing") {
  // Every write fails (a full disk, a closed pipe), and the stream throws on failure.
  struct FailingBuffer : std::streambuf {
    int_type overflow(int_type) override { return traits_type::eof(); }
  } buffer;
  std::ostream broken(&buffer);
  broken.exceptions(std::ios::badbit);
  TraceWriter writer(broken);
  CHECK_NOTHROW(writer.write_header(full_header()));
  CHECK_NOTHROW(writer.write_state(initial_state()));
  CHECK_NOTHROW(writer.flush());
  CHECK_FALSE(writer.ok());
  CHECK(writer.records_written() == 0);
}

TEST_CASE("trace reader: malformed lines are reported with their line and column, and skipped") {
  const std::string text =
      kHeaderLine +                                                                          // 1
      "\n"                                                                                   // 2: blank
      R"({"type":"iteration","index":0,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[]})"
      "\n"                                                                                   // 3: fine
      R"({"type":"iteration","index":1,"start_s":0,)"
      "\n"                                                                                   // 4
      R"([1,2])"
      "\n"                                                                                   // 5
      R"({"index":2})"
      "\n"                                                                                   // 6
      R"({"type":"iteration","index":-1,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[]})"
      "\n"                                                                                   // 7
      R"({"type":"iteration","index":3,"start_s":"0","end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[]})"
      "\n"                                                                                   // 8
      R"({"type":"iteration","index":4,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[{"id":1},{"id":2,"prefill":2.5}]})"
      "\n"                                                                                   // 9
      R"({"type":"iteration","index":5,"start_s":0,"end_s":1,"waiting":0,"kv_used":0,"items":[]})"
      "\n"                                                                                   // 10
      R"({"type":"state","time_s":0,"requests":[{"id":1,"arrival_s":0,"prompt":10,"output":2,"prefilled":10,"decoded":0,"kv_held":10,"phase":"started"}]})"
      "\n"                                                                                   // 11
      R"({"type":"iteration","index":6,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[{"id":1,"decode":2}]})"
      "\n"                                                                                   // 12
      R"({"type":"header","schema_version":1})"
      "\n"                                                                                   // 13
      R"({"type":"iteration","index":8,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[]})"
      "\n";                                                                                  // 14: fine
  auto r = read_all(text);
  CHECK_FALSE(r.fatal);
  REQUIRE(r.records.size() == 3);
  CHECK(r.lines == std::vector<int>{1, 3, 14});
  CHECK(std::get<TraceIteration>(r.records[1]).index == 0);
  CHECK(std::get<TraceIteration>(r.records[2]).index == 8);
  CHECK(r.malformed == 10);
  REQUIRE(r.diags.size() == 10);
  // Cut short, but not at the end of the input: just malformed.
  check_diag(r.diags[0], 4, 43,
             "malformed JSON: syntax error while parsing object key - unexpected end of input; expected string literal");
  check_diag(r.diags[1], 5, 1, "expected a JSON object, found [1,2]");
  check_diag(r.diags[2], 6, 1, "missing field \"type\"");
  check_diag(r.diags[3], 7, 29, "index: expected a non-negative whole number, found -1");
  check_diag(r.diags[4], 8, 41, "start_s: expected a finite number of seconds, found \"0\"");
  check_diag(r.diags[5], 9, 125, "items[1].prefill: expected a non-negative whole number, found 2.5");
  check_diag(r.diags[6], 10, 1, "missing field \"running\"");
  check_diag(r.diags[7], 11, 133,
             "requests[0].phase: \"started\" does not match prefilled 10 of prompt 10 (expected \"decoding\")");
  check_diag(r.diags[8], 12, 115, "items[0].decode: expected 0 or 1, found 2");
  check_diag(r.diags[9], 13, 9, "a second header record (a trace has one, on its first line)");
  for (const auto& d : r.diags) CHECK_FALSE(d.source_line.empty());
  CHECK(r.diags[1].source_line == "[1,2]");
}

TEST_CASE("trace reader: a line that is not JSON, and the messages for nested values") {
  const std::string text = kHeaderLine + "{\"type\": \"state\", \"time_s\": x}\n" +
                           R"({"type":"iteration","index":0,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[],"arrivals":[{"id":1,"time_s":0,"prompt":"10","output":1}]})"
                           "\n" +
                           R"({"type":"iteration","index":0,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[3]})"
                           "\n" +
                           R"({"type":"iteration","index":0,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[{"prefill":1}]})"
                           "\n" +
                           R"({"type":"state","time_s":0,"requests":{}})"
                           "\n" +
                           R"({"type":"iteration","index":99999999999999999999,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[]})"
                           "\n" +
                           R"({"type":"state","time_s":1,"requests":[{"id":1,"arrival_s":0,"prompt":10,"output":2,"prefilled":0,"decoded":0,"kv_held":0,"phase":"running"}]})"
                           "\n" +
                           R"({"type":"iteration","index":7,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[],"departures":[1,"x"]})"
                           "\n" +
                           R"({"type":7})"
                           "\n";
  auto r = read_all(text);
  REQUIRE(r.records.size() == 1);
  CHECK(r.malformed == 9);
  REQUIRE(r.diags.size() == 9);
  check_diag(r.diags[0], 2, 29,
             "malformed JSON: syntax error while parsing value - invalid literal; last read: '\"time_s\": x'");
  check_diag(r.diags[1], 3, 140, "arrivals[0].prompt: expected a non-negative whole number, found \"10\"");
  check_diag(r.diags[2], 4, 98, "items[0]: expected an object, found 3");
  check_diag(r.diags[3], 5, 98, "items[0]: missing field \"id\"");
  check_diag(r.diags[4], 6, 39, "requests: expected an array, found {}");
  check_diag(r.diags[5], 7, 29, "index: number out of range, found 99999999999999999999");
  check_diag(r.diags[6], 8, 131,
             "requests[0].phase: expected \"waiting\", \"started\" or \"decoding\", found \"running\"");
  check_diag(r.diags[7], 9, 116, "departures[1]: expected a whole number, found \"x\"");
  check_diag(r.diags[8], 10, 9, "type: expected a string, found 7");
}

TEST_CASE("trace reader: past 10 malformed lines, a count") {
  std::string text = kHeaderLine;
  for (int i = 0; i < 13; ++i) text += "{oops\n";
  text += R"({"type":"state","time_s":0,"requests":[]})"
          "\n";
  auto r = read_all(text);
  REQUIRE(r.records.size() == 2);  // the header and the state after the junk
  CHECK(r.malformed == 13);
  REQUIRE(r.diags.size() == 11);
  for (int i = 0; i < 10; ++i) CHECK(r.diags[static_cast<std::size_t>(i)].loc.line == i + 2);
  // Past the reported ones, lines are only counted, with no message built: column 1.
  check_diag(r.diags[10], 12, 1, "... and 3 more malformed lines");
}

TEST_CASE("trace reader: a file that does not start with a header is not read") {
  SECTION("an iteration first") {
    check_diag(fatal_diag(R"({"type":"iteration","index":0})"
                          "\n" +
                          kHeaderLine),
               1, 1,
               R"(not a batchproof trace: the first record must be a header {"type": "header", "schema_version": 1, ...}, found {"type":"iteration","index":0})");
  }
  SECTION("an arrivals file") {
    check_diag(fatal_diag("\n  {\"time\": 0.5, \"prompt\": 10, \"output\": 20, \"class\": \"chat\"}\n"), 2, 3,
               R"(not a batchproof trace: the first record must be a header {"type": "header", "schema_version": 1, ...}, found {"time": 0.5, "prompt": 10, "output": 20...)");
  }
  SECTION("a CSV file") {
    check_diag(fatal_diag("TIMESTAMP,ContextTokens,GeneratedTokens\n"), 1, 1,
               R"(not a batchproof trace: the first record must be a header {"type": "header", "schema_version": 1, ...}, found TIMESTAMP,ContextTokens,GeneratedTokens)");
  }
  SECTION("malformed JSON on the first line") {
    check_diag(fatal_diag("{\"type\": \"header\", \"schema_version\": 1,, }\n"), 1, 40,
               "not a batchproof trace: malformed JSON on the first line: syntax error while parsing object key - "
               "unexpected ','; expected string literal");
  }
  SECTION("a cut header") {
    check_diag(fatal_diag(R"({"type":"header","schema_version":1,"sou)"), 1, 41,
               "not a batchproof trace: the input ends in the middle of the first record");
  }
  SECTION("no schema_version") {
    check_diag(fatal_diag(R"({"type":"header","source":"simulate"})"
                          "\n"),
               1, 1, R"(not a batchproof trace: the header has no "schema_version")");
  }
  SECTION("a header with a bad field") {
    check_diag(fatal_diag(R"({"type":"header","schema_version":1,"source":"simulate","engine":"e","budget_form":"plain","block_size":0,"accounting":"paper"})"
                          "\n"),
               1, 105, "bad trace header: block_size: expected a positive whole number, found 0");
    check_diag(fatal_diag(R"({"type":"header","schema_version":1,"source":"simulate","engine":"e","budget_form":"plain","block_size":1,"accounting":"orca"})"
                          "\n"),
               1, 120, R"(bad trace header: accounting: expected "paper" or "vidur", found "orca")");
    check_diag(fatal_diag(R"({"type":"header","schema_version":1,"source":"simulate","budget_form":"plain","block_size":1,"accounting":"paper"})"
                          "\n"),
               1, 1, R"(bad trace header: missing field "engine")");
  }
}

TEST_CASE("trace reader: schema versions") {
  SECTION("newer") {
    auto d = fatal_diag(R"({"type":"header","schema_version":2,"source":"simulate","engine":"e"})"
                        "\n");
    check_diag(d, 1, 35, "this trace has schema_version 2, newer than this batchproof reads (1): use a newer batchproof");
  }
  SECTION("zero") {
    check_diag(fatal_diag(R"({"type":"header","schema_version":0})"), 1, 35,
               "bad trace header: schema_version: expected a positive whole number, found 0");
  }
  SECTION("a string") {
    check_diag(fatal_diag(R"({"type":"header","schema_version":"1"})"), 1, 35,
               R"(bad trace header: schema_version: expected a positive whole number, found "1")");
  }
}

TEST_CASE("trace reader: unknown fields are ignored, unknown record types skipped with one warning") {
  const std::string text =
      R"({"type":"header","schema_version":1,"source":"collect","engine":"e","budget_form":"plain","block_size":1,"accounting":"paper","gpu":"H100","tp":{"size":2}})"
      "\n"
      R"({"type":"metrics","gpu_util":0.93})"
      "\n"
      R"({"type":"iteration","index":0,"start_s":0,"end_s":1,"waiting":0,"running":1,"kv_used":5,"items":[{"id":1,"prefill":5,"decode":false,"lora":"x"}],"power_w":[300,310]})"
      "\n"
      R"({"type":"metrics","gpu_util":0.95})"
      "\n"
      R"({"requests":[{"id":1,"arrival_s":0,"prompt":5,"output":1,"prefilled":5,"decoded":1,"kv_held":5,"phase":"decoding","ttft_s":0.2}],"time_s":1,"type":"state"})"
      "\n";
  auto r = read_all(text);
  CHECK(r.malformed == 0);
  REQUIRE(r.records.size() == 3);
  CHECK(r.lines == std::vector<int>{1, 3, 5});
  const auto& it = std::get<TraceIteration>(r.records[1]);
  CHECK(it.items == std::vector<TraceItem>{{1, 5, false}});
  CHECK(it.tokens == 5);  // absent: the items' sum
  const auto& s = std::get<TraceState>(r.records[2]);
  REQUIRE(s.requests.size() == 1);
  CHECK(s.requests[0].admitted);
  REQUIRE(r.diags.size() == 1);
  check_diag(r.diags[0], 2, 9, R"(unknown record type "metrics", skipped (written by a newer batchproof?))",
             Severity::Warning);
}

TEST_CASE("trace reader: a truncated last line") {
  std::ostringstream out;
  TraceWriter writer(out);
  writer.write_header(full_header());
  for (const auto& it : iterations()) writer.write_iteration(it);
  std::string text = out.str();
  text.resize(text.size() - 20);  // a writer killed in the middle of its last record

  auto r = read_all(text);
  CHECK_FALSE(r.fatal);
  REQUIRE(r.records.size() == 3);
  CHECK(r.malformed == 1);
  REQUIRE(r.diags.size() == 1);
  const auto last_line = text.substr(text.rfind('\n') + 1);
  check_diag(r.diags[0], 4, static_cast<int>(last_line.size()) + 1,
             "truncated record: the input ends in the middle of this line");

  SECTION("a complete last line without its newline is fine") {
    auto whole = out.str();
    whole.pop_back();
    auto w = read_all(whole);
    CHECK(w.diags.empty());
    CHECK(w.records.size() == 4);
  }
}

TEST_CASE("trace reader: empty input") {
  check_diag(fatal_diag(""), 0, 0, "not a batchproof trace: the input is empty");
  check_diag(fatal_diag("\n  \n\t\r\n"), 0, 0, "not a batchproof trace: the input is empty");
}

TEST_CASE("trace reader: a header and nothing else is a trace") {
  auto r = read_all(kHeaderLine);
  CHECK(r.diags.empty());
  CHECK(r.records.size() == 1);
}

TEST_CASE("trace reader: CRLF line ends and a byte order mark") {
  const std::string header = kHeaderLine.substr(0, kHeaderLine.size() - 1);
  const std::string text = "\xEF\xBB\xBF" + header + "\r\n" + R"({"type":"state","time_s":2.5,"requests":[]})" + "\r\n";
  auto r = read_all(text);
  CHECK(r.diags.empty());
  REQUIRE(r.records.size() == 2);
  CHECK(std::get<TraceState>(r.records[1]).time_s == 2.5);
}

TEST_CASE("trace reader: lines longer than the read buffer") {
  TraceState s;
  for (int i = 0; i < 5000; ++i) s.requests.push_back(request(i, i * 0.001, 100 + i, 10, 0, 0, 0, false, "c"));
  std::ostringstream out;
  TraceWriter writer(out);
  writer.write_header(full_header());
  writer.write_state(s);
  REQUIRE(out.str().size() > (1 << 17));
  auto r = read_all(out.str());
  CHECK(r.diags.empty());
  REQUIRE(r.records.size() == 2);
  CHECK(std::get<TraceState>(r.records[1]) == s);
}

TEST_CASE("trace reader: header() and reuse of the caller's record") {
  std::ostringstream out;
  TraceWriter writer(out);
  writer.write_header(full_header());
  const auto its = iterations();
  for (const auto& it : its) writer.write_iteration(it);
  std::istringstream in(out.str());
  TraceReader reader(in, kPath);
  CHECK_FALSE(reader.header());
  TraceRecord record;
  REQUIRE(reader.next(record));
  REQUIRE(reader.header());
  CHECK(*reader.header() == full_header());
  // Iterations read into the same record must not keep anything of the one before.
  for (const auto& want : its) {
    REQUIRE(reader.next(record));
    CHECK(std::get<TraceIteration>(record) == want);
  }
  CHECK_FALSE(reader.next(record));
  CHECK(reader.diagnostics().all().empty());
}

TEST_CASE("trace bridges from the model's types") {
  Engine engine;
  engine.name = "sarathi";
  engine.profile.name = "codellama34b_a100";
  engine.token_budget = 512;
  engine.max_batch = 128;
  engine.kv.form = KvCache::Form::Blocks;
  engine.kv.blocks = 100;
  engine.block_size = 16;
  engine.accounting = Accounting::Vidur;
  const auto h = trace_header(engine, "simulate", "examples/x.bp");
  CHECK(h.source == "simulate");
  CHECK(h.spec == "examples/x.bp");
  CHECK(h.engine == "sarathi");
  CHECK(h.profile == "codellama34b_a100");
  CHECK(h.token_budget == 512);
  CHECK(h.max_batch == 128);
  CHECK(h.kv_capacity_tokens == 1600);
  CHECK(h.block_size == 16);
  CHECK(h.accounting == Accounting::Vidur);

  EngineState state;
  Request a;
  a.id = 3;
  a.arrival_s = 0.5;
  a.prompt = 100;
  a.output = 10;
  a.prefilled = 40;
  a.kv_held = 48;
  Request b;
  b.id = 4;
  b.prompt = 20;
  b.output = 5;
  state.running.push_back(a);
  state.waiting.push_back(b);
  state.kv_used = 48;
  const auto s = trace_state(state, 2.0);
  CHECK(s.time_s == 2.0);
  REQUIRE(s.requests.size() == 2);
  CHECK(s.requests[0] == request(3, 0.5, 100, 10, 40, 0, 48, true));
  CHECK(s.requests[0].phase() == "started");
  CHECK(s.requests[1] == request(4, 0, 20, 5, 0, 0, 0, false));

  StepOutcome outcome;
  outcome.batch.items = {{3, 60, false}, {5, 0, true}};
  outcome.batch.tokens = 61;
  Request done;
  done.id = 5;
  outcome.finished.push_back(done);
  outcome.preempted = {9};
  TraceIteration it;
  it.items = {{77, 1, true}};  // left over from a previous use: replaced
  fill_iteration(it, outcome, state);
  CHECK(it.items == std::vector<TraceItem>{{3, 60, false}, {5, 0, true}});
  CHECK(it.departures == std::vector<std::int64_t>{5});
  CHECK(it.preempted == std::vector<std::int64_t>{9});
  CHECK(it.tokens == 61);
  CHECK(it.waiting == 1);
  CHECK(it.running == 1);
  CHECK(it.kv_used == 48);
}

TEST_CASE("trace reader: a stream that fails is an error, not an exception") {
  // Reading throws inside the stream (a network filesystem gone, say); istream turns it into
  // badbit.
  struct FailingBuffer : std::streambuf {
    int_type underflow() override { throw std::runtime_error("device gone"); }
  } buffer;
  std::istream in(&buffer);
  TraceReader reader(in, kPath);
  TraceRecord record;
  CHECK_FALSE(reader.next(record));
  CHECK(reader.fatal());
  REQUIRE(reader.diagnostics().all().size() == 1);
  check_diag(reader.diagnostics().all()[0], 0, 0, "cannot read trace: read error");
}

TEST_CASE("trace format: the example in docs/trace-format.md reads back and is written the same") {
  std::ifstream doc(std::string(BATCHPROOF_SOURCE_DIR) + "/docs/trace-format.md");
  REQUIRE(doc);
  std::string line;
  std::string example;
  bool in_block = false;
  while (std::getline(doc, line)) {
    if (!in_block && line.rfind("{\"type\":\"header\"", 0) == 0) in_block = true;
    if (in_block && line.rfind("```", 0) == 0) break;
    if (in_block) example += line + "\n";
  }
  auto r = read_all(example);
  CHECK(r.diags.empty());
  REQUIRE(r.records.size() == 5);
  std::ostringstream out;
  TraceWriter writer(out);
  writer.write_header(std::get<TraceHeader>(r.records[0]));
  writer.write_state(std::get<TraceState>(r.records[1]));
  for (std::size_t i = 2; i < 5; ++i) writer.write_iteration(std::get<TraceIteration>(r.records[i]));
  CHECK(out.str() == example);
}
