// The reader that reads ahead in a thread of its own: every format's test logs read through
// it give the same records, in the same order, with the same diagnostics and counts, as read
// directly (long logs span many chunks); closing early stops the thread; a reader that throws
// has its exception rethrown in the caller's thread.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "traces/in_memory_input.hpp"
#include "traces/read_ahead.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using traces::testing::data_file;
using traces::testing::located;
using traces::testing::memory_input;
using traces::testing::read_all;

namespace {

auto items_key(const Iteration& r) {
  std::vector<std::tuple<std::int64_t, std::int64_t, bool, std::optional<bool>, std::optional<bool>>> out;
  for (const auto& i : r.items) out.emplace_back(i.id, i.prefill, i.decode, i.scheduled, i.paused);
  return out;
}

auto arrivals_key(const Iteration& r) {
  std::vector<std::tuple<std::int64_t, double, std::int64_t, std::int64_t, std::int64_t, std::int64_t>> out;
  for (const auto& a : r.arrivals) out.emplace_back(a.id, a.time_s, a.prompt, a.output, a.prefilled, a.decoded);
  return out;
}

// Every field of the normalised record.
void require_same(const Iteration& a, const Iteration& b) {
  INFO("line " << a.line);
  REQUIRE(std::tie(a.stream, a.line, a.index, a.start_s, a.duration_s, a.prefill_requests, a.prefill_tokens,
                   a.decode_requests, a.decode_tokens, a.cached_tokens, a.running, a.waiting, a.waiting_tokens,
                   a.preempted, a.kv_used_tokens, a.kv_total_tokens, a.kv_usage, a.budget_tokens, a.budget_requests,
                   a.has_items, a.departures, a.steps) ==
          std::tie(b.stream, b.line, b.index, b.start_s, b.duration_s, b.prefill_requests, b.prefill_tokens,
                   b.decode_requests, b.decode_tokens, b.cached_tokens, b.running, b.waiting, b.waiting_tokens,
                   b.preempted, b.kv_used_tokens, b.kv_total_tokens, b.kv_usage, b.budget_tokens, b.budget_requests,
                   b.has_items, b.departures, b.steps));
  REQUIRE(items_key(a) == items_key(b));
  REQUIRE(arrivals_key(a) == arrivals_key(b));
}

void require_same_reading(Format format, const std::string& name, const std::string& bytes) {
  INFO(name);
  auto direct = make_reader(format, memory_input(name, bytes));
  auto ahead = read_ahead(make_reader(format, memory_input(name, bytes)));
  const auto expected = read_all(*direct);
  const auto got = read_all(*ahead);
  REQUIRE(got.size() == expected.size());
  for (std::size_t k = 0; k < got.size(); ++k) require_same(got[k], expected[k]);
  CHECK(ahead->malformed_count() == direct->malformed_count());
  CHECK(ahead->fatal() == direct->fatal());
  CHECK(located(*ahead) == located(*direct));
  Iteration after;
  CHECK_FALSE(ahead->next(after));  // and stays at the end
}

std::string file_bytes(const std::string& name) {
  auto input = data_file(name);
  std::string out;
  std::string_view line;
  while (input->next_line(line)) {
    out.append(line);
    out.push_back('\n');
  }
  return out;
}

// A reader of `count` records that throws after `throw_after` of them (negative: never).
class CountingReader final : public RecordReader {
 public:
  CountingReader(std::int64_t count, std::int64_t throw_after) : RecordReader(Format::Vllm), count_(count), throw_after_(throw_after) {}
  bool next(Iteration& record) override {
    if (made_ == throw_after_) throw std::runtime_error("reader failed");
    if (made_ == count_) return false;
    record = Iteration{};
    record.line = ++made_;
    if (made_ % 1000 == 0) ++malformed_;
    return true;
  }
  std::int64_t made() const { return made_; }

 private:
  std::int64_t count_, throw_after_, made_ = 0;
};

}  // namespace

TEST_CASE("read ahead: every format's test logs read the same as directly", "[traces][read_ahead]") {
  const std::vector<std::pair<Format, std::string>> logs{
      {Format::Batchproof, "batchproof_doc_example.jsonl"},
      {Format::TrtllmIterStats, "trtllm_iteration_stats_issue3376.jsonl"},
      {Format::TrtllmPyExecutor, "trtllm_pyexecutor_generations.log"},
      {Format::TrtllmPyExecutor, "trtllm_pyexecutor_malformed.log"},
      {Format::Sglang, "sglang_real.log"},
      {Format::Sglang, "sglang_variants.log"},
      {Format::Sglang, "sglang_malformed.log"},
      {Format::Vllm, "vllm_real_iterations.log"},
      {Format::Vllm, "vllm_malformed.log"},
      {Format::Vllm, "vllm_v0.log"},
      {Format::VidurChrome, "vidur_chrome_trace.json"},
      {Format::SarathiChrome, "sarathi_chrome_trace.json"},
      {Format::VidurBatchCsv, "vidur_batch_metrics.csv"},
  };
  for (const auto& [format, name] : logs) require_same_reading(format, name, file_bytes(name));
}

TEST_CASE("read ahead: a long log with malformed lines spans many chunks and reads the same", "[traces][read_ahead]") {
  // 5000 vLLM iteration lines (about 40 chunks), one in 97 broken.
  std::string log;
  for (int i = 0; i < 5000; ++i) {
    if (i % 97 == 13) {
      log += "INFO 06-05 10:00:00 [core.py:1] Iteration(" + std::to_string(i) + "): 3 context requests, broken\n";
      continue;
    }
    log += "INFO 06-05 10:00:00 [core.py:1] Iteration(" + std::to_string(i) + "): 1 context requests, " +
           std::to_string(100 + i % 50) + " context tokens, " + std::to_string(i % 40) + " generation requests, " +
           std::to_string(i % 40) + " generation tokens, iteration elapsed time: 25.5 ms\n";
  }
  auto direct = make_reader(Format::Vllm, memory_input("long.log", log));
  const auto expected = read_all(*direct);
  REQUIRE(expected.size() > 4900);
  REQUIRE(direct->malformed_count() > 40);
  require_same_reading(Format::Vllm, "long.log", log);
}

TEST_CASE("read ahead: closing early stops the reading thread", "[traces][read_ahead]") {
  auto inner = std::make_unique<CountingReader>(100'000'000, -1);
  const CountingReader* counting = inner.get();
  auto reader = read_ahead(std::move(inner));
  Iteration r;
  for (int i = 1; i <= 10; ++i) {
    REQUIRE(reader->next(r));
    CHECK(r.line == i);
  }
  reader->close();
  // The thread read at most the chunks in flight past the tenth record, not the whole input.
  CHECK(counting->made() < 10'000);
  CHECK(reader->malformed_count() == counting->made() / 1000);
  CHECK_FALSE(reader->next(r));
}

TEST_CASE("read ahead: the records and counts of a reader that runs to its end", "[traces][read_ahead]") {
  auto reader = read_ahead(std::make_unique<CountingReader>(12'345, -1));
  Iteration r;
  std::int64_t n = 0;
  while (reader->next(r)) CHECK(r.line == ++n);
  CHECK(n == 12'345);
  CHECK(reader->malformed_count() == 12);
  CHECK_FALSE(reader->fatal());
}

TEST_CASE("read ahead: a reader that throws has its exception rethrown to the caller", "[traces][read_ahead]") {
  auto reader = read_ahead(std::make_unique<CountingReader>(1'000, 300));
  Iteration r;
  std::int64_t n = 0;
  auto drain = [&] {
    while (reader->next(r)) ++n;
  };
  CHECK_THROWS_WITH(drain(), "reader failed");
  CHECK(n == 300);
}

TEST_CASE("read ahead: destroying the reader part-way joins its thread", "[traces][read_ahead]") {
  for (int k = 0; k < 20; ++k) {
    auto reader = read_ahead(std::make_unique<CountingReader>(1'000'000, -1));
    Iteration r;
    for (int i = 0; i < k * 37; ++i) REQUIRE(reader->next(r));
  }  // no hang, no crash
  SUCCEED();
}
