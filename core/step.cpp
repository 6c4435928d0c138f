#include "core/step.hpp"

#include <algorithm>
#include <limits>

namespace batchproof::core {

namespace {

constexpr std::int64_t kUnlimited = std::numeric_limits<std::int64_t>::max() / 4;
using Ref = EngineState::Ref;

// Counters that conditions read.
struct Counters {
  std::int64_t waiting = 0, running = 0, decoding = 0, started = 0;
  std::int64_t budget_left = 0, free_kv = 0, batch_tokens = 0, batch_requests = 0, since_prefill = 0;

  std::int64_t get(Counter c) const {
    switch (c) {
      case Counter::Waiting: return waiting;
      case Counter::Running: return running;
      case Counter::Decoding: return decoding;
      case Counter::Started: return started;
      case Counter::Pending: return started + waiting;
      case Counter::BudgetLeft: return budget_left;
      case Counter::FreeKv: return free_kv;
      case Counter::BatchTokens: return batch_tokens;
      case Counter::BatchRequests: return batch_requests;
      case Counter::IterationsSincePrefill: return since_prefill;
    }
    return 0;
  }
};

std::int64_t eval(const Expr& e, const Counters& c) {
  std::int64_t sum = 0;
  for (const auto& t : e.terms) {
    std::int64_t v = t.counter ? c.get(*t.counter) : t.constant;
    sum += t.negative ? -v : v;
  }
  return sum;
}

bool holds(const Condition& cond, const Counters& c) {
  switch (cond.kind) {
    case Condition::Kind::Compare: {
      std::int64_t l = eval(cond.lhs, c), r = eval(cond.rhs, c);
      switch (cond.op) {
        case CmpOp::Lt: return l < r;
        case CmpOp::Le: return l <= r;
        case CmpOp::Gt: return l > r;
        case CmpOp::Ge: return l >= r;
        case CmpOp::Eq: return l == r;
        case CmpOp::Ne: return l != r;
      }
      return false;
    }
    case Condition::Kind::And:
      return std::all_of(cond.operands.begin(), cond.operands.end(), [&](const Condition& x) { return holds(x, c); });
    case Condition::Kind::Or:
      return std::any_of(cond.operands.begin(), cond.operands.end(), [&](const Condition& x) { return holds(x, c); });
    case Condition::Kind::Not:
      return !holds(cond.operands.front(), c);
  }
  return false;
}

// One iteration being formed.
class Former {
 public:
  Former(const Engine& e, EngineState& s, StepOutcome& out) : e_(e), s_(s), out_(out) {
    budget_ = e.token_budget.value_or(kUnlimited);
    auto kv = e.kv_tokens();
    kv_cap_ = kv ? *kv : kUnlimited;
    bs_ = std::max<std::int64_t>(1, e.block_size);
    if (kv) watermark_ = static_cast<std::int64_t>(e.watermark * static_cast<double>(*kv / bs_)) * bs_;
    vidur_ = e.accounting == Accounting::Vidur;
    // Static batching: admission only when no cohort is in progress.
    admission_open_ = e.batching != Batching::Static || s.cohort < 0;
    new_cohort_ = static_cast<std::int32_t>(s.iteration);  // any id unique to this admission round
    live_.waiting = static_cast<std::int64_t>(s.waiting.size());
    live_.running = static_cast<std::int64_t>(s.running.size());
    if (s.counted_at == s.iteration) {
      live_.started = s.started_count;
      live_.decoding = s.decoding_count;
    } else {
      for (const auto& r : s.running) {
        if (!r.prompt_done()) ++live_.started;
        else if (r.decoded < r.output) ++live_.decoding;
      }
    }
    live_.since_prefill = s.iterations_since_prefill;
    refresh();
    at_start_ = live_;
  }

  void run(const std::vector<PolicyStmt>& body) {
    for (const auto& stmt : body) {
      if (stmt.rule) {
        apply_rule(*stmt.rule);
        continue;
      }
      for (const auto& w : stmt.when) {
        const std::vector<PolicyStmt>* chosen = &w.otherwise;
        for (const auto& b : w.branches)
          if (holds(b.condition, at_start_)) {
            chosen = &b.body;
            break;
          }
        run(*chosen);
      }
    }
  }

 private:
  Request& at(Ref r) { return r.waiting ? s_.waiting[r.index] : s_.running[r.index]; }
  std::int64_t rounded(std::int64_t tokens) const { return round_up_to_block(tokens, bs_); }
  std::int64_t free_kv() const { return kv_cap_ - s_.kv_used; }
  void refresh() {
    live_.budget_left = budget_ - batch_tokens_;
    live_.free_kv = free_kv();
    live_.batch_tokens = batch_tokens_;
    live_.batch_requests = static_cast<std::int64_t>(out_.batch.items.size());
  }

  bool eligible(const Rule& rule, const Request& r, bool waiting) const {
    if (r.slot >= 0 || r.evicted) return false;
    if (rule.phase == Phase::Decode) return !waiting && r.prompt_done() && r.decoded < r.output;
    if (waiting) return rule.source == Source::Waiting || rule.source == Source::Pending;
    return !r.prompt_done() && (rule.source == Source::Started || rule.source == Source::Pending);
  }

  // Grows a request's KV to hold `tokens` processed tokens; false if memory is short. Without
  // a KV limit nothing is reserved ahead (the step's accounting after the batch keeps kv_used).
  bool grow_kv(Request& r, std::int64_t tokens) {
    if (kv_cap_ >= kUnlimited) return true;
    std::int64_t extra = rounded(tokens) - r.kv_held;
    if (extra <= 0) return true;
    if (extra > free_kv()) return false;
    r.kv_held += extra;
    s_.kv_used += extra;
    return true;
  }

  // Preemption by recompute of the youngest admitted request not in the batch, other than
  // `except`; false when there is none.
  bool evict_youngest(const Request* except) {
    std::size_t victim = s_.running.size();
    for (std::size_t i = 0; i < s_.running.size(); ++i) {
      const Request& v = s_.running[i];
      if (&v == except || v.slot >= 0 || v.evicted) continue;
      if (victim == s_.running.size() || v.admitted_seq > s_.running[victim].admitted_seq) victim = i;
    }
    if (victim == s_.running.size()) return false;
    evict(Ref{false, victim});
    return true;
  }
  void evict(Ref ref) {
    Request& v = at(ref);
    v.evicted = true;
    s_.kv_used -= v.kv_held;
    --live_.running;
    ++live_.waiting;
    if (!v.prompt_done()) --live_.started;
    else if (v.decoded < v.output) --live_.decoding;
    s_.scratch.evicted.push_back(ref);
  }

  // Tokens the rule gives a request that still has prompt to process; 0 if none fit.
  std::int64_t prefill_tokens(const Rule& rule, const Request& r) const {
    std::int64_t want = r.remaining_prompt();
    std::int64_t room = rule.unbudgeted ? kUnlimited : budget_ - batch_tokens_;
    if (!rule.unbudgeted && e_.budget_form == BudgetForm::Padded) {
      // (n + 1) · max(prefill sizes) ≤ budget, over the prefill items with this one.
      std::int64_t items = prefill_items_ + 1;
      if (max_prefill_ * items > budget_) return 0;
      room = std::min(room, budget_ / items);
    }
    if (rule.grain == Grain::Whole) return want <= room ? want : 0;
    std::int64_t n = std::min(want, room);
    if (rule.chunk_max) n = std::min(n, *rule.chunk_max);
    return std::max<std::int64_t>(0, n);
  }

  // Tokens a request holds after processing n more prompt tokens (and, under Vidur's
  // accounting, the first output token if that finishes the prompt).
  std::int64_t processed_after(const Request& r, std::int64_t n) const {
    std::int64_t done = r.prefilled + n + r.decoded;
    return done + ((vidur_ && n > 0 && r.prefilled + n >= r.prompt) ? 1 : 0);
  }

  // Shrinks a chunk to what memory holds (prefill is never a reason to preempt).
  std::int64_t fit_chunk_to_memory(const Request& r, std::int64_t n, std::int64_t held, std::int64_t free) const {
    if (kv_cap_ >= kUnlimited) return n;
    std::int64_t cap = (held + free) / bs_ * bs_;  // the most tokens this request could hold
    while (n > 0 && processed_after(r, n) > cap) n = std::min(n - 1, cap - (r.prefilled + r.decoded));
    return std::max<std::int64_t>(0, n);
  }

  bool peak_estimate_admits(const Request& r) const {
    // LightLLM (VIDUR-SCHEDULERS.md §5.6): the peak future KV of the running set with r.
    std::vector<std::pair<std::int64_t, std::int64_t>> l;  // (remaining, processed)
    for (const auto& x : s_.running)
      if (!x.evicted) l.emplace_back(std::max<std::int64_t>(0, x.output - x.decoded - 1), x.prefilled + x.decoded);
    for (const auto& ref : s_.scratch.item_refs)
      if (ref.waiting) {
        const Request& x = s_.waiting[ref.index];
        l.emplace_back(std::max<std::int64_t>(0, x.output - 2), x.prompt + 1);
      }
    l.emplace_back(std::max<std::int64_t>(0, r.output - 2), r.prompt + 1);
    std::sort(l.begin(), l.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::int64_t processed = 0, need = 0;
    for (std::size_t i = 0; i < l.size(); ++i) {
      processed += l[i].second;
      need = std::max(need, l[i].first * static_cast<std::int64_t>(i + 1) + processed);
    }
    return need < kv_cap_;
  }

  // Tries to give `r` its tokens under `rule`; true if it got them. (The decode case, by far
  // the most frequent, is kept small so that it inlines into the rule's scan.)
  bool take(const Rule& rule, Ref ref) {
    if (e_.max_batch && items_ >= *e_.max_batch) return false;
    Request& r = at(ref);
    if (rule.phase == Phase::Decode) {
      if (!rule.unbudgeted && batch_tokens_ + 1 > budget_) return false;
      if (kv_cap_ < kUnlimited && !decode_memory(ref, r)) return false;
      add(ref, r, BatchItem{r.id, 0, true});
      return true;
    }
    return take_prefill(rule, ref, r);
  }

  // KV for one more token, preempting if the engine does and must; false if there is none.
  bool decode_memory(Ref ref, Request& r) {
    while (!grow_kv(r, r.prefilled + r.decoded + 1)) {
      if (e_.preemption != Preemption::RecomputeYoungest) return false;
      if (!evict_youngest(&r)) {
        evict(ref);  // no one else to preempt: the request itself goes back to the queue
        return false;
      }
    }
    return true;
  }

  bool take_prefill(const Rule& rule, Ref ref, Request& r) {
    BatchItem item{r.id, 0, false};
    if (!ref.waiting) {
      std::int64_t n = prefill_tokens(rule, r);
      if (rule.grain == Grain::Chunk) n = fit_chunk_to_memory(r, n, r.kv_held, free_kv());
      if (n <= 0 || !grow_kv(r, processed_after(r, n))) return false;
      item.prefill = n;
    } else if (!admit(rule, r, item)) {
      return false;
    }
    add(ref, r, item);
    ++prefill_items_;
    max_prefill_ = std::max(max_prefill_, item.prefill);
    return true;
  }

  void add(Ref ref, Request& r, const BatchItem& item) {
    s_.scratch.item_refs.push_back(ref);
    r.slot = items_++;
    out_.batch.items.push_back(item);
    batch_tokens_ += item.prefill + (item.decode ? 1 : 0);
  }

  bool admit(const Rule& rule, Request& r, BatchItem& item) {
    if (!admission_open_) return false;
    if (e_.max_running && live_.running >= *e_.max_running) return false;
    std::int64_t n = prefill_tokens(rule, r);
    if (n <= 0) return false;
    std::int64_t reserve = 0;
    switch (e_.admission) {
      case Admission::None: reserve = 0; break;
      case Admission::Prompt: reserve = r.prompt; break;
      case Admission::MaxLength: reserve = e_.max_seq_len.value_or(r.prompt + r.output); break;
      case Admission::PeakEstimate:
        if (kv_cap_ < kUnlimited && !peak_estimate_admits(r)) return false;
        reserve = r.prompt;
        break;
    }
    std::int64_t free = free_kv() - (kv_cap_ < kUnlimited ? watermark_ : 0);
    reserve = rounded(reserve);
    if (rule.grain == Grain::Chunk) n = fit_chunk_to_memory(r, n, reserve, std::max<std::int64_t>(0, free - reserve));
    if (n <= 0) return false;
    std::int64_t hold = std::max(reserve, rounded(processed_after(r, n)));
    if (kv_cap_ < kUnlimited && hold > free) return false;
    r.kv_held = hold;
    s_.kv_used += hold;
    r.admitted_seq = s_.next_admission++;
    if (e_.batching == Batching::Static) r.cohort = new_cohort_;
    --live_.waiting;
    ++live_.running;
    item.prefill = n;
    out_.admitted.push_back(r.id);
    return true;
  }

  // `decode running fcfs`, the rule every continuous-batching policy has and the one the
  // simulator runs most: the generic scan below, specialised (same meaning, tested alike).
  void decode_fcfs(const Rule& rule) {
    auto& running = s_.running;
    const bool stop = rule.blocked == Blocked::Stop;
    const std::int64_t max_items = e_.max_batch.value_or(kUnlimited);
    const std::int64_t budget = rule.unbudgeted ? kUnlimited : budget_;
    for (std::size_t i = 0; i < running.size(); ++i) {
      Request& r = running[i];
      if (r.slot >= 0 || r.evicted || r.prefilled < r.prompt || r.decoded >= r.output) continue;
      bool fits = items_ < max_items && batch_tokens_ < budget &&
                  (kv_cap_ >= kUnlimited || decode_memory(Ref{false, i}, r));
      if (!fits) {
        if (stop) return;
        continue;
      }
      add(Ref{false, i}, r, BatchItem{r.id, 0, true});
    }
  }

  void apply_rule(const Rule& rule) {
    refresh();
    if (rule.guard && !holds(*rule.guard, live_)) return;
    // A rule with no candidate at all does nothing: skip its scan (the common case of
    // `prefill started` when no prompt is partly done).
    bool reads_started = rule.phase == Phase::Prefill && rule.source != Source::Waiting;
    bool reads_queue = rule.phase == Phase::Prefill && rule.source != Source::Started;
    if (rule.phase == Phase::Decode ? live_.decoding == 0
                                    : !(reads_started && live_.started > 0) && !(reads_queue && live_.waiting > 0))
      return;
    if (rule.phase == Phase::Decode && rule.order == Order::Fcfs && !rule.limit) {
      decode_fcfs(rule);
      return;
    }
    std::int64_t taken = 0;
    auto visit = [&](Ref ref) {  // false: the rule ends
      if (rule.limit && taken >= *rule.limit) return false;
      if (!eligible(rule, at(ref), ref.waiting)) return true;
      if (take(rule, ref)) {
        ++taken;
        return true;
      }
      return rule.blocked == Blocked::Skip;
    };
    bool reads_running = rule.phase == Phase::Decode || rule.source != Source::Waiting;
    bool reads_waiting = rule.phase == Phase::Prefill && rule.source != Source::Started;
    if (rule.order == Order::Fcfs) {
      if (reads_running)
        for (std::size_t i = 0; i < s_.running.size(); ++i)
          if (!visit(Ref{false, i})) return;
      if (reads_waiting)
        for (std::size_t i = 0; i < s_.waiting.size(); ++i)
          if (!visit(Ref{true, i})) return;
      return;
    }
    auto& c = s_.scratch.candidates;
    c.clear();
    if (reads_running)
      for (std::size_t i = 0; i < s_.running.size(); ++i)
        if (eligible(rule, s_.running[i], false)) c.push_back(Ref{false, i});
    if (reads_waiting)
      for (std::size_t i = 0; i < s_.waiting.size(); ++i)
        if (eligible(rule, s_.waiting[i], true)) c.push_back(Ref{true, i});
    auto key = [&](Ref ref) -> std::int64_t {
      const Request& r = at(ref);
      switch (rule.order) {
        case Order::ShortestPrompt: return r.prompt;
        case Order::ShortestRemaining: return r.remaining_work();
        case Order::Priority: return r.priority;
        default: return 0;
      }
    };
    if (rule.order == Order::Lifo) std::reverse(c.begin(), c.end());
    else std::stable_sort(c.begin(), c.end(), [&](Ref a, Ref b) { return key(a) < key(b); });
    for (Ref ref : c)
      if (!visit(ref)) return;
  }

  const Engine& e_;
  EngineState& s_;
  StepOutcome& out_;
  std::int64_t budget_ = kUnlimited, kv_cap_ = kUnlimited, bs_ = 1, watermark_ = 0;
  bool vidur_ = false, admission_open_ = true;
  std::int32_t new_cohort_ = 0;
  std::int64_t batch_tokens_ = 0, prefill_items_ = 0, max_prefill_ = 0;
  std::int32_t items_ = 0;  // items in the batch so far
  Counters live_, at_start_;
};

// Restart by recompute: every processed token becomes prompt to process again.
// Vidur's restart() (docs/VIDUR-SCHEDULERS.md): P' = processed, D' = P + D - P'. The work is
// kept whole: a request preempted part-way through its prompt owes the rest of it as decode
// iterations, as in Vidur, rather than losing it.
void restart(Request& r) {
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

void arrive(EngineState& state, Request request) {
  request.slot = -1;
  request.evicted = false;
  state.waiting.push_back(std::move(request));
}

std::int64_t backlog_tokens(const EngineState& state) {
  std::int64_t total = 0;
  for (const auto& r : state.running) total += r.remaining_work();
  for (const auto& r : state.waiting) total += r.remaining_work();
  return total;
}

StepOutcome step(const Engine& engine, EngineState& s) {
  StepOutcome out;
  step(engine, s, out);
  return out;
}

void step(const Engine& engine, EngineState& s, StepOutcome& out) {
  out.batch.items.clear();
  out.batch.tokens = out.batch.prefill_tokens = out.batch.decode_tokens = 0;
  out.batch.duration_s = 0;
  out.finished.clear();
  out.admitted.clear();
  out.preempted.clear();
  out.first_tokens.clear();
  auto& sc = s.scratch;
  sc.item_refs.clear();
  sc.evicted.clear();
  Former(engine, s, out).run(engine.policy.body);

  Batch& batch = out.batch;
  const bool vidur = engine.accounting == Accounting::Vidur;
  const std::int64_t bs = std::max<std::int64_t>(1, engine.block_size);
  for (std::size_t k = 0; k < batch.items.size(); ++k) {
    const BatchItem& item = batch.items[k];
    const EngineState::Ref ref = sc.item_refs[k];
    Request& r = ref.waiting ? s.waiting[ref.index] : s.running[ref.index];
    r.slot = -1;
    batch.prefill_tokens += item.prefill;
    batch.decode_tokens += item.decode ? 1 : 0;
    r.prefilled += item.prefill;
    if (item.decode) {
      ++r.decoded;
      if (!vidur && r.decoded == 1) out.first_tokens.push_back(r.id);
    }
    if (vidur && item.prefill > 0 && r.prompt_done()) {
      ++r.decoded;
      out.first_tokens.push_back(r.id);
    }
    std::int64_t need = bs == 1 ? r.prefilled + r.decoded : (r.prefilled + r.decoded + bs - 1) / bs * bs;
    if (need > r.kv_held) {  // only without a KV limit, where nothing was reserved ahead
      s.kv_used += need - r.kv_held;
      r.kv_held = need;
    }
  }
  batch.tokens = batch.prefill_tokens + batch.decode_tokens;
  batch.duration_s = engine.profile.time.seconds(batch.tokens);

  // Preempted requests restart (they are still in `running`, marked evicted).
  sc.kept.clear();
  for (const auto& ref : sc.evicted) {
    Request r = s.running[ref.index];  // only admitted requests are ever preempted
    out.preempted.push_back(r.id);
    restart(r);
    r.evicted = false;
    sc.kept.push_back(std::move(r));
  }
  // The running set after the iteration, compacted in place: finished and preempted leave.
  std::size_t kept = 0;
  std::int64_t started = 0, decoding = 0;
  for (std::size_t i = 0; i < s.running.size(); ++i) {
    Request& r = s.running[i];
    if (r.evicted) continue;
    if (r.finished()) {
      if (engine.batching == Batching::Static) s.cohort_kv += r.kv_held;
      else s.kv_used -= r.kv_held;
      out.finished.push_back(std::move(r));
      continue;
    }
    if (!r.prompt_done()) ++started;
    else ++decoding;  // not finished, so output is left
    if (kept != i) s.running[kept] = std::move(r);
    ++kept;
  }
  s.running.erase(s.running.begin() + static_cast<std::ptrdiff_t>(kept), s.running.end());
  sc.admitted.clear();
  // Waiting requests admitted by this batch leave the queue (most often a prefix of it).
  bool any_admitted = !out.admitted.empty();
  if (any_admitted) {
    std::deque<Request> still;
    bool prefix = true;
    std::size_t taken_prefix = 0;
    std::size_t found = 0;
    for (std::size_t i = 0; i < s.waiting.size() && found < out.admitted.size(); ++i) {
      Request& w = s.waiting[i];
      bool taken = w.admitted_seq >= 0;
      found += taken ? 1 : 0;
      if (taken && prefix) ++taken_prefix;
      else prefix = false;
      if (taken) {
        if (engine.batching == Batching::Static) s.cohort = w.cohort;
        if (w.finished()) {
          if (engine.batching == Batching::Static) s.cohort_kv += w.kv_held;
          else s.kv_used -= w.kv_held;
          out.finished.push_back(w);
        } else {
          sc.admitted.push_back(w);
        }
      }
    }
    if (taken_prefix == out.admitted.size()) {
      s.waiting.erase(s.waiting.begin(), s.waiting.begin() + static_cast<std::ptrdiff_t>(taken_prefix));
    } else {
      for (auto& w : s.waiting)
        if (w.admitted_seq < 0) still.push_back(std::move(w));
      s.waiting.swap(still);
    }
  }
  // Preempted requests go back to the front of the queue, the last preempted first.
  for (auto& r : sc.kept) s.waiting.push_front(std::move(r));
  for (const auto& r : sc.admitted) (r.prompt_done() ? decoding : started) += 1;
  // Admitted requests join the running set in arrival order (most often at its end).
  std::sort(sc.admitted.begin(), sc.admitted.end(), [](const Request& a, const Request& b) { return a.id < b.id; });
  if (!sc.admitted.empty()) {
    if (s.running.empty() || sc.admitted.front().id > s.running.back().id) {
      for (auto& r : sc.admitted) s.running.push_back(std::move(r));
    } else {
      std::vector<Request> merged;
      merged.reserve(s.running.size() + sc.admitted.size());
      std::merge(std::make_move_iterator(s.running.begin()), std::make_move_iterator(s.running.end()),
                 std::make_move_iterator(sc.admitted.begin()), std::make_move_iterator(sc.admitted.end()),
                 std::back_inserter(merged), [](const Request& a, const Request& b) { return a.id < b.id; });
      s.running.swap(merged);
    }
  }

  // A static cohort frees its memory when its last member is done.
  if (engine.batching == Batching::Static && s.cohort >= 0) {
    bool open = std::any_of(s.running.begin(), s.running.end(), [&](const Request& r) { return r.cohort == s.cohort; });
    if (!open) {
      s.kv_used -= s.cohort_kv;
      s.cohort_kv = 0;
      s.cohort = -1;
    }
  }
  s.iterations_since_prefill = batch.prefill_tokens > 0 ? 0 : s.iterations_since_prefill + 1;
  ++s.iteration;
  s.started_count = started;
  s.decoding_count = decoding;
  s.counted_at = s.iteration;
}

}  // namespace batchproof::core
