#include "traces/replay_state.hpp"

#include <algorithm>
#include <limits>

#include "core/step.hpp"

namespace batchproof::traces {

namespace {

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

void arrive(const core::Engine& engine, core::EngineState& state, const ArrivalItem& a) {
  core::Request r;
  r.id = a.id;
  r.arrival_s = a.time_s;
  r.prompt = a.prompt;
  r.output = a.output;
  r.priority = class_rank(engine, a.cls);
  core::arrive(state, std::move(r));
}

void batch_of(const Iteration& record, core::Batch& b) {
  b.items.clear();
  b.prefill_tokens = b.decode_tokens = 0;
  for (const auto& it : record.items) {
    if (!in_batch(it)) continue;
    b.items.push_back({it.id, it.prefill, it.decode});
    b.prefill_tokens += it.prefill;
    b.decode_tokens += it.decode ? 1 : 0;
  }
  b.tokens = b.prefill_tokens + b.decode_tokens;
  b.duration_s = record.duration_s.value_or(0);
}

namespace {

// Where the requests of a state are, by id, for the items of one logged batch. Batches list
// their requests mostly in queue order (running, then waiting), so each lookup first tries the
// request after the one found last; only a miss builds an index of the whole state: a table
// indexed by id when the ids are compact (the common case: ids are arrival numbers), else a
// sorted list searched.
class RequestFinder {
 public:
  RequestFinder(core::EngineState& s, ReplayScratch& scratch) : s_(s), where_(scratch.where), dense_(scratch.dense) {}

  const core::EngineState::Ref* find(std::int64_t id) {
    if (!indexed_) {
      if (next_.index < size(next_.waiting) && at(next_).id == id) return advance();
      if (!next_.waiting && next_.index >= s_.running.size() && !s_.waiting.empty() && s_.waiting.front().id == id) {
        next_ = {true, 0};
        return advance();
      }
      build_index();
    }
    if (compact_) {
      if (id < lo_ || id > hi_) return nullptr;
      const std::int64_t k = dense_[static_cast<std::size_t>(id - lo_)];
      return k < 0 ? nullptr : &where_[static_cast<std::size_t>(k)].second;
    }
    auto it = std::lower_bound(where_.begin(), where_.end(), id, [](const auto& e, std::int64_t v) { return e.first < v; });
    return it != where_.end() && it->first == id ? &it->second : nullptr;
  }

  core::Request& at(core::EngineState::Ref ref) { return ref.waiting ? s_.waiting[ref.index] : s_.running[ref.index]; }

 private:
  std::size_t size(bool waiting) const { return waiting ? s_.waiting.size() : s_.running.size(); }

  const core::EngineState::Ref* advance() {
    found_ = next_;
    ++next_.index;
    return &found_;
  }

  void build_index() {
    indexed_ = true;
    where_.clear();
    lo_ = std::numeric_limits<std::int64_t>::max();
    hi_ = std::numeric_limits<std::int64_t>::min();
    auto note = [&](std::int64_t id, core::EngineState::Ref ref) {
      where_.push_back({id, ref});
      lo_ = std::min(lo_, id);
      hi_ = std::max(hi_, id);
    };
    for (std::size_t i = 0; i < s_.running.size(); ++i) note(s_.running[i].id, {false, i});
    for (std::size_t i = 0; i < s_.waiting.size(); ++i) note(s_.waiting[i].id, {true, i});
    compact_ = !where_.empty() && hi_ - lo_ < 8 * static_cast<std::int64_t>(where_.size()) + 64;
    if (compact_) {
      dense_.assign(static_cast<std::size_t>(hi_ - lo_ + 1), -1);
      for (std::size_t k = 0; k < where_.size(); ++k)
        dense_[static_cast<std::size_t>(where_[k].first - lo_)] = static_cast<std::int64_t>(k);
    } else {
      std::sort(where_.begin(), where_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    }
  }

  core::EngineState& s_;
  std::vector<std::pair<std::int64_t, core::EngineState::Ref>>& where_;
  std::vector<std::int64_t>& dense_;
  core::EngineState::Ref next_{false, 0};  // where the next item's request is likely to be
  core::EngineState::Ref found_{false, 0};
  bool indexed_ = false, compact_ = false;
  std::int64_t lo_ = 0, hi_ = 0;
};

bool has_work(const core::Request& r) { return r.remaining_prompt() > 0 || r.decoded < r.output; }

}  // namespace

std::int64_t apply_logged_iteration(const core::Engine& engine, core::EngineState& s,
                                    const Iteration& record, ReplayScratch& scratch) {
  const std::int64_t block = std::max<std::int64_t>(1, engine.block_size);
  const bool vidur = engine.accounting == core::Accounting::Vidur;
  RequestFinder finder(s, scratch);

  // Whether some request with work was not given all it could take: its whole remaining
  // prompt, or its next decode token (a second item of one request counts for nothing: `slot`
  // marks the first, as in the step). Requests outside the batch are judged as the sets are
  // compacted below.
  bool left_work = false;
  std::int64_t ignored = 0;
  bool any_admitted = false;
  bool any_preempted = false;
  for (const auto& item : record.items) {
    any_preempted |= item.paused.value_or(false);
    if (!in_batch(item)) continue;
    const core::EngineState::Ref* ref = finder.find(item.id);
    if (!ref) {
      ++ignored;
      continue;
    }
    core::Request& r = finder.at(*ref);
    if (r.slot < 0 && has_work(r))
      left_work |= r.prompt_done() ? !(item.decode && r.decoded < r.output) : item.prefill != r.remaining_prompt();
    r.slot = 0;
    if (ref->waiting && r.admitted_seq < 0) {
      r.admitted_seq = s.next_admission++;
      r.kv_held = core::round_up_to_block(reservation(engine, r), block);
      any_admitted = true;
    }
    const bool prompt_was_done = r.prompt_done();
    r.prefilled = std::min(r.prompt, r.prefilled + item.prefill);
    if (item.decode) ++r.decoded;
    if (vidur && item.prefill > 0 && !prompt_was_done && r.prompt_done()) ++r.decoded;
    r.kv_held = std::max(r.kv_held, core::round_up_to_block(r.prefilled + r.decoded, block));
  }

  // Preempted requests restart at the front of the queue, the last preempted first (the items
  // are walked again only when the first walk saw one).
  auto& preempted = scratch.preempted;
  preempted.clear();
  for (std::size_t k = 0; any_preempted && k < record.items.size(); ++k) {
    const RequestItem& item = record.items[k];
    if (!item.paused.value_or(false)) continue;
    const core::EngineState::Ref* ref = finder.find(item.id);
    if (!ref || ref->waiting) continue;
    core::Request& in_set = finder.at(*ref);
    core::Request r = in_set;
    restart(r);
    r.slot = -1;
    preempted.push_back(std::move(r));
    in_set.evicted = true;  // marked for removal from the running set below
  }
  auto& departed = scratch.departed;
  departed.assign(record.departures.begin(), record.departures.end());
  std::sort(departed.begin(), departed.end());
  auto leaves = [&](const core::Request& r) {
    return r.finished() || (!departed.empty() && std::binary_search(departed.begin(), departed.end(), r.id));
  };

  // The sets are compacted in place (a request that stays is moved only when one before it
  // left): most iterations see a request or two leave and the rest stay where they are. A
  // request outside the batch (its slot unmarked) with work to do is work left out; the
  // batch's marks are cleared on the way.
  auto passed = [&](core::Request& r) {
    if (r.slot < 0) left_work |= has_work(r);
    r.slot = -1;
  };
  auto& running = s.running;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < running.size(); ++i) {
    core::Request& r = running[i];
    passed(r);
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
    passed(r);
    if (leaves(r)) continue;
    if (r.admitted_seq >= 0) {
      admitted.push_back(std::move(r));
      continue;
    }
    if (kept != i) waiting[kept] = std::move(r);
    ++kept;
  }
  waiting.resize(kept);
  scratch.every_request_served = !left_work && ignored == 0;
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
  // and all there is when the log does not say.
  if (record.kv_used_tokens) {
    s.kv_used = *record.kv_used_tokens;
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
