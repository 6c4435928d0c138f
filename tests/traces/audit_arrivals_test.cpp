// --arrivals beyond one Vidur replica: TensorRT-LLM's request stats replayed (their prompt
// lengths and arrival times from the arrivals file), and traces of several replicas, each
// replica replayed with the arrivals its batches show.
#include <catch2/catch.hpp>

#include <sstream>
#include <variant>

#include "audit_test_support.hpp"
#include "in_memory_input.hpp"
#include "sim/engine_sim.hpp"
#include "traces/arrival_placement.hpp"
#include "traces/foreign_trace_stream.hpp"

using namespace batchproof;
using namespace batchproof::traces;
using namespace batchproof::traces::testing;

namespace {

// 120 requests of the chat workload at 80 % of Sarathi-Serve's rate, seed 3: batchproof's trace.
std::string sarathi_run() {
  const auto& spec = paper_policies();
  std::ostringstream out;
  core::TraceWriter writer(out);
  sim::SimOptions options;
  options.seed = 3;
  options.requests = 120;
  options.rate.rate_scale = 0.8;
  options.trace = &writer;
  options.spec_file = "examples/paper_policies.bp";
  sim::simulate_engine(*spec.find_engine("sarathi"), *spec.find_workload("chat"), options);
  writer.flush();
  return out.str();
}

// The run's arrivals, as an arrivals file would give them (request i is the i-th).
std::vector<core::Arrival> arrivals_of(const std::string& trace) {
  std::istringstream in(trace);
  core::TraceReader reader(in, "trace");
  core::TraceRecord record;
  std::vector<core::Arrival> out;
  while (reader.next(record))
    if (auto* it = std::get_if<core::TraceIteration>(&record))
      for (const auto& a : it->arrivals) {
        REQUIRE(a.id == static_cast<std::int64_t>(out.size()));
        out.push_back({a.time_s, a.prompt, a.output, {}});
      }
  return out;
}

std::string as_trtllm(const std::string& trace, bool request_stats) {
  std::istringstream own(trace);
  std::ostringstream log;
  ForeignWriterOptions options;
  options.trtllm_request_stats = request_stats;
  {
    ForeignTraceStream foreign(Format::TrtllmIterStats, log, options);
    foreign << own.rdbuf();
    REQUIRE(foreign.finish());
  }
  return log.str();
}

struct Audited {
  AuditReport report;
  std::optional<std::string> unusable;
};

Audited audit_log(Format format, const std::string& log, const std::string& engine,
                  const std::vector<core::Arrival>* arrivals, const core::Spec* spec = nullptr,
                  const ArrivalPlacement* placement = nullptr) {
  AuditOptions options;
  if (!engine.empty()) {
    options.engine = (spec ? *spec : paper_policies()).find_engine(engine);
    REQUIRE(options.engine);
    options.spec_file = "spec.bp";
  }
  options.arrivals = arrivals;
  options.placement = placement;
  Auditor auditor(audit_setup(format, options, std::nullopt));
  auto reader = make_reader(format, std::make_unique<InMemoryInput>("log", log));
  Iteration record;
  while (reader->next(record) && !auditor.unusable()) auditor.add(record, "log");
  REQUIRE_FALSE(reader->fatal());
  CHECK(reader->malformed_count() == 0);
  return {auditor.finish(0), auditor.unusable()};
}

// The trace with iteration `index`'s item for request `id` taken out of its batch.
std::string without_item(const std::string& trace, std::int64_t index, std::int64_t id) {
  std::istringstream in(trace);
  std::string line, out;
  const std::string tag = "\"index\":" + std::to_string(index) + ",";
  bool planted = false;
  while (std::getline(in, line)) {
    if (line.find(tag) != std::string::npos) {
      const std::string item = "{\"id\":" + std::to_string(id) + ",\"decode\":1}";
      auto at = line.find(item);
      REQUIRE(at != std::string::npos);
      // With the comma that joins it to its neighbour.
      if (line[at + item.size()] == ',') line.erase(at, item.size() + 1);
      else line.erase(at - 1, item.size() + 1);
      planted = true;
    }
    out.append(line).append("\n");
  }
  REQUIRE(planted);
  return out;
}

// A decoding request of iteration `index` (its first decode item).
std::int64_t a_decode_of(const std::string& trace, std::int64_t index) {
  std::istringstream in(trace);
  std::string line;
  const std::string tag = "\"index\":" + std::to_string(index) + ",";
  while (std::getline(in, line)) {
    if (line.find(tag) == std::string::npos) continue;
    auto end = line.find(",\"decode\":1}");
    REQUIRE(end != std::string::npos);
    auto start = line.rfind("{\"id\":", end);
    return std::stoll(line.substr(start + 6, end - start - 6));
  }
  FAIL("no iteration " << index);
  return -1;
}

}  // namespace

TEST_CASE("TensorRT-LLM's request stats with --arrivals: a run replays clean and conforms to its policy",
          "[audit][arrivals]") {
  const std::string trace = sarathi_run();
  const auto arrivals = arrivals_of(trace);
  const std::string log = as_trtllm(trace, true);
  REQUIRE(log.find("\"requestStats\":[{\"contextPrefillPosition\":") != std::string::npos);

  auto r = audit_log(Format::TrtllmIterStats, log, "sarathi", &arrivals);
  REQUIRE_FALSE(r.unusable);
  CHECK(r.report.violation_count == 0);
  CHECK(r.report.note_count == 0);
  CHECK(r.report.check(CheckKind::PolicyDivergence).status == CheckStatus::Clean);
  CHECK(r.report.check(CheckKind::PolicyDivergence).checked == r.report.records);
  CHECK(r.report.check(CheckKind::WorkConservation).status == CheckStatus::Clean);
  CHECK(r.report.check(CheckKind::WorkConservation).checked == r.report.records);
  CHECK(r.report.check(CheckKind::Lifecycle).status == CheckStatus::Clean);
  REQUIRE(r.report.analytics.arrivals);

  // Another policy from the same states: Orca takes whole prompts, so the batches part.
  auto orca = audit_log(Format::TrtllmIterStats, log, "orca", &arrivals);
  CHECK(orca.report.check(CheckKind::PolicyDivergence).status == CheckStatus::Violated);

  // Without the arrivals the state cannot be rebuilt: said, not passed.
  auto bare = audit_log(Format::TrtllmIterStats, log, "sarathi", nullptr);
  CHECK(bare.report.check(CheckKind::PolicyDivergence).status == CheckStatus::NotChecked);
  CHECK(bare.report.check(CheckKind::PolicyDivergence).reason ==
        "no replay: the request stats carry no prompt lengths or arrival times (give --arrivals, and --spec with "
        "--engine)");
  // With the arrivals and no spec: nothing states the policy.
  auto no_spec = audit_log(Format::TrtllmIterStats, log, "", &arrivals);
  CHECK(no_spec.report.check(CheckKind::PolicyDivergence).status == CheckStatus::NotChecked);
  CHECK(no_spec.report.check(CheckKind::PolicyDivergence).reason ==
        "no replay: no policy or limits to replay (give --spec and --engine)");
}

TEST_CASE("TensorRT-LLM's request stats with --arrivals: a decode left out is found where it was planted",
          "[audit][arrivals]") {
  const std::string trace = sarathi_run();
  const auto arrivals = arrivals_of(trace);
  const std::int64_t planted_at = 40;
  const std::int64_t victim = a_decode_of(trace, planted_at);
  const std::string log = as_trtllm(without_item(trace, planted_at, victim), true);

  auto r = audit_log(Format::TrtllmIterStats, log, "sarathi", &arrivals);
  REQUIRE_FALSE(r.unusable);
  REQUIRE(r.report.check(CheckKind::PolicyDivergence).status == CheckStatus::Violated);
  const auto& first = r.report.violations;
  auto divergence = std::find_if(first.begin(), first.end(),
                                 [](const Finding& f) { return f.kind == CheckKind::PolicyDivergence; });
  REQUIRE(divergence != first.end());
  CHECK(divergence->iteration == planted_at);
  auto left_out = std::find_if(first.begin(), first.end(),
                               [](const Finding& f) { return f.kind == CheckKind::WorkConservation; });
  REQUIRE(left_out != first.end());
  CHECK(left_out->iteration == planted_at);
  CHECK(left_out->message.find("request " + std::to_string(victim) + " (decoding) could take its decode token") !=
        std::string::npos);
}

TEST_CASE("TensorRT-LLM's log without request stats cannot take --arrivals", "[audit][arrivals]") {
  const std::string trace = sarathi_run();
  const auto arrivals = arrivals_of(trace);
  auto r = audit_log(Format::TrtllmIterStats, as_trtllm(trace, false), "sarathi", &arrivals);
  REQUIRE(r.unusable);
  CHECK(*r.unusable ==
        "--arrivals replays TensorRT-LLM's request stats (enable_iter_req_stats), and the record of line 1 has none "
        "(no \"requestStats\")");
}

namespace {

const char* kReplicaEngine = R"(
profile tiny {
  t(b) = 10 ms + 1 ms * ceil(b / 64)
}
engine sarathi8 {
  profile      tiny
  token_budget 8 tokens
  policy {
    decode running fcfs
    prefill started fcfs chunk
    prefill waiting fcfs chunk
  }
}
)";

std::string chrome_event(int replica, int batch, int second, std::vector<int> ids, std::vector<int> tokens) {
  std::string list, counts;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    list += (k ? ", " : "") + std::to_string(ids[k]);
    counts += (k ? ", " : "") + std::to_string(tokens[k]);
  }
  return "{\"name\": \"[" + list + "]\", \"ph\": \"X\", \"ts\": " + std::to_string(second * 1000000) +
         ", \"dur\": 1000000, \"pid\": " + std::to_string(replica) + ", \"tid\": 0, \"args\": {\"batch_id\": " +
         std::to_string(batch) + ", \"batch_size\": " + std::to_string(ids.size()) + ", \"request_ids\": [" + list +
         "], \"num_tokens\": [" + counts + "]}}";
}

// Two replicas: 0 serves requests 0 and 2, 1 serves 1 and 3 (requests 2 and 3 arrive at 1.5 s).
// Planted: replica 1 gives request 3 one prompt token of its two in its third batch.
std::string two_replicas(bool planted) {
  // Vidur's batch ids are one counter for both replicas.
  std::vector<std::string> events{chrome_event(0, 0, 0, {0}, {4}),       chrome_event(1, 1, 0, {1}, {6}),
                                  chrome_event(0, 2, 1, {0}, {1}),       chrome_event(1, 3, 1, {1}, {1}),
                                  chrome_event(0, 4, 2, {0, 2}, {1, 3}), chrome_event(1, 5, 2, {3}, {planted ? 1 : 2}),
                                  chrome_event(0, 6, 3, {2}, {1}),       chrome_event(1, 7, 3, {3}, {1})};
  if (planted) events.push_back(chrome_event(1, 8, 4, {3}, {1}));
  std::string out = "{\"traceEvents\": [";
  for (std::size_t k = 0; k < events.size(); ++k) out += (k ? ", " : "") + events[k];
  return out + "]}\n";
}

const std::vector<core::Arrival> kReplicaArrivals{{0, 4, 2, {}}, {0, 6, 1, {}}, {1.5, 3, 1, {}}, {1.5, 2, 1, {}}};

ArrivalPlacement place(const std::string& log) {
  PlacementPass pass(kReplicaArrivals.size(), ArrivalIds::Ordinal);
  auto reader = make_reader(Format::VidurChrome, std::make_unique<InMemoryInput>("log", log));
  Iteration record;
  while (reader->next(record)) pass.add(record);
  return pass.finish();
}

}  // namespace

TEST_CASE("the arrivals are placed in the replica whose batches show their ids", "[audit][arrivals]") {
  auto p = place(two_replicas(false));
  CHECK(p.streams == std::vector<std::string>{"replica 0", "replica 1"});
  CHECK(p.arrivals_of == std::vector<std::vector<std::size_t>>{{0, 2}, {1, 3}});
  CHECK(p.unplaced == 0);
  REQUIRE(p.id_base);
  CHECK(*p.id_base == 0);

  // TensorRT-LLM's ids: the first one listed is the first arrival's.
  PlacementPass from_first(3, ArrivalIds::FromFirstListed);
  Iteration r;
  r.has_items = true;
  r.stream = "DP1";
  r.items = {{12, 4, false, true, std::nullopt}, {11, 0, false, false, std::nullopt}};
  from_first.add(r);
  r.stream = "DP0";
  r.items = {{13, 2, false, true, std::nullopt}, {11, 3, false, true, std::nullopt}};
  from_first.add(r);
  auto q = from_first.finish();
  CHECK(*q.id_base == 11);
  // 11 was listed by DP1 but not served there: it runs where its tokens are.
  CHECK(q.streams == std::vector<std::string>{"DP1", "DP0"});
  CHECK(q.arrivals_of == std::vector<std::vector<std::size_t>>{{1}, {0, 2}});
}

TEST_CASE("arrivals for several replicas: each replica replayed with its own arrivals", "[audit][arrivals]") {
  const core::Spec spec = spec_of(kReplicaEngine);
  const std::string clean = two_replicas(false);

  // Without the placement the auditor stops at the second replica and says why.
  AuditOptions options;
  options.arrivals = &kReplicaArrivals;
  Auditor unplaced(audit_setup(Format::VidurChrome, options, std::nullopt));
  auto reader = make_reader(Format::VidurChrome, std::make_unique<InMemoryInput>("log", clean));
  Iteration record;
  while (reader->next(record) && !unplaced.unusable()) unplaced.add(record, "log");
  CHECK(unplaced.needs_placement());

  const ArrivalPlacement p = place(clean);
  auto r = audit_log(Format::VidurChrome, clean, "sarathi8", &kReplicaArrivals, &spec, &p);
  REQUIRE_FALSE(r.unusable);
  CHECK(r.report.violation_count == 0);
  CHECK(r.report.check(CheckKind::PolicyDivergence).status == CheckStatus::Clean);
  CHECK(r.report.check(CheckKind::PolicyDivergence).checked == 8);
  CHECK(r.report.records == 8);
  CHECK(r.report.check(CheckKind::WorkConservation).status == CheckStatus::Clean);
  CHECK(r.report.check(CheckKind::Lifecycle).status == CheckStatus::Clean);
  // Each replica's ids skip the other's batches: not a gap.
  CHECK(r.report.check(CheckKind::IterationGap).status == CheckStatus::Clean);
  CHECK(r.report.check(CheckKind::IterationGap).limit ==
        "Vidur numbers the batches of every replica with one counter: skips not judged, a counter going back is");

  const std::string planted = two_replicas(true);
  const ArrivalPlacement pp = place(planted);
  auto v = audit_log(Format::VidurChrome, planted, "sarathi8", &kReplicaArrivals, &spec, &pp);
  REQUIRE(v.report.violations.size() == 2);
  CHECK(v.report.violations[0].kind == CheckKind::PolicyDivergence);
  CHECK(v.report.violations[0].stream == "replica 1");
  CHECK(v.report.violations[0].iteration == 5);  // the batch id
  CHECK(v.report.violations[1].kind == CheckKind::WorkConservation);
  CHECK(v.report.violations[1].message ==
        "not maximal: request 3 (waiting) could take one more prompt token: 1 of its 2 remaining were scheduled, and "
        "the batch holds 1 of 8 tokens");
}
