#include "traces/replay_state.hpp"

#include <algorithm>
#include <limits>

#include "core/step.hpp"

namespace batchproof::traces {

namespace {

std::int64_t rounded(std::int64_t tokens, std::int64_t block) {
  return block <= 1 ? tokens : (tokens + block - 1) / block * block;
}

// What admission sets aside for a request, as core::step reserves it.
std::int64_t reservation(const core::Engine& e, const core::Request& r) {
  switch (e.admission) {
    case core::Admission::None: return 0;
    case core::Admission::Prompt:
    case core::Admission::PeakEstimate: return r.prompt;
    case core::Admission::MaxLength: return e.max_seq_len.value_or(r.prompt + r.output);
  }
  return 0;
}

// Restart by recompute, as core::step restarts (MODEL.md §6): every processed token becomes
// prompt to process again, and the rest of the request's tokens output (Vidur's restart:
// D' = P + D - P').
void restart(core::Request& r) {
  const std::int64_t processed = r.prefilled + r.decoded;
  const std::int64_t total = r.prompt + r.output;
  if (processed > 0) {
    r.prompt = processed;
    r.output = total - processed;
  }
  r.prefilled = 0;
  r.decoded = 0;
  r.kv_held = 0;
  r.admitted_seq = -1;
  r.cohort = -1;
  ++r.restarts;
}

}  // namespace

std::int32_t class_rank(const core::Engine& engine, const std::string& cls) {
  const auto& ranks = engine.class_priority;
  auto it = std::find(ranks.begin(), ranks.end(), cls);
  return static_cast<std::int32_t>(it - ranks.begin());
}

core::EngineState state_from_trace(const core::Engine& engine, const std::vector<core::TraceRequestState>& requests) {
  core::EngineState s;
  for (const auto& t : requests) {
    core::Request r;
    r.id = t.id;
    r.arrival_s = t.arrival_s;
    r.prompt = t.prompt;
    r.output = t.output;
    r.prefilled = t.prefilled;
    r.decoded = t.decoded;
    r.kv_held = t.admitted ? t.kv_held : 0;
    r.priority = class_rank(engine, t.cls);
    if (t.admitted) {
      r.admitted_seq = s.next_admission++;
      s.kv_used += r.kv_held;
      s.running.push_back(r);
    } else {
      s.waiting.push_back(r);
    }
  }
  return s;
}

void arrive_from_trace(const core::Engine& engine, core::EngineState& state, const core::TraceArrival& a) {
  core::Request r;
  r.id = a.id;
  r.arrival_s = a.time_s;
  r.prompt = a.prompt;
  r.output = a.output;
  r.priority = class_rank(engine, a.cls);
  core::arrive(state, std::move(r));
}

core::Batch batch_from_trace(const core::TraceIteration& record) {
  core::Batch b;
  batch_from_trace(record, b);
  return b;
}

void batch_from_trace(const core::TraceIteration& record, core::Batch& b) {
  b.items.clear();
  b.prefill_tokens = b.decode_tokens = 0;
  for (const auto& it : record.items) {
    b.items.push_back({it.id, it.prefill, it.decode});
    b.prefill_tokens += it.prefill;
    b.decode_tokens += it.decode ? 1 : 0;
  }
  b.tokens = b.prefill_tokens + b.decode_tokens;
  b.duration_s = record.end_s - record.start_s;
}

std::int64_t apply_logged_iteration(const core::Engine& engine, core::EngineState& s,
                                    const core::TraceIteration& record, ReplayScratch& scratch) {
  const std::int64_t block = std::max<std::int64_t>(1, engine.block_size);
  const bool vidur = engine.accounting == core::Accounting::Vidur;
  // Where each request is, by id: a table indexed by id when the ids present are compact (the
  // common case: ids are arrival numbers), else a sorted list searched.
  auto& where = scratch.where;
  auto& dense = scratch.dense;
  where.clear();
  std::int64_t with_work = 0;  // requests that could take a token
  std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = std::numeric_limits<std::int64_t>::min();
  auto note = [&](const core::Request& r, core::EngineState::Ref ref) {
    with_work += r.remaining_prompt() > 0 || r.decoded < r.output;
    where.push_back({r.id, ref});
    lo = std::min(lo, r.id);
    hi = std::max(hi, r.id);
  };
  for (std::size_t i = 0; i < s.running.size(); ++i) note(s.running[i], {false, i});
  for (std::size_t i = 0; i < s.waiting.size(); ++i) note(s.waiting[i], {true, i});
  const bool compact = !where.empty() && hi - lo < 8 * static_cast<std::int64_t>(where.size()) + 64;
  if (compact) {
    dense.assign(static_cast<std::size_t>(hi - lo + 1), -1);
    for (std::size_t k = 0; k < where.size(); ++k) dense[static_cast<std::size_t>(where[k].first - lo)] = static_cast<std::int64_t>(k);
  } else {
    std::sort(where.begin(), where.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  auto find = [&](std::int64_t id) -> const core::EngineState::Ref* {
    if (compact) {
      if (id < lo || id > hi) return nullptr;
      std::int64_t k = dense[static_cast<std::size_t>(id - lo)];
      return k < 0 ? nullptr : &where[static_cast<std::size_t>(k)].second;
    }
    auto it = std::lower_bound(where.begin(), where.end(), id, [](const auto& e, std::int64_t v) { return e.first < v; });
    return it != where.end() && it->first == id ? &it->second : nullptr;
  };
  auto at = [&](core::EngineState::Ref ref) -> core::Request& {
    return ref.waiting ? s.waiting[ref.index] : s.running[ref.index];
  };

  std::int64_t ignored = 0, served = 0;
  bool any_admitted = false;
  for (const auto& item : record.items) {
    const core::EngineState::Ref* ref = find(item.id);
    if (!ref) {
      ++ignored;
      continue;
    }
    core::Request& r = at(*ref);
    // Everything this request could take: its whole remaining prompt, or its next decode token
    // (a second item of one request counts for nothing: `slot` marks the first, as in the step).
    if (r.slot < 0) served += r.prompt_done() ? (item.decode && r.decoded < r.output) : item.prefill == r.remaining_prompt();
    r.slot = 0;
    if (ref->waiting && r.admitted_seq < 0) {
      r.admitted_seq = s.next_admission++;
      r.kv_held = rounded(reservation(engine, r), block);
      any_admitted = true;
    }
    const bool prompt_was_done = r.prompt_done();
    r.prefilled = std::min(r.prompt, r.prefilled + item.prefill);
    if (item.decode) ++r.decoded;
    if (vidur && item.prefill > 0 && !prompt_was_done && r.prompt_done()) ++r.decoded;
    r.kv_held = std::max(r.kv_held, rounded(r.prefilled + r.decoded, block));
  }

  for (const auto& item : record.items)
    if (const core::EngineState::Ref* ref = find(item.id)) at(*ref).slot = -1;

  // Preempted requests restart at the front of the queue, the last preempted first.
  auto& preempted = scratch.preempted;
  preempted.clear();
  for (std::int64_t id : record.preempted) {
    const core::EngineState::Ref* ref = find(id);
    if (!ref || ref->waiting) continue;
    core::Request r = at(*ref);
    restart(r);
    preempted.push_back(std::move(r));
    at(*ref).evicted = true;  // marked for removal from the running set below
  }
  scratch.every_request_served = served == with_work && ignored == 0;
  auto& departed = scratch.departed;
  departed.assign(record.departures.begin(), record.departures.end());
  std::sort(departed.begin(), departed.end());
  auto leaves = [&](const core::Request& r) {
    return r.finished() || (!departed.empty() && std::binary_search(departed.begin(), departed.end(), r.id));
  };

  // The sets are compacted in place (a request that stays is moved only when one before it
  // left): most iterations see a request or two leave and the rest stay where they are.
  auto& running = s.running;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < running.size(); ++i) {
    core::Request& r = running[i];
    if (r.evicted || leaves(r)) continue;
    if (kept != i) running[kept] = std::move(r);
    ++kept;
  }
  running.resize(kept);
  auto& waiting = s.waiting;
  auto& admitted = scratch.admitted;
  admitted.clear();
  kept = 0;
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    core::Request& r = waiting[i];
    if (leaves(r)) continue;
    if (r.admitted_seq >= 0) {
      admitted.push_back(std::move(r));
      continue;
    }
    if (kept != i) waiting[kept] = std::move(r);
    ++kept;
  }
  waiting.resize(kept);
  if (any_admitted) {
    // Admitted requests join the running set in id (arrival) order, as core::step puts them.
    std::sort(admitted.begin(), admitted.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    if (running.empty() || admitted.front().id > running.back().id) {
      for (auto& r : admitted) running.push_back(std::move(r));
    } else {
      auto& merged = scratch.running;
      merged.clear();
      merged.reserve(running.size() + admitted.size());
      std::merge(std::make_move_iterator(running.begin()), std::make_move_iterator(running.end()),
                 std::make_move_iterator(admitted.begin()), std::make_move_iterator(admitted.end()),
                 std::back_inserter(merged), [](const auto& a, const auto& b) { return a.id < b.id; });
      running.swap(merged);
    }
  }
  for (auto& r : preempted) {
    r.evicted = false;
    waiting.push_front(std::move(r));
  }
  // The log's KV in use is the truth about memory; the per-request holdings are our estimate,
  // and all there is when the log does not say (a negative kv_used).
  if (record.kv_used >= 0) {
    s.kv_used = record.kv_used;
  } else {
    s.kv_used = 0;
    for (const auto& r : s.running) s.kv_used += r.kv_held;
  }
  std::int64_t prefill = 0;
  for (const auto& it : record.items) prefill += it.prefill;
  s.iterations_since_prefill = prefill > 0 ? 0 : s.iterations_since_prefill + 1;
  ++s.iteration;
  s.counted_at = -1;
  return ignored;
}

}  // namespace batchproof::traces
