// batchproof's own JSON Lines through the auditor's reader: the documented example field by
// field, agreement with core::TraceReader on a simulator trace (records) and on malformed
// lines (verdicts and messages), the fatal cases, gzip, and a long generated trace.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "core/capacity.hpp"
#include "core/trace_format.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"
#include "traces/in_memory_input.hpp"
#include "traces/readers.hpp"
#include "traces/temp_files.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using traces::testing::gzip;
using traces::testing::memory_input;
using traces::testing::open_input;
using traces::testing::read_all;
using traces::testing::TempDir;

namespace {

const std::string kHeader =
    R"({"type":"header","schema_version":1,"source":"simulate","engine":"e","token_budget":512,"budget_form":"plain","max_batch":8,"kv_capacity_tokens":4096,"block_size":16,"accounting":"paper"})";

std::string data_path(const std::string& name) {
  return std::string(BATCHPROOF_SOURCE_DIR) + "/tests/traces/data/" + name;
}

std::vector<std::string> rendered_all(const core::Diagnostics& diags) {
  std::vector<std::string> out;
  for (const auto& d : diags.all()) out.push_back(core::render(d));
  return out;
}

// Reads `path` with both readers; returns core's iterations, its state records' requests and
// its diagnostics.
struct CoreRead {
  std::vector<core::TraceIteration> iterations;
  std::vector<std::vector<core::TraceRequestState>> states_before;  // per iteration
  std::vector<std::string> diagnostics;
  bool fatal = false;
};

CoreRead read_with_core(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  core::TraceReader reader(in, path);
  CoreRead out;
  core::TraceRecord record;
  std::vector<core::TraceRequestState> pending;
  while (reader.next(record)) {
    if (auto* it = std::get_if<core::TraceIteration>(&record)) {
      out.iterations.push_back(*it);
      out.states_before.push_back(std::move(pending));
      pending.clear();
    } else if (auto* s = std::get_if<core::TraceState>(&record)) {
      pending.insert(pending.end(), s->requests.begin(), s->requests.end());
    }
  }
  out.diagnostics = rendered_all(reader.diagnostics());
  out.fatal = reader.fatal();
  return out;
}

// The normalised record core's iteration should become.
void check_same(const Iteration& r, const core::TraceIteration& it, const std::vector<core::TraceRequestState>& state) {
  CHECK(r.index == it.index);
  CHECK(r.start_s == it.start_s);
  CHECK(r.duration_s == it.end_s - it.start_s);
  CHECK(r.running == it.running);
  CHECK(r.waiting == it.waiting);
  CHECK(r.kv_used_tokens == it.kv_used);
  CHECK(r.preempted == static_cast<std::int64_t>(it.preempted.size()));
  REQUIRE(r.has_items);
  std::int64_t prefill = 0, decodes = 0;
  std::size_t k = 0;
  for (; k < it.items.size(); ++k) {
    REQUIRE(k < r.items.size());
    CHECK(r.items[k].id == it.items[k].id);
    CHECK(r.items[k].prefill == it.items[k].prefill);
    CHECK(r.items[k].decode == it.items[k].decode);
    CHECK_FALSE(r.items[k].scheduled);
    prefill += it.items[k].prefill;
    decodes += it.items[k].decode ? 1 : 0;
  }
  for (std::int64_t id : it.preempted) {  // after the batch, unless in it
    bool in_batch = false;
    for (const auto& x : it.items) in_batch = in_batch || x.id == id;
    if (in_batch) continue;
    REQUIRE(k < r.items.size());
    CHECK(r.items[k].id == id);
    CHECK(r.items[k].scheduled == false);
    CHECK(r.items[k].paused == true);
    ++k;
  }
  CHECK(k == r.items.size());
  CHECK(r.prefill_tokens == prefill);
  CHECK(r.decode_tokens == decodes);
  CHECK(r.tokens() == it.tokens);
  REQUIRE(r.arrivals.size() == state.size() + it.arrivals.size());
  for (std::size_t i = 0; i < state.size(); ++i) {
    CHECK(r.arrivals[i].id == state[i].id);
    CHECK(r.arrivals[i].time_s == state[i].arrival_s);
    CHECK(r.arrivals[i].prompt == state[i].prompt);
    CHECK(r.arrivals[i].output == state[i].output);
  }
  for (std::size_t i = 0; i < it.arrivals.size(); ++i) {
    const auto& a = r.arrivals[state.size() + i];
    CHECK(a.id == it.arrivals[i].id);
    CHECK(a.time_s == it.arrivals[i].time_s);
    CHECK(a.prompt == it.arrivals[i].prompt);
    CHECK(a.output == it.arrivals[i].output);
  }
  CHECK(r.departures == it.departures);
}

// Vidur's engines with the paper's chat workload and one of long requests, which fills the
// KV cache of vidur_vllm so that it preempts.
const core::Spec& spec() {
  static const core::Spec spec = [] {
    core::Diagnostics diags;
    auto s = dsl::load_spec_text(std::string(BATCHPROOF_SOURCE_DIR) + "/tests/traces/reader_spec.bp",
                                 "import \"../../examples/vidur_engines.bp\"\n"
                                 "import \"../../examples/workloads.bp\"\n"
                                 "workload long {\n"
                                 "  arrivals poisson 5 req/s\n"
                                 "  prompt   uniform 500 .. 1500 tokens\n"
                                 "  output   geometric mean 600 tokens\n"
                                 "}\n",
                                 diags);
    INFO((diags.all().empty() ? std::string() : core::render(diags.all().front())));
    REQUIRE(s);
    return *s;
  }();
  return spec;
}

// A simulator run, overloaded so that queues (and, with long requests, preemptions) happen,
// as a trace.
std::string simulated_trace(const core::Engine& engine, const core::Workload& w, std::uint64_t requests) {
  std::ostringstream out;
  core::TraceWriter writer(out);
  sim::SimOptions o;
  o.requests = requests;
  o.rate.rate_per_s = 1.5 * core::compute_capacity(engine).tokens_per_s / (w.mean_prompt() + w.mean_output());
  o.trace = &writer;
  o.spec_file = "tests/traces/reader_spec.bp";
  sim::simulate_engine(engine, w, o);
  writer.flush();
  return out.str();
}

}  // namespace

TEST_CASE("batchproof reader: the documented example, field by field", "[batchproof]") {
  auto reader = make_batchproof_reader(open_input(data_path("batchproof_doc_example.jsonl")));
  const auto records = read_all(*reader);
  CHECK(reader->diagnostics().all().empty());
  CHECK_FALSE(reader->fatal());
  CHECK(reader->format() == Format::Batchproof);
  REQUIRE(records.size() == 3);

  const Iteration& a = records[0];
  CHECK(a.stream == "");
  CHECK(a.line == 3);
  CHECK(a.index == 0);
  CHECK(a.start_s == 0.0);
  CHECK(a.duration_s == 0.15316000000000002);
  CHECK(a.prefill_requests == 2);
  CHECK(a.prefill_tokens == 512);
  CHECK(a.decode_requests == 0);
  CHECK(a.decode_tokens == 0);
  CHECK(a.running == 2);
  CHECK(a.waiting == 0);
  CHECK(a.kv_used_tokens == 528);
  CHECK(a.kv_total_tokens == 131000);
  CHECK(a.budget_tokens == 512);
  CHECK_FALSE(a.budget_requests);  // the header has no max_batch
  CHECK(a.preempted == 0);
  CHECK_FALSE(a.cached_tokens);
  CHECK_FALSE(a.kv_usage);
  CHECK(a.steps == 1);
  REQUIRE(a.items.size() == 2);
  CHECK(a.items[0].id == 0);
  CHECK(a.items[0].prefill == 200);
  CHECK_FALSE(a.items[0].decode);
  CHECK(a.items[1].id == 1);
  CHECK(a.items[1].prefill == 312);
  // The state record's two waiting requests, announced with the first iteration.
  REQUIRE(a.arrivals.size() == 2);
  CHECK(a.arrivals[0].id == 0);
  CHECK(a.arrivals[0].time_s == 0.0);
  CHECK(a.arrivals[0].prompt == 200);
  CHECK(a.arrivals[0].output == 3);
  CHECK(a.arrivals[1].id == 1);
  CHECK(a.arrivals[1].prompt == 600);
  CHECK(a.arrivals[1].output == 2);
  CHECK(a.departures.empty());

  const Iteration& b = records[1];
  CHECK(b.line == 4);
  CHECK(b.index == 1);
  CHECK(b.start_s == 0.15316000000000002);
  CHECK(b.prefill_requests == 2);
  CHECK(b.prefill_tokens == 388);
  CHECK(b.decode_requests == 1);
  CHECK(b.tokens() == 389);
  CHECK(b.running == 3);
  CHECK(b.kv_used_tokens == 928);
  REQUIRE(b.arrivals.size() == 1);
  CHECK(b.arrivals[0].id == 2);
  CHECK(b.arrivals[0].time_s == 0.1);
  CHECK(b.arrivals[0].prompt == 100);
  CHECK(b.arrivals[0].output == 1);

  const Iteration& c = records[2];
  CHECK(c.line == 5);
  CHECK(c.index == 2);
  CHECK(c.tokens() == 3);
  CHECK(c.decode_requests == 3);
  CHECK(c.prefill_requests == 0);
  CHECK(c.running == 2);
  CHECK(c.kv_used_tokens == 816);
  CHECK(c.departures == std::vector<std::int64_t>{2});
  CHECK(c.arrivals.empty());
}

TEST_CASE("batchproof reader: agrees with core's reader on simulator traces", "[batchproof]") {
  TempDir dir;
  struct Case {
    std::string engine, workload;
    std::uint64_t requests;
  };
  for (const Case& c : {Case{"vidur_sarathi", "chat", 300}, Case{"vidur_vllm", "long", 300}}) {
    INFO(c.engine);
    const core::Engine& engine = *spec().find_engine(c.engine);
    const core::Workload& workload = *spec().find_workload(c.workload);
    const std::string path = dir.write(c.engine + ".jsonl", simulated_trace(engine, workload, c.requests));
    const CoreRead expected = read_with_core(path);
    REQUIRE(expected.diagnostics.empty());
    REQUIRE(expected.iterations.size() > 100);
    auto reader = make_batchproof_reader(open_input(path));
    const auto records = read_all(*reader);
    CHECK(reader->diagnostics().all().empty());
    REQUIRE(records.size() == expected.iterations.size());
    std::size_t preempting = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      check_same(records[i], expected.iterations[i], expected.states_before[i]);
      CHECK(records[i].budget_tokens == engine.token_budget);
      CHECK(records[i].kv_total_tokens == engine.kv_tokens());
      preempting += expected.iterations[i].preempted.empty() ? 0 : 1;
    }
    if (c.engine == "vidur_vllm") CHECK(preempting > 0);  // the paused items are covered
  }
}

TEST_CASE("batchproof reader: malformed lines get core's verdicts and messages", "[batchproof]") {
  const std::string lines[] = {
      kHeader,
      R"({"type":"iteration","index":0,"start_s":0,"end_s":0.5,"waiting":1,"running":1,"kv_used":16,"items":[{"id":7,"prefill":12.0,"decode":true}]})",
      R"({"type":"iteration","index":1,"start_s":0.5,"end_s":1,"waiting":0,"running":1,"kv_used":16,"items":[{"id":7,"decode":1}],"tokens":null,"arrivals":null})",
      "",
      R"({"type":"iteration","index":2,"start_s":1,"end_s":1.5,"waiting":0,"running":1,"kv_used":16,"items":[{"id":7,"prefill":2.5}]})",
      R"({"type":"iteration","index":3 "start_s":1})",
      R"([1,2,3])",
      R"({"type":"iteration","index":4,"start_s":1,"end_s":2,"waiting":0,"running":1,"kv_used":16})",
      R"({"type":"iteration","index":5,"start_s":1,"end_s":2,"waiting":null,"running":1,"kv_used":16,"items":[]})",
      kHeader,
      R"({"type":"checkpoint","x":1})",
      R"({"type":"checkpoint","x":2})",
      R"({"type":"iteration","index":6,"start_s":2,"end_s":2.5,"waiting":0,"running":1,"kv_used":16,"items":[{"id":99999999999999999999}]})",
      R"({"type":"iteration","index":7,"start_s":2.5,"end_s":3,"waiting":0,"running":0,"kv_used":0,"items":[{"id":7,"decode":1}],"departures":[7],"requests":[{"id":1,"arrival_s":0,"prompt":10,"output":1,"prefilled":10,"decoded":0,"kv_held":16,"phase":"started"}]})",
      R"({"type":"state","time_s":3,"requests":[{"id":8,"arrival_s":3,"prompt":5,"output":1,"prefilled":0,"decoded":0,"kv_held":0,"phase":"waiting"}]})",
      R"({"type":"iteration","index":8,"start_s":3,"end_s":3.5,"waiting":0,"running":1,"kv_used":16,"items":[{"id":8,"prefill":5}],"extra":{"deep":[1,{"x":null}]}})",
      R"({"type":"iteration","index":9,"start_s":3.5,"end_s":4)",
  };
  std::string text;
  for (const auto& l : lines) text.append(l).append("\n");
  text.pop_back();  // the last line is cut short
  TempDir dir;
  const std::string path = dir.write("bad.jsonl", text);

  const CoreRead expected = read_with_core(path);
  auto reader = make_batchproof_reader(open_input(path));
  const auto records = read_all(*reader);
  CHECK(rendered_all(reader->diagnostics()) == expected.diagnostics);
  CHECK_FALSE(reader->fatal());
  CHECK(reader->malformed_count() == 9);

  std::vector<std::string> located;
  for (const auto& d : reader->diagnostics().all())
    located.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message);
  CHECK(located == std::vector<std::string>{
                       "5:119: items[0].prefill: expected a non-negative whole number, found 2.5",
                       "6:39: malformed JSON: syntax error while parsing object - unexpected string literal; expected "
                       "'}'",
                       "7:1: expected a JSON object, found [1,2,3]",
                       "8:1: missing field \"items\"",
                       "9:63: waiting: expected a non-negative whole number, found null",
                       "10:9: a second header record (a trace has one, on its first line)",
                       "11:9: unknown record type \"checkpoint\", skipped (written by a newer batchproof?)",
                       "13:107: items[0].id: number out of range, found 99999999999999999999",
                       "14:243: requests[0].phase: \"started\" does not match prefilled 10 of prompt 10 (expected "
                       "\"decoding\")",
                       "17:54: truncated record: the input ends in the middle of this line",
                   });

  REQUIRE(records.size() == 3);
  CHECK(records[0].line == 2);
  REQUIRE(records[0].items.size() == 1);
  CHECK(records[0].items[0].prefill == 12);
  CHECK(records[0].items[0].decode);
  CHECK(records[0].budget_requests == 8);
  CHECK(records[1].line == 3);
  CHECK(records[1].tokens() == 1);
  CHECK(records[2].line == 16);
  REQUIRE(records[2].arrivals.size() == 1);  // from the state record before it
  CHECK(records[2].arrivals[0].id == 8);
}

TEST_CASE("batchproof reader: lines in the writer's own form, and near misses, as core reads them", "[batchproof]") {
  const std::string start = R"({"type":"iteration","index":)";
  const std::string rest = R"(,"waiting":0,"running":1,"kv_used":16,"items":[{"id":7,"prefill":3},{"id":8,"decode":1}]})";
  const std::vector<std::string> lines = {
      start + R"(0,"start_s":0,"end_s":0.5,"tokens":4)" + rest,          // canonical
      start + R"(1,"start_s":0.5,"end_s":1e-05)" + rest,                 // canonical, no tokens, an exponent
      start + R"(2,"start_s":1E+2,"end_s":-0.0,"tokens":4)" + rest,      // canonical numbers, unusual
      start + R"(-3,"start_s":1,"end_s":2)" + rest,                      // negative index
      start + R"(04,"start_s":1,"end_s":2)" + rest,                      // leading zero: not JSON
      start + R"(5.0,"start_s":1,"end_s":2)" + rest,                     // 5.0: whole, by core's rules
      start + R"(99999999999999999999,"start_s":1,"end_s":2)" + rest,    // past 64 bits
      start + R"(7,"start_s":1.,"end_s":2)" + rest,                      // "1.": not JSON
      start + R"(8,"start_s":1,"end_s":1e400)" + rest,                   // not finite
      start + R"(9,"start_s":1,"end_s":2,"tokens":0,"waiting":0,"running":1,"kv_used":16,"items":[{"id":1,"decode":0}],"departures":[1]})",
      start + R"(10,"start_s":1,"end_s":2,"tokens":4,"waiting":0,"running":1,"kv_used":16,"items":[{"id":1,"decode":2}]})",
      start + R"(11,"start_s":1,"end_s":2,"tokens":0,"waiting":0,"running":1,"kv_used":16,"items":[],"departures":[1,2],"preempted":[3]})",
      start + R"(12,"start_s":1,"end_s":2,"waiting":0,"running":1,"kv_used":16,"items":[]} )",  // a blank after
      start + R"(13,"start_s":1,"end_s":2,"waiting":0,"running":1,"kv_used":16,"items":[],"items":[{"id":4,"decode":1}]})",
      // Arrivals: in the writer's form, with a class (a string: the general path), an empty
      // list (never written), a negative prompt.
      start + R"(14,"start_s":1,"end_s":2,"waiting":0,"running":1,"kv_used":16,"items":[],"arrivals":[{"id":5,"time_s":0.25,"prompt":3,"output":2},{"id":6,"time_s":1e-3,"prompt":0,"output":1}],"departures":[5]})",
      start + R"(15,"start_s":1,"end_s":2,"waiting":0,"running":1,"kv_used":16,"items":[],"arrivals":[{"id":7,"time_s":1,"prompt":3,"output":2,"class":"gold"}]})",
      start + R"(16,"start_s":1,"end_s":2,"waiting":0,"running":1,"kv_used":16,"items":[],"arrivals":[]})",
      start + R"(17,"start_s":1,"end_s":2,"waiting":0,"running":1,"kv_used":16,"items":[],"arrivals":[{"id":8,"time_s":1,"prompt":-3,"output":2}]})",
  };
  std::string text = kHeader + "\n";
  for (const auto& l : lines) text.append(l).append("\n");
  TempDir dir;
  const std::string path = dir.write("near.jsonl", text);
  const CoreRead expected = read_with_core(path);
  auto reader = make_batchproof_reader(open_input(path));
  const auto records = read_all(*reader);
  CHECK(rendered_all(reader->diagnostics()) == expected.diagnostics);
  CHECK(reader->malformed_count() == 7);
  REQUIRE(records.size() == expected.iterations.size());
  REQUIRE(records.size() == 11);
  for (std::size_t i = 0; i < records.size(); ++i) check_same(records[i], expected.iterations[i], {});
  CHECK(records[1].duration_s == 1e-05 - 0.5);
  CHECK(records[2].start_s == 100.0);
  CHECK(records[3].index == 5);  // 5.0
  CHECK(records[4].index == 9);
  CHECK(records[4].departures == std::vector<std::int64_t>{1});
  CHECK(records[5].preempted == 1);
  CHECK(records[6].index == 12);
  REQUIRE(records[7].items.size() == 1);  // of repeated keys the last counts, as in core
  CHECK(records[7].items[0].id == 4);
  REQUIRE(records[8].arrivals.size() == 2);
  CHECK(records[8].arrivals[1].time_s == 1e-3);
  CHECK(records[8].arrivals[1].prompt == 0);
  CHECK(records[8].departures == std::vector<std::int64_t>{5});
  REQUIRE(records[9].arrivals.size() == 1);
  CHECK(records[9].arrivals[0].id == 7);
  CHECK(records[10].arrivals.empty());
}

TEST_CASE("batchproof reader: past ten malformed lines, a summary", "[batchproof]") {
  std::string text = kHeader + "\n";
  for (int i = 0; i < 25; ++i) text += "{\"type\":\"iteration\"}\n";
  auto reader = make_batchproof_reader(memory_input("t.jsonl", text));
  CHECK(read_all(*reader).empty());
  CHECK(reader->malformed_count() == 25);
  const auto& all = reader->diagnostics().all();
  REQUIRE(all.size() == 11);
  CHECK(core::render(all[0]).rfind("t.jsonl:2:1: error: missing field \"index\"", 0) == 0);
  CHECK(core::render(all[10]) == "t.jsonl:12:1: error: ... and 15 more malformed lines\n");
}

TEST_CASE("batchproof reader: what is not a trace is fatal, with core's words", "[batchproof]") {
  auto first_message = [](const std::string& text) {
    TempDir dir;
    auto reader = make_batchproof_reader(open_input(dir.write("x.jsonl", text)));
    Iteration r;
    CHECK_FALSE(reader->next(r));
    CHECK(reader->fatal());
    REQUIRE(reader->diagnostics().all().size() == 1);
    const auto& d = reader->diagnostics().all()[0];
    return std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message;
  };
  CHECK(first_message("") == "0:0: not a batchproof trace: the input is empty");
  CHECK(first_message("\n  \n") == "0:0: not a batchproof trace: the input is empty");
  CHECK(first_message("\n{\"iter\":0,\"iterLatencyMS\":1.5}\n") ==
        "2:1: not a batchproof trace: the first record must be a header {\"type\": \"header\", \"schema_version\": 1, "
        "...}, found {\"iter\":0,\"iterLatencyMS\":1.5}");
  CHECK(first_message(std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10)) ==
        "1:1: not a batchproof trace: the first record must be a header {\"type\": \"header\", \"schema_version\": 1, "
        "...}, found ?ELF??????");
  CHECK(first_message(R"({"type":"header","schema_version":2})") ==
        "1:35: this trace has schema_version 2, newer than this batchproof reads (1): use a newer batchproof");
  CHECK(first_message(R"({"type":"header","schema_version":1)") ==
        "1:36: not a batchproof trace: the input ends in the middle of the first record");
}

TEST_CASE("batchproof reader: a gzip trace, and a long generated one", "[batchproof]") {
  TempDir dir;
  std::string text = kHeader + "\n";
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    text += R"({"type":"iteration","index":)" + std::to_string(i) + R"(,"start_s":)" + std::to_string(i) +
            R"(,"end_s":)" + std::to_string(i + 1) +
            R"(,"tokens":3,"waiting":0,"running":2,"kv_used":32,"items":[{"id":1,"decode":1},{"id":2,"prefill":2}]})" +
            "\n";
  auto reader = make_batchproof_reader(open_input(dir.write("long.jsonl.gz", gzip(text))));
  Iteration r;
  int count = 0;
  while (reader->next(r)) {
    REQUIRE(r.index == count);
    REQUIRE(r.line == count + 2);
    REQUIRE(r.items.size() == 2);
    REQUIRE(r.decode_tokens == 1);
    REQUIRE(r.prefill_tokens == 2);
    ++count;
  }
  CHECK(count == n);
  CHECK(reader->diagnostics().all().empty());
}

TEST_CASE("batchproof reader: a gzip trace cut short ends with the read error", "[batchproof]") {
  TempDir dir;
  std::string text = kHeader + "\n";
  for (int i = 0; i < 5000; ++i)
    text += R"({"type":"iteration","index":)" + std::to_string(i) +
            R"(,"start_s":0,"end_s":1,"waiting":0,"running":0,"kv_used":0,"items":[]})" + "\n";
  const std::string packed = gzip(text);
  const std::string path = dir.write("cut.jsonl.gz", packed.substr(0, packed.size() / 2));
  auto reader = make_batchproof_reader(open_input(path));
  const auto records = read_all(*reader);
  CHECK(records.size() > 100);
  CHECK(reader->fatal());
  const auto& all = reader->diagnostics().all();
  REQUIRE(all.size() == 2);
  CHECK(all[0].message == "truncated record: the input ends in the middle of this line");
  CHECK(core::render(all[1]) ==
        path + ": error: cannot read log: truncated gzip data: the input ends in the middle of a compressed stream\n");
}
