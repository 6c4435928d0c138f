// TensorRT-LLM IterationStats in the executor's own form (keys sorted, no blanks) are read
// without simdjson (traces/trtllm_canonical.hpp). Each record here is read twice: as written
// (the fast path where it is canonical) and with a blank at its end (always simdjson's
// path); the records and the messages must be the same. Which records the fast path takes is
// checked too, so that the comparison is not vacuous.
#include <catch2/catch.hpp>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/trace_format.hpp"
#include "dsl/dsl.hpp"
#include "in_memory_input.hpp"
#include "sim/engine_sim.hpp"
#include "traces/foreign_trace_stream.hpp"
#include "traces/readers.hpp"
#include "traces/trtllm_canonical.hpp"

using namespace batchproof;
using namespace batchproof::traces;

namespace {

struct Read {
  std::vector<Iteration> records;
  std::vector<std::string> messages;
  bool fatal = false;
};

Read read_log(const std::string& text) {
  auto reader = make_trtllm_iteration_stats_reader(std::make_unique<testing::InMemoryInput>("stats.json", text));
  Read out;
  Iteration r;
  while (reader->next(r)) out.records.push_back(r);
  for (const auto& d : reader->diagnostics().all())
    out.messages.push_back(fmt::format("{}:{}: {}", d.loc.line, d.loc.col, d.message));
  out.fatal = reader->fatal();
  return out;
}

// The same lines, each with a blank at its end: not canonical, and every column as it was.
std::string spaced(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) (text += line) += " \n";
  return text;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) (text += line) += '\n';
  return text;
}

void check_same(const Read& fast, const Read& general) {
  CHECK(fast.fatal == general.fatal);
  CHECK(fast.messages == general.messages);
  REQUIRE(fast.records.size() == general.records.size());
  for (std::size_t i = 0; i < fast.records.size(); ++i) {
    const Iteration& a = fast.records[i];
    const Iteration& b = general.records[i];
    INFO("record " << i);
    CHECK(a.stream == b.stream);
    CHECK(a.line == b.line);
    CHECK(a.index == b.index);
    CHECK(a.start_s == b.start_s);
    CHECK(a.duration_s == b.duration_s);
    CHECK(a.prefill_requests == b.prefill_requests);
    CHECK(a.prefill_tokens == b.prefill_tokens);
    CHECK(a.decode_requests == b.decode_requests);
    CHECK(a.decode_tokens == b.decode_tokens);
    CHECK(a.cached_tokens == b.cached_tokens);
    CHECK(a.running == b.running);
    CHECK(a.waiting == b.waiting);
    CHECK(a.waiting_tokens == b.waiting_tokens);
    CHECK(a.preempted == b.preempted);
    CHECK(a.kv_used_tokens == b.kv_used_tokens);
    CHECK(a.kv_total_tokens == b.kv_total_tokens);
    CHECK(a.kv_usage == b.kv_usage);
    CHECK(a.budget_tokens == b.budget_tokens);
    CHECK(a.budget_requests == b.budget_requests);
    CHECK(a.has_items == b.has_items);
    CHECK(a.steps == b.steps);
    REQUIRE(a.items.size() == b.items.size());
    for (std::size_t k = 0; k < a.items.size(); ++k) {
      INFO("item " << k);
      CHECK(a.items[k].id == b.items[k].id);
      CHECK(a.items[k].prefill == b.items[k].prefill);
      CHECK(a.items[k].decode == b.items[k].decode);
      CHECK(a.items[k].scheduled == b.items[k].scheduled);
      CHECK(a.items[k].paused == b.items[k].paused);
    }
  }
}

bool canonical(const std::string& line) {
  TrtllmStats s;
  std::vector<TrtllmRequestEntry> entries;
  bool has_request_stats = false;
  return read_canonical_trtllm_stats(line, s, entries, has_request_stats);
}

// A run of the chat workload under Sarathi-Serve's policy (60 requests, seed 5), as TensorRT-LLM
// would log it with per-request stats.
std::string simulated_log() {
  core::Diagnostics diags;
  const auto spec = dsl::load_spec(std::string(BATCHPROOF_SOURCE_DIR) + "/examples/paper_policies.bp", diags);
  REQUIRE(spec);
  std::ostringstream own;
  core::TraceWriter writer(own);
  sim::SimOptions options;
  options.seed = 5;
  options.requests = 60;
  options.trace = &writer;
  options.spec_file = "examples/paper_policies.bp";
  sim::simulate_engine(*spec->find_engine("sarathi"), *spec->find_workload("chat"), options);
  writer.flush();
  std::istringstream in(own.str());
  std::ostringstream log;
  ForeignWriterOptions foreign_options;
  foreign_options.trtllm_request_stats = true;
  {
    ForeignTraceStream foreign(Format::TrtllmIterStats, log, foreign_options);
    foreign << in.rdbuf();
    REQUIRE(foreign.finish());
  }
  return log.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const std::string kReal =
    R"({"cpuMemUsage":3492,"gpuMemUsage":25330607135,"inflightBatchingStats":{"avgNumDecodedTokensPerIter":0.0,"microBatchId":0,"numContextRequests":1,"numCtxTokens":16000,"numGenRequests":0,"numPausedRequests":0,"numScheduledRequests":1},"iter":0,"iterLatencyMS":0.0,"kvCacheStats":{"allocNewBlocks":250,"allocTotalBlocks":250,"cacheHitRate":0.0,"freeNumBlocks":1745,"maxNumBlocks":7240,"missedBlocks":0,"reusedBlocks":0,"tokensPerBlock":64,"usedNumBlocks":5495},"maxBatchSizeRuntime":16,"maxBatchSizeStatic":16,"maxBatchSizeTunerRecommended":0,"maxNumActiveRequests":16,"maxNumTokensRuntime":17800,"maxNumTokensStatic":17800,"maxNumTokensTunerRecommended":0,"newActiveRequestsQueueLatencyMS":0.091039,"numActiveRequests":1,"numCompletedRequests":0,"numNewActiveRequests":1,"numQueuedRequests":7,"pinnedMemUsage":55538100068,"staticBatchingStats":null,"timestamp":"04-07-2025 20:33:17.747028"})";

}  // namespace

TEST_CASE("trtllm fast path: the real record and a simulated log read as simdjson reads them", "[trtllm][fast]") {
  std::vector<std::string> lines = lines_of(simulated_log());
  REQUIRE(lines.size() > 50);
  lines.insert(lines.begin(), kReal);
  for (const auto& line : lines) {
    INFO(line);
    CHECK(canonical(line));
  }
  const Read fast = read_log(joined(lines));
  const Read general = read_log(spaced(lines));
  CHECK(fast.messages.empty());
  REQUIRE(fast.records.size() == lines.size());
  CHECK(fast.records[0].kv_total_tokens == 7240 * 64);
  std::size_t items = 0;
  for (const auto& r : fast.records) items += r.items.size();
  CHECK(items > 100);
  check_same(fast, general);
}

TEST_CASE("trtllm fast path: newer and older field sets, nulls, and odd records fall back", "[trtllm][fast]") {
  struct Case {
    std::string line;
    bool fast;
  };
  const std::vector<Case> cases = {
      // 2026: host step, DP rank, queued tokens, a scheduler mode string
      {R"({"attentionDpRank":1,"hostStepTimeMS":9.75,"inflightBatchingStats":{"avgNumDecodedTokensPerIter":2.5,"numContextRequests":1,"numCtxKvTokens":128,"numCtxTokens":512,"numGenRequests":4,"numPausedRequests":0,"numQueuedContextRequests":3,"numQueuedCtxTokens":4096,"numScheduledRequests":5},"iter":7,"iterLatencyMS":20.0,"kvCacheStats":{"maxNumBlocks":64,"usedNumBlocks":16},"maxBatchSizeRuntime":0,"maxBatchSizeStatic":32,"maxNumTokensRuntime":2048,"numActiveRequests":5,"numQueuedRequests":3,"schedulerMode":"overlap","timestamp":"05-20-2026 10:00:00.5"})",
       true},
      // 2024: four KV counters, no timestamp, nulls
      {R"({"inflightBatchingStats":null,"iter":8,"iterLatencyMS":1e1,"kvCacheStats":null,"numActiveRequests":null,"specDecodingStats":null,"staticBatchingStats":null})",
       true},
      {R"({"iter":9,"iterLatencyMS":-0.0,"numQueuedRequests":0,"requestStats":[]})", true},
      {R"({"iter":10,"requestStats":[{"contextPrefillPosition":5,"disServingStats":null,"id":3,"numGeneratedTokens":0,"paused":null,"scheduled":true,"stage":"CONTEXT_IN_PROGRESS"}]})",
       true},
      {R"({"iter":11,"requestStats":null})", true},
      {R"({"iter":12,"requestStats":[{"contextPrefillPosition":9,"id":3,"numGeneratedTokens":1}]})", true},
      // Not canonical, each for one reason; simdjson's path reads or rejects them.
      {R"({"iter":13.0,"numActiveRequests":1})", false},                  // a whole number as a double
      {R"({"iter":14,"numActiveRequests":-0})", false},                   // -0 is a double to simdjson
      {R"({"iter":15,"numActiveRequests":-1})", false},                   // negative: an error
      {R"({"numActiveRequests":1,"iter":16})", false},                    // out of order
      {R"({"iter":17,"iter":18})", false},                                // twice
      {R"({"iter":19,"unknownKey":1})", false},                           // a key it does not know
      {R"({"iter":20,"n\u0075mActiveRequests":2})", false},               // an escape in a key
      {R"({"iter":21,"staticBatchingStats":{"numCtxTokens":3}})", false}, // static batching
      {R"({"iter":22,"scheduledNumPrefillRequests":2})", false},          // the flat keys
      {R"({"iter":23,"iterLatencyMS":-1.5})", false},                     // negative: an error
      {R"({"iter":24,"timestamp":"yesterday"})", false},                  // an error
      {R"({"iter":25,"numQueuedRequests":9223372036854775808})", false},  // past int64: an error
      {R"({"iter":26,"iterLatencyMS":12345678901234567890123})", false},  // a big integer
      {R"({"iter":27,"requestStats":[{"contextPrefillPosition":5,"numGeneratedTokens":0}]})", false},  // no id
      {R"({"iter":28,"requestStats":[{"id":3,"scheduled":1}]})", false},  // not a bool
      {R"({"iter":29,"requestStats":{}})", false},                        // not an array
      {R"({"iter":30,"kvCacheStats":[]})", false},                        // not an object
      {R"({"iter":31,"specDecodingStats":{"numDraftTokens":1}})", false}, // a sub-object it does not read
      {R"({"iter":32, "numActiveRequests":1})", false},                   // a blank
      {R"({"iter":33,"numActiveRequests":01})", false},                   // a leading zero
      {R"({"iter":34,"schedulerMode":"caf)" "\xC3\xA9" R"("})", false},    // not ASCII
      {R"({"iterLatencyMS":1.0})", false},                                // no iter
      {R"({"iter":35,"numActiveRequests":1)", false},                     // cut
      {R"({"iter":36,"numActiveRequests":1}x)", false},                   // junk after
      {R"({"iter":37,"iterLatencyMS":1e400})", false},                    // not finite
  };
  std::vector<std::string> lines;
  for (const auto& c : cases) {
    INFO(c.line);
    CHECK(canonical(c.line) == c.fast);
    lines.push_back(c.line);
  }
  // Behind a first good record, so that a bad one is counted, not fatal.
  lines.insert(lines.begin(), kReal);
  const Read fast = read_log(joined(lines));
  const Read general = read_log(spaced(lines));
  CHECK_FALSE(fast.fatal);
  CHECK(fast.records.size() > 10);
  CHECK_FALSE(fast.messages.empty());
  check_same(fast, general);
}

TEST_CASE("trtllm fast path: a record read along the last one's shape reads as the tables read it", "[trtllm][fast]") {
  // The simulated log's records (request stats of every length), the real one, and each of
  // them changed at one byte (a digit for another digit keeps the shape; anything else
  // breaks it somewhere), cut short or followed by a byte, in an order drawn with an
  // explicit seed.
  std::vector<std::string> lines = lines_of(simulated_log());
  lines.push_back(kReal);
  std::mt19937_64 rng(7);
  const std::string stray = "0123456789 ,:{}[]\"nulx-.e";
  TrtllmCanonicalReader reader;
  std::size_t accepted = 0;
  for (int round = 0; round < 6000; ++round) {
    std::string line = lines[rng() % lines.size()];
    switch (rng() % 6) {
      case 0: break;  // as written
      case 4: line.resize(line.size() - 1 - rng() % 3); break;  // cut short
      case 5: line += stray[rng() % stray.size()]; break;       // something after it
      case 1: {       // another digit
        const std::size_t at = rng() % line.size();
        if (line[at] >= '0' && line[at] <= '9') line[at] = static_cast<char>('0' + rng() % 10);
        break;
      }
      case 2: line[rng() % line.size()] = stray[rng() % stray.size()]; break;
      default: line.erase(rng() % line.size(), 1); break;
    }
    INFO(line);
    TrtllmStats by_tables, along;
    std::vector<TrtllmRequestEntry> tables_entries, along_entries;
    bool tables_has = false, along_has = false;
    const bool expected = read_canonical_trtllm_stats(line, by_tables, tables_entries, tables_has);
    REQUIRE(reader.read(line, along, along_entries, along_has) == expected);
    if (!expected) continue;
    ++accepted;
    CHECK(along == by_tables);
    CHECK(along_entries == tables_entries);
    CHECK(along_has == tables_has);
  }
  // Most records were read along a shape, not by the tables (else this compared nothing).
  CHECK(accepted > 2000);
  CHECK(reader.along_shape() > accepted / 3);
}
