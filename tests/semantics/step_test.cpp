// The concrete step, iteration by iteration, on small hand-made states: exact batch
// compositions for the paper's policies and Vidur's engines (as the bundled examples write
// them), and for each rule form.
#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "core/step.hpp"
#include "core/trace_format.hpp"
#include "dsl/dsl.hpp"
#include "sim/engine_sim.hpp"

using namespace batchproof;

namespace {

core::Spec load(const std::string& path_or_text, bool is_text = false) {
  core::Diagnostics diags;
  auto spec = is_text ? dsl::load_spec_text("inline.bp", path_or_text, diags) : dsl::load_spec(path_or_text, diags);
  for (const auto& d : diags.all()) UNSCOPED_INFO(core::render(d));
  REQUIRE(spec);
  return *spec;
}

const core::Engine& engine(const core::Spec& spec, const std::string& name) {
  const core::Engine* e = spec.find_engine(name);
  REQUIRE(e);
  return *e;
}

// A request waiting with its whole prompt and output ahead.
core::Request waiting(std::int64_t id, std::int64_t prompt, std::int64_t output) {
  core::Request r;
  r.id = id;
  r.arrival_s = static_cast<double>(id);
  r.prompt = prompt;
  r.output = output;
  return r;
}

// A running request whose prompt is done and which has produced `decoded` tokens.
core::Request decoding(std::int64_t id, std::int64_t prompt, std::int64_t output, std::int64_t decoded,
                       std::int64_t seq) {
  core::Request r = waiting(id, prompt, output);
  r.prefilled = prompt;
  r.decoded = decoded;
  r.kv_held = prompt + decoded;
  r.admitted_seq = seq;
  return r;
}

core::EngineState state_of(std::vector<core::Request> running, std::vector<core::Request> queue) {
  core::EngineState s;
  for (auto& r : running) {
    s.kv_used += r.kv_held;
    s.next_admission = std::max(s.next_admission, r.admitted_seq + 1);
    s.running.push_back(r);
  }
  for (auto& r : queue) core::arrive(s, r);
  return s;
}

// "id:prefill" and "id:d" for each item, in batch order.
std::string show(const core::Batch& b) {
  std::string out;
  for (const auto& i : b.items) {
    if (!out.empty()) out += " ";
    out += i.decode ? fmt::format("{}:d", i.request) : fmt::format("{}:{}", i.request, i.prefill);
  }
  return out;
}

const char* kProfile = "profile p { t(b) = 11.28 ms + 35.47 ms * ceil(b / 128) }\n";

core::Spec engine_spec(const std::string& attrs_and_policy) {
  return load(std::string(kProfile) + "engine e {\n  profile p\n" + attrs_and_policy + "\n}\n", true);
}

}  // namespace

TEST_CASE("the paper's policies on one state: 2 decoding, prompts of 300 and 400 waiting") {
  core::Spec spec = load("examples/paper_policies.bp");
  auto make = [] {
    return state_of({decoding(1, 50, 10, 3, 0), decoding(2, 60, 10, 5, 1)}, {waiting(3, 300, 20), waiting(4, 400, 20)});
  };
  struct Case {
    const char* engine;
    const char* batch;
    std::int64_t tokens;
  };
  for (Case c : {Case{"sarathi", "1:d 2:d 3:300 4:210", 512}, Case{"orca", "3:300 1:d 2:d", 302},
                 Case{"orca_split", "3:300 4:212", 512}, Case{"faster_transformer", "1:d 2:d", 2},
                 Case{"vllm_vanilla", "3:300", 300}}) {
    DYNAMIC_SECTION(c.engine) {
      core::EngineState s = make();
      core::StepOutcome out = core::step(engine(spec, c.engine), s);
      CHECK(show(out.batch) == c.batch);
      CHECK(out.batch.tokens == c.tokens);
      CHECK(out.batch.duration_s == Approx(0.01128 + 0.03547 * static_cast<double>((c.tokens + 127) / 128)));
    }
  }
}

TEST_CASE("Sarathi, iteration by iteration: chunks continue, decodes come first, requests leave") {
  core::Spec spec = load("examples/paper_policies.bp");
  const core::Engine& e = engine(spec, "sarathi");
  core::EngineState s = state_of({}, {waiting(1, 700, 2), waiting(2, 100, 1)});
  auto out = core::step(e, s);
  CHECK(show(out.batch) == "1:512");
  CHECK(s.running.size() == 1);
  CHECK(s.running[0].prefilled == 512);
  out = core::step(e, s);
  CHECK(show(out.batch) == "1:188 2:100");  // the partial prompt continues, then the next is admitted
  out = core::step(e, s);
  CHECK(show(out.batch) == "1:d 2:d");  // paper accounting: the first output token is a decode
  CHECK(out.first_tokens == std::vector<std::int64_t>{1, 2});
  REQUIRE(out.finished.size() == 1);
  CHECK(out.finished[0].id == 2);
  out = core::step(e, s);
  CHECK(show(out.batch) == "1:d");
  CHECK(out.finished.size() == 1);
  CHECK(s.running.empty());
  CHECK(s.waiting.empty());
  out = core::step(e, s);
  CHECK(out.batch.empty());
  CHECK(out.batch.duration_s == 0);
}

TEST_CASE("a prompt longer than the budget freezes a whole-prompt policy, not a chunking one") {
  core::Spec spec = load("examples/paper_policies.bp");
  core::EngineState s = state_of({}, {waiting(1, 600, 5), waiting(2, 10, 5)});
  CHECK(core::step(engine(spec, "orca"), s).batch.empty());
  CHECK(core::step(engine(spec, "vllm_vanilla"), s).batch.empty());
  CHECK(core::step(engine(spec, "faster_transformer"), s).batch.empty());
  CHECK(s.waiting.size() == 2);  // and nothing moved
  CHECK(show(core::step(engine(spec, "sarathi"), s).batch) == "1:512");
}

TEST_CASE("skip passes over a prompt that does not fit; stop does not") {
  core::Spec stop = engine_spec("token_budget 512 tokens\npolicy { prefill waiting fcfs whole }");
  core::Spec skip = engine_spec("token_budget 512 tokens\npolicy { prefill waiting fcfs whole skip }");
  auto make = [] { return state_of({}, {waiting(1, 300, 1), waiting(2, 400, 1), waiting(3, 200, 1)}); };
  core::EngineState a = make(), b = make();
  CHECK(show(core::step(engine(stop, "e"), a).batch) == "1:300");
  CHECK(show(core::step(engine(skip, "e"), b).batch) == "1:300 3:200");
}

TEST_CASE("orders: lifo, shortest prompt, shortest remaining, priority") {
  auto batch_of = [](const std::string& rule, std::vector<core::Request> queue) {
    core::Spec spec = engine_spec("token_budget 10000 tokens\npolicy { " + rule + " }");
    core::EngineState s = state_of({}, std::move(queue));
    return show(core::step(engine(spec, "e"), s).batch);
  };
  std::vector<core::Request> q{waiting(1, 30, 9), waiting(2, 10, 50), waiting(3, 20, 1)};
  CHECK(batch_of("prefill waiting fcfs whole", q) == "1:30 2:10 3:20");
  CHECK(batch_of("prefill waiting lifo whole", q) == "3:20 2:10 1:30");
  CHECK(batch_of("prefill waiting shortest_prompt whole", q) == "2:10 3:20 1:30");
  CHECK(batch_of("prefill waiting shortest_remaining whole", q) == "3:20 1:30 2:10");
  q[0].priority = 1;
  q[1].priority = 2;
  q[2].priority = 0;
  CHECK(batch_of("prefill waiting priority whole", q) == "3:20 1:30 2:10");
}

TEST_CASE("chunk <= N, limit, guards and when conditions") {
  auto batch_of = [](const std::string& policy, core::EngineState s) {
    core::Spec spec = engine_spec("token_budget 512 tokens\npolicy { " + policy + " }");
    return show(core::step(engine(spec, "e"), s).batch);
  };
  auto q = [] { return state_of({decoding(9, 5, 5, 1, 0)}, {waiting(1, 300, 1), waiting(2, 300, 1), waiting(3, 300, 1)}); };
  CHECK(batch_of("prefill waiting fcfs chunk <= 128 tokens", q()) == "1:128 2:128 3:128");
  CHECK(batch_of("prefill waiting fcfs chunk limit 1 requests", q()) == "1:300");
  CHECK(batch_of("decode running fcfs prefill waiting fcfs whole if batch_tokens == 0", q()) == "9:d");
  CHECK(batch_of("prefill waiting fcfs whole if budget_left >= 512 tokens decode running fcfs", q()) == "1:300 9:d");
  // `when` reads the state as the iteration starts, not after earlier rules.
  CHECK(batch_of("prefill waiting fcfs whole when waiting == 3 { decode running fcfs }", q()) == "1:300 9:d");
  CHECK(batch_of("when decoding > 0 and not (waiting < 3) { decode running fcfs } else { prefill waiting fcfs whole }",
                 q()) == "9:d");
}

TEST_CASE("max_batch and max_running cap the batch and the running set") {
  core::Spec a = engine_spec("token_budget 512 tokens\nmax_batch 2 requests\npolicy { decode running fcfs prefill waiting fcfs chunk }");
  core::EngineState s = state_of({decoding(1, 5, 5, 1, 0)}, {waiting(2, 10, 1), waiting(3, 10, 1)});
  CHECK(show(core::step(engine(a, "e"), s).batch) == "1:d 2:10");
  core::Spec b = engine_spec("token_budget 512 tokens\nmax_running 2 requests\npolicy { decode running fcfs prefill waiting fcfs chunk }");
  core::EngineState t = state_of({decoding(1, 5, 5, 1, 0)}, {waiting(2, 10, 1), waiting(3, 10, 1)});
  CHECK(show(core::step(engine(b, "e"), t).batch) == "1:d 2:10");
}

TEST_CASE("padded budget: (n + 1) * max(prompt) <= budget, as Vidur's vllm") {
  core::Spec spec = load("examples/vidur_engines.bp");
  core::EngineState s =
      state_of({}, {waiting(1, 1000, 5), waiting(2, 1000, 5), waiting(3, 1000, 5), waiting(4, 1000, 5), waiting(5, 10, 5)});
  auto out = core::step(engine(spec, "vidur_vllm"), s);
  // 1·1000, 2·1000, 3·1000, 4·1000 fit in 4096; a fifth item would make 5·1000 > 4096.
  CHECK(show(out.batch) == "1:1000 2:1000 3:1000 4:1000");
  // Vidur accounting: each finished prompt yields its first output token.
  CHECK(out.first_tokens.size() == 4);
  CHECK(s.running[0].decoded == 1);
  // Next iteration: no prefill fits the padded budget? 5:10 does: (0+1)·10. Then decodes wait.
  out = core::step(engine(spec, "vidur_vllm"), s);
  CHECK(show(out.batch) == "5:10");
  out = core::step(engine(spec, "vidur_vllm"), s);
  CHECK(show(out.batch) == "1:d 2:d 3:d 4:d 5:d");
}

TEST_CASE("unbudgeted decodes are never cut but use the budget up (Vidur's Sarathi)") {
  core::Spec spec = engine_spec("token_budget 4 tokens\npolicy { decode running fcfs unbudgeted prefill waiting fcfs chunk }");
  core::EngineState s = state_of({decoding(1, 5, 9, 1, 0), decoding(2, 5, 9, 1, 1), decoding(3, 5, 9, 1, 2),
                                  decoding(4, 5, 9, 1, 3), decoding(5, 5, 9, 1, 4)},
                                 {waiting(6, 100, 1)});
  CHECK(show(core::step(engine(spec, "e"), s).batch) == "1:d 2:d 3:d 4:d 5:d");
  core::EngineState t = state_of({decoding(1, 5, 9, 1, 0), decoding(2, 5, 9, 1, 1), decoding(3, 5, 9, 1, 2)},
                                 {waiting(6, 100, 1)});
  CHECK(show(core::step(engine(spec, "e"), t).batch) == "1:d 2:d 3:d 6:1");
}

TEST_CASE("memory exhaustion: a decode that needs a block preempts the youngest, which restarts") {
  core::Spec spec = engine_spec(
      "token_budget 512 tokens\nkv_cache 4 blocks\nblock_size 16 tokens\npreemption recompute_youngest\n"
      "policy { decode running fcfs }");
  // Two requests of 32 processed tokens each fill the 64 KV tokens; the next decode of each
  // needs a third block.
  core::Request a = decoding(1, 30, 10, 2, 0), b = decoding(2, 28, 10, 4, 1);
  a.kv_held = b.kv_held = 32;
  core::EngineState s = state_of({a, b}, {waiting(3, 5, 1)});
  auto out = core::step(engine(spec, "e"), s);
  CHECK(show(out.batch) == "1:d");
  CHECK(out.preempted == std::vector<std::int64_t>{2});
  REQUIRE(s.running.size() == 1);
  CHECK(s.running[0].kv_held == 48);
  CHECK(s.kv_used == 48);
  REQUIRE(s.waiting.size() == 2);
  const core::Request& restarted = s.waiting.front();  // back at the front of the queue
  CHECK(restarted.id == 2);
  CHECK(restarted.prompt == 32);  // everything it had processed, to recompute
  CHECK(restarted.output == 6);   // what it had left to produce
  CHECK(restarted.prefilled == 0);
  CHECK(restarted.kv_held == 0);
  CHECK(restarted.restarts == 1);
}

TEST_CASE("a request preempted part-way through its prompt keeps the rest of its work (Vidur's restart)") {
  core::Spec spec = engine_spec(
      "token_budget 512 tokens\nkv_cache 4 blocks\nblock_size 16 tokens\npreemption recompute_youngest\n"
      "policy { decode running fcfs prefill started fcfs chunk }");
  // Request 2 has prefilled 32 of its 40 prompt tokens when request 1's decode needs a block.
  core::Request a = decoding(1, 30, 10, 2, 0);
  a.kv_held = 32;
  core::Request b = waiting(2, 40, 10);
  b.prefilled = 32;
  b.kv_held = 32;
  b.admitted_seq = 1;
  core::EngineState s = state_of({a, b}, {});
  auto out = core::step(engine(spec, "e"), s);
  CHECK(out.preempted == std::vector<std::int64_t>{2});
  REQUIRE(s.waiting.size() == 1);
  const core::Request& restarted = s.waiting.front();
  CHECK(restarted.prompt == 32);   // P' = processed
  CHECK(restarted.output == 18);   // D' = P + D - P' = 40 + 10 - 32: the 8 prompt tokens not reached are kept
  CHECK(restarted.remaining_work() == 50);
}

TEST_CASE("without preemption, a decode that finds no memory waits") {
  core::Spec spec = engine_spec("token_budget 512 tokens\nkv_cache 64 tokens\npolicy { decode running fcfs }");
  core::Request a = decoding(1, 30, 10, 2, 0), b = decoding(2, 28, 10, 4, 1);
  core::EngineState s = state_of({a, b}, {});
  CHECK(core::step(engine(spec, "e"), s).batch.empty());
}

TEST_CASE("admission reserves the whole prompt and keeps the watermark free") {
  core::Spec spec = engine_spec(
      "token_budget 512 tokens\nkv_cache 10 blocks\nblock_size 16 tokens\nwatermark 10 %\nadmission prompt\n"
      "policy { prefill waiting fcfs chunk }");
  // 10 blocks, 1 kept free: a 140-token prompt (9 blocks) is admitted, a second is not.
  core::EngineState s = state_of({}, {waiting(1, 140, 5), waiting(2, 10, 5)});
  auto out = core::step(engine(spec, "e"), s);
  CHECK(show(out.batch) == "1:140");
  CHECK(s.kv_used == 144);
  core::EngineState t = state_of({}, {waiting(1, 150, 5)});
  CHECK(core::step(engine(spec, "e"), t).batch.empty());  // 10 blocks would leave no watermark
}

TEST_CASE("static batching: a cohort runs to its end before the next forms, and frees its memory then") {
  core::Spec spec = load("examples/vidur_engines.bp");
  const core::Engine& ft = engine(spec, "vidur_ft");
  core::EngineState s = state_of({}, {waiting(1, 100, 2), waiting(2, 100, 4)});
  auto out = core::step(ft, s);
  CHECK(show(out.batch) == "1:100 2:100");
  CHECK(s.kv_used == 2 * 4096);  // max_length reservation each
  core::arrive(s, waiting(3, 50, 1));
  out = core::step(ft, s);
  CHECK(show(out.batch) == "1:d 2:d");  // request 1 finishes (Vidur accounting: 1 + 1 tokens)
  CHECK(out.finished.size() == 1);
  CHECK(s.kv_used == 2 * 4096);  // still held until the cohort is done
  out = core::step(ft, s);
  CHECK(show(out.batch) == "2:d");  // the newcomer waits for the cohort
  out = core::step(ft, s);
  CHECK(show(out.batch) == "2:d");
  CHECK(out.finished.size() == 1);
  CHECK(s.kv_used == 0);
  out = core::step(ft, s);
  CHECK(show(out.batch) == "3:50");
}

TEST_CASE("Vidur's Sarathi: decodes, partial prompts, then admissions, as VIDUR-SCHEDULERS.md §5.4") {
  core::Spec spec = load("examples/vidur_engines.bp");
  const core::Engine& e = engine(spec, "vidur_sarathi");
  core::Request part = waiting(2, 600, 3);
  part.prefilled = 512;
  part.kv_held = 608;
  part.admitted_seq = 1;
  core::Request d = decoding(1, 40, 5, 1, 0);
  d.kv_held = 48;
  core::EngineState s = state_of({d, part}, {waiting(3, 1000, 3)});
  auto out = core::step(e, s);
  CHECK(show(out.batch) == "1:d 2:88 3:423");
  CHECK(out.batch.tokens == 512);
  CHECK(std::find(out.first_tokens.begin(), out.first_tokens.end(), 2) != out.first_tokens.end());
}

TEST_CASE("LightLLM: a prefill batch when nothing runs or after 10 decode iterations") {
  core::Spec spec = load("examples/vidur_engines.bp");
  const core::Engine& e = engine(spec, "vidur_lightllm");
  core::EngineState s = state_of({}, {waiting(1, 100, 30)});
  CHECK(show(core::step(e, s).batch) == "1:100");
  core::arrive(s, waiting(2, 50, 5));
  for (int i = 0; i < 10; ++i) CHECK(show(core::step(e, s).batch) == "1:d");
  CHECK(show(core::step(e, s).batch) == "2:50");
}

TEST_CASE("backlog counts remaining prompt and output tokens") {
  core::EngineState s = state_of({decoding(1, 10, 10, 4, 0)}, {waiting(2, 7, 3)});
  CHECK(core::backlog_tokens(s) == 6 + 10);
}

TEST_CASE("class priority: an engine's class_priority ranks a workload's classes in simulation") {
  core::Spec spec = load(std::string(kProfile) +
                             "engine e { profile p token_budget 64 tokens class_priority urgent > bulk\n"
                             "  policy { prefill waiting priority whole decode running fcfs } }\n"
                             "workload w { arrivals bursts 2 requests every 10 s\n"
                             "  class bulk { weight 1 prompt constant 60 tokens output constant 1 tokens }\n"
                             "  class urgent { weight 1 prompt constant 60 tokens output constant 1 tokens } }\n",
                         true);
  // Each burst brings an urgent and a bulk request (in random order); only one 60-token
  // prompt fits the budget, so the urgent one is always prefilled first.
  std::stringstream buffer;
  core::TraceWriter writer(buffer);
  sim::SimOptions o;
  o.requests = 200;
  o.trace = &writer;
  sim::simulate_engine(engine(spec, "e"), *spec.find_workload("w"), o);
  writer.flush();
  core::TraceReader reader(buffer, "run.jsonl");
  core::TraceRecord record;
  std::map<std::int64_t, std::string> cls;
  int urgent_first = 0, bulk_first = 0;  // in bursts that hold both classes
  bool burst_open = false, mixed = false;
  while (reader.next(record)) {
    const auto* it = std::get_if<core::TraceIteration>(&record);
    if (!it) continue;
    if (!it->arrivals.empty()) {
      for (const auto& a : it->arrivals) cls[a.id] = a.cls;
      burst_open = true;
      mixed = it->arrivals.size() == 2 && it->arrivals[0].cls != it->arrivals[1].cls;
    }
    for (const auto& item : it->items)
      if (item.prefill > 0 && burst_open) {
        if (mixed) (cls[item.id] == "urgent" ? urgent_first : bulk_first) += 1;
        burst_open = false;
      }
  }
  CHECK(urgent_first > 20);  // about half of the 100 bursts are mixed
  CHECK(bulk_first == 0);
}
