// Chrome traces of Vidur ({"traceEvents": [...]} on one line, pipeline stages, replicas) and
// Sarathi-Serve (a bare list, scheduler events, string ids), written as their sources write
// them; pretty-printed and gzip forms, malformed and cut events, and what is not a trace.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "traces/in_memory_input.hpp"
#include "traces/readers.hpp"
#include "traces/temp_files.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using traces::testing::located;
using traces::testing::gzip;
using traces::testing::open_input;
using traces::testing::read_all;
using traces::testing::read_file;
using traces::testing::TempDir;

namespace {

std::string data_path(const std::string& name) {
  return std::string(BATCHPROOF_SOURCE_DIR) + "/tests/traces/data/" + name;
}

struct Read {
  std::vector<Iteration> records;
  std::unique_ptr<RecordReader> reader;
};

Read read_vidur(const std::string& text) {
  TempDir dir;
  Read out;
  out.reader = make_vidur_chrome_reader(open_input(dir.write("chrome_trace.json", text)));
  out.records = read_all(*out.reader);
  return out;
}

void check_item(const RequestItem& item, std::int64_t id, std::int64_t prefill, bool decode) {
  CHECK(item.id == id);
  CHECK(item.prefill == prefill);
  CHECK(item.decode == decode);
  CHECK_FALSE(item.scheduled);
  CHECK_FALSE(item.paused);
}

// The Vidur fixture's records: stage-0 events only, in file order.
void check_vidur(const std::vector<Iteration>& records) {
  REQUIRE(records.size() == 4);
  const Iteration& a = records[0];
  CHECK(a.stream == "replica 0");
  CHECK(a.index == 0);
  CHECK(a.start_s == 0.0);
  CHECK(a.duration_s == 0.02);
  REQUIRE(a.has_items);
  REQUIRE(a.items.size() == 2);
  check_item(a.items[0], 0, 512, false);
  check_item(a.items[1], 1, 300, false);
  CHECK(a.prefill_requests == 2);
  CHECK(a.prefill_tokens == 812);
  CHECK(a.decode_requests == 0);
  CHECK(a.decode_tokens == 0);
  CHECK_FALSE(a.running);
  CHECK_FALSE(a.waiting);
  CHECK_FALSE(a.budget_tokens);
  CHECK(a.arrivals.empty());

  const Iteration& b = records[1];
  CHECK(b.stream == "replica 0");
  CHECK(b.index == 1);
  CHECK(b.start_s == 0.02);
  CHECK(b.duration_s == 0.0085005);
  REQUIRE(b.items.size() == 2);
  check_item(b.items[0], 0, 0, true);
  check_item(b.items[1], 1, 0, true);
  CHECK(b.decode_tokens == 2);
  CHECK(b.prefill_tokens == 0);

  const Iteration& c = records[2];  // another replica, interleaved
  CHECK(c.stream == "replica 1");
  CHECK(c.index == 3);
  REQUIRE(c.items.size() == 1);
  check_item(c.items[0], 3, 1, false);  // a first batch is prompt work, even of one token

  const Iteration& d = records[3];
  CHECK(d.stream == "replica 0");
  CHECK(d.index == 2);
  CHECK(d.start_s == 0.0285005);
  CHECK(d.duration_s == 0.01525025);
  REQUIRE(d.items.size() == 2);
  check_item(d.items[0], 1, 0, true);
  check_item(d.items[1], 2, 200, false);
  CHECK(d.prefill_requests == 1);
  CHECK(d.decode_requests == 1);
}

}  // namespace

TEST_CASE("chrome: a Vidur trace, field by field, stage 0 standing for each batch", "[chrome]") {
  auto reader = make_vidur_chrome_reader(open_input(data_path("vidur_chrome_trace.json")));
  const auto records = read_all(*reader);
  check_vidur(records);
  for (const auto& r : records) CHECK(r.line == 1);  // json.dump writes one line
  CHECK_FALSE(reader->fatal());
  CHECK(reader->malformed_count() == 0);
  CHECK(located(*reader) == std::vector<std::string>{
                                "0:0: 2 events of pipeline stages after the first skipped: a batch passes every "
                                "stage, and its stage-0 event stands for it"});
  CHECK(reader->diagnostics().all()[0].severity == core::Severity::Note);
}

TEST_CASE("chrome: a Sarathi-Serve trace, field by field, scheduler events skipped", "[chrome]") {
  auto reader = make_sarathi_chrome_reader(open_input(data_path("sarathi_chrome_trace.json")));
  const auto records = read_all(*reader);
  CHECK(reader->format() == Format::SarathiChrome);
  CHECK(located(*reader) == std::vector<std::string>{
                                "0:0: 2 scheduler events (tid \"scheduler\") skipped: they time the scheduling step, "
                                "not a batch"});
  REQUIRE(records.size() == 2);
  const Iteration& a = records[0];
  CHECK(a.stream == "replica 0");
  CHECK_FALSE(a.index);  // Sarathi-Serve logs no batch id
  CHECK(a.start_s == 1718000000.00015);
  CHECK(a.duration_s == 0.0452105);
  REQUIRE(a.items.size() == 2);
  check_item(a.items[0], 0, 512, false);
  check_item(a.items[1], 1, 0, true);
  CHECK(a.prefill_tokens == 512);
  CHECK(a.decode_tokens == 1);
  const Iteration& b = records[1];
  REQUIRE(b.items.size() == 3);
  check_item(b.items[0], 0, 0, true);
  check_item(b.items[1], 1, 0, true);
  check_item(b.items[2], 2, 511, false);
  CHECK(b.prefill_requests == 1);
  CHECK(b.decode_requests == 2);
}

TEST_CASE("chrome: either shape in either reader; pretty-printed and gzip read the same", "[chrome]") {
  const std::string one_line = read_file(data_path("vidur_chrome_trace.json"));
  SECTION("pretty-printed, gzip") {
    // json.dump(indent=1) style: every event over several lines.
    std::string pretty;
    int depth = 0;
    for (char c : one_line) {
      pretty += c;
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      if (c == ',' && depth <= 3) {
        pretty += '\n';
        pretty.append(static_cast<std::size_t>(depth), ' ');
      }
    }
    TempDir dir;
    auto reader = make_vidur_chrome_reader(open_input(dir.write("t.json.gz", gzip(pretty))));
    const auto records = read_all(*reader);
    check_vidur(records);
    CHECK(records[0].line == 1);
    CHECK(records[1].line > 1);
    CHECK(reader->malformed_count() == 0);
  }
  SECTION("Vidur's events in a bare list, read by the Sarathi-Serve reader") {
    const std::string list = one_line.substr(one_line.find('['), one_line.rfind(']') - one_line.find('[') + 1);
    TempDir dir;
    auto reader = make_sarathi_chrome_reader(open_input(dir.write("t.json", list)));
    check_vidur(read_all(*reader));
  }
}

TEST_CASE("chrome: malformed events are counted, located and skipped", "[chrome]") {
  const std::string good = R"({"ph": "X", "ts": 0, "dur": 10, "pid": 0, "tid": 0, "args": {"batch_id": 0, "request_ids": [1], "num_tokens": [5]}})";
  const auto out = read_vidur("{\"traceEvents\": [\n" + good + ",\n" +
                              R"({"ph": "X", "ts": 0, "dur": 10, "pid": 0, "tid": 0})" + ",\n" +
                              R"({"ph": "X", "ts": 0, "dur": 10, "pid": 0, "tid": 0, "args": {"request_ids": [1, 2], "num_tokens": [5]}})" + ",\n" +
                              R"({"ph": "X", "ts": 0, "dur": 10, "pid": 0, "tid": 0, "args": {"request_ids": ["r1"], "num_tokens": [5]}})" + ",\n" +
                              R"({"ph": "X", "ts": "soon", "dur": 10, "pid": 0, "tid": 0, "args": {}})" + ",\n" +
                              R"({"ph": "X", "dur": 10, "tid": 0, "args": {}})" + ",\n" +
                              R"({"ph": "X", "ts": 0, "dur": 10, "tid": 0, "args": {"request_ids": [1]}})" + ",\n" +
                              "17,\n" +
                              R"({"ph": "M", "name": "process_name", "pid": 0, "args": {"name": "replica 0"}})" + ",\n" +
                              R"({"ph": "X", "ts": 10, "dur": 10, "pid": 0, "tid": 0, "args": {"batch_id": 1, "request_ids": [1], "num_tokens": [1]}})" + ",\n" +
                              R"({"ph": "X", "ts": 20, "dur")");
  CHECK(located(*out.reader) == std::vector<std::string>{
                                    "3:1: missing field \"args\"",
                                    "4:99: args.num_tokens: 1 entries for 2 request_ids",
                                    "5:77: args.request_ids[0]: expected a request id (a whole number), found \"r1\"",
                                    "6:19: ts: expected a time in µs, found \"soon\"",
                                    "7:1: missing field \"ts\"",
                                    "8:51: args: missing field \"num_tokens\"",
                                    "9:1: expected a JSON object, found 17",
                                    "12:28: truncated event: the input ends in the middle of this event",
                                    "0:0: the input ends before the event list's closing ']' (cut short?)",
                                });
  CHECK(out.reader->malformed_count() == 8);
  CHECK_FALSE(out.reader->fatal());
  REQUIRE(out.records.size() == 2);
  CHECK(out.records[0].line == 2);
  CHECK(out.records[1].line == 11);
  CHECK(out.records[1].stream == "replica 0");
  REQUIRE(out.records[1].items.size() == 1);
  check_item(out.records[1].items[0], 1, 0, true);
}

TEST_CASE("chrome: what is not a chrome trace is fatal, located", "[chrome]") {
  auto fatal_message = [](const std::string& text) {
    const auto out = read_vidur(text);
    CHECK(out.records.empty());
    CHECK(out.reader->fatal());
    const auto messages = located(*out.reader);
    REQUIRE(messages.size() == 1);
    return messages[0];
  };
  CHECK(fatal_message("") == "0:0: not a Vidur chrome trace: the input is empty");
  CHECK(fatal_message("time,replica\n") ==
        "1:1: not a Vidur chrome trace: expected JSON ({\"traceEvents\": [...]} or a list of events), found "
        "time,replica");
  CHECK(fatal_message(R"({"displayTimeUnit": "ns", "otherData": {"a": [1, {"b": "]"}]}})") ==
        "1:62: not a Vidur chrome trace: the top-level object has no \"traceEvents\" member");
  CHECK(fatal_message(R"({"traceEvents": 5})") == "1:17: not a Vidur chrome trace: \"traceEvents\" is not an array");
  CHECK(fatal_message(R"([{"iter": 0, "iterLatencyMS": 1.5}])") ==
        "1:2: not a Vidur chrome trace: the first event has no \"ph\" (a chrome trace event has \"ph\", \"ts\", "
        "\"pid\", \"tid\")");
  CHECK(fatal_message(R"({"traceEvents": []})") ==
        "0:0: not a Vidur chrome trace: no batch events (\"ph\": \"X\" with args.request_ids) found");
  CHECK(fatal_message(std::string("[\0\0", 3)) == "0:0: not a Vidur chrome trace: the input is binary (a NUL byte at offset 1)");
}

TEST_CASE("chrome: a long generated trace on one line", "[chrome]") {
  std::string text = "{\"traceEvents\": [";
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    if (i > 0) text += ", ";
    text += R"({"name": "[)" + std::to_string(i) + R"(]", "ph": "X", "ts": )" + std::to_string(i * 100) +
            R"(.0, "dur": 100.0, "pid": )" + std::to_string(i % 4) + R"(, "tid": 0, "args": {"batch_id": )" +
            std::to_string(i) + R"(, "batch_size": 2, "request_ids": [)" + std::to_string(i) + ", " +
            std::to_string(i - 1) + R"(], "num_tokens": [7, 1]}})";
  }
  text += "]}";
  const auto out = read_vidur(text);
  CHECK(out.reader->diagnostics().all().empty());
  REQUIRE(out.records.size() == static_cast<std::size_t>(n));
  for (int i = 1; i < n; ++i) {
    const Iteration& r = out.records[static_cast<std::size_t>(i)];
    REQUIRE(r.index == i);
    REQUIRE(r.stream == std::string("replica ").append(std::to_string(i % 4)));
    REQUIRE(r.prefill_tokens == 7);  // request i, first seen
    REQUIRE(r.decode_tokens == 1);   // request i - 1, seen in batch i - 1
  }
}

TEST_CASE("chrome: strings with escapes, quotes and brackets at every offset split right", "[chrome]") {
  // Names that put an escaped quote, a run of backslashes and brackets at every position of
  // the scanner's 64-byte steps, in one line and across the input's blocks.
  std::string text = "[";
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    if (i > 0) text += ", ";
    std::string name(static_cast<std::size_t>(i % 131), 'n');
    name += i % 2 ? R"(\"]}[{\\)" : R"(\\\"x\\)";
    text.append(R"({"name": ")")
        .append(name)
        .append(R"(", "ph": "X", "ts": 0, "dur": 1, "pid": 0, "tid": 0, "args": {"batch_id": )")
        .append(std::to_string(i))
        .append(R"(, "request_ids": [1], "num_tokens": [1]}})");
  }
  text += "]";
  const auto out = read_vidur(text);
  CHECK(out.reader->diagnostics().all().empty());
  REQUIRE(out.records.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) REQUIRE(out.records[static_cast<std::size_t>(i)].index == i);
}

TEST_CASE("chrome: events in the writers' own form read as the general path reads them", "[chrome]") {
  // Each event as json.dump writes it (the fast path), and the same with one blank more after
  // its '{' (simdjson's path): the records and messages must agree.
  const std::vector<std::string> events = {
      R"({"name": "[0, 1]", "ph": "X", "ts": 0.0, "dur": 21564.3, "pid": 0, "tid": 0, "args": {"batch_id": 0, "batch_size": 2, "request_ids": [0, 1], "num_tokens": [512, 300]}})",
      R"({"name": "[0, 1]", "ph": "X", "ts": 1e-05, "dur": 1.5E+3, "pid": 2, "tid": 0, "args": {"batch_id": 1, "batch_size": 2, "request_ids": [0, 1], "num_tokens": [1, 1]}})",
      R"({"name": "[0]", "ph": "X", "ts": 5.0, "dur": 1.0, "pid": 0, "tid": 1, "args": {"batch_id": 1, "batch_size": 1, "request_ids": [0], "num_tokens": [1]}})",
      R"({"name": "['7']", "ph": "X", "ts": 5.0, "dur": 1.0, "pid": 0, "tid": "scheduler", "args": {"batch_size": 1, "request_ids": ["7"], "num_batched_tokens": 9, "num_batched_prompt_tokens": 9, "num_batched_output_tokens": 0, "prompt_chunk_lens": [9]}})",
      R"({"name": "['7', '8']", "ph": "X", "ts": 6.0, "dur": 2.0, "pid": 1, "tid": 0, "args": {"batch_size": 2, "request_ids": ["7", "8"], "num_batched_tokens": 10, "num_batched_prompt_tokens": 9, "num_batched_output_tokens": 1, "prompt_chunk_lens": [9, 0]}})",
      R"({"name": "a \"quoted\" name", "ph": "X", "ts": 7.0, "dur": 1.0, "pid": 0, "tid": 0, "args": {"batch_id": 3, "batch_size": 1, "request_ids": [5], "num_tokens": [4]}})",
      R"({"name": "caf)" "\xC3\xA9" R"(", "ph": "X", "ts": 8.0, "dur": 1.0, "pid": 0, "tid": 0, "args": {"batch_id": 4, "batch_size": 1, "request_ids": [5], "num_tokens": [1]}})",
      R"({"name": "[]", "ph": "X", "ts": 9.0, "dur": 1.0, "pid": 0, "tid": 0, "args": {"batch_id": 5, "batch_size": 0, "request_ids": [], "num_tokens": []}})",
      R"({"name": "x", "ph": "X", "ts": 9.0, "dur": -1.0, "pid": 0, "tid": 0, "args": {"batch_id": 6, "batch_size": 1, "request_ids": [5], "num_tokens": [1]}})",
      R"({"name": "x", "ph": "X", "ts": 9.0, "dur": 1.0, "pid": 0, "tid": 0, "args": {"batch_id": -7, "batch_size": 1, "request_ids": [5], "num_tokens": [1]}})",
      R"({"name": "x", "ph": "X", "ts": 9.0, "dur": 1.0, "pid": 0, "tid": 0, "args": {"batch_id": 8, "batch_size": 1, "request_ids": [5], "num_tokens": [-1]}})",
      R"({"name": "x", "ph": "X", "ts": 9.0, "dur": 1.0, "pid": 0, "tid": 0, "args": {"batch_id": 9, "batch_size": 1, "request_ids": [5, 6], "num_tokens": [1]}})",
      R"({"name": "x", "ph": "X", "ts": 9.0, "dur": 1.0, "pid": 0, "tid": 0, "args": {"batch_id": 10, "batch_size": 1, "request_ids": [05], "num_tokens": [1]}})",
      R"({"name": "x", "ph": "X", "ts": 9.0, "dur": 1.0, "pid": 0, "tid": 0, "args": {"batch_id": 11, "batch_size": 1, "request_ids": [5.0], "num_tokens": [1]}})",
  };
  auto read_joined = [&](bool fast) {
    std::string text = "[";
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i > 0) text += ",\n";
      text += fast ? events[i] : "{ " + events[i].substr(1);
    }
    text += "]";
    return read_vidur(text);
  };
  const auto fast = read_joined(true);
  const auto general = read_joined(false);
  std::vector<std::string> fast_messages, general_messages;
  for (const auto& d : fast.reader->diagnostics().all()) fast_messages.push_back(d.message);
  for (const auto& d : general.reader->diagnostics().all()) general_messages.push_back(d.message);
  CHECK(fast_messages == general_messages);
  CHECK(fast_messages == std::vector<std::string>{
                             "dur: expected a non-negative duration in µs, found -1.0",
                             "args.batch_id: expected a non-negative whole number, found -7",
                             "args.num_tokens[0]: expected a non-negative whole number, found -1",
                             "args.num_tokens: 1 entries for 2 request_ids",
                             "malformed JSON: Problem while parsing a number",
                             "1 event of pipeline stages after the first skipped: a batch passes every stage, and its "
                             "stage-0 event stands for it",
                             "1 scheduler event (tid \"scheduler\") skipped: they time the scheduling step, not a batch",
                         });
  REQUIRE(fast.records.size() == 7);
  REQUIRE(general.records.size() == fast.records.size());
  for (std::size_t i = 0; i < fast.records.size(); ++i) {
    const Iteration& a = fast.records[i];
    const Iteration& b = general.records[i];
    INFO(i);
    CHECK(a.line == b.line);
    CHECK(a.stream == b.stream);
    CHECK(a.index == b.index);
    CHECK(a.start_s == b.start_s);
    CHECK(a.duration_s == b.duration_s);
    REQUIRE(a.items.size() == b.items.size());
    for (std::size_t k = 0; k < a.items.size(); ++k) {
      CHECK(a.items[k].id == b.items[k].id);
      CHECK(a.items[k].prefill == b.items[k].prefill);
      CHECK(a.items[k].decode == b.items[k].decode);
    }
  }
  CHECK(fast.records[1].start_s == 1e-05 / 1e6);
  CHECK(fast.records[1].duration_s == 0.0015);
  CHECK(fast.records[1].stream == "replica 2");
  CHECK(fast.records[2].stream == "replica 1");
  CHECK_FALSE(fast.records[2].index);
  CHECK(fast.records[6].index == 11);  // 5.0 is a whole number
}
